package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/plasticity"
)

// dims returns the number of meta-parameters: P, plus one with LogEta.
func dims(rule plasticity.Rule, opts Options) int {
	if opts.LogEta {
		return rule.P() + 1
	}
	return rule.P()
}

// Objective runs the learner of p with rule and returns J and the rewards.
// A diverging learner returns an error wrapping *plasticity.DivergenceError.
func Objective(ctx context.Context, p *Problem, rule plasticity.Rule, opts Options) (*Result, error) {
	ev, err := evaluate(ctx, p, rule, p.Cfg.Eta, nil)
	if err != nil {
		return nil, err
	}
	return &Result{J: ev.J, Rewards: ev.Rewards}, nil
}

// Gradient returns J, the rewards and the exact gradient ∇J by forward-mode
// tangent propagation of all P unit directions (plus log η with
// opts.LogEta) through one primal pass.
func Gradient(ctx context.Context, p *Problem, rule plasticity.Rule, opts Options) (*Result, error) {
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	P, D := rule.P(), dims(rule, opts)
	dirs := &directions{V: make([][]float64, D)}
	for d := range dirs.V {
		dirs.V[d] = make([]float64, P)
		if d < P {
			dirs.V[d][d] = 1
		}
	}
	if opts.LogEta {
		dirs.Eta = make([]float64, D)
		dirs.Eta[P] = 1
	}
	ev, err := evaluate(ctx, p, rule, p.Cfg.Eta, dirs)
	if err != nil {
		return nil, err
	}
	return &Result{J: ev.J, Rewards: ev.Rewards, Grad: ev.JDot}, nil
}

// Projection estimates ∇J from omega random directions u^ω drawn from rng
// with distribution dist, all propagated through one primal pass:
// ĝ = (1/Ω) Σ_ω J̇_{u^ω} u^ω. The estimate is unbiased; its cost grows with
// Ω, not with the number of meta-parameters. The result also holds the
// directions, the directional derivatives and the per-direction samples.
func Projection(ctx context.Context, p *Problem, rule plasticity.Rule, omega int, dist Distribution, rng *rand.Rand, opts Options) (*Result, error) {
	if omega <= 0 {
		return nil, fmt.Errorf("meta: omega = %d directions: need at least 1", omega)
	}
	if rng == nil {
		return nil, errors.New("meta: projection needs a random source")
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	P, D := rule.P(), dims(rule, opts)
	U := make([][]float64, omega)
	for w := range U {
		u := make([]float64, D)
		for i := range u {
			switch dist {
			case Rademacher, "":
				if rng.Uint64()&1 == 1 {
					u[i] = 1
				} else {
					u[i] = -1
				}
			case Gaussian:
				u[i] = rng.NormFloat64()
			default:
				return nil, fmt.Errorf("meta: unknown direction distribution %q: use rademacher or gaussian", dist)
			}
		}
		U[w] = u
	}
	if opts.Scale != nil && len(opts.Scale) != D {
		return nil, fmt.Errorf("meta: projection: %d scale factors for %d coordinates", len(opts.Scale), D)
	}
	// tangent is the θ-space direction of u: u itself, or Scale ⊙ u.
	tangent := func(u []float64, i int) float64 {
		if opts.Scale != nil {
			return opts.Scale[i] * u[i]
		}
		return u[i]
	}
	dirs := &directions{V: make([][]float64, omega)}
	for w, u := range U {
		dirs.V[w] = u[:P]
		if opts.Scale != nil {
			v := make([]float64, P)
			for i := range v {
				v[i] = tangent(u, i)
			}
			dirs.V[w] = v
		}
	}
	if opts.LogEta {
		dirs.Eta = make([]float64, omega)
		for w, u := range U {
			dirs.Eta[w] = tangent(u, P)
		}
	}
	ev, err := evaluate(ctx, p, rule, p.Cfg.Eta, dirs)
	if err != nil {
		return nil, err
	}
	res := &Result{J: ev.J, Rewards: ev.Rewards, Grad: make([]float64, D),
		Directions: U, Derivs: ev.JDot, Samples: make([][]float64, omega)}
	for w, u := range U {
		s := make([]float64, D)
		for i, ui := range u {
			s[i] = ev.JDot[w] * ui
			res.Grad[i] += s[i] / float64(omega)
		}
		res.Samples[w] = s
	}
	return res, nil
}

// FiniteDifference approximates ∇J by central differences with the given
// step, (J(Θ + step·e_i) − J(Θ − step·e_i)) / (2·step), on the same random
// numbers (the problem fixes them). With opts.LogEta the last coordinate
// perturbs log η by ±step. It costs 2·len(Grad)+1 learner runs.
func FiniteDifference(ctx context.Context, p *Problem, rule plasticity.Rule, step float64, opts Options) (*Result, error) {
	if !(step > 0) || math.IsInf(step, 0) {
		return nil, fmt.Errorf("meta: finite-difference step = %v: must be a positive number", step)
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	ev, err := evaluate(ctx, p, rule, p.Cfg.Eta, nil)
	if err != nil {
		return nil, err
	}
	P, D := rule.P(), dims(rule, opts)
	res := &Result{J: ev.J, Rewards: ev.Rewards, Grad: make([]float64, D)}
	for i := 0; i < D; i++ {
		var js [2]float64
		for s, sgn := range [2]float64{1, -1} {
			r, eta := rule.Clone(), p.Cfg.Eta
			if i < P {
				r.Theta[i] += sgn * step
			} else {
				eta *= math.Exp(sgn * step)
			}
			e, err := evaluate(ctx, p, r, eta, nil)
			if err != nil {
				return nil, fmt.Errorf("meta: finite difference of coordinate %d: %w", i, err)
			}
			js[s] = e.J
		}
		res.Grad[i] = (js[0] - js[1]) / (2 * step)
	}
	return res, nil
}

// RelError returns ‖a − b‖ / max(‖a‖, ‖b‖), or 0 when both are zero.
func RelError(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	den := math.Sqrt(max(na, nb))
	if den == 0 {
		return 0
	}
	return math.Sqrt(d) / den
}
