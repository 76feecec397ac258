package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/store"
	"rulescape/workflows"
)

func init() { register(newWorkerCmd) }

const workerLong = `Run a campaign worker until interrupted (SIGINT or SIGTERM): it executes
campaign workflows and the units of every stage (metaopt, train, the
analyses, the report), the manifest and rerun pruning from the
"` + workflows.TaskQueue + `" task queue. Start as many as you have machines.
(--address / --namespace override TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.)

Services: with TEMPORAL_ADDRESS set it connects to that Temporal server
(TEMPORAL_NAMESPACE, default "default") and to the S3 endpoint of
RULESCAPE_S3_ENDPOINT, RULESCAPE_S3_ACCESS_KEY, RULESCAPE_S3_SECRET_KEY and
RULESCAPE_S3_BUCKET; without it, it attaches to (or starts) the embedded
stack of $RULESCAPE_HOME, like ` + "`rulescape dev`."

// services are the connections a campaign command uses.
type services struct {
	client    client.Client
	store     *store.Store
	stack     *devstack.Stack // the embedded stack; nil with external services
	namespace string
}

// close releases the client and stops an owned embedded stack.
func (s *services) close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.stack != nil {
		_ = s.stack.Stop()
	}
}

// connectTimeout bounds how long connecting to Temporal may take.
const connectTimeout = 15 * time.Second

// connect connects to the configured Temporal server and object store, or
// starts (or attaches to) the embedded stack when TEMPORAL_ADDRESS is unset.
func (a *app) connect(ctx context.Context) (*services, error) {
	s := &services{}
	opts, external, err := a.temporalOptions()
	if err != nil {
		return nil, err
	}
	addr, ns := opts.HostPort, opts.Namespace
	var cfg store.Config
	if !external {
		st, err := devstack.Start(ctx, devstack.Options{Logger: a.log, AutoInstall: true, InstallLog: a.stderr})
		if err != nil {
			return nil, fmt.Errorf("starting the embedded stack (set TEMPORAL_ADDRESS or --address to use external services): %w", err)
		}
		s.stack = st
		addr, ns = st.TemporalAddress, st.Namespace
		cfg = store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket}
	} else {
		if addr == "" {
			return nil, fmt.Errorf("TEMPORAL_PROFILE is set but gives no address — set TEMPORAL_ADDRESS, --address or the profile's address")
		}
		if cfg, err = store.ConfigFromEnv(); err != nil {
			return nil, err
		}
	}
	if ns == "" {
		ns = "default"
	}
	s.namespace = ns
	opts.HostPort, opts.Namespace = addr, ns
	opts.Logger = sdklog.NewStructuredLogger(a.log)
	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("cannot reach Temporal at %s (namespace %s): %v — check TEMPORAL_ADDRESS, or unset it to use the embedded stack", addr, ns, err)
	}
	s.client = c
	st, err := store.New(ctx, cfg)
	if err != nil {
		s.close()
		return nil, err
	}
	if err := st.EnsureBucket(ctx); err != nil {
		s.close()
		return nil, err
	}
	s.store = st
	return s, nil
}

// newWorker returns a worker for campaigns, not yet started.
func (a *app) newWorker(s *services) worker.Worker {
	w := worker.New(s.client, workflows.TaskQueue, worker.Options{
		// A worker that died leaves its sticky queue behind; fall back to
		// the normal queue after 1 s instead of the default 5 s.
		StickyScheduleToStartTimeout:       time.Second,
		MaxConcurrentActivityExecutionSize: runtime.NumCPU(),
	})
	workflows.Register(w)
	activities.Register(w, &activities.Activities{Store: s.store, EngineVersion: engineVersion, Logger: a.log, Versions: a.versions})
	return w
}

func newWorkerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run a campaign worker until interrupted",
		Long:  workerLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			w := a.newWorker(s)
			if err := w.Start(); err != nil {
				return fmt.Errorf("starting the worker: %w", err)
			}
			defer w.Stop()
			a.log.Info("worker running", "task_queue", workflows.TaskQueue, "namespace", s.namespace, "s3", s.store.Endpoint())
			a.note("rulescape worker: polling task queue %q of namespace %s; S3 %s bucket %s (Ctrl-C to stop)\n",
				workflows.TaskQueue, s.namespace, s.store.Endpoint(), s.store.Bucket())
			var stackDone <-chan struct{}
			if s.stack != nil {
				stackDone = s.stack.Done()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-stackDone:
				return errors.New("the embedded stack stopped: " + fmt.Sprint(s.stack.Err()))
			}
		},
	}
}
