//go:build unix && !nodevstack

package devstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// homeLock is an exclusive flock on the home's lock file. The kernel
// releases it when the owning process exits, however it exits, so a
// SIGKILLed owner never leaves a stale lock behind.
type homeLock struct{ f *os.File }

// tryLock takes the home's lock without waiting. It returns (nil, nil)
// when another process holds it.
func tryLock(home string) (*homeLock, error) {
	f, err := os.OpenFile(filepath.Join(home, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devstack: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("devstack: lock %s: %w", f.Name(), err)
	}
	return &homeLock{f: f}, nil
}

// release drops the lock.
func (l *homeLock) release() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		_ = l.f.Close()
		l.f = nil
	}
}
