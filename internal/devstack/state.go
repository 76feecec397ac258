//go:build !nodevstack

package devstack

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// stackInfo is the content of stack.json: where the stack last started on
// a home listens. It holds no secrets; the S3 keys are in s3-credentials.json.
// The file is trusted only while its owner holds the home's lock.
type stackInfo struct {
	PID             int       `json:"pid"`
	TemporalAddress string    `json:"temporal_address"`
	TemporalHTTP    string    `json:"temporal_http_address"`
	Namespace       string    `json:"namespace"`
	UI              string    `json:"ui,omitempty"`
	S3Endpoint      string    `json:"s3_endpoint"`
	S3Bucket        string    `json:"s3_bucket"`
	GatewayPID      int       `json:"gateway_pid"`
	StartedAt       time.Time `json:"started_at"`
	StoppedAt       time.Time `json:"stopped_at,omitzero"`
}

// credentials are the S3 keys of a home's gateway.
type credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// readStackInfo reads stack.json; a missing file gives (nil, nil).
func readStackInfo(home string) (*stackInfo, error) {
	b, err := os.ReadFile(filepath.Join(home, stackFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("devstack: read %s: %w", stackFile, err)
	}
	var info stackInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("devstack: %s in %s is not valid JSON (%v) — delete it; it is rewritten on the next start", stackFile, home, err)
	}
	return &info, nil
}

// writeStackInfo replaces stack.json atomically (temporary file + rename),
// so a reader never sees half a file.
func writeStackInfo(home string, info *stackInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(home, stackFile), append(b, '\n'), 0o644)
}

// loadOrCreateCredentials returns the home's S3 keys, generating and
// storing them (mode 0600) on first use so restarts reuse them.
func loadOrCreateCredentials(home string) (credentials, error) {
	c, err := readCredentials(home)
	if !errors.Is(err, fs.ErrNotExist) {
		return c, err
	}
	path := filepath.Join(home, credsFile)
	c = credentials{AccessKey: "rs" + randomToken(9), SecretKey: randomToken(30)}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return c, err
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return c, fmt.Errorf("devstack: store S3 credentials: %w", err)
	}
	return c, nil
}

// readCredentials reads the home's S3 keys; the error wraps
// fs.ErrNotExist when there are none yet.
func readCredentials(home string) (credentials, error) {
	path := filepath.Join(home, credsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return credentials{}, err
	}
	if err != nil {
		return credentials{}, fmt.Errorf("devstack: read S3 credentials: %w", err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
		return c, fmt.Errorf("devstack: %s is damaged (want {\"access_key\",\"secret_key\"}) — delete it to generate new keys (objects are kept)", path)
	}
	return c, nil
}

// randomToken returns 2n lowercase hex characters from crypto/rand.
func randomToken(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	out := make([]byte, 2*n)
	for i, v := range b {
		out[2*i], out[2*i+1] = hex[v>>4], hex[v&15]
	}
	return string(out)
}

// writeFileAtomic writes data to a temporary file in the same directory
// with the given mode, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// free when the call returns; a process may still take it before it is
// bound again, so callers retry on a bind failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: no free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portOf returns the port of a host:port address, or 0.
func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

// pickPort returns prefer when it is free on 127.0.0.1, else a free port.
// Reusing the previous run's ports keeps addresses that users exported in
// other shells valid across restarts.
func pickPort(prefer int) (int, error) {
	if prefer > 0 {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(prefer))); err == nil {
			l.Close()
			return prefer, nil
		}
	}
	return freePort()
}

// pickPorts returns n distinct ports, preferring prefer[i] for slot i.
func pickPorts(prefer ...int) ([]int, error) {
	seen := map[int]bool{}
	out := make([]int, len(prefer))
	for i, p := range prefer {
		for tries := 0; ; tries++ {
			port, err := pickPort(p)
			if err != nil {
				return nil, err
			}
			if !seen[port] {
				seen[port] = true
				out[i] = port
				break
			}
			if tries > 20 {
				return nil, errors.New("devstack: could not find distinct free ports on 127.0.0.1")
			}
			p = 0
		}
	}
	return out, nil
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
