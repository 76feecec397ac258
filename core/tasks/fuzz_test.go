package tasks_test

import (
	"testing"

	"rulescape/core/tasks"
)

// FuzzConfigure feeds arbitrary parameter JSON to every task. Configure must
// never panic; when it accepts the parameters, the task must produce
// well-formed trials whose own targets are judged correct.
func FuzzConfigure(f *testing.F) {
	seeds := []string{
		`{}`, `{"steps": 300}`, `{"steps": -1}`, `{"steps": 1e300}`, `null`, `[]`, `{"steps": 100, "Steps": 5}`,
		`{"stim1_start": 10, "stim1_end": 5}`, `{"response": 0}`, `{"coherences": [0.5, -1]}`,
		`{"pairs": [[1, 2], [2, 1]], "f_min": 0, "f_max": 3}`, `{"bits": 1, "steps": 50, "hold": 10, "min_gap": 10}`,
		`{"intervals": [10, 20], "steps": 60, "ready_at": 5, "pulse_width": 3}`, `{"cue_end": 3}`,
		`{"threshold": 0.9, "target": 0.95}`, `{"settle": 100000}`, `{"noise_sd": 0}`,
	}
	for i := range allNames {
		for _, s := range seeds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, params string) {
		name := allNames[int(which)%len(allNames)]
		task, err := tasks.New(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := tasks.Configure(task, []byte(params)); err != nil {
			return
		}
		if err := tasks.Validate(task); err != nil {
			t.Fatalf("%s %s: accepted by Configure but Validate says %v", name, params, err)
		}
		s := task.Spec()
		if s.Steps*max(s.Inputs, s.Outputs, 1) > 50_000 {
			return // valid but too big to simulate quickly here
		}
		for _, c := range []int{0, len(s.Conditions) - 1} {
			tr := task.Trial(c, rng(uint64(c)))
			if tr.T != s.Steps || len(tr.U) != s.Steps*s.Inputs || len(tr.Target) != s.Steps*s.Outputs || len(tr.Mask) != s.Steps {
				t.Fatalf("%s %s: malformed trial", name, params)
			}
			if !task.Correct(&tr, tr.Target) {
				t.Fatalf("%s %s: condition %d: the target itself is judged incorrect", name, params, c)
			}
		}
		for _, fp := range task.FixedPointInputs() {
			if len(fp.U) != s.Inputs {
				t.Fatalf("%s %s: fixed-point input %q has %d values", name, params, fp.Name, len(fp.U))
			}
		}
	})
}
