package metaopt

import (
	"math"
	"slices"
)

func (o *Optimizer) adamRequests() []Request {
	s := o.st.Settings
	reqs := make([]Request, s.Learners)
	for k := range reqs {
		reqs[k] = Request{
			Params:        o.st.Params,
			Seed:          s.LearnerSeed(o.st.Iter, k),
			EstimatorSeed: s.EstimatorSeed(o.st.Iter, k),
			WantGrad:      true,
			Iter:          o.st.Iter,
		}
	}
	return reqs
}

// adamIteration averages the surviving learners' J and gradients in learner
// order and takes one Adam ascent step on st.
func (st *State) adamIteration(rec *Record, reqs []Request, res []Outcome) error {
	p := len(st.Params)
	g := make([]float64, p)
	var js []float64
	for k, r := range res {
		if r.Diverged != "" {
			rec.Diverged = append(rec.Diverged, Divergence{Index: k, Seed: reqs[k].Seed, Reason: r.Diverged})
			continue
		}
		js = append(js, r.Eval.J)
		f := 1.0
		if c := st.Settings.LearnerClipNorm; c > 0 {
			if n := norm(r.Eval.Grad); n > c {
				f = c / n
			}
		}
		for q, x := range r.Eval.Grad {
			g[q] += f * x
		}
	}
	rec.Valid = len(js)
	if need := st.Settings.minValid(len(reqs)); rec.Valid < need {
		return &DivergedError{Iter: st.Iter, What: "training learners", Total: len(reqs), Valid: rec.Valid, MinValid: need, Diverged: rec.Diverged}
	}
	rec.J, rec.JStd, rec.JSE = moments(js)
	for q := range g {
		g[q] /= float64(rec.Valid)
	}
	st.adamAscend(rec, g)
	return nil
}

// adamAscend records g, clips it, and moves st.Params uphill with Adam:
//
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  t ← t+1
//	Θ ← Θ + α m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
func (st *State) adamAscend(rec *Record, g []float64) {
	s := st.Settings
	rec.Grad = slices.Clone(g)
	rec.GradNorm = norm(g)
	if s.ClipNorm > 0 && rec.GradNorm > s.ClipNorm {
		rec.Clipped = true
		for q := range g {
			g[q] *= s.ClipNorm / rec.GradNorm
		}
	}
	st.AdamSteps++
	t := float64(st.AdamSteps)
	c1 := 1 - math.Pow(s.Beta1, t)
	c2 := 1 - math.Pow(s.Beta2, t)
	for q, gq := range g {
		st.AdamM[q] = s.Beta1*st.AdamM[q] + (1-s.Beta1)*gq
		st.AdamV[q] = s.Beta2*st.AdamV[q] + (1-s.Beta2)*gq*gq
		st.Params[q] += s.LR * (st.AdamM[q] / c1) / (math.Sqrt(st.AdamV[q]/c2) + s.Eps)
	}
}

func norm(v []float64) float64 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	return math.Sqrt(ss)
}
