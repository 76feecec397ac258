package devstack

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"rulescape/internal/versitygw"
	"time"
)

// Environment variables read by DefaultHome and FindVersitygw, and printed
// by Stack.Env for workers in other shells.
const (
	EnvHome           = "RULESCAPE_HOME"
	EnvVersitygw      = versitygw.Env
	EnvTemporalAddr   = "TEMPORAL_ADDRESS"
	EnvTemporalNS     = "TEMPORAL_NAMESPACE"
	EnvS3Endpoint     = "RULESCAPE_S3_ENDPOINT"
	EnvS3AccessKey    = "RULESCAPE_S3_ACCESS_KEY"
	EnvS3SecretKey    = "RULESCAPE_S3_SECRET_KEY"
	EnvS3Bucket       = "RULESCAPE_S3_BUCKET"
	DefaultNamespace  = "default"
	DefaultBucket     = "rulescape"
	VersitygwVersion  = versitygw.Version
	VersitygwInstall  = versitygw.Install
	defaultAttachWait = 60 * time.Second
)

// Files under the home directory.
const (
	dbFile    = "temporal.db"
	objDir    = "objects"
	credsFile = "s3-credentials.json"
	stackFile = "stack.json"
	lockFile  = "lock"
)

// ErrVersitygwMissing is returned (wrapped) by Start and FindVersitygw when
// no versitygw binary is found.
var ErrVersitygwMissing = errors.New("versitygw not found (looked at $" + EnvVersitygw +
	", PATH and $(go env GOPATH)/bin) — install it with `" + VersitygwInstall +
	"` or point " + EnvVersitygw + " at the binary")

// ErrNotBuiltIn is returned by Start in binaries built with -tags nodevstack.
var ErrNotBuiltIn = errors.New("this rulescape binary was built without the embedded stack (-tags nodevstack) — set " +
	EnvTemporalAddr + " and " + EnvS3Endpoint + " (with " + EnvS3AccessKey + ", " + EnvS3SecretKey +
	") to use external services")

// Options configures Start. The zero value is usable: it starts a stack
// under DefaultHome without the Web UI and logs nothing.
type Options struct {
	// Home is the state directory. Empty means DefaultHome().
	Home string
	// UI starts the Temporal Web UI next to the server (if built in).
	UI bool
	// Logger receives the stack's own messages and Temporal's at warn level
	// and above. Nil discards them.
	Logger *slog.Logger
	// Namespace is created if missing. Empty means "default".
	Namespace string
	// Bucket is created if missing. Empty means "rulescape".
	Bucket string
	// Versitygw is the gateway binary. Empty means FindVersitygw(), then
	// Home/bin/versitygw.
	Versitygw string
	// AutoInstall, when no gateway binary is found, installs the pinned
	// versitygw into Home/bin with `go install` (a one-time build of a few
	// minutes; needs the go tool and the module proxy). Progress lines go to
	// Logger at info level and to InstallLog when set.
	AutoInstall bool
	// InstallLog receives one line when an automatic install starts and one
	// when it ends (e.g. os.Stderr). Nil means none.
	InstallLog io.Writer
	// AttachWait bounds how long Start waits for a stack that another
	// process is still starting on the same home. Zero means 60 s.
	AttachWait time.Duration
}

// Stack is a running embedded stack: either owned by this process (Stop
// stops it) or attached to one owned by another process (Stop only
// forgets it).
type Stack struct {
	// TemporalAddress is the frontend's gRPC host:port.
	TemporalAddress string
	// Namespace exists and is registered.
	Namespace string
	// UIAddress is the Web UI's http URL, empty when not running.
	UIAddress string
	// S3Endpoint is the gateway's host:port (plain HTTP).
	S3Endpoint string
	// S3AccessKey and S3SecretKey sign S3 requests.
	S3AccessKey, S3SecretKey string
	// S3Bucket exists.
	S3Bucket string
	// Home is the state directory.
	Home string
	// Attached is true when another process owns the stack.
	Attached bool
	// OwnerPID is the process that owns the stack.
	OwnerPID int

	stop func() error    // nil when attached
	done <-chan struct{} // closed when an owned service exits on its own
	err  func() error    // why done was closed
}

// Done returns a channel closed when a service of an owned stack exits by
// itself (the gateway crashed or was killed); Err then says why. Stop does
// not close it. For an attached stack it is nil: the owner watches its
// services.
func (s *Stack) Done() <-chan struct{} { return s.done }

// Err describes why Done was closed, or returns nil.
func (s *Stack) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err()
}

// Stop stops the services of an owned stack and releases the home's lock;
// for an attached stack it does nothing. Calling it again (not
// concurrently) does nothing.
func (s *Stack) Stop() error {
	if s == nil || s.stop == nil {
		return nil
	}
	stop := s.stop
	s.stop = nil
	return stop()
}

// Env returns the environment variables that point a worker or client in
// another shell at this stack, in a stable order, as NAME=value.
func (s *Stack) Env() []string {
	return []string{
		EnvTemporalAddr + "=" + s.TemporalAddress,
		EnvTemporalNS + "=" + s.Namespace,
		EnvS3Endpoint + "=" + s.S3Endpoint,
		EnvS3AccessKey + "=" + s.S3AccessKey,
		EnvS3SecretKey + "=" + s.S3SecretKey,
		EnvS3Bucket + "=" + s.S3Bucket,
	}
}

// DefaultHome returns $RULESCAPE_HOME, or ~/.rulescape when it is unset.
func DefaultHome() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("devstack: no home directory for the default state directory (%w) — set %s", err, EnvHome)
	}
	return filepath.Join(u, ".rulescape"), nil
}

// FindVersitygw returns the versitygw binary: $RULESCAPE_VERSITYGW, else
// versitygw on PATH, else $(go env GOPATH)/bin/versitygw. It returns an
// error wrapping ErrVersitygwMissing when there is none.
func FindVersitygw() (string, error) {
	p, err := versitygw.Find()
	switch {
	case errors.Is(err, versitygw.ErrMissing):
		return "", fmt.Errorf("devstack: %w", ErrVersitygwMissing)
	case err != nil:
		return "", fmt.Errorf("devstack: %w", err)
	}
	return p, nil
}
