package main

// Resilience tests: a campaign survives a worker SIGKILLed in the middle of
// its train stage, a SIGKILLed and restarted Temporal server, and is shared
// by two worker processes. All run against the real servers (embedded
// Temporal with SQLite, versitygw) with workers in subprocesses, and check
// the committed datasets object by object afterwards.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/client"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	manifestpkg "rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
	"rulescape/workflows"
)

// resilienceFile is the campaign of the crash and restart tests: 10 train
// units of about a second each, 2 in flight.
var resilienceFile = filepath.Join("testdata", "resilience.yaml")

// services of a stack, as a test and its worker subprocesses see them.
type rsServices struct {
	temporal, namespace string
	s3                  store.Config
	env                 []string // NAME=value for `rulescape worker`
}

func servicesOfStack(st *devstack.Stack) rsServices {
	return rsServices{temporal: st.TemporalAddress, namespace: st.Namespace, env: st.Env(),
		s3: store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket}}
}

// temporalClient connects a client to a stack's Temporal service, closed
// when the test ends.
func temporalClient(t *testing.T, ctx context.Context, hostPort, namespace string) client.Client {
	t.Helper()
	c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: namespace, Logger: quietSDKLogger{}})
	if err != nil {
		t.Fatalf("connecting to Temporal at %s: %v", hostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}

func servicesOfDev(r devRecord) rsServices {
	s := rsServices{temporal: r.TemporalAddress, namespace: r.Namespace,
		s3: store.Config{Endpoint: r.S3Endpoint, AccessKey: r.Env[store.EnvAccessKey], SecretKey: r.Env[store.EnvSecretKey], Bucket: r.S3Bucket}}
	for k, v := range r.Env {
		s.env = append(s.env, k+"="+v)
	}
	return s
}

// requireS3 skips (loudly) or fails without versitygw.
func requireS3(t *testing.T) {
	t.Helper()
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
}

// startWorkerWith runs `rulescape worker` as a subprocess with the given
// service variables; its stderr (the log, at info level) is returned.
func startWorkerWith(t *testing.T, env []string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "worker", "--log-level", "info")
	cmd.Env = append(append(os.Environ(), execEnv+"=1"), env...)
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

// trainLogRE matches the log line Train writes when it computes a unit
// (cache hits write none), in slog's text format: unit IDs contain '=',
// so they are quoted.
var trainLogRE = regexp.MustCompile(`(?m)\bmsg=train unit="?([^"\s]+)`)

// computedUnits returns the train units a worker's log says it computed,
// with how often.
func computedUnits(log string) map[string]int {
	n := map[string]int{}
	for _, m := range trainLogRE.FindAllStringSubmatch(log, -1) {
		n[m[1]]++
	}
	return n
}

// startCampaign starts the campaign of file as CampaignWorkflow.
func startCampaign(t *testing.T, ctx context.Context, c client.Client, s3 store.Config, file string, yaml []byte, hb time.Duration) (*pipelines.Campaign, *pipelines.Plan, client.WorkflowRun) {
	t.Helper()
	if yaml == nil {
		var err error
		if yaml, err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
	}
	camp, err := pipelines.Parse(file, yaml)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(ctx, s3)
	if err != nil {
		t.Fatal(err)
	}
	in, err := workflows.NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.HeartbeatTimeout = hb
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(camp.ID()), TaskQueue: workflows.TaskQueue},
		workflows.CampaignWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	return camp, plan, run
}

// waitTrainDone polls the progress query until the train stage has at
// least lo and at most hi units done, and returns that number. Query
// errors (no worker yet) are retried until ctx ends.
func waitTrainDone(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun, lo, hi int, logs func() string) int {
	t.Helper()
	last := -1
	for {
		if p, err := workflows.QueryProgress(ctx, c, run.GetID(), run.GetRunID()); err == nil {
			for _, st := range p.Stages {
				if st.Name != string(pipelines.StageTrain) {
					continue
				}
				last = st.Done
				if st.Done > hi {
					t.Fatalf("the train stage went from fewer than %d to %d units done between two queries 50 ms apart; the units are too short for this test", lo, st.Done)
				}
				if st.Done >= lo {
					return st.Done
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("train stage never had %d–%d units done (last seen %d); worker log:\n%s", lo, hi, last, logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitTrainStarted polls the workflow's pending activities until a Train
// activity is running on a worker.
func waitTrainStarted(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun, logs func() string) {
	t.Helper()
	for {
		desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		for _, pa := range desc.GetPendingActivities() {
			if pa.GetActivityType().GetName() == activities.TrainName && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no Train activity ever running; worker log:\n%s", logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// unitPrefixes maps the key prefix of each train unit's dataset of each
// kind, campaigns/<id>/train/<kind>/task=…/rule=…/seed=…/, to the unit ID.
func unitPrefixes(t *testing.T, campaign string, plan *pipelines.Plan) map[string]string {
	t.Helper()
	prefix, err := store.StagePrefix(campaign, string(pipelines.StageTrain))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, u := range plan.Train {
		for _, k := range []schemas.Kind{schemas.LearningCurves, schemas.Networks} {
			p := prefix + string(k) + "/"
			for _, part := range store.TaskRuleSeed(u.Task, u.Rule, int64(u.Seed)) {
				p += part.Name + "=" + store.EscapePartition(part.Value) + "/"
			}
			m[p] = u.ID
		}
	}
	return m
}

// object is one object under a campaign's prefix, with its commit marker.
type object struct {
	key, contentKey string
	size            int64
	modified        time.Time
	marker          []byte // commits/<content key>.json; nil if absent
}

// campaignObjects lists every object under campaigns/<id>/: the train
// datasets by unit and kind, and the other keys.
type campaignObjects struct {
	units map[string]map[schemas.Kind][]object // unit ID → kind → part objects
	other []string                             // keys outside any unit's partition
}

func listCampaign(t *testing.T, ctx context.Context, mc *minio.Client, s *store.Store, bucket, campaign string, plan *pipelines.Plan) campaignObjects {
	t.Helper()
	prefixes := unitPrefixes(t, campaign, plan)
	out := campaignObjects{units: map[string]map[schemas.Kind][]object{}}
	camp, err := store.CampaignPrefix(campaign)
	if err != nil {
		t.Fatal(err)
	}
	for info := range mc.ListObjectsIter(ctx, bucket, minio.ListObjectsOptions{Prefix: camp, Recursive: true}) {
		if info.Err != nil {
			t.Fatalf("listing %s: %v", camp, info.Err)
		}
		dir, base := info.Key[:strings.LastIndexByte(info.Key, '/')+1], info.Key[strings.LastIndexByte(info.Key, '/')+1:]
		unit, ok := prefixes[dir]
		ck, isPart := strings.CutPrefix(strings.TrimSuffix(base, ".parquet"), "part-")
		if !ok || !isPart || !strings.HasSuffix(base, ".parquet") {
			out.other = append(out.other, info.Key)
			continue
		}
		kind := schemas.Kind(strings.Split(strings.TrimPrefix(dir, camp+"train/"), "/")[0])
		o := object{key: info.Key, contentKey: ck, size: info.Size, modified: info.LastModified}
		if data, err := s.Get(ctx, "commits/"+ck+".json"); err == nil {
			o.marker = data
		} else if !store.IsNotFound(err) {
			t.Fatal(err)
		}
		if out.units[unit] == nil {
			out.units[unit] = map[schemas.Kind][]object{}
		}
		out.units[unit][kind] = append(out.units[unit][kind], o)
	}
	return out
}

// committed returns the units with exactly one object of each train kind,
// each with a commit marker that Lookup accepts for that object.
func (co campaignObjects) committed(t *testing.T, ctx context.Context, s *store.Store) map[string]bool {
	t.Helper()
	done := map[string]bool{}
	for unit, kinds := range co.units {
		ok := len(kinds) == 2
		for _, objs := range kinds {
			if len(objs) != 1 || objs[0].marker == nil {
				ok = false
				continue
			}
			ref, found, err := s.Lookup(ctx, objs[0].contentKey)
			if err != nil {
				t.Fatal(err)
			}
			ok = ok && found && ref.Key == objs[0].key
		}
		if ok {
			done[unit] = true
		}
	}
	return done
}

// checkDatasets checks the datasets of a completed campaign: every unit of
// the plan has exactly one object per dataset kind, each committed (its
// marker's size and SHA-256 match the object's bytes) and readable with
// the rows it should have; nothing but the manifest and the report lies
// beside them, and the manifest lists each of them once.
func checkDatasets(t *testing.T, ctx context.Context, svc rsServices, campaign string, plan *pipelines.Plan) campaignObjects {
	t.Helper()
	s, err := store.New(ctx, svc.s3)
	if err != nil {
		t.Fatal(err)
	}
	mc := minioClient(t, svc.s3)
	objs := listCampaign(t, ctx, mc, s, svc.s3.Bucket, campaign, plan)
	manifest, err := store.ManifestKey(campaign)
	if err != nil {
		t.Fatal(err)
	}
	// The report stage writes its page, figures and timings; the plan
	// draws learning curves and trials to criterion only.
	want := []string{manifest}
	for _, f := range []string{"figures/criterion.png", "figures/criterion.svg", "figures/learning-curves.png", "figures/learning-curves.svg", "index.html", "stages.json"} {
		k, err := store.ReportKey(campaign, f)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k)
	}
	if !slices.Equal(objs.other, want) {
		t.Errorf("objects under the campaign besides the train datasets: %q, want only %q", objs.other, want)
	}
	// The manifest lists each unit's datasets once, at the objects found.
	m, err := manifestpkg.Read(ctx, s, campaign)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{} // "<unit> <kind>" → key
	for _, d := range m.Datasets {
		id := d.Unit + " " + d.Kind
		if _, dup := listed[id]; dup {
			t.Errorf("the manifest lists %s twice", id)
		}
		listed[id] = d.Ref.Key
	}
	if len(listed) != 2*len(plan.Train) {
		t.Errorf("the manifest lists %d datasets, want %d", len(listed), 2*len(plan.Train))
	}
	for _, u := range plan.Train {
		for _, k := range []schemas.Kind{schemas.LearningCurves, schemas.Networks} {
			got := objs.units[u.ID][k]
			if len(got) == 1 && listed[u.ID+" "+string(k)] != got[0].key {
				t.Errorf("the manifest has %q for %s %s, the store %s", listed[u.ID+" "+string(k)], u.ID, k, got[0].key)
			}
			if len(got) != 1 {
				t.Errorf("%s: %d %s objects, want 1: %+v", u.ID, len(got), k, got)
				continue
			}
			ref, ok, err := s.Lookup(ctx, got[0].contentKey)
			if err != nil || !ok || ref.Key != got[0].key {
				t.Errorf("%s: %s %s is not committed (lookup %+v, %v, %v)", u.ID, k, got[0].key, ref, ok, err)
				continue
			}
			if err := s.Verify(ctx, ref); err != nil {
				t.Errorf("%s: %v", u.ID, err)
			}
			var rows []int64 // seed of each row
			switch k {
			case schemas.LearningCurves:
				rs, _, err := store.ReadRows[schemas.LearningCurveRow](ctx, s, ref)
				if err != nil {
					t.Fatalf("%s: %v", ref.Key, err)
				}
				for i, r := range rs {
					if r.Trial != int64(i) {
						t.Fatalf("%s: row %d is trial %d", ref.Key, i, r.Trial)
					}
					rows = append(rows, r.Seed)
				}
			case schemas.Networks:
				rs, _, err := store.ReadRows[schemas.NetworkRow](ctx, s, ref)
				if err != nil {
					t.Fatalf("%s: %v", ref.Key, err)
				}
				for _, r := range rs {
					rows = append(rows, r.Seed)
				}
			}
			want := map[schemas.Kind]int{schemas.LearningCurves: u.Params.Trials, schemas.Networks: 1}[k]
			if len(rows) != want || int64(len(rows)) != ref.Rows {
				t.Errorf("%s: %d rows (marker: %d), want %d", ref.Key, len(rows), ref.Rows, want)
			}
			for _, seed := range rows {
				if seed != int64(u.Seed) {
					t.Fatalf("%s: a row of seed %d in the dataset of seed %d", ref.Key, seed, u.Seed)
				}
			}
		}
	}
	return objs
}

func minioClient(t *testing.T, cfg store.Config) *minio.Client {
	t.Helper()
	mc, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// trainActivities summarises the Train activities of a workflow's history.
type trainActivities struct {
	scheduled, completed int
	maxAttempt           int
	identities           map[string]int // worker identity → Train activities it completed
}

func trainHistory(t *testing.T, ctx context.Context, c client.Client, run client.WorkflowRun) trainActivities {
	t.Helper()
	h := trainActivities{identities: map[string]int{}}
	train := map[int64]bool{} // scheduled event IDs of Train
	started := map[int64]string{}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activities.TrainName {
			train[e.GetEventId()] = true
			h.scheduled++
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && train[a.GetScheduledEventId()] {
			h.maxAttempt = max(h.maxAttempt, int(a.GetAttempt()))
			started[e.GetEventId()] = a.GetIdentity()
		}
		if a := e.GetActivityTaskCompletedEventAttributes(); a != nil && train[a.GetScheduledEventId()] {
			h.completed++
			h.identities[started[a.GetStartedEventId()]]++
		}
	}
	return h
}

// TestWorkerCrashMidTrain runs testdata/resilience.yaml on one worker
// subprocess, SIGKILLs it while some but not all train units are done,
// starts a second worker, and checks that the campaign completes, that no
// unit committed before the kill is computed again (the second worker's
// log, the units' commit markers and object times), that only units in
// flight were retried, and that every dataset exists exactly once, whole.
func TestWorkerCrashMidTrain(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	svc := servicesOfStack(st)
	c := temporalClient(t, ctx, svc.temporal, svc.namespace)
	s, err := store.New(ctx, svc.s3)
	if err != nil {
		t.Fatal(err)
	}
	mc := minioClient(t, svc.s3)

	first, firstLog := startWorkerWith(t, svc.env)
	camp, plan, run := startCampaign(t, ctx, c, svc.s3, resilienceFile, nil, 5*time.Second)
	total := len(plan.Train)
	done := waitTrainDone(t, ctx, c, run, 2, total-3, firstLog.String)
	// Kill only once a Train activity is running on the worker (not just
	// scheduled), so that the kill interrupts one.
	waitTrainStarted(t, ctx, c, run, firstLog.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	before := listCampaign(t, ctx, mc, s, svc.s3.Bucket, camp.ID(), plan)
	committed := before.committed(t, ctx, s)
	t.Logf("killed the worker with %d of %d train units done; %d units committed", done, total, len(committed))
	if len(committed) < done || len(committed) >= total {
		t.Fatalf("%d units committed at the kill, %d reported done, of %d", len(committed), done, total)
	}

	second, secondLog := startWorkerWith(t, svc.env)
	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign after the crash: %v\nsecond worker:\n%s", err, secondLog)
	}
	train := trainStage(res.Progress)
	if res.Status != workflows.StatusCompleted || train.Done != total || res.Datasets != 2*total {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d train units and %d datasets", res.Progress, res.Datasets, total, 2*total)
	}

	// Not recomputed: the second worker computed none of the committed units
	// and every unit that was not committed; their objects are untouched.
	recomputed := computedUnits(secondLog.String())
	for _, u := range plan.Train {
		switch n := recomputed[u.ID]; {
		case committed[u.ID] && n > 0:
			t.Errorf("%s was committed before the kill and computed again by the second worker", u.ID)
		case !committed[u.ID] && n == 0:
			t.Errorf("%s was not committed before the kill and the second worker did not compute it", u.ID)
		case n > 1:
			// Not wrong (a heartbeat missed on a loaded machine retries a
			// unit that was not committed yet), but worth knowing.
			t.Logf("%s was computed %d times by the second worker", u.ID, n)
		}
	}
	after := checkDatasets(t, ctx, svc, camp.ID(), plan)
	for unit := range committed {
		for k, objs := range before.units[unit] {
			a := after.units[unit][k]
			if len(a) != 1 || !bytes.Equal(a[0].marker, objs[0].marker) || !a[0].modified.Equal(objs[0].modified) || a[0].key != objs[0].key {
				t.Errorf("%s: %s was rewritten after the kill: before %s (%s) %s, after %+v", unit, k, objs[0].key, objs[0].modified, objs[0].marker, a)
			}
		}
	}

	// One completion per unit; the kill interrupted a running unit (a
	// second attempt exists); cache hits come only from retried units the
	// first worker had committed but not reported, at most max_parallel.
	h := trainHistory(t, ctx, c, run)
	t.Logf("after the crash: %d cache hits, Train attempts up to %d, completions by worker %v", train.CacheHits, h.maxAttempt, h.identities)
	if h.scheduled != total || h.completed != total {
		t.Errorf("history: %d Train activities scheduled, %d completed; want %d each", h.scheduled, h.completed, total)
	}
	if h.maxAttempt < 2 {
		t.Errorf("no Train activity ran a second attempt: the kill interrupted nothing")
	}
	if train.CacheHits > plan.MaxParallel {
		t.Errorf("%d cache hits, but at most %d units were in flight at the kill", train.CacheHits, plan.MaxParallel)
	}
	if n := sumIdentity(h.identities, strconv.Itoa(second.Process.Pid)+"@"); n < total-len(committed) {
		t.Errorf("the second worker completed %d Train activities, want at least the %d units not committed at the kill: %v",
			n, total-len(committed), h.identities)
	}
}

// trainStage returns the train stage of a campaign's progress.
func trainStage(p workflows.Progress) workflows.StageProgress {
	for _, st := range p.Stages {
		if st.Name == string(pipelines.StageTrain) {
			return st
		}
	}
	return workflows.StageProgress{}
}

// sumIdentity counts the completions of the worker whose identity starts
// with prefix.
func sumIdentity(ids map[string]int, prefix string) int {
	n := 0
	for id, k := range ids {
		if strings.HasPrefix(id, prefix) {
			n += k
		}
	}
	return n
}

// TestServerRestartMidCampaign runs the stack in a `rulescape dev`
// subprocess and the worker in another, SIGKILLs the stack (Temporal and
// the S3 gateway) while some but not all train units are done, starts it
// again on the same home, and checks that the same worker process
// reconnects by itself and the campaign completes with every dataset once.
func TestServerRestartMidCampaign(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	dev := startDev(t, home)
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()

	worker, workerLog := startWorkerWith(t, svc.env)
	camp, plan, run := startCampaign(t, ctx, c, svc.s3, resilienceFile, nil, 5*time.Second)
	total := len(plan.Train)
	done := waitTrainDone(t, ctx, c, run, 2, total-3, workerLog.String)
	if err := dev.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = dev.wait(t, 30*time.Second)
	t.Logf("killed the stack with %d of %d train units done", done, total)
	// Stay down long enough for the worker to see it (failed polls and
	// heartbeats); the assertions do not depend on this duration.
	time.Sleep(2 * time.Second)

	dev2 := startDev(t, home)
	if dev2.rec.TemporalAddress != dev.rec.TemporalAddress || dev2.rec.S3Endpoint != dev.rec.S3Endpoint {
		t.Fatalf("the restarted stack moved from %s, %s to %s, %s (a port was taken meanwhile); the worker cannot follow",
			dev.rec.TemporalAddress, dev.rec.S3Endpoint, dev2.rec.TemporalAddress, dev2.rec.S3Endpoint)
	}
	upAt := len(workerLog.String())
	c2 := dialTemporal(t, dev2.rec)
	defer c2.Close()
	for {
		desc, err := c2.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err == nil && desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("campaign still running after the restart (%v); worker log since the restart:\n%s", err, workerLog.String()[upAt:])
		case <-time.After(200 * time.Millisecond):
		}
	}
	var res workflows.CampaignResult
	if err := c2.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &res); err != nil {
		t.Fatalf("campaign after the restart: %v\nworker log since the restart:\n%s", err, workerLog.String()[upAt:])
	}
	if res.Status != workflows.StatusCompleted || trainStage(res.Progress).Done != total || res.Datasets != 2*total {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d train units and %d datasets", res.Progress, res.Datasets, total, 2*total)
	}
	// At least one unit had not started at the kill: the worker that
	// computed it after the restart is the one that was running all along.
	if len(computedUnits(workerLog.String()[upAt:])) == 0 {
		t.Errorf("the worker (pid %d) computed no unit after the restart:\n%s", worker.Process.Pid, workerLog.String()[upAt:])
	}
	checkDatasets(t, ctx, servicesOfDev(dev2.rec), camp.ID(), plan)
	h := trainHistory(t, ctx, c2, run)
	t.Logf("after the restart: %d cache hits, Train attempts up to %d", trainStage(res.Progress).CacheHits, h.maxAttempt)
	if h.scheduled != total || h.completed != total {
		t.Errorf("history: %d Train activities scheduled, %d completed; want %d each", h.scheduled, h.completed, total)
	}
}

// TestTwoWorkersShareCampaign runs testdata/resilience_workers.yaml (more
// units in flight than one worker takes) on two worker subprocesses and
// checks from the workflow history and the workers' logs that both did
// train units, that no unit was computed twice, and that the campaign
// completed with every dataset once.
func TestTwoWorkersShareCampaign(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	svc := servicesOfStack(st)
	c := temporalClient(t, ctx, svc.temporal, svc.namespace)

	file := filepath.Join("testdata", "resilience_workers.yaml")
	yaml, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A worker runs one activity per core: with more units in flight than
	// that, and more units than that, the second worker must get some.
	if n := runtime.NumCPU(); n > 2 {
		yaml = bytes.Replace(yaml, []byte("max_parallel: 4"), fmt.Appendf(nil, "max_parallel: %d", n+2), 1)
		yaml = bytes.Replace(yaml, []byte("seeds: 1-10"), fmt.Appendf(nil, "seeds: 1-%d", max(10, 2*n)), 1)
	}

	w1, log1 := startWorkerWith(t, svc.env)
	w2, log2 := startWorkerWith(t, svc.env)
	ids := []string{strconv.Itoa(w1.Process.Pid) + "@", strconv.Itoa(w2.Process.Pid) + "@"}
	// Both must be polling for activities before the campaign starts.
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
		if polling == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the two workers never both polled the activity queue (%v)\nworker 1:\n%s\nworker 2:\n%s", err, log1, log2)
		case <-time.After(100 * time.Millisecond):
		}
	}

	camp, plan, run := startCampaign(t, ctx, c, svc.s3, file, yaml, 0)
	total := len(plan.Train)
	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign: %v\nworker 1:\n%s\nworker 2:\n%s", err, log1, log2)
	}
	if res.Status != workflows.StatusCompleted || trainStage(res.Progress).Done != total || trainStage(res.Progress).CacheHits != 0 || res.Datasets != 2*total {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d train units computed and %d datasets", res.Progress, res.Datasets, total, 2*total)
	}

	h := trainHistory(t, ctx, c, run)
	t.Logf("Train activities completed by worker identity: %v", h.identities)
	if h.scheduled != total || h.completed != total || h.maxAttempt != 1 {
		t.Errorf("history: %d Train activities scheduled, %d completed, up to attempt %d; want %d, %d, 1", h.scheduled, h.completed, h.maxAttempt, total, total)
	}
	for i, id := range ids {
		if n := sumIdentity(h.identities, id); n == 0 {
			t.Errorf("worker %d (identity %s…) completed no Train activity: %v", i+1, id, h.identities)
		}
	}
	if sumIdentity(h.identities, ids[0])+sumIdentity(h.identities, ids[1]) != total {
		t.Errorf("Train activities completed by identities other than the two workers: %v", h.identities)
	}
	c1, c2 := computedUnits(log1.String()), computedUnits(log2.String())
	for _, u := range plan.Train {
		if c1[u.ID]+c2[u.ID] != 1 {
			t.Errorf("%s computed %d times by worker 1 and %d times by worker 2, want once in all", u.ID, c1[u.ID], c2[u.ID])
		}
	}
	checkDatasets(t, ctx, svc, camp.ID(), plan)
}
