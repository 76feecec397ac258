package workflows

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rulescape/pipelines"
)

// TestStartRestartsAFailedRun: a campaign whose workflow failed (here: its
// train unit needs more memory than the worker's budget, the worker's
// guard against plans made for a bigger machine) is started afresh by the
// next Start of the same campaign — a new run, which runs to its end — not
// attached to the failed run, and not an error.
func TestStartRestartsAFailedRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	file := filepath.Join(t.TempDir(), "small.yaml")
	spec := "name: small\ndefaults: {n: 12, trials: 4}\ntasks:\n  - name: gonogo\n    task_params: {steps: 30, stim_start: 2, stim_end: 10, response: 10}\nrules: [{name: miconi}]\nseeds: 1\nstages: {report: {enabled: false}}\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := planFile(t, file)
	c, st := startStack(t, ctx)
	// The worker of this process now has 1 KiB: the unit is too big for it.
	t.Setenv(pipelines.LimitsEnv, "memory=1KiB")
	in, err := NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	var runIDs []string
	for i := range 2 {
		run, err := Start(ctx, c, in, false)
		if err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		runIDs = append(runIDs, run.GetRunID())
		var res CampaignResult
		err = run.Get(ctx, &res)
		if err == nil || !strings.Contains(err.Error(), "worker memory budget") {
			t.Fatalf("run %d: %v, want the unit's memory error", i+1, err)
		}
	}
	if runIDs[0] == runIDs[1] {
		t.Errorf("the second Start attached to the failed run %s", runIDs[0])
	}
}
