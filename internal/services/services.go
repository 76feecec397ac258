// Package services connects the CLI to the services a campaign runs on: a
// Temporal server and an S3 store — the embedded stack of $RULESCAPE_HOME
// (internal/devstack) when no server is configured, or the configured ones
// (TEMPORAL_* through the SDK's contrib/envconfig, overridable by
// --address and --namespace; RULESCAPE_S3_*).
package services

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"rulescape/internal/devstack"
	"rulescape/store"
)

// Options say which services to use.
type Options struct {
	Address    string       // --address: the Temporal server, over TEMPORAL_ADDRESS
	Namespace  string       // --namespace: the Temporal namespace, over TEMPORAL_NAMESPACE
	Logger     *slog.Logger // the SDK's and the embedded stack's logs
	InstallLog io.Writer    // where the first start of the embedded stack reports installing versitygw
	// Waiting is called, with their number and the stack's home, when
	// Close in the process that owns the embedded stack waits for the
	// other processes still attached to it before stopping it; nil says
	// nothing.
	Waiting func(users int, home string)
}

// Services are a connected Temporal client and store.
type Services struct {
	Client    client.Client   // nil from ConnectStore
	Store     *store.Store    //
	Stack     *devstack.Stack // the embedded stack; nil with external services
	Namespace string

	waiting    func(users int, home string)
	stopWorker func() // set by KeepWorkerWhileOwning; called by Close
}

// KeepWorkerWhileOwning hands Close the stopping of this process's
// worker. The owner of the embedded stack, which waits at its end for the
// other processes using the stack, keeps its worker serving their
// campaigns until that wait is over (its units in flight would otherwise
// be handed back and recomputed); in any other process Close stops the
// worker first, as a deferred Stop would.
func (s *Services) KeepWorkerWhileOwning(stop func()) {
	prev := s.stopWorker
	s.stopWorker = func() {
		if prev != nil {
			prev()
		}
		stop()
	}
}

// Close stops the worker handed over by KeepWorkerWhileOwning, closes the
// client and lets go of the embedded stack. An attached process releases
// its lease; the owner first waits until no other process is attached
// (Options.Waiting says so), or until the next SIGINT/SIGTERM — its worker
// still serving their campaigns meanwhile — then stops the stack, so a
// command that finishes while others use its stack does not pull it from
// under them.
func (s *Services) Close() {
	if s.Stack != nil && !s.Stack.Attached {
		// A first Ctrl-C may already have cancelled the command; this one
		// listens for the next.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		s.Stack.WaitUnused(ctx, func(n int) {
			if s.waiting != nil {
				s.waiting(n, s.Stack.Home)
			}
		})
		stop()
	}
	if s.stopWorker != nil {
		s.stopWorker()
		s.stopWorker = nil
	}
	if s.Client != nil {
		s.Client.Close()
	}
	if s.Store != nil {
		s.Store.Close() // the gateway waits for idle keep-alive connections
	}
	if s.Stack != nil {
		_ = s.Stack.Stop()
	}
}

// connectTimeout bounds dialling the Temporal server.
const connectTimeout = 15 * time.Second

// ClientOptions returns the Temporal client options of the environment
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
// TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), with o.Address and o.Namespace
// overriding them. external is false when neither o.Address nor the
// environment names a server: the embedded stack is used then.
func ClientOptions(o Options) (opts client.Options, external bool, err error) {
	external = o.Address != "" || os.Getenv(devstack.EnvTemporalAddr) != "" || os.Getenv("TEMPORAL_PROFILE") != ""
	if external {
		if opts, err = envconfig.LoadDefaultClientOptions(); err != nil {
			return opts, true, fmt.Errorf("Temporal client configuration: %v — check TEMPORAL_* variables and the Temporal config file", err)
		}
	}
	if o.Address != "" {
		opts.HostPort = o.Address
	}
	if o.Namespace != "" {
		opts.Namespace = o.Namespace
	}
	return opts, external, nil
}

// Connect dials Temporal and the store (creating its bucket if needed),
// starting or attaching to the embedded stack when no server is
// configured. Every failure is one line that names what to check.
func Connect(ctx context.Context, o Options) (*Services, error) {
	opts, external, err := ClientOptions(o)
	if err != nil {
		return nil, err
	}
	s, cfg, err := storeConfig(ctx, o, external)
	if err != nil {
		return nil, err
	}
	addr, ns := opts.HostPort, opts.Namespace
	if s.Stack != nil {
		addr, ns = s.Stack.TemporalAddress, s.Stack.Namespace
	} else if addr == "" {
		return nil, fmt.Errorf("TEMPORAL_PROFILE is set but gives no address — set TEMPORAL_ADDRESS, --address or the profile's address")
	}
	if ns == "" {
		ns = "default"
	}
	s.Namespace = ns
	opts.HostPort, opts.Namespace = addr, ns
	if o.Logger != nil {
		var lost <-chan struct{}
		if s.Stack != nil && s.Stack.Attached {
			lost = s.Stack.Done()
		}
		opts.Logger = sdklog.NewStructuredLogger(sdkLogger(o.Logger, lost))
	}
	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %v — check TEMPORAL_ADDRESS, or unset it to use the embedded stack", addr, ns, err)
	}
	s.Client = c
	if err := s.openStore(ctx, cfg, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ConnectStore connects to the store Connect would use — the embedded
// stack's, or the configured one when Temporal is external — without
// dialling Temporal (for commands that only read datasets).
func ConnectStore(ctx context.Context, o Options) (*Services, error) {
	_, external, err := ClientOptions(o)
	if err != nil {
		return nil, err
	}
	s, cfg, err := storeConfig(ctx, o, external)
	if err != nil {
		return nil, err
	}
	if err := s.openStore(ctx, cfg, false); err != nil {
		return nil, err
	}
	return s, nil
}

// storeConfig starts the embedded stack (unless external) and returns the
// store configuration to use.
func storeConfig(ctx context.Context, o Options, external bool) (*Services, store.Config, error) {
	s := &Services{waiting: o.Waiting}
	if external {
		cfg, err := store.ConfigFromEnv()
		return s, cfg, err
	}
	st, err := devstack.Start(ctx, devstack.Options{Logger: o.Logger, AutoInstall: true, InstallLog: o.InstallLog})
	if err != nil {
		return nil, store.Config{}, fmt.Errorf("starting the embedded stack (set TEMPORAL_ADDRESS or --address, and the RULESCAPE_S3_* variables, to use external services): %w", err)
	}
	s.Stack = st
	return s, store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket}, nil
}

// openStore connects to the store and, with ensure, creates its bucket.
func (s *Services) openStore(ctx context.Context, cfg store.Config, ensure bool) error {
	st, err := store.New(ctx, cfg)
	if err == nil && ensure {
		err = st.EnsureBucket(ctx)
	}
	if err != nil {
		s.Close()
		return err
	}
	s.Store = st
	return nil
}
