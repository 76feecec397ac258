package activities

import (
	"strings"
	"testing"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

// rerunForced runs every unit of a stored plan but the report, the units
// of stage forced recomputed (a `rulescape rerun --stages` of it), and
// writes the campaign's manifest.
func rerunForced(t *testing.T, a *Activities, plan *pipelines.Plan, ref PlanRef, forced pipelines.StageName) map[string]UnitOutput {
	t.Helper()
	results := map[string]MetaoptResult{}
	outs := map[string]UnitOutput{}
	for _, s := range plan.Stages {
		if s.Name == pipelines.StageReport {
			continue
		}
		for i := range s.Units {
			in := UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s.Name, Index: i, Force: s.Name == forced}
			if s.Name != pipelines.StageMetaopt {
				in.Metaopt = results
			}
			out := mustUnit(t, t.Context(), a, in)
			outs[out.Unit] = out
			if out.Metaopt != nil {
				results[out.Unit] = *out.Metaopt
			}
		}
	}
	writeManifest(t, a, plan, ref)
	return outs
}

// writeManifest writes the manifest of a stored plan whose units all ran.
func writeManifest(t *testing.T, a *Activities, plan *pipelines.Plan, ref PlanRef) {
	t.Helper()
	statuses := map[string]string{}
	for _, s := range plan.Stages {
		statuses[string(s.Name)] = "completed"
	}
	if _, err := a.Manifest(t.Context(), ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: statuses}); err != nil {
		t.Fatal(err)
	}
}

// TestPruneKeepsDatasetsOtherManifestsList: campaign "twin" has the units
// of "tiny" under another name, so its manifest lists tiny's objects
// (cross-campaign cache hits). A rerun of tiny that forces metaopt
// supersedes tiny's train datasets of the discovered rule; Prune of tiny
// must keep them while twin's manifest lists them — twin's datasets all
// still verify — must remove nothing while another manifest cannot be
// parsed, and removes them once no other manifest lists them.
func TestPruneKeepsDatasetsOtherManifestsList(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	tiny := tinyPlan(t)
	twin := parsePlan(t, "tiny.yaml", func(s string) string { return strings.Replace(s, "name: tiny", "name: twin", 1) })
	if twin.CampaignID == tiny.CampaignID {
		t.Fatal("the renamed campaign has the same ID")
	}
	tinyRef, twinRef := storePlan(t, st, tiny), storePlan(t, st, twin)
	rerunForced(t, a, tiny, tinyRef, "")
	for id, out := range rerunForced(t, a, twin, twinRef, "") {
		if !out.CacheHit {
			t.Errorf("twin's %s was computed, want a cache hit on tiny's dataset", id)
		}
	}
	twinMan := readManifest(t, st, twin.CampaignID)
	shared := map[string]bool{}
	for _, d := range twinMan.Datasets {
		if !strings.HasPrefix(d.Ref.Key, "campaigns/"+tiny.CampaignID+"/") {
			t.Fatalf("twin's manifest lists %s, want tiny's objects only", d.Ref.Key)
		}
		shared[d.Ref.Key] = true
	}

	// Metaopt is bit-reproducible, so a forced rerun alone rewrites the same
	// bytes under the same keys; a new metaopt engine version changes the
	// history's key and metadata, and with them the discovered rule's
	// train keys.
	a.Versions = stages.Current().With(pipelines.StageMetaopt, "metaopt-rerun")
	rerunForced(t, a, tiny, tinyRef, pipelines.StageMetaopt)
	var superseded []string
	refs, err := st.List(ctx, tiny.CampaignID, string(pipelines.StageTrain))
	if err != nil {
		t.Fatal(err)
	}
	current := map[string]bool{}
	for _, d := range readManifest(t, st, tiny.CampaignID).Datasets {
		current[d.Ref.Key] = true
	}
	for _, r := range refs {
		if !current[r.Key] {
			superseded = append(superseded, r.Key)
			if !shared[r.Key] {
				t.Errorf("superseded %s is not one twin's manifest lists", r.Key)
			}
		}
	}
	if len(superseded) != 4 {
		t.Fatalf("%d train datasets superseded by the rerun, want 4 (2 seeds × 2 datasets of the discovered rule): %v", len(superseded), superseded)
	}
	prune := func() int {
		t.Helper()
		n, err := a.Prune(ctx, PruneInput{CampaignID: tiny.CampaignID, Stages: []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := prune(); n != 0 {
		t.Errorf("Prune removed %d datasets that twin's manifest lists", n)
	}
	for _, d := range twinMan.Datasets {
		if err := st.Verify(ctx, d.Ref); err != nil {
			t.Errorf("twin's manifest entry after tiny's prune: %v", err)
		}
	}

	// An unparsable manifest of a third campaign: nothing is removed.
	putJSON(t, st, "campaigns/broken/manifest.json", "{not json")
	putJSON(t, st, "campaigns/"+twin.CampaignID+"/manifest.json", `{"datasets": []}`)
	if n := prune(); n != 0 {
		t.Errorf("Prune removed %d datasets while another manifest cannot be parsed", n)
	}
	putJSON(t, st, "campaigns/broken/manifest.json", `{"datasets": []}`)

	// No other manifest lists them: they go, marker and object.
	if n := prune(); n != 5 {
		t.Errorf("Prune with no other manifest listing them removed %d, want 5 (the 4 train datasets and the old metaopt history)", n)
	}
	for _, key := range superseded {
		if _, err := st.Get(ctx, key); !store.IsNotFound(err) {
			t.Errorf("%s is still there after pruning (%v)", key, err)
		}
	}
	for _, d := range readManifest(t, st, tiny.CampaignID).Datasets {
		if err := st.Verify(ctx, d.Ref); err != nil {
			t.Errorf("tiny's manifest entry after its prune: %v", err)
		}
	}
}

// readManifest reads a campaign's manifest.
func readManifest(t *testing.T, st *store.Store, campaign string) *Manifest {
	t.Helper()
	m, err := manifest.Read(t.Context(), st, campaign)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// putJSON writes an object.
func putJSON(t *testing.T, st *store.Store, key, data string) {
	t.Helper()
	if err := st.Put(t.Context(), key, []byte(data), "application/json"); err != nil {
		t.Fatal(err)
	}
}
