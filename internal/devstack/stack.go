package devstack

import (
	"context"
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

// EnvTemporalPostgres, when set, is the default of Options.Postgres: the
// embedded Temporal server then keeps its state in that PostgreSQL server.
const EnvTemporalPostgres = "RULESCAPE_TEMPORAL_POSTGRES"

// Files under the home directory.
const (
	dbFile    = "temporal.db"
	objDir    = "objects"
	credsFile = "s3-credentials.json"
	stackFile = "stack.json"
	lockFile  = "lock"
	usersDir  = "users"
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
	// Postgres, when set, keeps the embedded Temporal server's state in a
	// PostgreSQL server instead of the SQLite file in Home:
	// postgres://USER:PASSWORD@HOST:PORT[/DATABASE][?ATTR=VALUE…]. DATABASE
	// (default "temporal") and DATABASE_visibility are created and their
	// schemas set up or updated as docker-compose.yml's temporal-schema
	// service does, and the server uses 4 history shards as there (fixed
	// when the databases are first used). Attributes are the driver's
	// (e.g. sslmode; default disable). Empty means $RULESCAPE_TEMPORAL_POSTGRES,
	// then SQLite.
	Postgres string
	// AttachWait bounds how long Start waits for a stack that another
	// process is still starting on the same home. Zero means 60 s.
	AttachWait time.Duration
}

// Stack is a running embedded stack: either owned by this process (Stop
// stops it) or attached to one owned by another process. An attached
// process holds a lease (a locked file under users/) until Stop, so that
// the owner can wait for it before stopping (StopWhenUnused).
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

	stop func() error    // stops an owned stack; releases an attached one
	done <-chan struct{} // closed when the stack is lost (see Done)
	err  func() error    // why done was closed

	temporal *temporalWatch // the owned server's watchdog; nil when attached
}

// Done returns a channel closed when the stack is lost while this process
// uses it: for an owned stack, when the S3 gateway or the Temporal server
// keeps failing and is not restarted any more (a gateway that exits, or a
// server that stops answering, is restarted on the same ports); for an
// attached stack, when its owner has exited (it stopped
// the stack, or was killed). Err then says why, in one line. Stop does not
// close it.
func (s *Stack) Done() <-chan struct{} { return s.done }

// Err describes why Done was closed, or returns nil.
func (s *Stack) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err()
}

// Stop stops the services of an owned stack and releases the home's lock;
// for an attached stack it only releases this process's lease, and the
// owner keeps the services. Calling it again (not concurrently) does
// nothing.
func (s *Stack) Stop() error {
	if s == nil || s.stop == nil {
		return nil
	}
	stop := s.stop
	s.stop = nil
	return stop()
}

// Users returns how many other processes are attached to an owned stack
// (0 for an attached stack).
func (s *Stack) Users() (int, error) {
	if s == nil || s.Attached {
		return 0, nil
	}
	return liveUsers(s.Home)
}

// StopWhenUnused stops the stack like Stop, but an owner first waits
// until no other process is attached (WaitUnused), so that it does not
// pull the services from under them.
func (s *Stack) StopWhenUnused(ctx context.Context, waiting func(users int)) error {
	s.WaitUnused(ctx, waiting)
	return s.Stop()
}

// WaitUnused returns, for an owner, once no other process is attached
// (each attached process holds a lease until its Stop or its exit,
// however it exits); for an attached or stopped stack at once. waiting,
// if not nil, is called once with the number of those processes when
// there are any. The wait ends early when ctx ends (stop now) or the
// stack is lost (Done).
func (s *Stack) WaitUnused(ctx context.Context, waiting func(users int)) {
	if s == nil || s.stop == nil {
		return
	}
	told := false
	for !s.Attached {
		select {
		case <-s.done:
			return // lost anyway: nothing to keep up for the users
		default:
		}
		n, err := liveUsers(s.Home)
		if err != nil || n == 0 {
			return
		}
		if !told && waiting != nil {
			waiting(n)
			told = true
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-time.After(usersPoll):
		}
	}
}

// usersPoll is how often a waiting owner counts its users.
const usersPoll = 250 * time.Millisecond

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
