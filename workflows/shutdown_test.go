package workflows

import (
	"slices"
	"testing"

	"rulescape/pipelines"
)

// TestWorkerShutdownReschedules: units whose worker stopped under them
// (activities.WorkerShutdownType) are scheduled again as fresh activities
// — every call is attempt 1, so the stop used up no retry — and the
// campaign completes with the same counts as without the stops.
func TestWorkerShutdownReschedules(t *testing.T) {
	tests := []struct {
		name  string
		stage pipelines.StageName
		times int
	}{
		{"train unit handed back once", pipelines.StageTrain, 1},
		{"train unit handed back 4 times (more than its 3 attempts)", pipelines.StageTrain, 4},
		{"report handed back twice", pipelines.StageReport, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, plan := tiny(t)
			f := newFakes(in, plan)
			id := f.unitID(tc.stage, 0)
			f.handBack = map[string]int{id: tc.times}
			f.attempt = map[string][]int32{}
			env, res, err := run(t, f, in)
			if err != nil {
				t.Fatalf("campaign failed: %v", err)
			}
			if res.Status != StatusCompleted {
				t.Fatalf("status %s", res.Status)
			}
			got := f.attempt[id]
			if len(got) != tc.times+1 || slices.ContainsFunc(got, func(a int32) bool { return a != 1 }) {
				t.Errorf("%s ran with attempts %v, want %d calls all of attempt 1", id, got, tc.times+1)
			}
			for u, as := range f.attempt {
				if u != id && len(as) != 1 {
					t.Errorf("%s ran %d times, want once", u, len(as))
				}
			}
			for _, st := range query(t, env).Stages {
				if st.Status != StatusCompleted || st.Done != st.Total {
					t.Errorf("stage %+v, want completed with every unit done", st)
				}
			}
			if tc.stage == pipelines.StageReport && res.Report == "" {
				t.Error("no report key after the report was handed back")
			}
		})
	}
}
