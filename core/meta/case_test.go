package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

func caseJSON(t testing.TB, c *Case) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCaseRoundTrip writes and reads cases back, value for value.
func TestCaseRoundTrip(t *testing.T) {
	o := defaultOpts()
	o.gate, o.mask, o.clamps = true, true, 1
	for _, c := range []*Case{randomCase(1, defaultOpts()), randomCase(2, o),
		readCaseFile(t, filepath.Join("testdata", "case-options.json"))} {
		data := caseJSON(t, c)
		back, err := ReadCase(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, back) {
			t.Errorf("round trip changed the case")
		}
		if again := caseJSON(t, back); !bytes.Equal(data, again) {
			t.Errorf("second write differs from the first")
		}
	}
}

// TestNewCaseRoundTrip writes a problem drawn from a task as a case and
// checks that the case gives the same J and gradient as the problem.
func TestNewCaseRoundTrip(t *testing.T) {
	s := shortDNMS(16, 12)
	p, err := FromSetup(s, 3, 12, 0.97)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCase(p, s.Rule)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadCase(bytes.NewReader(caseJSON(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	q, rule, err := FromCase(back)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want, err := Gradient(ctx, p, s.Rule, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Gradient(ctx, q, rule, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.J != want.J || !reflect.DeepEqual(got.Grad, want.Grad) {
		t.Errorf("case gives J=%v grad %v; problem J=%v grad %v", got.J, got.Grad, want.J, want.Grad)
	}
	if RelError(want.Grad, make([]float64, len(want.Grad))) == 0 {
		t.Error("zero gradient: the case tests nothing")
	}
}

// shortDNMS is Miconi's setup on a DNMS shortened to T=60 steps, N units,
// a dense rule (Miconi's θ₃₃ = −1 plus small terms) and a warm-up of 2.
func shortDNMS(n, trials int) *train.Setup {
	task := &tasks.DNMS{Steps: 60, Stim1Start: 0, Stim1End: 10, Stim2Start: 20, Stim2End: 30,
		Response: 15, Target: 0.98, InputAmp: 1}
	s := train.Miconi2017(task, trials)
	s.Init.N = n
	s.Learner.WarmupTrials = 2
	s.Learner.Clip = 0.02
	s.Perturb.Prob = 0.05
	s.Perturb.Start = 2
	for k := range s.Rule.Theta {
		s.Rule.Theta[k] += 0.05 * math.Sin(float64(7*k+1))
	}
	return s
}

// TestFromSetupMatchesTrain checks that FromSetup draws what train.Run
// draws: the rewards equal minus train.Run's errors, bit for bit.
func TestFromSetupMatchesTrain(t *testing.T) {
	s := shortDNMS(20, 25)
	ctx := context.Background()
	for _, seed := range []uint64{1, 42} {
		tr, err := train.Run(ctx, s, seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := FromSetup(s, seed, s.Trials, 1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Objective(ctx, p, s.Rule, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var J float64
		for h, e := range tr.Errors {
			if res.Rewards[h] != -e {
				t.Errorf("seed %d trial %d: reward %v, train.Run error %v", seed, h, res.Rewards[h], e)
			}
			J -= e
		}
		if math.Abs(res.J-J) > 1e-12*math.Abs(J) {
			t.Errorf("seed %d: J = %v, want %v", seed, res.J, J)
		}
		// The same problem evaluated twice (restartable generator) agrees.
		again, err := Objective(ctx, p, s.Rule, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again.J != res.J {
			t.Errorf("seed %d: second evaluation J = %v, first %v", seed, again.J, res.J)
		}
	}
}

// TestReadCaseErrors feeds malformed case files and checks that each error
// is one line naming the field and what is expected.
func TestReadCaseErrors(t *testing.T) {
	valid := caseJSON(t, randomCase(1, defaultOpts())) // N=7, M=2, O=1, T=14, H=7, K=L=3
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	trial := func(m map[string]any, h int) map[string]any { return m["trials"].([]any)[h].(map[string]any) }
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "invalid JSON"},
		{"not an object", "[1, 2]", "cannot read a JSON array"},
		{"null", "null", "want a JSON object"},
		{"missing eta", edit(func(m map[string]any) { delete(m, "eta") }), "case: eta: missing"},
		{"missing trial field", edit(func(m map[string]any) { delete(trial(m, 2), "target") }), "case: trials[2].target: missing"},
		{"null field", edit(func(m map[string]any) { m["W0"] = nil }), "case: W0: is null"},
		{"short xi", edit(func(m map[string]any) {
			tr := trial(m, 3)
			tr["xi"] = tr["xi"].([]any)[:13]
		}), "case: trials[3].xi: has 13 rows, want T=14"},
		{"short xi row", edit(func(m map[string]any) {
			tr := trial(m, 3)
			row := tr["xi"].([]any)[5].([]any)
			tr["xi"].([]any)[5] = row[:6]
		}), "case: trials[3].xi[5]: has 6 values, want N=7"},
		{"short W0 row", edit(func(m map[string]any) {
			w := m["W0"].([]any)
			w[2] = w[2].([]any)[:6]
		}), "case: W0[2]: has 6 values, want N=7"},
		{"theta shape", edit(func(m map[string]any) { m["theta"] = m["theta"].([]any)[:3] }), "case: theta: has 3 rows, want K+1=4"},
		{"W_out width", edit(func(m map[string]any) { m["W_out"] = []any{[]any{1.0, 2.0}} }), "case: W_out[0]: has 2 values, want N=7"},
		{"b length", edit(func(m map[string]any) { m["b"] = []any{1.0} }), "case: b: has 1 values, want N=7"},
		{"x0 length", edit(func(m map[string]any) { trial(m, 0)["x0"] = []any{1.0} }), "case: trials[0].x0: has 1 values, want N=7"},
		{"mask length", edit(func(m map[string]any) { trial(m, 1)["mask"] = []any{1.0} }), "case: trials[1].mask: has 1 values, want T=14"},
		{"gate length", edit(func(m map[string]any) { trial(m, 1)["gate"] = []any{1.0} }), "case: trials[1].gate: has 1 values, want T=14"},
		{"target rows", edit(func(m map[string]any) { trial(m, 1)["target"] = []any{} }), "case: trials[1].target: has 0 rows, want T=14"},
		{"plastic mask", edit(func(m map[string]any) { m["plastic_mask"] = []any{[]any{1.0}} }), "case: plastic_mask: has 1 rows, want N=7"},
		{"NaN", strings.Replace(string(valid), `"eta":0.2`, `"eta":NaN`, 1), "NaN and Infinity are not JSON numbers"},
		{"overflow", strings.Replace(string(valid), `"eta":0.2`, `"eta":1e999`, 1), "eta"},
		{"unknown gain", edit(func(m map[string]any) { m["gain"] = "fancy" }), `case: gain: is "fancy", want "plain" or "baseline"`},
		{"unknown loss", edit(func(m map[string]any) { m["loss"] = "huber" }), `case: loss: is "huber", want "abs" or "mse"`},
		{"unknown field", edit(func(m map[string]any) { m["alpha_r"] = 0.5 }), "case: alpha_r: unknown field"},
		{"unknown trial field", edit(func(m map[string]any) { trial(m, 0)["Xi"] = 1 }), "case: trials[0].Xi: unknown field"},
		{"wrong type", edit(func(m map[string]any) { m["K"] = "three" }), "case: K: cannot read a JSON string as int"},
		{"condition range", edit(func(m map[string]any) { trial(m, 4)["condition"] = 9 }), "case: trials[4].condition: is 9, want an integer in [0, n_conditions=2)"},
		{"clamp index", edit(func(m map[string]any) { m["clamp_index"] = []any{7}; m["clamp_value"] = []any{1.0} }), "case: clamp_index[0]: is 7, want a unit in [0, N=7)"},
		{"clamp values", edit(func(m map[string]any) { m["clamp_index"] = []any{1} }), "case: clamp_value: has 0 values, want one per clamp_index entry (1)"},
		{"no trials", edit(func(m map[string]any) { m["trials"] = []any{} }), "case: trials: is empty"},
		{"tau below dt", edit(func(m map[string]any) { m["tau"] = 0.5 }), "case: tau: is 0.5, want ≥ dt = 1"},
		{"gamma", edit(func(m map[string]any) { m["gamma"] = 0 }), "case: gamma: is 0, want a value in (0, 1]"},
		{"negative mask", edit(func(m map[string]any) { trial(m, 0)["mask"].([]any)[13] = -1.0 }), "case: trials[0].mask[13]: is -1, want ≥ 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCase(strings.NewReader(tc.data))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if !strings.HasPrefix(msg, "case: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with \"case: \"", msg)
			}
		})
	}
}

// FuzzReadCase checks that no input makes ReadCase (or, for small valid
// cases, FromCase and Objective) panic.
func FuzzReadCase(f *testing.F) {
	o := defaultOpts()
	o.n, o.T, o.H = 3, 4, 2
	f.Add(caseJSON(f, randomCase(1, o)))
	if b, err := os.ReadFile(filepath.Join("testdata", "case-shapes.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"trials": [null]}`))
	f.Add([]byte(`{"W0": [[]], "W_in": [], "trials": [{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadCase(bytes.NewReader(data))
		if err != nil {
			if c != nil {
				t.Fatal("case and error both returned")
			}
			return
		}
		p, rule, err := FromCase(c)
		if err != nil {
			t.Fatalf("a case that ReadCase accepts fails FromCase: %v", err)
		}
		size := p.Net.N * p.Net.N * p.H * len(c.Trials[0].U)
		if size < 20000 {
			if _, err := Gradient(context.Background(), p, rule, Options{}); err != nil && !isDivergence(err) {
				t.Fatalf("gradient of a valid case: %v", err)
			}
		}
	})
}

func isDivergence(err error) bool {
	var de *plasticity.DivergenceError
	return errors.As(err, &de)
}
