package activities

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rulescape/manifest"
	"rulescape/pipelines"
)

// TestResolveUnits runs a campaign, then resolves its stages in bulk:
// every unit is a verified cache hit. A dataset corrupted in place (same
// size and ETag) makes exactly its unit one to compute; Force marks every
// unit; a range outside the stage is refused.
func TestResolveUnits(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "versions.yaml", nil)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	if _, err := a.RunLocal(ctx, plan); err != nil {
		t.Fatal(err)
	}
	ref := storePlan(t, st, plan)
	resolve := func(stage pipelines.StageName, force bool) ResolveOutput {
		t.Helper()
		n := len(plan.Stage(stage).Units)
		out, err := a.ResolveUnits(ctx, ResolveInput{CampaignID: plan.CampaignID, Plan: ref, Stage: stage, From: 0, To: n, Force: force})
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		return out
	}
	for _, s := range []pipelines.StageName{pipelines.StageTrain, pipelines.StageRSA} {
		n := len(plan.Stage(s).Units)
		if out := resolve(s, false); out.Hits != n || out.Compute != 0 || out.Indices() != nil {
			t.Fatalf("%s after a full run: %d hits, %d to compute %v; want %d hits", s, out.Hits, out.Compute, out.Indices(), n)
		}
	}
	// With a run ID, the hits are recorded for the run's later
	// activities; the downstream stage and the manifest read them, and
	// the manifest removes them.
	for _, s := range []pipelines.StageName{pipelines.StageTrain, pipelines.StageRSA} {
		n := len(plan.Stage(s).Units)
		out, err := a.ResolveUnits(ctx, ResolveInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s, From: 0, To: n, Run: "run-1"})
		if err != nil || out.Hits != n {
			t.Fatalf("%s with a run: %+v, %v", s, out, err)
		}
	}
	prefix, err := resolvedPrefix(plan.CampaignID, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := st.ListKeys(ctx, prefix); err != nil || len(keys) != 2 {
		t.Fatalf("records %v (%v), want one per stage", keys, err)
	}
	before, err := manifest.Read(ctx, st, plan.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	mo, err := a.Manifest(ctx, ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: before.Stages, Run: "run-1"})
	if err != nil || mo.Datasets != len(before.Datasets) {
		t.Fatalf("manifest from the records: %+v, %v; want %d datasets", mo, err, len(before.Datasets))
	}
	after, err := manifest.Read(ctx, st, plan.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Written.Equal(before.Written) {
		t.Errorf("the manifest from the records differs from the one looked up (rewritten at %v)", after.Written)
	}
	if keys, err := st.ListKeys(ctx, prefix); err != nil || len(keys) != 0 {
		t.Fatalf("records %v (%v) after the manifest, want none", keys, err)
	}
	// Corrupt the networks dataset of the second train unit in place.
	victim := 1
	_, u, err := a.resolveUnit(ctx, &UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: pipelines.StageTrain, Index: victim})
	if err != nil {
		t.Fatal(err)
	}
	dref := u.Dataset("networks").Ref
	file := filepath.Join(gateway.Dir, st.Bucket(), filepath.FromSlash(dref.Key))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n := len(plan.Stage(pipelines.StageTrain).Units)
	out := resolve(pipelines.StageTrain, false)
	if out.Hits != n-1 || out.Compute != 1 || out.Corrupt != 1 || !slices.Equal(out.Indices(), []int{victim}) {
		t.Fatalf("after corrupting unit %d: %+v, indices %v; want it alone to compute, 1 corrupt", victim, out, out.Indices())
	}
	if out := resolve(pipelines.StageTrain, true); out.Compute != n || out.Hits != 0 || len(out.Indices()) != n {
		t.Fatalf("forced: %+v, want every unit to compute", out)
	}
	if _, err := a.ResolveUnits(ctx, ResolveInput{CampaignID: plan.CampaignID, Plan: ref, Stage: pipelines.StageTrain, From: 0, To: n + 1}); err == nil {
		t.Fatal("a range past the stage's units was resolved")
	}
}

// TestProvenance: every computed dataset records the worker, attempt,
// wall time and commit time of its computation, in the lineage and the
// manifest; a second run (cache hits) keeps that provenance unchanged.
func TestProvenance(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "versions.yaml", nil)
	ctx := t.Context()
	start := time.Now().UTC()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1, Identity: "test-worker-7"}
	if _, err := a.RunLocal(ctx, plan); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Read(ctx, st, plan.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Datasets) == 0 {
		t.Fatal("empty manifest")
	}
	for _, e := range m.Datasets {
		if e.Worker != "test-worker-7" || e.Attempt != 1 || e.WallSeconds <= 0 || e.ComputedAt == nil ||
			e.ComputedAt.Before(start) || e.ComputedAt.After(time.Now()) {
			t.Errorf("%s %s: worker %q attempt %d wall %v computed at %v; want test-worker-7, 1, > 0, during the run",
				e.Unit, e.Kind, e.Worker, e.Attempt, e.WallSeconds, e.ComputedAt)
		}
	}
	ls, err := manifest.List(st, m)
	if err != nil {
		t.Fatal(err)
	}
	if d := ls.Datasets[0]; d.Worker != "test-worker-7" || d.Attempt != 1 || d.WallSeconds != m.Datasets[0].WallSeconds || d.ComputedAt == nil {
		t.Errorf("`datasets ls` entry %+v lacks the manifest's provenance", d)
	}
	e := m.Datasets[0]
	l, ok, err := st.GetLineage(ctx, plan.Name, e.Unit, e.Kind)
	if err != nil || !ok {
		t.Fatalf("lineage of %s: ok %v, err %v", e.Unit, ok, err)
	}
	if l.Provenance == nil || l.Provenance.Worker != "test-worker-7" || l.Provenance.Attempt != 1 || l.Provenance.WallSeconds <= 0 {
		t.Errorf("lineage provenance %+v, want test-worker-7, attempt 1, wall > 0", l.Provenance)
	}
	// A second run by another worker: all cache hits, provenance kept.
	b := &Activities{Store: st, EngineVersion: "test", Workers: 1, Identity: "other-worker"}
	if _, err := b.RunLocal(ctx, plan); err != nil {
		t.Fatal(err)
	}
	again, err := manifest.Read(ctx, st, plan.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range again.Datasets {
		was := m.Datasets[i]
		if e.Worker != was.Worker || e.WallSeconds != was.WallSeconds || !e.ComputedAt.Equal(*was.ComputedAt) {
			t.Errorf("%s: provenance %s %v %v after a cached run, want the first run's %s %v %v",
				e.Unit, e.Worker, e.WallSeconds, e.ComputedAt, was.Worker, was.WallSeconds, was.ComputedAt)
		}
	}
}
