package activities

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"rulescape/pipelines"
	"rulescape/report"
	"rulescape/stages"
)

// TestReport runs the tiny campaign's report unit: without a manifest it
// fails saying so; after the manifest it writes index.html with its
// figures and the given stage timings and commits the page under the
// report's content key; a second run is a cache hit returning the same
// key; a forced run without timings keeps them (stages.json) and writes
// the same page.
func TestReport(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "report-test", Workers: 1}
	ref := storePlan(t, st, plan)
	_, results := runStages(t, a, plan, ref)
	in := UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: pipelines.StageReport, Metaopt: results}
	if _, err := a.Unit(ctx, in); err == nil || !strings.Contains(err.Error(), "has no manifest") {
		t.Fatalf("report before the manifest: err = %v, want no manifest", err)
	}
	if _, err := a.Manifest(ctx, ManifestInput{CampaignID: plan.CampaignID, Plan: ref,
		Stages: map[string]string{"metaopt": "completed", "train": "completed", "fixedpoints": "skipped", "report": "running"}}); err != nil {
		t.Fatal(err)
	}
	timings := []report.Stage{{Name: "metaopt", Status: "completed", Done: 1, Total: 1, Seconds: 2.25}}
	in.Stages = timings
	out := mustUnit(t, ctx, a, in)
	prefix := "campaigns/" + plan.CampaignID + "/report/"
	if out.Unit != "report" || out.CacheHit || len(out.Datasets) != 1 {
		t.Fatalf("report unit: %+v; want a miss with one dataset", out)
	}
	d := out.Datasets[0]
	if d.Kind != stages.ReportKind || d.Stage != string(pipelines.StageReport) || d.Ref.Key != prefix+"index.html" {
		t.Fatalf("report dataset %+v: want kind %s at %sindex.html", d, stages.ReportKind, prefix)
	}
	if got, ok, err := st.Lookup(ctx, d.ContentKey); err != nil || !ok || got != d.Ref {
		t.Fatalf("lookup of the report's content key: %+v, %v, %v; want %+v", got, ok, err, d.Ref)
	}
	page, err := st.Get(ctx, d.Ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="fig-learning-curves"`, `id="fig-metaopt"`, "The fixedpoints stage did not run (status: skipped)", "2.2 s", "report-test"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	for _, f := range []string{"figures/learning-curves.png", "figures/learning-curves.svg", "figures/metaopt.png", "figures/metaopt.svg"} {
		if _, err := st.Get(ctx, prefix+f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	raw, err := st.Get(ctx, prefix+report.StagesFile)
	var kept []report.Stage
	if err != nil || json.Unmarshal(raw, &kept) != nil || len(kept) != 1 || kept[0] != timings[0] {
		t.Fatalf("stages.json %s (%v), want %+v", raw, err, timings)
	}

	in.Stages = nil
	if again := mustUnit(t, ctx, a, in); !again.CacheHit || !slices.Equal(again.Datasets, out.Datasets) {
		t.Fatalf("second run: %+v; want a cache hit with %+v", again, out.Datasets)
	}
	in.Force = true
	if forced := mustUnit(t, ctx, a, in); forced.CacheHit || !slices.Equal(forced.Datasets, out.Datasets) {
		t.Fatalf("forced run: %+v; want a recomputation giving %+v", forced, out.Datasets)
	}
	if again, err := st.Get(ctx, d.Ref.Key); err != nil || string(again) != string(page) {
		t.Errorf("regenerated without timings: the page changed (%v)", err)
	}
}
