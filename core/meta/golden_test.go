package meta

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

type expected struct {
	J       float64     `json:"J"`
	Rewards []float64   `json:"rewards"`
	Grad    [][]float64 `json:"grad"`
}

func readCaseFile(t *testing.T, path string) *Case {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadCase(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
}

// TestGolden reproduces the three golden cases of docs/MODEL.md §7, computed by an
// independent reverse-mode implementation, to a relative error of 1e-9 in
// J, every reward and every gradient entry.
func TestGolden(t *testing.T) {
	for _, name := range []string{"plain", "options", "shapes"} {
		t.Run(name, func(t *testing.T) {
			c := readCaseFile(t, filepath.Join("testdata", "case-"+name+".json"))
			raw, err := os.ReadFile(filepath.Join("testdata", "case-"+name+".expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want expected
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			p, rule, err := FromCase(c)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Gradient(context.Background(), p, rule, Options{})
			if err != nil {
				t.Fatal(err)
			}
			const tol = 1e-9
			if d := relDiff(res.J, want.J); d > tol {
				t.Errorf("J = %.15g, want %.15g (rel %.2g)", res.J, want.J, d)
			}
			for h, r := range want.Rewards {
				if d := relDiff(res.Rewards[h], r); d > tol {
					t.Errorf("reward[%d] = %.15g, want %.15g (rel %.2g)", h, res.Rewards[h], r, d)
				}
			}
			L1 := rule.L + 1
			for k, row := range want.Grad {
				for l, g := range row {
					if d := relDiff(res.Grad[k*L1+l], g); d > tol {
						t.Errorf("grad[%d][%d] = %.15g, want %.15g (rel %.2g)", k, l, res.Grad[k*L1+l], g, d)
					}
				}
			}
		})
	}
}
