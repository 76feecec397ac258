package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestSplitCosines checks the statistics against closed forms: identical
// gradients agree perfectly; zero-mean isotropic noise gives cosines near
// 0; a mean μ plus isotropic noise of variance σ² per coordinate in P
// coordinates gives, for large P, cos ≈ ‖μ‖²/(‖μ‖² + Pσ²/S), which the
// prediction must match and the measured mean must approach.
func TestSplitCosines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	same := [][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}}
	_, tr, s := splitCosines(same, []int{1, 2}, 50, rng)
	if tr != 0 || s[0].Cosine != 1 || math.Abs(s[1].Cosine-1) > 1e-12 || s[0].Predicted != 1 {
		t.Fatalf("identical gradients: tr Σ %v, splits %+v", tr, s)
	}
	const n, p, sigma = 64, 400, 1.0
	noise := func(mu float64) [][]float64 {
		g := make([][]float64, n)
		for i := range g {
			g[i] = make([]float64, p)
			for k := range g[i] {
				g[i][k] = mu + sigma*rng.NormFloat64()
			}
		}
		return g
	}
	_, _, s = splitCosines(noise(0), []int{4, 16}, 300, rng)
	for _, x := range s {
		if math.Abs(x.Cosine) > 0.05 || x.Predicted > 0.1 {
			t.Fatalf("pure noise: %+v, want cosines near 0", x)
		}
	}
	// ‖μ‖² = p·μ², Pσ² = p: with μ = 0.5, cos(S) ≈ 0.25/(0.25 + 1/S).
	_, tr, s = splitCosines(noise(0.5), []int{1, 4, 16}, 300, rng)
	if math.Abs(tr-p*sigma*sigma)/(p*sigma*sigma) > 0.05 {
		t.Fatalf("tr Σ = %v, want ≈ %v", tr, p*sigma*sigma)
	}
	for _, x := range s {
		want := 0.25 / (0.25 + 1/float64(x.Size))
		if math.Abs(x.Predicted-want) > 0.05 || math.Abs(x.Cosine-want) > 0.05 {
			t.Fatalf("S = %d: cosine %.3f, predicted %.3f, want ≈ %.3f", x.Size, x.Cosine, x.Predicted, want)
		}
	}
}

// TestRMSScaled: every coordinate of the scaled gradients has RMS 1.
func TestRMSScaled(t *testing.T) {
	g := rmsScaled([][]float64{{3, 0, 1e6}, {-4, 0, 0}})
	for k := range 3 {
		ss := g[0][k]*g[0][k] + g[1][k]*g[1][k]
		if want := map[bool]float64{true: 0, false: 2}[k == 1]; math.Abs(ss-want) > 1e-12 {
			t.Fatalf("coordinate %d: Σ g² = %v, want %v", k, ss, want)
		}
	}
}

// TestRun runs the command on a tiny campaign (go/no-go, N = 8, 5 trials)
// and checks its table, and that bad flags are one line.
func TestRun(t *testing.T) {
	file := t.TempDir() + "/tiny.yaml"
	src := `name: tiny
defaults: {preset: miconi2017, n: 8, eta: 1, clip: 0.01, gain: plain, loss: mse, warmup: 0}
tasks:
  - name: gonogo
    task_params: {steps: 30, stim_start: 3, stim_end: 10, response: 10}
rules:
  - name: found
    from: metaopt
    metaopt: {iters: 1, learners: 2, trials: 5, estimator: adjoint, held_out: 0, seed: 1}
seeds: 1
train: {trials: 5}
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"--job", "metaopt/found", "--learners", "6", "--splits", "20", "--workers", "2", file}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| 1 |") || !strings.Contains(out.String(), "| 2 |") || !strings.Contains(out.String(), "6 learners") {
		t.Fatalf("output:\n%s", out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"--job", "metaopt/found", "--learners", "4", "--theta", "[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,-1]]", file}, &out); err != nil || !strings.Contains(out.String(), "Adam") {
		t.Fatalf("--theta: %v\n%s", err, out.String())
	}
	if err := run(t.Context(), []string{"--job", "metaopt/found", "--theta", "[[0]]", file}, &out); err == nil || !strings.Contains(err.Error(), "K+1") {
		t.Fatalf("bad --theta: %v", err)
	}
	err := run(t.Context(), []string{"--job", "metaopt/nosuch", file}, &out)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "metaopt/nosuch") {
		t.Fatalf("unknown job: %v", err)
	}
}
