package meta

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// benchProblem is a realistic case: Miconi's setup (clamped bias units,
// decoupled perturbations, baseline gain, clipping, gate t ≥ 3) on a DNMS
// shortened to T steps, N units, H trials, no warm-up, and a dense rule
// (θ₃₃ = −1 plus small terms everywhere, as during meta-optimization).
func benchProblem(b *testing.B, n, T, H int) (*Problem, plasticity.Rule) {
	b.Helper()
	f := T / 5
	task := &tasks.DNMS{Steps: T, Stim1Start: 0, Stim1End: f, Stim2Start: 2 * f, Stim2End: 3 * f,
		Response: f, Target: 0.98, InputAmp: 1}
	s := train.Miconi2017(task, H)
	s.Init.N = n
	s.Learner.WarmupTrials = 0
	for k := range s.Rule.Theta {
		s.Rule.Theta[k] += 0.05 * math.Sin(float64(7*k+1))
	}
	p, err := FromSetup(s, 1, H, 1)
	if err != nil {
		b.Fatal(err)
	}
	return p, s.Rule
}

var benchSizes = []struct{ n, T, H int }{
	{40, 100, 10},  // quick check
	{100, 200, 50}, // the reference size of docs/METAGRAD.md
}

// BenchmarkMetaGradient compares, per size, the fast tangent propagation
// (exact gradient over P = 16 directions, and a projection on Ω = 4) with
// the direct per-step, element-wise transcription of docs/MODEL.md §5 (direct_test.go)
// on the same problem. The primal alone is BenchmarkMetaGradient/.../objective.
func BenchmarkMetaGradient(b *testing.B) {
	ctx := context.Background()
	for _, sz := range benchSizes {
		name := fmt.Sprintf("N=%d_T=%d_H=%d", sz.n, sz.T, sz.H)
		p, rule := benchProblem(b, sz.n, sz.T, sz.H)
		P := rule.P()
		unit := make([][]float64, P)
		for d := range unit {
			unit[d] = make([]float64, P)
			unit[d][d] = 1
		}
		rng := rand.New(rand.NewPCG(1, 2))
		rad := make([][]float64, 4)
		for w := range rad {
			rad[w] = make([]float64, P)
			for i := range rad[w] {
				rad[w][i] = float64(2*rng.IntN(2) - 1)
			}
		}
		b.Run(name+"/objective", func(b *testing.B) {
			for b.Loop() {
				if _, err := Objective(ctx, p, rule, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/exact/fast", func(b *testing.B) {
			for b.Loop() {
				if _, err := Gradient(ctx, p, rule, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/exact/direct-grouped", func(b *testing.B) {
			for b.Loop() {
				if _, err := directMode(p, rule, p.Cfg.Eta, unit, false, true); err != nil {
					b.Fatal(err)
				}
			}
		})
		if sz.n*sz.T*sz.H <= 40*100*10 { // the literal form takes minutes at the reference size
			b.Run(name+"/exact/direct-literal", func(b *testing.B) {
				for b.Loop() {
					if _, err := direct(p, rule, p.Cfg.Eta, unit, false); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(name+"/omega=4/fast", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				if _, err := Projection(ctx, p, rule, 4, Rademacher, rng, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/omega=4/direct-grouped", func(b *testing.B) {
			for b.Loop() {
				if _, err := directMode(p, rule, p.Cfg.Eta, rad, false, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScaling measures the cost of a projection as Ω grows and of the
// exact gradient as N grows (T = 200, H = 10), for the complexity table of
// docs/METAGRAD.md.
func BenchmarkScaling(b *testing.B) {
	ctx := context.Background()
	p, rule := benchProblem(b, 100, 200, 10)
	for _, omega := range []int{1, 2, 4, 8, 16, 32} {
		b.Run(fmt.Sprintf("N=100/omega=%d", omega), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				if _, err := Projection(ctx, p, rule, omega, Rademacher, rng, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{50, 100, 200} {
		p, rule := benchProblem(b, n, 200, 10)
		b.Run(fmt.Sprintf("N=%d/exact", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Gradient(ctx, p, rule, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d/objective", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Objective(ctx, p, rule, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadCase decodes a medium case file (N = 100, T = 200, H = 50,
// K = L = 3, about 6 MB), written once into memory with NewCase and Write.
func BenchmarkReadCase(b *testing.B) {
	p, rule := benchProblem(b, 100, 200, 50)
	c, err := NewCase(p, rule)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadCase(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
