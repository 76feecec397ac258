package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"rulescape/activities"
	rsvc "rulescape/internal/services"
	"rulescape/workflows"
)

func init() { register(newWorkerCmd) }

var workerLong = help("worker.long")

// services are the connections a campaign command uses.
// services are the connected Temporal client and store of a command.
type services = rsvc.Services

// serviceOptions are the services the global flags select.
func (a *app) serviceOptions() rsvc.Options {
	return rsvc.Options{Address: a.address, Namespace: a.namespace, Logger: a.log, InstallLog: a.stderr, Waiting: a.waitingForUsers}
}

// waitingForUsers is the line a command that owns the embedded stack
// prints when, at its end, it waits for the other processes using it.
func (a *app) waitingForUsers(users int, home string) {
	what := "process"
	if users != 1 {
		what = "processes"
	}
	fmt.Fprintf(a.stderr, "rulescape: waiting for %d other rulescape %s using the stack at %s (Ctrl-C stops it now)\n", users, what, home)
}

// workerStopTimeout bounds how long a stopping worker waits for its
// activities: a unit's activity returns at once when its worker stops
// (activities.WorkerShutdownType), so this only matters for an activity
// stuck in a store call.
const workerStopTimeout = 20 * time.Second

// connect connects to Temporal and the store (rsvc.Connect).
func (a *app) connect(ctx context.Context) (*services, error) {
	return rsvc.Connect(ctx, a.serviceOptions())
}

func (a *app) newWorker(s *services) worker.Worker {
	slots := a.slots
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	w := worker.New(s.Client, workflows.TaskQueue, worker.Options{
		// A worker that died leaves its sticky queue behind; fall back to
		// the normal queue after 1 s instead of the default 5 s.
		StickyScheduleToStartTimeout:       time.Second,
		MaxConcurrentActivityExecutionSize: slots,
		// On Stop the worker polls no more and its units hand themselves
		// back (activities.WorkerShutdownType): the workflow schedules
		// them again at once for another worker, with no attempt used.
		WorkerStopTimeout: workerStopTimeout,
	})
	workflows.Register(w)
	activities.Register(w, &activities.Activities{Store: s.Store, EngineVersion: engineVersion, Logger: a.log, Versions: a.versions})
	return w
}

func newWorkerCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
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
			defer s.Close()
			w := a.newWorker(s)
			if err := w.Start(); err != nil {
				return fmt.Errorf("starting the worker: %w", err)
			}
			defer w.Stop()
			a.log.Info("worker running", "task_queue", workflows.TaskQueue, "namespace", s.Namespace, "s3", s.Store.Endpoint())
			a.note("rulescape worker: polling task queue %q of namespace %s; S3 %s bucket %s (Ctrl-C to stop)\n",
				workflows.TaskQueue, s.Namespace, s.Store.Endpoint(), s.Store.Bucket())
			var stackDone <-chan struct{}
			if s.Stack != nil {
				stackDone = s.Stack.Done()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-stackDone:
				return s.Stack.Err()
			}
		},
	}
	cmd.Flags().IntVar(&a.slots, "slots", 0, "units this worker runs at once (0: one per core)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if a.slots < 0 {
			return fmt.Errorf("--slots %d: want 0 (one per core) or more units at once", a.slots)
		}
		return nil
	}
	return cmd
}
