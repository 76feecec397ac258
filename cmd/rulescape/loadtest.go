package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/workflows"
)

func init() { register(newLoadtestCmd) }

// Temporal's limits on one workflow history and one payload: the server
// warns past the first two and fails the workflow past 51 200 events or
// 50 MiB; a payload past 512 KiB logs "Blob data size exceeds the warning
// limit". The loadtest fails when a run comes near them.
const (
	historyEventsWarn = 10240
	historyBytesWarn  = 10 << 20
	eventBytesWarn    = 512 << 10
)

// loadtestOptions are the flags of `rulescape loadtest`.
type loadtestOptions struct {
	workers     []int
	units       int
	unitSeconds float64
	analysis    int
	repeat      int
	chunk       int
	processes   bool
	tag         string
}

// loadtestRow is one run of the synthetic campaign.
type loadtestRow struct {
	Workers        int     `json:"workers"`
	Units          int     `json:"units"`
	UnitSeconds    float64 `json:"unit_seconds"`
	Seconds        float64 `json:"seconds"`
	UnitsPerSecond float64 `json:"units_per_second"`
	// Efficiency is units·unit_seconds / (workers·seconds), counting the
	// units that ran (not the cache hits): 1 when the workers slept all
	// the time, less for the orchestration's overhead.
	Efficiency float64 `json:"efficiency"`
	Run        int     `json:"run"`        // 1: computed; 2, …: the same campaign again (cache hits)
	CacheHits  int     `json:"cache_hits"` // units found committed
	Processes  bool    `json:"processes"`  // workers were `rulescape worker` processes
	Campaign   string  `json:"campaign"`
	// The largest workflow history of the run (the campaign's or a
	// chunk's): its events and bytes, and the largest single event.
	Workflows        int   `json:"workflows"`
	MaxHistoryEvents int   `json:"max_history_events"`
	MaxHistoryBytes  int64 `json:"max_history_bytes"`
	MaxEventBytes    int64 `json:"max_event_bytes"`
}

func newLoadtestCmd(a *app) *cobra.Command {
	var o loadtestOptions
	var workers string
	cmd := &cobra.Command{
		Use:     "loadtest",
		Short:   "Measure the workflows, workers and store with a synthetic campaign",
		Long:    help("loadtest.long"),
		Example: help("loadtest.example"),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.workers, err = parseWorkers(workers); err != nil {
				return err
			}
			if err := o.check(); err != nil {
				return err
			}
			return a.loadtest(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&workers, "workers", "8", "workers, or a comma-separated list of worker counts to run one after the other (e.g. 1,8,64)")
	f.IntVar(&o.units, "units", 640, "units of the train-like synthetic stage")
	f.Float64Var(&o.unitSeconds, "unit-seconds", 1, "seconds each unit sleeps before committing its dataset (0: measure the orchestration alone)")
	f.IntVar(&o.analysis, "analysis-units", 0, "units of the analysis-like stage after it (each reads an equal share of the first stage's datasets)")
	f.IntVar(&o.repeat, "repeat", 1, "runs of the same campaign; runs after the first are all cache hits")
	f.IntVar(&o.chunk, "chunk", 0, fmt.Sprintf("units per chunk child workflow (0: %d)", workflows.DefaultTrainChunk))
	f.BoolVar(&o.processes, "processes", false, "run each worker as a `rulescape worker` process instead of in this process")
	f.StringVar(&o.tag, "tag", "", "name of the synthetic campaign's units: the same tag again reuses its datasets (default: new units every time)")
	return cmd
}

// parseWorkers parses --workers.
func parseWorkers(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--workers %q: want positive worker counts, e.g. --workers 64 or --workers 1,8,64", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// check reports the first bad flag, in one line naming it.
func (o loadtestOptions) check() error {
	switch {
	case o.units < 1:
		return fmt.Errorf("--units %d: want at least 1 unit", o.units)
	case o.unitSeconds < 0 || o.unitSeconds != o.unitSeconds:
		return fmt.Errorf("--unit-seconds %v: want 0 or more seconds", o.unitSeconds)
	case o.unitSeconds > 24*3600:
		return fmt.Errorf("--unit-seconds %v: want at most 86400 (one day)", o.unitSeconds)
	case o.analysis < 0 || o.analysis > o.units:
		return fmt.Errorf("--analysis-units %d: want 0 to --units (%d)", o.analysis, o.units)
	case o.repeat < 1:
		return fmt.Errorf("--repeat %d: want at least 1 run", o.repeat)
	case o.chunk < 0:
		return fmt.Errorf("--chunk %d: want 0 (the default, %d) or more units", o.chunk, workflows.DefaultTrainChunk)
	case strings.ContainsAny(o.tag, "\n\r"):
		return errors.New("--tag: want one line")
	}
	return nil
}

// loadtestInFlight is the units in flight per worker: one running and one
// scheduled, so that a worker that finishes a unit takes the next from the
// task queue at once, without waiting for the campaign to hear of the
// finished one and schedule another (≈ 0.1 s per unit on the embedded stack).
const loadtestInFlight = 2

// loadtestPlan returns the synthetic campaign: units loadtest units that
// sleep sleepMS each, then analysis units reading an equal share of them.
// tag enters every unit's settings, so another tag is another campaign.
func loadtestPlan(units, analysis int, sleepMS int64, tag string, maxParallel int) (*pipelines.Plan, error) {
	p := &pipelines.Plan{Format: pipelines.PlanFormat, Name: "loadtest", File: "(rulescape loadtest)", MaxParallel: maxParallel}
	unit := func(stage pipelines.StageName, i int, inputs []string) (string, error) {
		set, err := json.Marshal(stages.LoadtestSettings{SleepMS: sleepMS, Run: tag, Index: i})
		if err != nil {
			return "", err
		}
		id := fmt.Sprintf("%s/u=%06d", stage, i)
		p.Analysis = append(p.Analysis, pipelines.AnalysisUnit{ID: id, Stage: stage, Inputs: inputs, Settings: set})
		return id, nil
	}
	first := pipelines.Stage{Name: stages.StageLoadtest}
	for i := range units {
		id, err := unit(stages.StageLoadtest, i, nil)
		if err != nil {
			return nil, err
		}
		first.Units = append(first.Units, id)
	}
	p.Stages = append(p.Stages, first)
	if analysis > 0 {
		second := pipelines.Stage{Name: stages.StageLoadtestAnalysis, After: []pipelines.StageName{stages.StageLoadtest}}
		for j := range analysis {
			lo, hi := j*units/analysis, (j+1)*units/analysis
			id, err := unit(stages.StageLoadtestAnalysis, j, first.Units[lo:hi])
			if err != nil {
				return nil, err
			}
			second.Units = append(second.Units, id)
		}
		p.Stages = append(p.Stages, second)
	}
	id, err := p.ID()
	if err != nil {
		return nil, err
	}
	p.CampaignID = id
	return p, nil
}

// loadtest runs the synthetic campaign once per worker count (and
// o.repeat times each) and prints a row per run.
func (a *app) loadtest(ctx context.Context, o loadtestOptions) error {
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := a.printer()
	p.Text(func(w io.Writer) {
		fmt.Fprintf(w, "%-8s %-7s %-6s %-12s %-9s %-8s %-10s %-10s %s\n", "workers", "units", "run", "unit_seconds", "seconds", "units/s", "efficiency", "cache_hits", "max_history_events")
	})
	for _, w := range o.workers {
		tag := o.tag
		if tag == "" {
			tag = fmt.Sprintf("%d-%d", time.Now().UnixNano(), w)
		}
		plan, err := loadtestPlan(o.units, o.analysis, int64(o.unitSeconds*1000), tag, loadtestInFlight*w)
		if err != nil {
			return err
		}
		in, err := workflows.NewInput(ctx, s.Store, plan, nil)
		if err != nil {
			return err
		}
		in.TrainChunk = o.chunk
		stop, err := a.startLoadWorkers(ctx, s, w, o.processes)
		if err != nil {
			return err
		}
		rows, err := a.loadRuns(ctx, s.Client, in, o, w)
		stop()
		for _, r := range rows {
			if perr := p.Print(r, func(wr io.Writer) {
				fmt.Fprintf(wr, "%-8d %-7d %-6d %-12g %-9.2f %-8.1f %-10.3f %-10d %d\n", r.Workers, r.Units, r.Run, r.UnitSeconds, r.Seconds,
					r.UnitsPerSecond, r.Efficiency, r.CacheHits, r.MaxHistoryEvents)
			}); perr != nil {
				return perr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadRuns runs the campaign o.repeat times with w workers polling.
func (a *app) loadRuns(ctx context.Context, c client.Client, in workflows.CampaignInput, o loadtestOptions, w int) ([]loadtestRow, error) {
	var rows []loadtestRow
	total := o.units + o.analysis
	for k := 1; k <= o.repeat; k++ {
		t0 := time.Now()
		run, err := workflows.Start(ctx, c, in, false)
		if err != nil {
			return rows, err
		}
		var res workflows.CampaignResult
		if err := run.Get(ctx, &res); err != nil {
			return rows, fmt.Errorf("loadtest campaign %s (run %d): %s", in.CampaignID, k, workflows.FailureMessage(err))
		}
		secs := time.Since(t0).Seconds()
		r := loadtestRow{Workers: w, Units: total, UnitSeconds: o.unitSeconds, Seconds: secs, UnitsPerSecond: float64(total) / secs,
			Run: k, Processes: o.processes, Campaign: in.CampaignID}
		for _, st := range res.Stages {
			r.CacheHits += st.CacheHits
		}
		// Cache hits sleep nothing: the units that ran count.
		r.Efficiency = float64(total-r.CacheHits) * o.unitSeconds / (float64(w) * secs)
		hs, err := historySizes(ctx, c, run.GetID(), run.GetRunID())
		if err != nil {
			return rows, err
		}
		r.Workflows = len(hs)
		for _, h := range hs {
			r.MaxHistoryEvents = max(r.MaxHistoryEvents, h.events)
			r.MaxHistoryBytes = max(r.MaxHistoryBytes, h.bytes)
			r.MaxEventBytes = max(r.MaxEventBytes, h.maxEvent)
		}
		rows = append(rows, r)
		if r.MaxHistoryEvents > historyEventsWarn || r.MaxHistoryBytes > historyBytesWarn || r.MaxEventBytes > eventBytesWarn {
			return rows, fmt.Errorf("loadtest campaign %s (run %d): a workflow history has %d events and %d bytes, an event %d bytes: over Temporal's warning limits (%d events, %d bytes, %d bytes)",
				in.CampaignID, k, r.MaxHistoryEvents, r.MaxHistoryBytes, r.MaxEventBytes, historyEventsWarn, historyBytesWarn, eventBytesWarn)
		}
	}
	return rows, nil
}

// historySize is the size of one workflow history.
type historySize struct {
	events   int
	bytes    int64
	maxEvent int64
}

// historySizes returns the sizes of the history of a workflow run and of
// its child workflows' (recursively).
func historySizes(ctx context.Context, c client.Client, id, runID string) ([]historySize, error) {
	var out []historySize
	var h historySize
	var children [][2]string
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", id, err)
		}
		n := int64(proto.Size(ev))
		h.events++
		h.bytes += n
		h.maxEvent = max(h.maxEvent, n)
		if at := ev.GetChildWorkflowExecutionStartedEventAttributes(); at != nil {
			children = append(children, [2]string{at.GetWorkflowExecution().GetWorkflowId(), at.GetWorkflowExecution().GetRunId()})
		}
	}
	out = append(out, h)
	for _, ch := range children {
		hs, err := historySizes(ctx, c, ch[0], ch[1])
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// startLoadWorkers starts n workers, each running one unit at a time: in
// this process (one Temporal worker each, with its own identity) or as
// `rulescape worker --slots 1` processes, which it waits for until they
// poll. stop stops them.
func (a *app) startLoadWorkers(ctx context.Context, s *services, n int, processes bool) (stop func(), err error) {
	if !processes {
		host, _ := os.Hostname()
		var ws []worker.Worker
		stop = func() {
			for _, w := range ws {
				w.Stop()
			}
		}
		for i := range n {
			id := fmt.Sprintf("loadtest-%d-%d@%s", os.Getpid(), i, host)
			// The first worker runs the workflows too; the others only
			// units (a worker without workflows must not poll for them).
			w := worker.New(s.Client, workflows.TaskQueue, worker.Options{Identity: id, MaxConcurrentActivityExecutionSize: 1,
				StickyScheduleToStartTimeout: time.Second, WorkerStopTimeout: workerStopTimeout, DisableWorkflowWorker: i > 0})
			if i == 0 {
				workflows.Register(w)
			}
			activities.Register(w, &activities.Activities{Store: s.Store, EngineVersion: engineVersion, Logger: a.log, Versions: a.versions, Identity: id})
			if err := w.Start(); err != nil {
				stop()
				return nil, fmt.Errorf("starting loadtest worker %d: %w", i, err)
			}
			ws = append(ws, w)
		}
		return stop, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadtest --processes: finding this program: %w", err)
	}
	var procs []*exec.Cmd
	stop = func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(workerStopTimeout + 5*time.Second):
				_ = p.Process.Kill()
				<-done
			}
		}
	}
	args := []string{"worker", "--slots", "1", "--log-level", a.logLevel}
	if a.address != "" {
		args = append(args, "--address", a.address)
	}
	if a.namespace != "" {
		args = append(args, "--namespace", a.namespace)
	}
	ids := make([]string, 0, n)
	for i := range n {
		cmd := exec.Command(exe, args...)
		cmd.Env = os.Environ()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("loadtest --processes: starting worker process %d: %w", i, err)
		}
		procs = append(procs, cmd)
		ids = append(ids, strconv.Itoa(cmd.Process.Pid)+"@")
	}
	// Every process must poll for activities before the campaign starts.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := s.Client.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		polling := 0
		if err == nil {
			for _, id := range ids {
				if slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool { return strings.HasPrefix(p.GetIdentity(), id) }) {
					polling++
				}
			}
		}
		if polling == n {
			return stop, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return nil, fmt.Errorf("loadtest --processes: %d of %d worker processes poll the task queue after 2 minutes", polling, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
