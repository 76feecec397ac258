package activities

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// TestStageVersionChange is the acceptance of per-stage versions: after a
// campaign ran (RunLocal), running it again computes nothing; with the RSA
// stage's version changed (what a change to the RSA code does), the rsa
// unit and the report, which reads it, are recomputed and every train unit
// stays a cache hit.
func TestStageVersionChange(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "versions.yaml", nil)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	man, err := a.RunLocal(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*len(plan.Train) + 2; man.Datasets != want {
		t.Fatalf("RunLocal's manifest lists %d datasets, want %d", man.Datasets, want)
	}
	for id, out := range runPlan(t, a, plan) {
		if !out.CacheHit {
			t.Errorf("second run: %s was computed again", id)
		}
	}

	b := &Activities{Store: st, EngineVersion: "test", Workers: 1, Versions: stages.Current().With(pipelines.StageRSA, "rsa-test")}
	outs := runPlan(t, b, plan)
	if len(outs) != len(plan.Train)+2 {
		t.Fatalf("%d units ran, want %d", len(outs), len(plan.Train)+2)
	}
	for id, out := range outs {
		stage := pipelines.StageName(id[:strings.IndexAny(id+"/", "/")])
		recompute := stage == pipelines.StageRSA || stage == pipelines.StageReport
		if out.CacheHit == recompute {
			t.Errorf("rsa version changed: %s cache hit %v, want %v", id, out.CacheHit, !recompute)
		}
	}
	rsa := outs["rsa/gonogo"]
	_, info, err := store.ReadRows[schemas.RDMRow](ctx, st, rsa.Datasets[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.EngineVersion != "rsa-test" {
		t.Errorf("rdms engine version %q, want rsa-test", info.EngineVersion)
	}
	raw, err := st.Get(ctx, man.Key)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.StageVersions["rsa"] != "rsa-test" || m.StageVersions["train"] != stages.Current()[pipelines.StageTrain] {
		t.Errorf("manifest stage versions %v: want rsa-test and the current train version", m.StageVersions)
	}
	for _, e := range m.Datasets {
		if e.Stage == string(pipelines.StageRSA) && e.Ref != rsa.Datasets[0].Ref && e.Ref != rsa.Datasets[1].Ref {
			t.Errorf("manifest lists %s, not the recomputed rsa datasets", e.Ref.Key)
		}
	}
	for id, out := range runPlan(t, b, plan) {
		if !out.CacheHit {
			t.Errorf("again with rsa-test: %s was computed again", id)
		}
	}
}

// TestLineage: a computed unit records each of its datasets as the unit's
// latest version under the campaign's name — its content key and the key
// document it is the digest of (the stage's version, the digests of its
// inputs) — which a cache hit leaves as it is; the commit marker records
// the same key document (store.KeyDocOf).
func TestLineage(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "versions.yaml", nil)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref := storePlan(t, st, plan)
	outs, _ := runStages(t, a, plan, ref)

	var networks []string // the rsa unit's inputs, in plan order
	for _, u := range plan.Train {
		networks = append(networks, outs[u.ID].Datasets[1].Ref.SHA256)
	}
	check := func(id string, inputs []string) []store.Lineage {
		t.Helper()
		var ls []store.Lineage
		for _, d := range outs[id].Datasets {
			l, ok, err := st.GetLineage(ctx, plan.Name, id, d.Kind)
			if err != nil || !ok {
				t.Fatalf("lineage of %s %s: ok %v, err %v", id, d.Kind, ok, err)
			}
			stage := pipelines.StageName(d.Stage)
			if l.Name != plan.Name || l.Unit != id || l.Kind != d.Kind || l.Campaign != plan.CampaignID || l.ContentKey != d.ContentKey {
				t.Errorf("lineage of %s %s: %+v; want content key %s of campaign %s", id, d.Kind, l, d.ContentKey, plan.CampaignID)
			}
			if l.Doc.ContentKey() != d.ContentKey || l.Doc.Engine != stages.Current()[stage] || !slices.Equal(l.Doc.Inputs, inputs) {
				t.Errorf("lineage of %s %s: key document %+v; want the digest of content key %s, engine %s, inputs %v",
					id, d.Kind, l.Doc, d.ContentKey, stages.Current()[stage], inputs)
			}
			if doc, ok, err := st.KeyDocOf(ctx, d.ContentKey); err != nil || !ok || doc.ContentKey() != d.ContentKey {
				t.Errorf("%s %s: the commit marker's key document %+v (%v, %v) is not that of its content key", id, d.Kind, doc, ok, err)
			}
			ls = append(ls, l)
		}
		return ls
	}
	before := check(plan.Train[0].ID, []string{})
	check("rsa/gonogo", networks)

	if out := mustUnit(t, ctx, a, unitInput(t, plan, ref, plan.Train[0].ID)); !out.CacheHit {
		t.Fatalf("%s again: not a cache hit", plan.Train[0].ID)
	}
	for i, l := range check(plan.Train[0].ID, []string{}) {
		if !l.Written.Equal(before[i].Written) {
			t.Errorf("a cache hit rewrote the lineage of %s %s", l.Unit, l.Kind)
		}
	}
}

// TestPrune: a rerun that forces the metaopt stage records a new history
// (its rows carry wall times), so the train units of the discovered rule
// get new content keys and are recomputed under the campaign's prefix.
// Prune then removes, in the stages it is given, the committed datasets
// the new manifest no longer lists — marker and object — keeps those it
// lists, and leaves the stages it is not given alone.
func TestPrune(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref := storePlan(t, st, plan)
	old, _ := runStages(t, a, plan, ref)
	statuses := map[string]string{"metaopt": "completed", "train": "completed", "fixedpoints": "completed"}
	man := ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: statuses}
	if _, err := a.Manifest(ctx, man); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Prune(ctx, PruneInput{CampaignID: plan.CampaignID, Stages: []pipelines.StageName{pipelines.StageTrain, pipelines.StageFixedPoints}}); err != nil || n != 0 {
		t.Fatalf("prune after a plain run: removed %d (%v), want 0", n, err)
	}

	// The rerun: metaopt forced under a new engine version (metaopt is
	// bit-reproducible, so forcing alone would rewrite the same bytes under
	// the same keys), everything downstream as the resolver finds it.
	a.Versions = stages.Current().With(pipelines.StageMetaopt, "metaopt-rerun")
	results := map[string]MetaoptResult{}
	cur := map[string]UnitOutput{}
	for _, s := range plan.Stages {
		if s.Name == pipelines.StageReport {
			continue
		}
		for i := range s.Units {
			in := UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s.Name, Index: i, Force: s.Name == pipelines.StageMetaopt}
			if s.Name != pipelines.StageMetaopt {
				in.Metaopt = results
			}
			out := mustUnit(t, ctx, a, in)
			cur[out.Unit] = out
			if out.Metaopt != nil {
				results[out.Unit] = *out.Metaopt
			}
		}
	}
	var superseded, unchanged []Dataset
	for id, o := range old {
		for i, d := range o.Datasets {
			if n := cur[id].Datasets[i]; n.ContentKey == d.ContentKey {
				unchanged = append(unchanged, d)
			} else {
				superseded = append(superseded, d)
			}
		}
	}
	// The metaopt history, and discovered × 2 seeds, 2 train datasets each;
	// their networks are the same bytes (same Θ), so their fixed points
	// keep their keys.
	if len(superseded) != 5 {
		t.Fatalf("%d datasets superseded by the rerun, want 5: %+v", len(superseded), superseded)
	}
	if _, err := a.Manifest(ctx, man); err != nil {
		t.Fatal(err)
	}
	listed := func(stage pipelines.StageName) []string {
		t.Helper()
		refs, err := st.List(ctx, plan.CampaignID, string(stage))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, r := range refs {
			keys = append(keys, r.Key)
		}
		return keys
	}
	wantListed := func(stage pipelines.StageName) []string {
		var keys []string
		for _, o := range cur {
			for _, d := range o.Datasets {
				if d.Stage == string(stage) {
					keys = append(keys, d.Ref.Key)
				}
			}
		}
		slices.Sort(keys)
		return keys
	}
	if got := listed(pipelines.StageTrain); len(got) != len(wantListed(pipelines.StageTrain))+4 {
		t.Fatalf("before pruning, train lists %d datasets, want the %d current and 4 superseded", len(got), len(wantListed(pipelines.StageTrain)))
	}
	// A stage not given is left alone.
	if n, err := a.Prune(ctx, PruneInput{CampaignID: plan.CampaignID, Stages: []pipelines.StageName{pipelines.StageFixedPoints}}); err != nil || n != 0 {
		t.Fatalf("prune of fixedpoints: removed %d (%v), want 0", n, err)
	}
	if got := listed(pipelines.StageTrain); len(got) != len(wantListed(pipelines.StageTrain))+4 {
		t.Fatalf("pruning other stages changed train: %d datasets", len(got))
	}

	n, err := a.Prune(ctx, PruneInput{CampaignID: plan.CampaignID, Stages: []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain,
		pipelines.StageFixedPoints, pipelines.StageReport}})
	if err != nil || n != 5 {
		t.Fatalf("prune of the rerun's stages: removed %d (%v), want the 5 superseded datasets", n, err)
	}
	for _, s := range []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints} {
		if got, want := listed(s), wantListed(s); !slices.Equal(got, want) {
			t.Errorf("%s after pruning lists %v, want the manifest's %v", s, got, want)
		}
	}
	for _, d := range superseded {
		if _, ok, err := st.Lookup(ctx, d.ContentKey); err != nil || ok {
			t.Errorf("%s %s: still committed after pruning (%v)", d.Unit, d.Kind, err)
		}
		if _, err := st.Get(ctx, d.Ref.Key); !store.IsNotFound(err) {
			t.Errorf("%s: object still there after pruning (%v)", d.Ref.Key, err)
		}
	}
	for _, d := range unchanged {
		if _, ok, err := st.Lookup(ctx, d.ContentKey); err != nil || !ok {
			t.Errorf("%s %s: listed by the manifest but no longer committed (%v)", d.Unit, d.Kind, err)
		}
	}
	if n, err := a.Prune(ctx, PruneInput{CampaignID: plan.CampaignID, Stages: []pipelines.StageName{pipelines.StageTrain}}); err != nil || n != 0 {
		t.Errorf("prune again: removed %d (%v), want 0", n, err)
	}
	// Everything the manifest lists is still readable.
	raw, err := st.Get(ctx, "campaigns/"+plan.CampaignID+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Datasets {
		if err := st.Verify(ctx, e.Ref); err != nil {
			t.Errorf("manifest entry %s: %v", e.Ref.Key, err)
		}
	}
}

// TestCorruptCacheHit flips bytes of a committed learning_curves object in
// place, in the gateway's backing file (same size, so the store's size and
// ETag still match its marker): the next run of that unit must not reuse
// it but recompute it, and the recomputed dataset verifies again.
func TestCorruptCacheHit(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "versions.yaml", nil)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	if _, err := a.RunLocal(ctx, plan); err != nil {
		t.Fatal(err)
	}
	outs := runPlan(t, a, plan)
	victim := plan.Train[0].ID
	ref := outs[victim].Datasets[0].Ref
	file := filepath.Join(gateway.Dir, st.Bucket(), filepath.FromSlash(ref.Key))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != ref.Size {
		t.Fatalf("backing file %s has %d bytes, the ref %d", file, len(data), ref.Size)
	}
	for i := len(data) / 2; i < len(data)/2+16; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.Lookup(ctx, outs[victim].Datasets[0].ContentKey); err != nil || !ok {
		t.Fatalf("the corrupted object still passes Lookup's size and ETag check: ok %v, err %v (the test corrupts nothing)", ok, err)
	}
	again := runPlan(t, a, plan)
	if again[victim].CacheHit {
		t.Fatalf("%s: a corrupted dataset was reused as a cache hit", victim)
	}
	if err := st.Verify(ctx, again[victim].Datasets[0].Ref); err != nil {
		t.Errorf("recomputed dataset does not verify: %v", err)
	}
	for id, out := range again {
		if id != victim && !strings.HasPrefix(id, "rsa/") && id != "report" && !out.CacheHit {
			t.Errorf("%s was recomputed; only %s (and what reads it) should be", id, victim)
		}
	}
}
