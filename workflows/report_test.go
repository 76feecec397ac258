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

// TestImplementedReport: every stage a plan can have is implemented.
func TestImplementedReport(t *testing.T) {
	for _, s := range []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints,
		pipelines.StageRSA, pipelines.StageLandscape, pipelines.StageSensitivity, pipelines.StageReport} {
		if !Implemented(s) {
			t.Errorf("Implemented(%s) = false, want true", s)
		}
	}
}
