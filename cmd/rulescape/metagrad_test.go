package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goldenDir = "../../core/meta/testdata"

type metagradJSON struct {
	J          float64     `json:"J"`
	Rewards    []float64   `json:"rewards"`
	Grad       [][]float64 `json:"grad"`
	GradFD     [][]float64 `json:"grad_fd"`
	RelError   *float64    `json:"rel_error"`
	Directions [][]float64 `json:"directions"`
	Derivs     []float64   `json:"derivs"`
	Samples    [][]float64 `json:"samples"`
}

func decodeOutput(t *testing.T, s string) metagradJSON {
	t.Helper()
	var m metagradJSON
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return m
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestMetagradGolden runs `rulescape metagrad --case` on the golden cases
// and compares J, rewards and grad with the expected values.
func TestMetagradGolden(t *testing.T) {
	for _, name := range []string{"plain", "options", "shapes"} {
		code, stdout, stderr := runCLI(t, "metagrad", "--case", filepath.Join(goldenDir, "case-"+name+".json"), "-o", "json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		got := decodeOutput(t, stdout)
		raw, err := os.ReadFile(filepath.Join(goldenDir, "case-"+name+".expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := decodeOutput(t, string(raw))
		if !near(got.J, want.J) {
			t.Errorf("%s: J = %v, want %v", name, got.J, want.J)
		}
		if len(got.Rewards) != len(want.Rewards) || len(got.Grad) != len(want.Grad) {
			t.Fatalf("%s: %d rewards, %d grad rows; want %d, %d", name, len(got.Rewards), len(got.Grad), len(want.Rewards), len(want.Grad))
		}
		for h := range want.Rewards {
			if !near(got.Rewards[h], want.Rewards[h]) {
				t.Errorf("%s: rewards[%d] = %v, want %v", name, h, got.Rewards[h], want.Rewards[h])
			}
		}
		for k := range want.Grad {
			if len(got.Grad[k]) != len(want.Grad[k]) {
				t.Fatalf("%s: grad[%d] has %d values, want %d", name, k, len(got.Grad[k]), len(want.Grad[k]))
			}
			for l := range want.Grad[k] {
				if !near(got.Grad[k][l], want.Grad[k][l]) {
					t.Errorf("%s: grad[%d][%d] = %v, want %v", name, k, l, got.Grad[k][l], want.Grad[k][l])
				}
			}
		}
	}
}

// TestMetagradCheckAndProjection exercises --check fd and --directions.
func TestMetagradCheckAndProjection(t *testing.T) {
	path := filepath.Join(goldenDir, "case-shapes.json")
	code, stdout, stderr := runCLI(t, "metagrad", "--case", path, "--check", "fd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := decodeOutput(t, stdout)
	if m.RelError == nil || *m.RelError > 1e-6 || len(m.GradFD) != 3 {
		t.Errorf("--check fd: rel_error %v, %d grad_fd rows", m.RelError, len(m.GradFD))
	}
	code, stdout, stderr = runCLI(t, "metagrad", "--case", path, "--directions", "4", "--seed", "9", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m = decodeOutput(t, stdout)
	if len(m.Samples) != 4 || len(m.Directions) != 4 || len(m.Derivs) != 4 || len(m.Samples[0]) != 15 {
		t.Fatalf("projection output: %d samples, %d directions, %d derivs", len(m.Samples), len(m.Directions), len(m.Derivs))
	}
	// ĝ is the mean of the samples.
	for k := range m.Grad {
		for l := range m.Grad[k] {
			var s float64
			for _, smp := range m.Samples {
				s += smp[k*5+l] / 4
			}
			if !near(s, m.Grad[k][l]) {
				t.Errorf("grad[%d][%d] = %v, mean of samples %v", k, l, m.Grad[k][l], s)
			}
		}
	}
}

// TestMetagradWriteCase writes a case drawn from DNMS and evaluates it.
func TestMetagradWriteCase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dnms.json")
	code, _, stderr := runCLI(t, "metagrad", "--write-case", path, "--task", "dnms", "--trials", "4",
		"--n", "10", "--steps", "50", "--seed", "3", "--clip", "0.01")
	if code != 0 {
		t.Fatalf("write: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "metagrad", "--case", path, "--check", "fd")
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, stderr)
	}
	m := decodeOutput(t, stdout)
	if len(m.Rewards) != 4 || len(m.Grad) != 4 || m.RelError == nil || *m.RelError > 1e-5 {
		t.Errorf("rewards %v, grad rows %d, rel_error %v", m.Rewards, len(m.Grad), m.RelError)
	}
}

// TestMetagradBadInput checks that bad input exits with 1 and one clear line.
func TestMetagradBadInput(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "case-plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	tr := m["trials"].([]any)[3].(map[string]any)
	tr["xi"] = tr["xi"].([]any)[:19]
	bad, _ := json.Marshal(m)
	dir := t.TempDir()
	badPath := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"metagrad", "--case", badPath}, "case: trials[3].xi: has 19 rows, want T=20"},
		{[]string{"metagrad", "--case", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"metagrad"}, "need --case FILE"},
		{[]string{"metagrad", "--case", badPath, "--check", "bd"}, `--check "bd"`},
		{[]string{"metagrad", "--write-case", filepath.Join(dir, "x.json"), "--task", "nope", "--trials", "2"}, `--task = "nope" is not a known task`},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", tc.args, code)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, stdout)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: stderr %q, want one line containing %q", tc.args, stderr, tc.want)
		}
	}
}

// TestMetagradMethod runs the exact gradient by both methods on every golden
// case (with and without --log-eta) and checks that they agree to 1e-10,
// that the default is one of them, and that a bad --method is one line
// naming the flag and its values.
func TestMetagradMethod(t *testing.T) {
	for _, name := range []string{"plain", "options", "shapes"} {
		for _, extra := range [][]string{nil, {"--log-eta"}} {
			path := filepath.Join(goldenDir, "case-"+name+".json")
			out := map[string]metagradJSON{}
			for _, m := range []string{"forward", "adjoint", ""} {
				args := append([]string{"metagrad", "--case", path, "-o", "json"}, extra...)
				if m != "" {
					args = append(args, "--method", m)
				}
				code, stdout, stderr := runCLI(t, args...)
				if code != 0 {
					t.Fatalf("%s %v --method %q: exit %d: %s", name, extra, m, code, stderr)
				}
				out[m] = decodeOutput(t, stdout)
			}
			f, a := out["forward"], out["adjoint"]
			var d, nf float64
			for k := range f.Grad {
				for l := range f.Grad[k] {
					d += (f.Grad[k][l] - a.Grad[k][l]) * (f.Grad[k][l] - a.Grad[k][l])
					nf += f.Grad[k][l] * f.Grad[k][l]
				}
			}
			if nf == 0 || math.Sqrt(d/nf) > 1e-10 || f.J != a.J {
				t.Errorf("%s %v: adjoint and forward differ: rel %.3g, J %v vs %v", name, extra, math.Sqrt(d/nf), a.J, f.J)
			}
			// P = 16, 16 and 15 here: the default is the adjoint.
			for k := range a.Grad {
				for l := range a.Grad[k] {
					if out[""].Grad[k][l] != a.Grad[k][l] {
						t.Fatalf("%s %v: the default method's grad[%d][%d] = %v, the adjoint's %v", name, extra, k, l, out[""].Grad[k][l], a.Grad[k][l])
					}
				}
			}
		}
	}
	path := filepath.Join(goldenDir, "case-plain.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"metagrad", "--case", path, "--method", "reverse"}, `--method "reverse": use forward or adjoint`},
		{[]string{"metagrad", "--case", path, "--method", "adjoint", "--directions", "2"}, "--method"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || stdout != "" || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
