package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"rulescape/activities"
	"rulescape/core/metaopt"
	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
	"rulescape/workflows"
)

// TestMetaoptJobWorkflowIsExact runs the metaopt job of
// testdata/tiny.yaml as a MetaoptJob workflow on the embedded stack — on
// 1 worker, on 3, and on 3 with a lost attempt of some eval groups — and
// compares each with one `stages.Metaopt` run in this process: the same
// Θ, and the same history dataset bytes (SHA-256). Every iteration is
// told exactly once, in order, and the workflow continues as new on the
// way. A last run is a cache hit.
func TestMetaoptJobWorkflowIsExact(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	home := t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	stack, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Stop() })
	st, err := store.New(ctx, store.Config{Endpoint: stack.S3Endpoint, AccessKey: stack.S3AccessKey, SecretKey: stack.S3SecretKey, Bucket: stack.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: stack.TemporalAddress, Namespace: stack.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	data, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	camp, err := pipelines.Parse("tiny.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	in, err := workflows.NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	job := &plan.Metaopt[0]

	// The reference: one process, as `rulescape metaopt` runs the job.
	ref, err := stages.StartMetaopt(ctx, job, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Run(ctx, in.CampaignID, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantParams := ref.Opt.Params()
	paramsSHA, err := store.ParamsSHA256(job.Key())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := schemas.WriteAll(&buf, schemas.Parquet, schemas.Meta{Campaign: in.CampaignID, ParamsSHA256: paramsSHA,
		EngineVersion: stages.Current()[pipelines.StageMetaopt]}, want.History); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	wantSHA := hex.EncodeToString(sum[:])

	for k, tc := range []struct {
		name    string
		workers int
		group   int
		lose    bool // fail the first attempt of some groups
		force   bool
		hit     bool
	}{
		{name: "1 worker", workers: 1},
		{name: "3 workers", workers: 3, group: 1, force: true},
		{name: "3 workers, lost groups", workers: 3, group: 1, lose: true, force: true},
		{name: "cache hit", workers: 1, hit: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queue := fmt.Sprintf("metaopt-e2e-%d", k)
			var mu sync.Mutex
			var told []int
			lost := map[string]bool{}
			for range tc.workers {
				acts := &activities.Activities{Store: st, EngineVersion: "e2e", Workers: 1}
				activities.SetMetaoptHooks(acts, func(iter int) {
					mu.Lock()
					told = append(told, iter)
					mu.Unlock()
				}, func(ctx context.Context, in activities.MetaoptEvalInput) error {
					if !tc.lose || in.From%2 == 0 {
						return nil
					}
					mu.Lock()
					defer mu.Unlock()
					key := fmt.Sprint(in.Iter, in.From)
					if lost[key] {
						return nil
					}
					lost[key] = true
					return errors.New("test: the worker lost this group")
				})
				w := worker.New(c, queue, worker.Options{MaxConcurrentActivityExecutionSize: 2})
				workflows.Register(w)
				activities.Register(w, acts)
				if err := w.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(w.Stop)
			}
			unit := activities.UnitInput{CampaignID: in.CampaignID, Plan: in.Plan, Stage: pipelines.StageMetaopt, Index: 0, Force: tc.force}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "metaopt-e2e-" + queue, TaskQueue: queue},
				workflows.MetaoptJobWorkflowName, workflows.MetaoptJobInput{Unit: unit, Group: tc.group, ContinueEvery: 2})
			if err != nil {
				t.Fatal(err)
			}
			firstRun := run.GetRunID()
			var out activities.UnitOutput
			if err := run.Get(ctx, &out); err != nil {
				t.Fatal(err)
			}
			if out.CacheHit != tc.hit || out.Metaopt == nil || len(out.Datasets) != 1 {
				t.Fatalf("output %+v, want cache hit %v with a result and one dataset", out, tc.hit)
			}
			if got := out.Datasets[0].Ref.SHA256; got != wantSHA {
				t.Errorf("history SHA-256 %s, single process %s", got, wantSHA)
			}
			if fmt.Sprint(out.Metaopt.Theta) != fmt.Sprint(want.Theta) || !slices.EqualFunc(out.Metaopt.Theta, want.Theta, slices.Equal) {
				t.Errorf("Θ %v, single process %v", out.Metaopt.Theta, want.Theta)
			}
			if (out.Metaopt.HeldOutJ == nil) != (want.HeldOutJ == nil) || want.HeldOutJ != nil && *out.Metaopt.HeldOutJ != *want.HeldOutJ {
				t.Errorf("held-out J %v, single process %v", out.Metaopt.HeldOutJ, want.HeldOutJ)
			}
			wantTold := []int{0, 1, 2, 3}
			if tc.hit {
				wantTold = nil
			}
			if !slices.Equal(told, wantTold) {
				t.Errorf("iterations told %v, want %v exactly once each", told, wantTold)
			}
			if tc.lose && len(lost) == 0 {
				t.Error("no group was lost: the test does not exercise a lost attempt")
			}
			// The checkpoint holds iterations 0..n-1 once each.
			key, _ := store.CheckpointKey(in.CampaignID, "metaopt/"+out.Datasets[0].ContentKey+"/state.json")
			data, err := st.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := metaopt.UnmarshalCheckpoint(data, out.Datasets[0].ContentKey)
			if err != nil {
				t.Fatal(err)
			}
			if cp.State.Iter != 4 || len(cp.Records) != 4 {
				t.Errorf("checkpoint at iteration %d with %d records, want 4 and 4", cp.State.Iter, len(cp.Records))
			}
			for i, r := range cp.Records {
				if r.Iter != i {
					t.Errorf("checkpoint record %d is of iteration %d", i, r.Iter)
				}
			}
			if !slices.Equal(cp.State.Params, wantParams) {
				t.Errorf("checkpoint Θ %v, single process %v", cp.State.Params, wantParams)
			}
			// Told batches and outcomes are removed.
			for _, name := range []string{"iter-000000/batch.json", "iter-000001/eval-000000-000001.json", "iter-000004/batch.json"} {
				key, _ := store.CheckpointKey(in.CampaignID, "metaopt/"+out.Datasets[0].ContentKey+"/"+name)
				if _, err := st.Get(ctx, key); !store.IsNotFound(err) {
					t.Errorf("%s: %v, want it removed", name, err)
				}
			}
			// The progress query (what status and run show) of the last run.
			v, err := c.QueryWorkflow(ctx, run.GetID(), "", workflows.ProgressQuery)
			if err != nil {
				t.Fatal(err)
			}
			var prog workflows.MetaoptJobProgress
			if err := v.Get(&prog); err != nil {
				t.Fatal(err)
			}
			if tc.hit {
				if prog.Status != workflows.StatusCompleted {
					t.Errorf("progress %+v of a cache hit", prog)
				}
			} else if last := cp.Records[3]; prog.Status != workflows.StatusCompleted || prog.Iter != 4 || prog.Iters != 4 ||
				prog.J == nil || *prog.J != last.J || prog.HeldOutJ == nil || want.HeldOutJ == nil || *prog.HeldOutJ != *want.HeldOutJ {
				t.Errorf("progress %+v (%s), want iteration 4/4, J %v, held-out J %v", prog, prog.Line(), last.J, want.HeldOutJ)
			}
			if !tc.hit {
				desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
				if err != nil {
					t.Fatal(err)
				}
				if desc.WorkflowExecutionInfo.GetExecution().GetRunId() == firstRun {
					t.Error("the workflow did not continue as new")
				}
			}
		})
	}
}
