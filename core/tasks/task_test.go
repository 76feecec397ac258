package tasks_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"rulescape/core/tasks"
)

// allNames is the suite the issue asks for.
var allNames = []string{"cdi", "dnms", "flipflop", "gonogo", "perceptual", "romo", "rsg"}

func mustNew(t *testing.T, name string) tasks.Task {
	t.Helper()
	task, err := tasks.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func mustConfigure(t *testing.T, name, params string) tasks.Task {
	t.Helper()
	task := mustNew(t, name)
	if err := tasks.Configure(task, []byte(params)); err != nil {
		t.Fatalf("Configure(%s, %s): %v", name, params, err)
	}
	return task
}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func TestRegistry(t *testing.T) {
	names := tasks.Names()
	for _, n := range allNames {
		if !slices.Contains(names, n) {
			t.Errorf("task %q is not registered (have %v)", n, names)
		}
	}
	if _, err := tasks.New("nope"); err == nil || !strings.Contains(err.Error(), "dnms") {
		t.Errorf("New(nope) = %v: want an error listing the tasks", err)
	}
}

// TestDefaults checks that every task's defaults validate, that Trial returns
// the shapes Spec promises, that the mask is 0/1 and not empty, and that every
// fixed-point input has M values.
func TestDefaults(t *testing.T) {
	for _, name := range allNames {
		t.Run(name, func(t *testing.T) {
			task := mustNew(t, name)
			if task.Name() != name {
				t.Errorf("Name() = %q", task.Name())
			}
			if err := tasks.Validate(task); err != nil {
				t.Fatal(err)
			}
			s := task.Spec()
			for c := range s.Conditions {
				tr := task.Trial(c, rng(1))
				if tr.Condition != c || tr.T != s.Steps || tr.M != s.Inputs || tr.O != s.Outputs ||
					len(tr.U) != s.Steps*s.Inputs || len(tr.Target) != s.Steps*s.Outputs || len(tr.Mask) != s.Steps {
					t.Fatalf("condition %d: trial shape %d/%d/%d/%d does not match spec %+v", c, tr.Condition, tr.T, tr.M, tr.O, s)
				}
				var w float64
				for _, m := range tr.Mask {
					if m != 0 && m != 1 {
						t.Fatalf("mask value %v", m)
					}
					w += m
				}
				if w == 0 {
					t.Fatalf("condition %d: empty response mask", c)
				}
				// The target itself must be judged correct.
				if !task.Correct(&tr, tr.Target) {
					t.Errorf("condition %d (%s): the target is judged incorrect", c, s.Conditions[c])
				}
			}
			fps := task.FixedPointInputs()
			if len(fps) == 0 || fps[0].Name != "none" {
				t.Errorf("fixed-point inputs should start with \"none\": %v", fps)
			}
			for _, fp := range fps {
				if len(fp.U) != s.Inputs {
					t.Errorf("fixed-point input %q has %d values, want %d", fp.Name, len(fp.U), s.Inputs)
				}
			}
		})
	}
}

// TestDeterministic: the same rng seed gives the same trial, and Trial may be
// called from many goroutines at once.
func TestDeterministic(t *testing.T) {
	for _, name := range allNames {
		t.Run(name, func(t *testing.T) {
			task := mustNew(t, name)
			nc := len(task.Spec().Conditions)
			want := make([]tasks.Trial, nc)
			for c := range want {
				want[c] = task.Trial(c, rng(uint64(c)))
			}
			var wg sync.WaitGroup
			got := make([]tasks.Trial, nc)
			for c := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[c] = task.Trial(c, rng(uint64(c)))
				}()
			}
			wg.Wait()
			for c := range want {
				if !reflect.DeepEqual(want[c], got[c]) {
					t.Errorf("condition %d: two trials from the same seed differ", c)
				}
			}
		})
	}
}

// TestNoisyTasksUseRNG: tasks with trial noise give different trials for
// different seeds (so the noise does come from the rng).
func TestNoisyTasksUseRNG(t *testing.T) {
	for _, name := range []string{"cdi", "perceptual", "flipflop"} {
		task := mustNew(t, name)
		a, b := task.Trial(0, rng(1)), task.Trial(0, rng(2))
		if reflect.DeepEqual(a.U, b.U) {
			t.Errorf("%s: trials from different seeds are identical", name)
		}
	}
}

func TestConfigure(t *testing.T) {
	cases := []struct {
		task, params string
		check        func(tasks.Task) bool
		errHas       string // "" = must succeed
	}{
		{"dnms", `{"steps": 300, "stim2_start": 220, "stim2_end": 250, "response": 50}`, func(k tasks.Task) bool {
			d := k.(*tasks.DNMS)
			return d.Steps == 300 && d.Stim2End == 250 && d.Response == 50 && d.Stim1End == 200
		}, ""},
		{"dnms", `{"Stim1End": 100, "STIM1-START": 10}`, func(k tasks.Task) bool {
			d := k.(*tasks.DNMS)
			return d.Stim1End == 100 && d.Stim1Start == 10
		}, ""},
		{"dnms", `  `, func(k tasks.Task) bool { return k.(*tasks.DNMS).Steps == 1000 }, ""},
		{"cdi", `{"noise_sd": 0, "bias": 0.5}`, func(k tasks.Task) bool {
			c := k.(*tasks.CDI)
			return c.NoiseSD == 0 && c.Bias == 0.5
		}, ""},
		{"perceptual", `{"coherences": [0.5]}`, func(k tasks.Task) bool {
			return len(k.Spec().Conditions) == 2
		}, ""},
		{"romo", `{"pairs": [[10, 20], [20, 10]]}`, func(k tasks.Task) bool {
			return reflect.DeepEqual(k.Spec().Conditions, []string{"10<20", "20>10"})
		}, ""},
		{"flipflop", `{"bits": 2}`, func(k tasks.Task) bool {
			return reflect.DeepEqual(k.Spec().Conditions, []string{"--", "+-", "-+", "++"})
		}, ""},
		{"rsg", `{"intervals": [100, 200]}`, func(k tasks.Task) bool {
			return reflect.DeepEqual(k.Spec().Conditions, []string{"ts=100", "ts=200"})
		}, ""},
		// Errors name the problem.
		{"dnms", `{"stepz": 3}`, nil, `unknown parameter "stepz": valid parameters are input_amp, response, steps`},
		{"dnms", `{"steps": "long"}`, nil, "cannot unmarshal string"},
		{"dnms", `{"steps": 1.5}`, nil, "cannot unmarshal number 1.5"},
		{"dnms", `{"steps": 100}`, nil, "stimulus epochs"},
		{"dnms", `{"steps": 2000000}`, nil, "at most 1000000"},
		{"dnms", `[1, 2]`, nil, "must be a JSON object"},
		{"dnms", `null`, nil, "must be a JSON object"},
		{"dnms", `{"steps": 100} {"steps": 200}`, nil, "after the JSON object"},
		{"dnms", `{"steps": 100, "Steps": 200}`, nil, "given twice"},
		{"cdi", `{"noise_sd": -1}`, nil, "NoiseSD ≥ 0"},
		{"perceptual", `{"coherences": []}`, nil, "Coherences has 0 levels"},
		{"perceptual", `{"coherences": [0.5, 1.5]}`, nil, "Coherences[1] = 1.5"},
		{"gonogo", `{"response": 700}`, nil, "Response = 700"},
		{"romo", `{"pairs": [[10, 10]]}`, nil, "Pairs[0]"},
		{"romo", `{"f_min": 40}`, nil, "FMin = 40"},
		{"flipflop", `{"bits": 9}`, nil, "Bits = 9"},
		{"flipflop", `{"min_gap": 5}`, nil, "MinGap = 5"},
		{"rsg", `{"intervals": [1000]}`, nil, "Intervals[0] = 1000"},
		{"rsg", `{"threshold": 1}`, nil, "Threshold = 1"},
	}
	for _, c := range cases {
		task := mustNew(t, c.task)
		before := task.Spec()
		beforeVal := reflect.ValueOf(task).Elem().Interface()
		err := tasks.Configure(task, []byte(c.params))
		if c.errHas == "" {
			if err != nil {
				t.Errorf("%s %s: %v", c.task, c.params, err)
			} else if !c.check(task) {
				t.Errorf("%s %s: parameters not applied: %+v", c.task, c.params, task)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s %s: error %v, want one containing %q", c.task, c.params, err, c.errHas)
		}
		if !reflect.DeepEqual(task.Spec(), before) || !reflect.DeepEqual(reflect.ValueOf(task).Elem().Interface(), beforeVal) {
			t.Errorf("%s %s: a failed Configure changed the task", c.task, c.params)
		}
	}
}

// TestConfigureDoesNotAlias: replacing a list parameter must not write into
// the default list of another task value.
func TestConfigureDoesNotAlias(t *testing.T) {
	p := tasks.NewPerceptual()
	def := slices.Clone(p.Coherences)
	q := *p // shares the Coherences backing array
	if err := tasks.Configure(&q, []byte(`{"coherences": [0.9, 0.8]}`)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Coherences, def) {
		t.Errorf("configuring a copy changed the original's coherences to %v", p.Coherences)
	}
	if err := tasks.Configure(p, []byte(`{"coherences": [2]}`)); err == nil || !slices.Equal(p.Coherences, def) {
		t.Errorf("failed Configure: err %v, coherences %v", err, p.Coherences)
	}
}

func TestSegmentSignCorrect(t *testing.T) {
	tr := tasks.NewTrial(0, 6, 0, 2)
	// Two segments: rows 0–2 target (+1, −1), rows 3–5 target (−1, −1); row 3 unscored.
	copy(tr.Target, []float64{1, -1, 1, -1, 1, -1, -1, -1, -1, -1, -1, -1})
	copy(tr.Mask, []float64{1, 1, 1, 0, 1, 1})
	good := []float64{0.1, -3, 0.5, -1, -0.2, -1, 9, 9, -1, -1, -1, -1}
	if !tasks.SegmentSignCorrect(&tr, good) {
		t.Error("correct outputs judged incorrect")
	}
	bad := slices.Clone(good)
	bad[10] = 5 // channel 0 in the second segment: mean (−1+5)/2 > 0
	if tasks.SegmentSignCorrect(&tr, bad) {
		t.Error("wrong sign in the second segment judged correct")
	}
}

// BenchmarkTrial draws one default trial of each task.
func BenchmarkTrial(b *testing.B) {
	for _, name := range allNames {
		b.Run(name, func(b *testing.B) {
			task, err := tasks.New(name)
			if err != nil {
				b.Fatal(err)
			}
			r := rng(1)
			nc := len(task.Spec().Conditions)
			for i := 0; b.Loop(); i++ {
				_ = task.Trial(i%nc, r)
			}
		})
	}
}
