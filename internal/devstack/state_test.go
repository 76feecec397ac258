//go:build !nodevstack

package devstack

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCredentialsGeneratedOncePrivate(t *testing.T) {
	home := t.TempDir()
	c1, err := loadOrCreateCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(c1.AccessKey) != 20 || len(c1.SecretKey) != 60 || c1.AccessKey == c1.SecretKey {
		t.Fatalf("keys %q / %q: want 20 and 60 distinct characters", c1.AccessKey, c1.SecretKey)
	}
	fi, err := os.Stat(filepath.Join(home, credsFile))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("credentials file mode %o, want 600", m)
	}
	c2, err := loadOrCreateCredentials(home)
	if err != nil || c2 != c1 {
		t.Fatalf("second load %+v, %v; want the stored %+v", c2, err, c1)
	}
	other, _ := loadOrCreateCredentials(t.TempDir())
	if other == c1 {
		t.Error("two homes got the same keys")
	}
	if err := os.WriteFile(filepath.Join(home, credsFile), []byte(`{"access_key":""}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateCredentials(home); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("damaged credentials: %v", err)
	}
}

func TestStackInfoRoundTrip(t *testing.T) {
	home := t.TempDir()
	if info, err := readStackInfo(home); info != nil || err != nil {
		t.Fatalf("missing stack.json: %v, %v; want nil, nil", info, err)
	}
	want := stackInfo{PID: 42, TemporalAddress: "127.0.0.1:1", TemporalHTTP: "127.0.0.1:2", Namespace: "default",
		S3Endpoint: "127.0.0.1:3", S3Bucket: "rulescape", GatewayPID: 43, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := writeStackInfo(home, &want); err != nil {
		t.Fatal(err)
	}
	got, err := readStackInfo(home)
	if err != nil || *got != want {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	b, _ := os.ReadFile(filepath.Join(home, stackFile))
	if strings.Contains(string(b), "stopped_at") || strings.Contains(string(b), "secret") {
		t.Errorf("stack.json holds more than addresses: %s", b)
	}
	if err := os.WriteFile(filepath.Join(home, stackFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readStackInfo(home); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("damaged stack.json: %v", err)
	}
}

func TestLockIsExclusive(t *testing.T) {
	home := t.TempDir()
	a, err := tryLock(home)
	if err != nil || a == nil {
		t.Fatalf("first lock: %v, %v", a, err)
	}
	if b, err := tryLock(home); b != nil || err != nil {
		t.Fatalf("second lock while held: %v, %v; want nil, nil", b, err)
	}
	a.release()
	b, err := tryLock(home)
	if err != nil || b == nil {
		t.Fatalf("lock after release: %v, %v", b, err)
	}
	b.release()
}

func TestPickPorts(t *testing.T) {
	busy, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	l := listen(t, busy)
	defer l()
	free, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ports, err := pickPorts(free, busy, free, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] != free {
		t.Errorf("slot 0 = %d, want the free preferred port %d", ports[0], free)
	}
	seen := map[int]bool{}
	for i, p := range ports {
		if p <= 0 || p == busy || seen[p] {
			t.Errorf("slot %d = %d (busy %d, all %v): want distinct free ports", i, p, busy, ports)
		}
		seen[p] = true
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	tb := &tailBuffer{max: 5}
	for _, s := range []string{"ab", "cdef", "gh"} {
		tb.Write([]byte(s))
	}
	if got := tb.String(); got != "defgh" {
		t.Errorf("tail %q, want %q", got, "defgh")
	}
}

func TestPortOfAndHostOfURL(t *testing.T) {
	tests := []struct {
		in   string
		port int
	}{
		{"127.0.0.1:7233", 7233}, {"http://127.0.0.1:8233", 8233}, {"", 0}, {"nonsense", 0},
	}
	for _, tc := range tests {
		if got := portOf(hostOfURL(tc.in)); got != tc.port {
			t.Errorf("portOf(hostOfURL(%q)) = %d, want %d", tc.in, got, tc.port)
		}
	}
}

// listen holds port on 127.0.0.1 until the returned function is called.
func listen(t *testing.T, port int) func() {
	t.Helper()
	l, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		t.Fatal(err)
	}
	return func() { l.Close() }
}
