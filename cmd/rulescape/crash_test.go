package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/schemas"
	"rulescape/store"
	"rulescape/workflows"
)

// lockedBuffer is a bytes.Buffer safe for a subprocess writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWorker runs `rulescape worker` as a subprocess against st.
func startWorker(t *testing.T, st *devstack.Stack) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "worker", "--log-level", "info")
	cmd.Env = append(append(os.Environ(), execEnv+"=1"), st.Env()...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

// TestWorkerCrash starts a campaign on a worker subprocess, SIGKILLs it in
// the middle of the metaopt job (a MetaoptJob child workflow whose learner
// units, ask and tell are activities), starts a second worker, and checks
// that the campaign completes, that the job went on from its stored
// checkpoint (no iteration told again), that an activity lost with the
// worker ran a second attempt, and that the history has every iteration
// once.
func TestWorkerCrash(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	c := temporalClient(t, ctx, st.TemporalAddress, st.Namespace)
	camp, _, err := readCampaign(filepath.Join("testdata", "campaign_crash.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.New(ctx, store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	in, err := workflows.NewInput(ctx, s, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.HeartbeatTimeout = 2 * time.Second

	first, firstOut := startWorker(t, st)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(camp.ID()), TaskQueue: workflows.TaskQueue},
		workflows.CampaignWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}

	// Wait until the metaopt job (a MetaoptJob child workflow) has told
	// iteration 2, by its progress query, and one of its learner units
	// (seconds long, unlike ask and tell) is running on the worker — not
	// merely scheduled: a kill between a tell and the next pick-up would
	// interrupt nothing — then kill the only
	// worker: the learner units, ask or tell in flight are lost.
	var job workflows.MetaoptJobProgress
	for job.Iter < 2 || !activityRunning(ctx, c, workflows.MetaoptJobWorkflowID(run.GetID(), 0)) {
		if ctx.Err() != nil {
			t.Fatalf("the metaopt job never got past iteration 2 with an activity running; worker output:\n%s", firstOut)
		}
		time.Sleep(20 * time.Millisecond)
		if jobs := workflows.MetaoptJobs(ctx, c, run.GetID(), run.GetRunID()); len(jobs) == 1 {
			job = jobs[0]
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	t.Logf("killed the first worker at metaopt iteration %d of %d", job.Iter, job.Iters)

	_, secondOut := startWorker(t, st)
	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign after the crash: %v\nsecond worker:\n%s", err, secondOut)
	}
	if res.Status != workflows.StatusCompleted || res.Stages[1].Done != 4 {
		t.Fatalf("campaign result %+v", res.Progress)
	}
	// The job went on from its stored checkpoint: the second worker told
	// only iterations after the kill, never an earlier one again.
	told := regexp.MustCompile(`msg="metaopt iteration".* iter=(\d+)`).FindAllStringSubmatch(secondOut.String(), -1)
	if len(told) == 0 {
		t.Fatalf("the second worker told no metaopt iteration; output:\n%s", secondOut)
	}
	for _, m := range told {
		if it, _ := strconv.Atoi(m[1]); it < job.Iter {
			t.Errorf("the second worker told iteration %d, before the %d iterations told when the first was killed: the job went back", it, job.Iter)
		}
	}
	attempts := 0
	for _, wid := range []string{run.GetID(), workflows.MetaoptJobWorkflowID(run.GetID(), 0)} {
		it := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if a := e.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
				attempts = max(attempts, int(a.GetAttempt()))
			}
		}
	}
	if attempts < 2 {
		t.Errorf("no activity ran a second attempt: the kill did not interrupt anything")
	}

	refs, err := s.List(ctx, camp.ID(), "metaopt")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || res.Datasets != 9 {
		t.Fatalf("%d metaopt datasets committed, %d datasets in the manifest; want 1 and 9", len(refs), res.Datasets)
	}
	for _, ref := range refs {
		rows, _, err := store.ReadRows[schemas.MetaoptRow](ctx, s, ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 21 {
			t.Fatalf("metaopt history has %d rows, want 20 iterations and the final Θ", len(rows))
		}
		for i, r := range rows {
			if r.Iter != int64(i) || math.IsNaN(r.J) != (i == 20) {
				t.Fatalf("metaopt history row %d is iteration %d with J %v (want J only on the 20 iterations)", i, r.Iter, r.J)
			}
		}
	}
}

// activityRunning reports whether workflow wid has a learner unit
// (activities.MetaoptEvalName) that a worker has picked up and not yet
// completed.
func activityRunning(ctx context.Context, c client.Client, wid string) bool {
	d, err := c.DescribeWorkflowExecution(ctx, wid, "")
	if err != nil {
		return false
	}
	for _, a := range d.GetPendingActivities() {
		if a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED && a.GetActivityType().GetName() == activities.MetaoptEvalName {
			return true
		}
	}
	return false
}
