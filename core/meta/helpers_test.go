package meta

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"rulescape/core/plasticity"
)

// caseOpts describes a small random case; each field switches on one option
// of docs/MODEL.md §1–3.
type caseOpts struct {
	n, m, o, T, H, K, L, conds int
	clamps                     int
	tauE                       float64
	gate                       bool // random per-step gates instead of all ones
	gain                       plasticity.Gain
	clip                       float64
	warmup                     int
	mask                       bool // random plastic mask (fractional entries)
	loss                       plasticity.Loss
	eta                        float64
}

func defaultOpts() caseOpts {
	return caseOpts{n: 7, m: 2, o: 1, T: 14, H: 7, K: 3, L: 3, conds: 2,
		gain: plasticity.GainPlain, loss: plasticity.LossMSE, eta: 0.2}
}

// randomCase draws a case with the given options from seed.
func randomCase(seed uint64, o caseOpts) *Case {
	rng := rand.New(rand.NewPCG(seed, 7))
	norm := func(s float64) float64 { return s * rng.NormFloat64() }
	mat := func(r, c int, f func() float64) [][]float64 {
		a := make([][]float64, r)
		for i := range a {
			a[i] = make([]float64, c)
			for j := range a[i] {
				a[i][j] = f()
			}
		}
		return a
	}
	vec := func(k int, f func() float64) []float64 { return mat(1, k, f)[0] }
	n := o.n
	c := &Case{Dt: 1, Tau: 5, AlphaX: 0.3, TauE: o.tauE, Eta: o.eta, Gamma: 0.95, Gain: o.gain,
		Clip: o.clip, WarmupTrials: o.warmup, Loss: o.loss, AlphaR: 0.6, Conditions: o.conds,
		K: o.K, L: o.L,
		Theta: mat(o.K+1, o.L+1, func() float64 { return norm(0.3) }),
		W0:    mat(n, n, func() float64 { return norm(1.3 / math.Sqrt(float64(n))) }),
		Win:   mat(n, o.m, func() float64 { return 2*rng.Float64() - 1 }),
		Wout:  mat(o.o, n, func() float64 { return norm(1 / math.Sqrt(float64(n))) }),
		B:     vec(n, func() float64 { return norm(0.1) }),
	}
	c.ClampIndex, c.ClampValue = []int{}, []float64{}
	for k := 0; k < o.clamps; k++ {
		c.ClampIndex = append(c.ClampIndex, n-1-k)
		c.ClampValue = append(c.ClampValue, []float64{1, -1}[k%2])
	}
	if o.mask {
		c.PlasticMask = mat(n, n, func() float64 {
			if rng.Float64() < 0.3 {
				return 0
			}
			return 0.5 + rng.Float64()
		})
	}
	for h := 0; h < o.H; h++ {
		cond := rng.IntN(o.conds)
		tr := CaseTrial{Condition: cond, X0: vec(n, func() float64 { return 0.2 * (2*rng.Float64() - 1) })}
		for k, i := range c.ClampIndex {
			tr.X0[i] = c.ClampValue[k]
		}
		tr.U = mat(o.T, o.m, func() float64 { return 0 })
		for t := 0; t < o.T/3; t++ {
			tr.U[t][cond%o.m] = 1
		}
		tr.Xi = mat(o.T, n, func() float64 {
			if rng.Float64() < 0.15 {
				return norm(1.5)
			}
			return 0
		})
		sgn := float64(1 - 2*(cond%2))
		tr.Target = mat(o.T, o.o, func() float64 { return 0 })
		tr.Mask = make([]float64, o.T)
		for t := o.T / 2; t < o.T; t++ {
			tr.Mask[t] = 1
			for k := 0; k < o.o; k++ {
				tr.Target[t][k] = 0.8 * sgn
			}
		}
		if o.gate {
			tr.Gate = vec(o.T, func() float64 { return float64(rng.IntN(2)) })
		}
		c.Trials = append(c.Trials, tr)
	}
	return c
}

// kinks describes where the learner of a problem comes near the
// non-differentiable points of the objective.
type kinks struct {
	clipped, entries int     // clipped and total masked entries over the learning trials
	clipMargin       float64 // min | |ηGAe_ij| − c_max | / c_max over entries
	absMargin        float64 // min |y_o^t − y*_o^t| over masked steps
}

// inspect reruns the learner with plasticity.Learner (not the package code)
// and measures how close it gets to the kinks of clip and |·|.
func inspect(t *testing.T, p *Problem, rule plasticity.Rule) kinks {
	t.Helper()
	l, err := plasticity.NewLearner(p.Net.Clone(), p.Dyn, rule, p.Cfg, p.Conditions)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mask != nil {
		l.Mask = p.Mask
	}
	k := kinks{clipMargin: math.Inf(1), absMargin: math.Inf(1)}
	p.Episodes(func(h int, ep *Episode) bool {
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			t.Fatal(err)
		}
		tr := &ep.Trial
		for s := 0; s < tr.T; s++ {
			if tr.Mask[s] == 0 {
				continue
			}
			for o := 0; o < tr.O; o++ {
				k.absMargin = math.Min(k.absMargin, math.Abs(l.Trace.Y[s*tr.O+o]-tr.Target[s*tr.O+o]))
			}
		}
		if h >= p.Cfg.WarmupTrials && p.Cfg.Clip > 0 {
			for i, e := range l.Elig {
				if l.Mask[i] == 0 {
					continue
				}
				v := math.Abs(p.Cfg.Eta * out.Gain * out.Advantage * e)
				k.entries++
				if v >= p.Cfg.Clip {
					k.clipped++
				}
				k.clipMargin = math.Min(k.clipMargin, math.Abs(v-p.Cfg.Clip)/p.Cfg.Clip)
			}
		}
		return h+1 < p.H
	})
	return k
}

// clipQuantile returns the q-quantile of |ηGAe_ij| over the learning trials
// of p without clipping, to place c_max where some entries clip.
func clipQuantile(t *testing.T, c *Case, q float64) float64 {
	t.Helper()
	c2 := *c
	c2.Clip = 0
	p, rule, err := FromCase(&c2)
	if err != nil {
		t.Fatal(err)
	}
	l, err := plasticity.NewLearner(p.Net.Clone(), p.Dyn, rule, p.Cfg, p.Conditions)
	if err != nil {
		t.Fatal(err)
	}
	l.Mask = p.Mask
	var vs []float64
	p.Episodes(func(h int, ep *Episode) bool {
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			t.Fatal(err)
		}
		if h >= p.Cfg.WarmupTrials {
			for i, e := range l.Elig {
				if l.Mask[i] != 0 {
					if v := math.Abs(p.Cfg.Eta * out.Gain * out.Advantage * e); v > 0 {
						vs = append(vs, v)
					}
				}
			}
		}
		return h+1 < p.H
	})
	sort.Float64s(vs)
	return vs[int(q*float64(len(vs)-1))]
}
