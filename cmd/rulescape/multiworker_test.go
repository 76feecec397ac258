package main

// Multi-process test: `rulescape dev` and three `rulescape worker`
// processes share the quickstart campaign; one worker is SIGKILLed in the
// middle, and the results must equal those of a one-worker run.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"rulescape/activities"
	"rulescape/internal/devstack"
	manifestpkg "rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
	"rulescape/workflows"
)

// quickstartFile is the README's campaign: every stage in well under a
// minute of CPU.
var quickstartFile = filepath.Join("..", "..", "pipelines", "quickstart.yaml")

// quickstartYAML returns the quickstart campaign with max_parallel raised
// to par, written to a file of its own (one per test, so that the file
// name recorded in the manifest is the same for the runs compared).
func quickstartYAML(t *testing.T, par int) (string, []byte) {
	t.Helper()
	yaml, err := os.ReadFile(quickstartFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(yaml, []byte("max_parallel: 2")) {
		t.Fatalf("%s has no `max_parallel: 2` to raise; update the test", quickstartFile)
	}
	yaml = bytes.Replace(yaml, []byte("max_parallel: 2"), fmt.Appendf(nil, "max_parallel: %d", par), 1)
	file := filepath.Join(t.TempDir(), "quickstart.yaml")
	if err := os.WriteFile(file, yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, yaml
}

// waitPolling waits until a worker whose identity starts with each of ids
// polls the activity task queue.
func waitPolling(t *testing.T, ctx context.Context, c client.Client, ids []string, logs func() string) {
	t.Helper()
	for {
		resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		polling := 0
		if err == nil {
			for _, id := range ids {
				if slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool { return strings.HasPrefix(p.GetIdentity(), id) }) {
					polling++
				}
			}
		}
		if polling == len(ids) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of %d workers poll the activity queue (%v); logs:\n%s", polling, len(ids), err, logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// campaignOutcome is what a completed campaign produced, for comparing
// two runs of it.
type campaignOutcome struct {
	datasets map[string]string // "<unit> <kind>" → SHA-256
}

// outcomeOf reads the manifest of a completed campaign, verifies every
// dataset it lists against its recorded SHA-256 and size, and returns the
// digests.
func outcomeOf(t *testing.T, ctx context.Context, s3 store.Config, campaign string) campaignOutcome {
	t.Helper()
	s, err := store.New(ctx, s3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifestpkg.Read(ctx, s, campaign)
	if err != nil {
		t.Fatal(err)
	}
	o := campaignOutcome{datasets: map[string]string{}}
	for _, d := range m.Datasets {
		if err := s.Verify(ctx, d.Ref); err != nil {
			t.Errorf("%s %s: %v", d.Unit, d.Kind, err)
		}
		id := d.Unit + " " + d.Kind
		if _, dup := o.datasets[id]; dup {
			t.Errorf("the manifest lists %s twice", id)
		}
		// Every dataset, the metaopt history included (it holds no wall
		// times), is the same bytes whichever workers computed it.
		o.datasets[id] = d.Ref.SHA256
	}
	return o
}

// compareOutcomes reports every difference between two runs' outcomes.
func compareOutcomes(t *testing.T, got, want campaignOutcome) {
	t.Helper()
	for id, sum := range want.datasets {
		switch g, ok := got.datasets[id]; {
		case !ok:
			t.Errorf("%s: missing (the one-worker run has it)", id)
		case g != sum:
			t.Errorf("%s: SHA-256 %s, the one-worker run's %s", id, g, sum)
		}
	}
	for id := range got.datasets {
		if _, ok := want.datasets[id]; !ok {
			t.Errorf("%s: not in the one-worker run", id)
		}
	}
}

// activityStarts lists, from a workflow's history, the identity that
// started each activity's recorded (last) attempt, by activity type, with
// the attempt number.
type activityStart struct {
	activity, identity string
	attempt            int32
}

func activityStarts(t *testing.T, ctx context.Context, c client.Client, workflowID, runID string) []activityStart {
	t.Helper()
	types := map[int64]string{} // scheduled event ID → activity type
	var out []activityStart
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			types[e.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			out = append(out, activityStart{activity: types[a.GetScheduledEventId()], identity: a.GetIdentity(), attempt: a.GetAttempt()})
		}
	}
	return out
}

// victim is the unit activity chosen to be interrupted, and its worker.
type victim struct {
	activity string // activity type
	attempt  int32
	worker   int // index into the workers
}

// pickVictim polls the pending activities until a unit activity of
// preferred type runs on one of the workers (ids are identity prefixes)
// and has recorded a heartbeat (for Metaopt: a checkpoint), then returns
// it. Once the campaign has gone past preferred's stage without that, any
// started unit activity (Train, an analysis) with a heartbeat will do.
func pickVictim(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun, preferred string, stage pipelines.StageName, ids []string, logs func() string) victim {
	t.Helper()
	anyUnit := false
	// Metaopt's learner units run in the job's MetaoptJob child workflow.
	child := workflows.MetaoptJobWorkflowID(run.GetID(), 0)
	for {
		for _, wid := range []string{run.GetID(), child} {
			desc, err := c.DescribeWorkflowExecution(ctx, wid, "")
			if err != nil {
				continue // the child does not exist yet, or no longer
			}
			for _, pa := range desc.GetPendingActivities() {
				if v, ok := victimOf(pa, preferred, anyUnit, ids); ok {
					return v
				}
			}
		}
		if !anyUnit {
			if p, err := workflows.QueryProgress(ctx, c, run.GetID(), run.GetRunID()); err == nil {
				for _, st := range p.Stages {
					if st.Name == string(stage) && st.Status == workflows.StatusCompleted {
						t.Logf("the %s stage ended before a %s activity was caught running with a heartbeat; interrupting another unit", stage, preferred)
						anyUnit = true
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no unit activity ever running with a heartbeat on one of the workers; logs:\n%s", logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func victimOf(pa *workflowpb.PendingActivityInfo, preferred string, anyUnit bool, ids []string) (victim, bool) {
	name := pa.GetActivityType().GetName()
	if pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED {
		return victim{}, false
	}
	// A learner unit has no state to resume: running is enough. Other
	// units only once they have heartbeated (progress to resume from).
	if name != activities.MetaoptEvalName && pa.GetHeartbeatDetails() == nil {
		return victim{}, false
	}
	if name != preferred && (!anyUnit || name == activities.ManifestName) {
		return victim{}, false
	}
	if name == activities.MetaoptName {
		// Only once a checkpoint is named: a retry must resume from it.
		var hb activities.MetaoptHeartbeat
		if len(pa.GetHeartbeatDetails().GetPayloads()) == 0 ||
			converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &hb) != nil || hb.Checkpoint == "" {
			return victim{}, false
		}
	}
	for i, id := range ids {
		if strings.HasPrefix(pa.GetLastWorkerIdentity(), id) {
			return victim{activity: name, attempt: pa.GetAttempt(), worker: i}, true
		}
	}
	return victim{}, false
}

// TestThreeWorkersQuickstart runs the quickstart campaign (max_parallel
// raised to 6, two units per worker) on `rulescape dev` and three `rulescape
// worker` processes, SIGKILLs the worker running the metaopt job once it
// has written a checkpoint, and checks that the campaign completes, that
// the other two workers took units (the history's ActivityTaskStarted
// identities) and took over the interrupted one, and that every dataset
// is byte-identical to those of the same campaign run by a single worker
// on a stack of its own, the metaopt history included.
func TestThreeWorkersQuickstart(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	file, yaml := quickstartYAML(t, 6)

	// The reference: one worker, embedded stack on a home of its own.
	t0 := time.Now()
	ref, err := devstack.Start(ctx, devstack.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Stop()
	refSvc := servicesOfStack(ref)
	rc := temporalClient(t, ctx, refSvc.temporal, refSvc.namespace)
	refWorker, refLog := startWorkerWith(t, refSvc.env)
	camp, _, refRun := startCampaign(t, ctx, rc, refSvc.s3, file, yaml, 10*time.Second)
	var refRes workflows.CampaignResult
	if err := refRun.Get(ctx, &refRes); err != nil || refRes.Status != workflows.StatusCompleted {
		t.Fatalf("one-worker run: %v, %+v\nworker:\n%s", err, refRes.Progress, refLog)
	}
	want := outcomeOf(t, ctx, refSvc.s3, camp.ID())
	checkQuickstartLearns(t, ctx, refSvc.s3, camp.ID())
	_ = refWorker.Process.Kill()
	_ = refWorker.Wait()
	rc.Close()
	if err := ref.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("one-worker run: %d datasets in %s", len(want.datasets), time.Since(t0).Round(time.Second))

	// Three workers on `rulescape dev`.
	dev := startDev(t, t.TempDir())
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	var ids []string
	var logs []*lockedBuffer
	var procs []int
	for range 3 {
		w, l := startWorkerWith(t, svc.env)
		ids = append(ids, strconv.Itoa(w.Process.Pid)+"@")
		logs = append(logs, l)
		procs = append(procs, w.Process.Pid)
	}
	allLogs := func() string {
		var b strings.Builder
		for i, l := range logs {
			fmt.Fprintf(&b, "--- worker %d (pid %d):\n%s\n", i+1, procs[i], l)
		}
		return b.String()
	}
	waitPolling(t, ctx, c, ids, allLogs)

	camp2, plan, run := startCampaign(t, ctx, c, svc.s3, file, yaml, 10*time.Second)
	if camp2.ID() != camp.ID() {
		t.Fatalf("the same file gave campaign IDs %s and %s", camp.ID(), camp2.ID())
	}
	// Interrupt a worker while it evaluates learners of the metaopt job
	// (a MetaoptEval activity of the job's MetaoptJob child workflow).
	v := pickVictim(t, ctx, c, run, activities.MetaoptEvalName, pipelines.StageMetaopt, ids, allLogs)
	if err := syscall.Kill(procs[v.worker], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILLed worker %d (pid %d) while it ran %s (attempt %d)", v.worker+1, procs[v.worker], v.activity, v.attempt)

	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign: %v\n%s", err, allLogs())
	}
	if res.Status != workflows.StatusCompleted || res.Datasets != refRes.Datasets {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d datasets", res.Progress, res.Datasets, refRes.Datasets)
	}
	if tr := trainStage(res.Progress); tr.Done != len(plan.Train) {
		t.Errorf("train stage %+v, want %d units done", tr, len(plan.Train))
	}

	// Units on every worker: the victim had one at the kill (its
	// identity on the pending activity); the history's ActivityTaskStarted
	// events (the attempt that completed each activity) name the other two,
	// and the victim's unit was finished by one of them in a later attempt.
	starts := append(activityStarts(t, ctx, c, run.GetID(), run.GetRunID()),
		activityStarts(t, ctx, c, workflows.MetaoptJobWorkflowID(run.GetID(), 0), "")...)
	byWorker := make([]map[string]int, len(ids))
	retried := false
	for _, s := range starts {
		for i, id := range ids {
			if strings.HasPrefix(s.identity, id) {
				if byWorker[i] == nil {
					byWorker[i] = map[string]int{}
				}
				byWorker[i][s.activity]++
				if s.activity == v.activity && i != v.worker && s.attempt > v.attempt {
					retried = true
				}
			}
		}
	}
	t.Logf("activities completed by worker (history): %v", byWorker)
	for i := range ids {
		if i != v.worker && len(byWorker[i]) == 0 {
			t.Errorf("worker %d (pid %d) completed no activity:\n%s", i+1, procs[i], allLogs())
		}
	}
	evalWorkers := 0
	for _, m := range byWorker {
		if m[activities.MetaoptEvalName] > 0 {
			evalWorkers++
		}
	}
	if evalWorkers < 2 {
		t.Errorf("learner units (MetaoptEval) were completed on %d workers, want the learners spread over at least the 2 surviving ones: %v", evalWorkers, byWorker)
	}
	if !retried {
		t.Errorf("no %s activity was completed by another worker in an attempt after %d: %+v", v.activity, v.attempt, starts)
	}
	if v.activity == activities.MetaoptName && !strings.Contains(allLogs(), "metaopt resumed") {
		t.Errorf("the metaopt job was killed after a checkpoint but no worker resumed it from there:\n%s", allLogs())
	}

	got := outcomeOf(t, ctx, svc.s3, camp.ID())
	if len(got.datasets) == 0 {
		t.Fatalf("outcome %+v has no datasets", got)
	}
	compareOutcomes(t, got, want)
}

// checkQuickstartLearns checks, from a completed quickstart campaign's
// datasets, what the README promises of it: the rule discovered from Θ = 0
// meets the learning criterion in at least 2 of its 3 seeds, the zero rule
// in none, and the meta-optimization's held-out J rose from its first
// evaluation to its last.
func checkQuickstartLearns(t *testing.T, ctx context.Context, s3 store.Config, campaign string) {
	t.Helper()
	s, err := store.New(ctx, s3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifestpkg.Read(ctx, s, campaign)
	if err != nil {
		t.Fatal(err)
	}
	learned, seeds := map[string]int{}, map[string]int{}
	var heldout []float64
	for _, d := range m.Datasets {
		switch d.Kind {
		case string(schemas.Networks):
			rows, _, err := store.ReadRows[schemas.NetworkRow](ctx, s, d.Ref)
			if err != nil {
				t.Fatalf("%s: %v", d.Unit, err)
			}
			for _, r := range rows {
				seeds[r.Rule]++
				if r.TrialsToCriterion >= 0 {
					learned[r.Rule]++
				}
			}
		case string(schemas.MetaoptHistory):
			rows, _, err := store.ReadRows[schemas.MetaoptRow](ctx, s, d.Ref)
			if err != nil {
				t.Fatalf("%s: %v", d.Unit, err)
			}
			slices.SortFunc(rows, func(a, b schemas.MetaoptRow) int { return int(a.Iter - b.Iter) })
			for _, r := range rows {
				if !math.IsNaN(r.HeldoutJ) {
					heldout = append(heldout, r.HeldoutJ)
				}
			}
		}
	}
	t.Logf("criterion met: %v of %v seeds; held-out J over the meta-optimization: %.1f", learned, seeds, heldout)
	if seeds["discovered"] != 3 || learned["discovered"] < 2 {
		t.Errorf("the discovered rule met the criterion in %d of %d seeds; the quickstart promises ≥ 2 of 3", learned["discovered"], seeds["discovered"])
	}
	if learned["zero"] != 0 {
		t.Errorf("the zero rule met the criterion in %d seeds: the criterion does not measure learning", learned["zero"])
	}
	if len(heldout) < 2 || heldout[len(heldout)-1] <= heldout[0] {
		t.Errorf("held-out J %v: want at least two evaluations, the last above the first", heldout)
	}
}
