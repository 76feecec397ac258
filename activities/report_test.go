package activities

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"rulescape/report"
)

// TestReport writes the report of the tiny campaign's metaopt and train
// datasets after its manifest: index.html is in the store with its
// figures and the given stage timings; a second Report without timings
// keeps them (stages.json); a campaign without a manifest is an error
// that says so.
func TestReport(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	data, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "report-test"}
	if _, err := a.Report(ctx, ReportInput{CampaignID: plan.CampaignID}); err == nil || !strings.Contains(err.Error(), "has no manifest") {
		t.Fatalf("report before the manifest: err = %v, want no manifest", err)
	}
	res, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: plan.CampaignID, Job: plan.Metaopt[0]})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range plan.Train {
		in := TrainInput{CampaignID: plan.CampaignID, Unit: u}
		if u.Metaopt != "" {
			in.Metaopt = &res
		}
		if _, err := a.computeTrain(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Manifest(ctx, ManifestInput{CampaignID: plan.CampaignID, File: "tiny.yaml", YAML: data,
		Stages: map[string]string{"metaopt": "completed", "train": "completed", "fixedpoints": "skipped", "report": "running"}}); err != nil {
		t.Fatal(err)
	}
	stages := []report.Stage{{Name: "metaopt", Status: "completed", Done: 1, Total: 1, Seconds: 2.25}}
	out, err := a.Report(ctx, ReportInput{CampaignID: plan.CampaignID, Stages: stages})
	if err != nil {
		t.Fatal(err)
	}
	prefix := "campaigns/" + plan.CampaignID + "/report/"
	if out.Key != prefix+"index.html" || out.Figures != 2 || out.Files != 2*2+2 {
		t.Fatalf("report %+v: want index.html, 2 figures (learning curves, metaopt), 6 files", out)
	}
	page, err := st.Get(ctx, out.Key)
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
	if err != nil || json.Unmarshal(raw, &kept) != nil || len(kept) != 1 || kept[0] != stages[0] {
		t.Fatalf("stages.json %s (%v), want %+v", raw, err, stages)
	}
	if _, err := a.Report(ctx, ReportInput{CampaignID: plan.CampaignID}); err != nil {
		t.Fatal(err)
	}
	again, err := st.Get(ctx, out.Key)
	if err != nil || string(again) != string(page) {
		t.Errorf("regenerated without timings: the page changed (%v)", err)
	}
}
