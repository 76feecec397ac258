// Package s3test runs a real S3 service for tests: versitygw
// (github.com/versity/versitygw) with its posix backend on a temporary
// directory, as a subprocess on a free 127.0.0.1 port.
//
// Tests use a real gateway, not a mock, because the failure modes that
// matter (multipart uploads, interrupted streams, presigned URLs, signature
// checks) live in the protocol. The binary is found through
// $RULESCAPE_VERSITYGW, then PATH, then $GOPATH/bin. Install it with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// When it is missing, Start skips the test with a loud message, unless
// RULESCAPE_REQUIRE_S3=1 (CI sets it), in which case the test fails.
package s3test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"rulescape/internal/versitygw"
	"strconv"
	"sync"
	"testing"
	"time"
)

// InstallCommand is the command that installs the gateway.
const InstallCommand = versitygw.Install

// ErrNotInstalled is returned by New when no versitygw binary is found.
var ErrNotInstalled = errors.New("s3test: versitygw not found (looked at $RULESCAPE_VERSITYGW, PATH and $GOPATH/bin); install it with `" +
	InstallCommand + "` or point RULESCAPE_VERSITYGW at the binary")

// Server is a running versitygw gateway.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // backing directory: one subdirectory per bucket

	bin  string
	own  bool // Dir was created by New and is removed by Stop
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

// Binary returns the path of the versitygw binary or ErrNotInstalled.
func Binary() (string, error) {
	p, err := versitygw.Find()
	switch {
	case errors.Is(err, versitygw.ErrMissing):
		return "", ErrNotInstalled
	case err != nil:
		return "", fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	return p, nil
}

// Required reports whether RULESCAPE_REQUIRE_S3=1, i.e. a missing gateway
// must fail tests instead of skipping them.
func Required() bool { return os.Getenv("RULESCAPE_REQUIRE_S3") == "1" }

// Start starts a gateway for the test and stops it when the test ends. A
// missing binary skips the test (fails it when Required).
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New("")
	if errors.Is(err, ErrNotInstalled) {
		SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// SkipOrFail skips t loudly because of err, or fails it when Required.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("RULESCAPE_REQUIRE_S3=1 but the S3 test service cannot run: %v", err)
	}
	t.Skipf("!!! SKIPPING a test that needs real S3: %v (set RULESCAPE_REQUIRE_S3=1 to fail instead)", err)
}

// New starts a gateway serving dir (a new temporary directory if dir is
// empty) and waits until it answers HTTP. The caller must call Stop.
func New(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{AccessKey: "rulescape-test", SecretKey: "rulescape-test-secret", Region: "us-east-1", Dir: dir, bin: bin}
	if dir == "" {
		if s.Dir, err = os.MkdirTemp("", "rulescape-s3test-"); err != nil {
			return nil, fmt.Errorf("s3test: %w", err)
		}
		s.own = true
	}
	// There is no ":0" port option: pick a free port and retry if another
	// process takes it before the gateway binds it.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err == nil {
			err = s.start(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		}
		if err == nil {
			return s, nil
		}
		if attempt == 2 {
			s.Stop()
			return nil, err
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("s3test: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start(endpoint string) error {
	cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
		"--port", endpoint, "--quiet", "--keep-alive", "posix", s.Dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: starting %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.out, s.Endpoint = cmd, done, out, endpoint
	s.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("s3test: versitygw exited before it was ready on %s: %s", endpoint, out.String())
		default:
		}
		if resp, err := client.Get("http://" + endpoint + "/"); err == nil {
			resp.Body.Close()
			return nil // any HTTP answer (403 for an unsigned request) means it is serving
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("s3test: versitygw not ready on %s after 20 s: %s", endpoint, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart stops the gateway and starts it again on the same port and
// directory: the data survives, connections in flight fail.
func (s *Server) Restart() error {
	s.kill()
	return s.start(s.Endpoint)
}

// Kill stops the gateway process (SIGKILL) without removing its directory,
// to simulate the service going away. Restart brings it back.
func (s *Server) Kill() { s.kill() }

// Stop stops the gateway and removes the directory if New created it.
func (s *Server) Stop() {
	s.kill()
	if s.own {
		os.RemoveAll(s.Dir)
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Log returns what the gateway printed.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
