package workflows

import (
	"slices"
	"strings"
	"testing"

	"rulescape/pipelines"
)

// TestReportFailure: a report that fails after its retries fails the
// campaign with the report stage failed, after the manifest was written.
func TestReportFailure(t *testing.T) {
	in, plan := tiny(t)
	f := newFakes(in, plan)
	f.failRpt = true
	env, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), "report failed: a figure failed") {
		t.Fatalf("error %v, want the report's failure", err)
	}
	if len(f.manifest) != 1 || len(f.byStage(pipelines.StageReport)) != 1 {
		t.Errorf("%d manifests, %d reports; want one of each", len(f.manifest), len(f.byStage(pipelines.StageReport)))
	}
	p := query(t, env)
	if rep := p.Stages[3]; p.Status != StatusFailed || rep.Name != "report" || rep.Status != StatusFailed || rep.FinishedAt == nil {
		t.Errorf("progress %+v, report %+v: want the report failed", p, rep)
	}
}

// TestReportForced: `rerun --stage report` forces the report unit alone;
// the stale datasets are pruned after the manifest and before the report,
// which reads the manifest.
func TestReportForced(t *testing.T) {
	in, plan := tiny(t)
	in.Force = []pipelines.StageName{pipelines.StageReport}
	f := newFakes(in, plan)
	_, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.calls); n < 3 || !slices.Equal(f.calls[n-3:], []string{"Manifest", "Prune", "Report"}) {
		t.Fatalf("calls %v, want manifest, prune, report last", f.calls)
	}
	for _, u := range f.units {
		if u.Force != (u.Stage == pipelines.StageReport) {
			t.Errorf("%s: force %v", f.unitID(u.Stage, u.Index), u.Force)
		}
	}
	if len(f.prune) != 1 || !slices.Equal(f.prune[0].Stages, in.Force) {
		t.Errorf("prune inputs %+v", f.prune)
	}
	if res.Report != "campaigns/"+in.CampaignID+"/report/index.html" {
		t.Errorf("report %q", res.Report)
	}
}
