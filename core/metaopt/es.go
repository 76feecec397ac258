package metaopt

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
)

// esRequests draws the iteration's perturbations ε_k ~ N(0, I) from rng and
// returns the 2·Pairs requests Θ+σε_k (even index) and Θ−σε_k (odd), both
// on learner seed k mod Learners.
func (o *Optimizer) esRequests(rng *rand.Rand) ([]Request, [][]float64) {
	s := o.st.Settings
	p := len(o.st.Params)
	eps := make([][]float64, s.ES.Pairs)
	reqs := make([]Request, 0, 2*s.ES.Pairs)
	for k := range eps {
		eps[k] = make([]float64, p)
		plus := make([]float64, p)
		minus := make([]float64, p)
		for q := range p {
			e := rng.NormFloat64()
			eps[k][q] = e
			plus[q] = o.st.Params[q] + s.ES.Sigma*e
			minus[q] = o.st.Params[q] - s.ES.Sigma*e
		}
		seed := s.LearnerSeed(o.st.Iter, k%s.Learners)
		reqs = append(reqs,
			Request{Params: plus, Seed: seed, Iter: o.st.Iter},
			Request{Params: minus, Seed: seed, Iter: o.st.Iter})
	}
	return reqs, eps
}

// esIteration forms the antithetic estimate from the surviving pairs
//
//	g = 1/(2Vσ) Σ_k (F(Θ+σε_k) − F(Θ−σε_k)) ε_k
//
// (F = J or its centered rank over the 2V surviving members) and takes one
// Adam ascent step on st.
func (st *State) esIteration(rec *Record, reqs []Request, res []Outcome, eps [][]float64) error {
	s := st.Settings
	var pairs []int
	var js []float64
	for k := range eps {
		a, b := res[2*k], res[2*k+1]
		if a.Diverged != "" || b.Diverged != "" {
			why := ""
			if a.Diverged != "" {
				why = "Θ+σε: " + a.Diverged
			}
			if b.Diverged != "" {
				if why != "" {
					why += "; "
				}
				why += "Θ−σε: " + b.Diverged
			}
			rec.Diverged = append(rec.Diverged, Divergence{Index: k, Seed: reqs[2*k].Seed, Reason: why})
			continue
		}
		pairs = append(pairs, k)
		js = append(js, a.Eval.J, b.Eval.J)
	}
	rec.Valid = len(pairs)
	if need := s.minValid(len(eps)); rec.Valid < need {
		return &DivergedError{Iter: st.Iter, What: "ES pairs", Total: len(eps), Valid: rec.Valid, MinValid: need, Diverged: rec.Diverged}
	}
	rec.J, rec.JStd, rec.JSE = moments(js)
	fit := js
	switch s.ES.Shaping {
	case ShapingRank:
		fit = centeredRanks(js)
	case ShapingPlain:
	default:
		return fmt.Errorf("metaopt: ES shaping %q unknown", s.ES.Shaping)
	}
	g := make([]float64, len(st.Params))
	scale := 1 / (2 * float64(rec.Valid) * s.ES.Sigma)
	for v, k := range pairs {
		d := (fit[2*v] - fit[2*v+1]) * scale
		for q, e := range eps[k] {
			g[q] += d * e
		}
	}
	st.adamAscend(rec, g)
	return nil
}

// centeredRanks maps xs to rank/(n−1) − ½ ∈ [−½, ½] (ties broken by
// position, so the result is deterministic).
func centeredRanks(xs []float64) []float64 {
	n := len(xs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	out := make([]float64, n)
	for r, i := range idx {
		if n > 1 {
			out[i] = float64(r)/float64(n-1) - 0.5
		}
	}
	return out
}
