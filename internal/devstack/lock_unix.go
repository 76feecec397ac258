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

// lease registers an attached process as a user of the home's stack: a
// file under users/ that it holds flocked while attached. The owner counts
// the leases whose lock is still held (liveUsers) before it stops; the
// kernel drops the lock of a process that dies, so a killed user never
// keeps the stack up.
type lease struct {
	f    *os.File
	path string
}

// takeLease creates and locks a lease file. The file is locked under a
// temporary name and only then renamed into place, so the owner never
// mistakes a lease being created for one left by a dead process.
func takeLease(home string) (*lease, error) {
	dir := filepath.Join(home, usersDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devstack: create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".new-")
	if err != nil {
		return nil, fmt.Errorf("devstack: create a lease in %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("devstack: lock lease %s: %w", f.Name(), err)
	}
	name := filepath.Join(dir, fmt.Sprintf("%d-%s", os.Getpid(), filepath.Base(f.Name())[len(".new-"):]))
	if _, err := fmt.Fprintf(f, "%d\n", os.Getpid()); err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("devstack: register as a user of the stack: %w", err)
	}
	return &lease{f: f, path: name}, nil
}

// release removes the lease.
func (l *lease) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.path)
	_ = l.f.Close() // drops the lock
	l.f = nil
}

// liveUsers returns the number of leases under home whose holder is alive
// (their lock is held), removing those of processes that died.
func liveUsers(home string) (int, error) {
	dir := filepath.Join(home, usersDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("devstack: list the stack's users: %w", err)
	}
	n := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			n++
		case err == nil:
			_ = os.Remove(path) // its holder is gone
		}
		f.Close()
	}
	return n, nil
}

// ownerGone reports whether no process holds the home's lock: the owner
// of the stack this process attached to has exited. The probe takes and
// drops a shared lock at once; a process starting a stack meanwhile finds
// the lock busy for that instant and retries.
func ownerGone(home string) bool {
	f, err := os.OpenFile(filepath.Join(home, lockFile), os.O_RDONLY, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return false
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}
