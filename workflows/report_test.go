package workflows

import (
	"strings"
	"testing"

	"rulescape/pipelines"
)

// TestReportFailure: a report that fails after its retries fails the
// campaign with the report stage failed, after the manifest was written.
func TestReportFailure(t *testing.T) {
	in, _ := tiny(t)
	f := &fakes{failRpt: true}
	_, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), "report failed: a figure failed") {
		t.Fatalf("error %v, want the report's failure", err)
	}
	if len(f.manifest) != 1 || len(f.report) != 1 {
		t.Errorf("%d manifests, %d reports; want one of each", len(f.manifest), len(f.report))
	}
}

// TestImplementedReport: the report stage is implemented, landscape not.
func TestImplementedReport(t *testing.T) {
	if !Implemented(pipelines.StageReport) || Implemented(pipelines.StageLandscape) {
		t.Errorf("Implemented(report) = %v, Implemented(landscape) = %v; want true, false",
			Implemented(pipelines.StageReport), Implemented(pipelines.StageLandscape))
	}
}
