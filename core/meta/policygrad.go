package meta

import (
	"context"
	"fmt"
	"math"

	"rulescape/core/internal/kern"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
)

// PolicyBaselineDecay is the decay β of the running mean of the rewards that
// the policy-gradient baseline uses: m ← β·m + (1−β)·R^h after every trial
// (m = R⁰ after the first), so the baseline remembers about 1/(1−β) = 10
// trials.
const PolicyBaselineDecay = 0.9

// PolicyGradientCost is the cost Learners.Eval reports for a policy-gradient
// estimate, in tangent-system equivalents (a primal pass is 1): the primal
// pass plus about one for the basis eligibilities E_kl and the score. It
// measured 2.2–2.4 objective evaluations at N = 20 (docs/METAOPT.md,
// "Gradient estimators at equal compute").
const PolicyGradientCost = 2.0

// CheckPolicyNoise reports, in one line, why the likelihood-ratio
// (policy-gradient) estimator is not defined for a perturbation law, or nil
// when it is: it needs Gaussian exploration noise σ·N(0,1) with σ > 0 on
// every step from step 0 (docs/METAGRAD.md, "Policy gradient").
func CheckPolicyNoise(noise rnn.Perturbation) error {
	switch {
	case noise.Scheme != rnn.Gaussian:
		scheme := noise.Scheme
		if scheme == "" {
			scheme = rnn.None
		}
		return fmt.Errorf("meta: estimator policy-gradient needs Gaussian exploration noise, but perturb = %s "+
			"(the score of %s noise is zero or undefined) — set perturb gaussian with perturb_sigma > 0 and perturb_start 0, or use another estimator",
			scheme, scheme)
	case !(noise.Sigma > 0) || math.IsInf(noise.Sigma, 0):
		return fmt.Errorf("meta: estimator policy-gradient needs Gaussian noise with σ > 0, but perturb_sigma = %v — set perturb_sigma > 0", noise.Sigma)
	case noise.Start != 0:
		return fmt.Errorf("meta: estimator policy-gradient needs noise on every step, but perturb_start = %d "+
			"(the first steps would depend on Θ without a density) — set perturb_start 0", noise.Start)
	}
	return nil
}

// PolicyGradient returns J, the rewards and a likelihood-ratio (REINFORCE)
// estimate of ∇J in which the exploration noise ξ of the learner is the
// policy's noise (docs/METAGRAD.md, "Policy gradient"):
//
//	ĝ = Σ_h s^h (Σ_{h'≥h} γ^{h'} R^{h'} − b_h),   s^h = Σ_t ⟨Ẇ^h, ξ^t ⊗ r^t⟩ / σ²
//
// where Ẇ^h = ∂W^h/∂Θ at fixed states is propagated forward across trials
// (no state tangents) and b_h is a baseline built from the rewards of the
// trials before h, which keeps ĝ unbiased: E_ξ[ĝ] = ∇_Θ E_ξ[J]. The
// problem's episodes must carry noise drawn from noise, which must pass
// CheckPolicyNoise. Result.Grad is ordered as in Gradient.
func PolicyGradient(ctx context.Context, p *Problem, rule plasticity.Rule, noise rnn.Perturbation, opts Options) (*Result, error) {
	res, scores, conds, err := policyScores(ctx, p, rule, noise, opts)
	if err != nil {
		return nil, err
	}
	// ĝ = Σ_h s^h (G_h − b_h) with the discounted return-to-go
	// G_h = Σ_{h'≥h} γ^{h'} R^{h'} and the baseline b_h = Σ_{h'≥h} γ^{h'} m^h_{c_{h'}}:
	// the return-to-go predicted from m^h_c, the running mean reward of
	// condition c over the trials before h. b_h depends on the rewards of
	// trials before h and on the conditions, none of which depends on the
	// noise of trial h or later, so E[s^h b_h] = 0 and ĝ stays unbiased.
	policyReturns(res, scores, conds, p.Conditions, p.Gamma)
	if !finite(res.Grad...) {
		return nil, &plasticity.DivergenceError{Trial: p.H - 1, Reason: "policy-gradient estimate is not finite"}
	}
	return res, nil
}

// policyScores runs the learner of p and returns J and the rewards (in
// res), the per-trial scores s^h_d = ∂ log p(trial h | trials before; Θ)/∂Θ_d
// and the conditions.
func policyScores(ctx context.Context, p *Problem, rule plasticity.Rule, noise rnn.Perturbation, opts Options) (*Result, [][]float64, []int, error) {
	if err := CheckPolicyNoise(noise); err != nil {
		return nil, nil, nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, nil, nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("meta: %w", err)
	}
	net := p.Net.Clone()
	l, err := plasticity.NewLearner(net, p.Dyn, rule, p.Cfg, p.Conditions)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("meta: %w", err)
	}
	if p.Mask != nil {
		l.Mask = p.Mask
	}
	n, P, D := net.N, rule.P(), dims(rule, opts)
	K1, L1 := rule.K+1, rule.L+1
	nn := n * n
	lambda := plasticity.Decay(p.Dyn.Dt, p.Cfg.TauE)
	invVar := 1 / (noise.Sigma * noise.Sigma)
	clamped := make([]bool, n)
	for _, c := range net.ClampIndex {
		clamped[c] = true
	}

	wdot := make([]float64, D*nn) // Ẇ_d = ∂W^h/∂Θ_d at fixed states
	wdot0 := true                 // every Ẇ_d is zero
	xi := make([]float64, nn)     // Ξ^h = Σ_t ξ^t ⊗ r^t / σ²
	upd := make([]float64, nn)    // η G A · Mask ∘ 1{unclipped}
	eKL := make([]float64, n*K1*n)
	var delta, xbar, c, xiT, rT, a, b []float64
	scores := make([][]float64, 0, p.H) // s^h per trial
	conds := make([]int, 0, p.H)
	res := &Result{Rewards: make([]float64, 0, p.H)}
	discount := 1.0
	var iterErr error
	done := 0
	p.Episodes(func(h int, ep *Episode) bool {
		if h != done {
			iterErr = fmt.Errorf("meta: episode generator yielded episode %d, want %d", h, done)
			return false
		}
		if err := ctx.Err(); err != nil {
			iterErr = fmt.Errorf("meta: stopped at trial %d: %w", h, err)
			return false
		}
		if err := p.checkEpisode(h, ep); err != nil {
			iterErr = err
			return false
		}
		if ep.Xi == nil {
			iterErr = fmt.Errorf("meta: episode %d has no exploration noise: the policy gradient needs the Gaussian ξ", h)
			return false
		}
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			iterErr = fmt.Errorf("meta: %w", err)
			return false
		}
		res.Rewards = append(res.Rewards, out.Reward)
		conds = append(conds, ep.Trial.Condition)
		res.J += discount * out.Reward
		discount *= p.Gamma
		T := ep.Trial.T
		R := l.Trace.R

		// Score of this trial: s^h_d = ⟨Ẇ^h_d, Ξ^h⟩, Ẇ^h the tangent before
		// this trial's update. Clamped units have no density (their rows of
		// Ξ are zero).
		s := make([]float64, D)
		if !wdot0 {
			xiT, rT = grow(xiT, n*T), grow(rT, n*T)
			for t := 0; t < T; t++ {
				for i := 0; i < n; i++ {
					v := ep.Xi[t*n+i] * invVar
					if clamped[i] {
						v = 0
					}
					xiT[i*T+t] = v
					rT[i*T+t] = R[t*n+i]
				}
			}
			kern.MulABt(n, n, T, xiT, T, rT, T, xi, n)
			for d := range s {
				var v float64
				for k, w := range wdot[d*nn : (d+1)*nn] {
					v += w * xi[k]
				}
				s[d] = v
			}
			if !finite(s...) {
				iterErr = &plasticity.DivergenceError{Trial: h, Reason: "policy-gradient score is not finite"}
				return false
			}
		}
		scores = append(scores, s)

		// Weight tangent at fixed states: ΔW^h depends on Θ only through the
		// rule's coefficients in e^T (every other factor — G, A, the clip
		// indicator — is a function of the states), so
		// ∂ΔW^h/∂θ_kl = η G A E_kl ∘ 1{unclipped} ∘ Mask.
		scale := l.Cfg.Eta * out.Gain * out.Advantage
		if h < p.Cfg.WarmupTrials || scale == 0 {
			done++
			return done < p.H
		}
		clip := p.Cfg.Clip
		for k, e := range l.Elig {
			m := l.Mask[k]
			if clip > 0 && !(math.Abs(scale*e) < clip) {
				m = 0
			}
			upd[k] = m * scale
		}
		delta, xbar, c = grow(delta, T*n), grow(xbar, n), grow(c, T)
		plasticity.Fluctuation(l.Trace.X, n, T, p.Cfg.AlphaX, delta, xbar)
		plasticity.Weights(c, T, p.Dyn.Dt, lambda, ep.Gate, p.Cfg.GateStart)
		steps := 0
		for _, ct := range c[:T] {
			if ct != 0 {
				steps++
			}
		}
		if steps > 0 {
			// E_kl = Σ_t c_t (Δ^t)^l ⊗ (r^t)^k for all k at once, per l: one
			// (N × steps)·(steps × (K+1)N) product.
			a, b = grow(a, n*steps), grow(b, K1*n*steps)
			col := 0
			for t := 0; t < T; t++ {
				if c[t] == 0 {
					continue
				}
				rt := R[t*n : (t+1)*n]
				for j, r := range rt {
					pw := 1.0
					for k := 0; k < K1; k++ {
						b[(k*n+j)*steps+col] = pw
						pw *= r
					}
				}
				col++
			}
			for ll := 0; ll < L1; ll++ {
				col = 0
				for t := 0; t < T; t++ {
					if c[t] == 0 {
						continue
					}
					for i, v := range delta[t*n : (t+1)*n] {
						a[i*steps+col] = c[t] * powInt(v, ll)
					}
					col++
				}
				kern.MulABt(n, K1*n, steps, a, steps, b, steps, eKL, K1*n)
				for k := 0; k < K1; k++ {
					wd := wdot[(k*L1+ll)*nn : (k*L1+ll+1)*nn]
					for i := 0; i < n; i++ {
						row := eKL[i*K1*n+k*n : i*K1*n+(k+1)*n]
						for j, e := range row {
							wd[i*n+j] += upd[i*n+j] * e
						}
					}
				}
			}
			wdot0 = false
		}
		if opts.LogEta {
			// ∂ΔW/∂log η = η G A e^T ∘ 1{unclipped} ∘ Mask.
			wd := wdot[P*nn : (P+1)*nn]
			for k, e := range l.Elig {
				wd[k] += upd[k] * e
			}
			wdot0 = false
		}
		done++
		return done < p.H
	})
	if iterErr != nil {
		return nil, nil, nil, iterErr
	}
	if done < p.H {
		return nil, nil, nil, fmt.Errorf("meta: episode generator stopped after %d episodes, want H=%d", done, p.H)
	}
	return res, scores, conds, nil
}

// policyReturns sets res.Grad = Σ_h s^h (G_h − b_h) from the per-trial
// scores, rewards and conditions (see PolicyGradient). The running mean m_c
// of a condition starts at its first reward (β = PolicyBaselineDecay
// after that); a condition not yet seen is predicted by the mean over all
// conditions seen, and 0 before the first trial.
func policyReturns(res *Result, scores [][]float64, conds []int, nCond int, gamma float64) {
	H := len(scores)
	disc := make([]float64, H)
	for h := range disc {
		if h == 0 {
			disc[h] = 1
		} else {
			disc[h] = disc[h-1] * gamma
		}
	}
	// togo[h] = G_h; weight[h·C + c] = Σ_{h'≥h, c_{h'} = c} γ^{h'}.
	togo := make([]float64, H+1)
	weight := make([]float64, (H+1)*nCond)
	for h := H - 1; h >= 0; h-- {
		togo[h] = togo[h+1] + disc[h]*res.Rewards[h]
		copy(weight[h*nCond:(h+1)*nCond], weight[(h+1)*nCond:(h+2)*nCond])
		weight[h*nCond+conds[h]] += disc[h]
	}
	mean := make([]float64, nCond)
	seen := make([]bool, nCond)
	var all float64 // running mean over every condition
	res.Grad = make([]float64, len(scores[0]))
	for h, s := range scores {
		var b float64
		for c := 0; c < nCond; c++ {
			m := all
			if seen[c] {
				m = mean[c]
			}
			b += m * weight[h*nCond+c]
		}
		w := togo[h] - b
		for d, v := range s {
			res.Grad[d] += v * w
		}
		r, c := res.Rewards[h], conds[h]
		if seen[c] {
			mean[c] = PolicyBaselineDecay*mean[c] + (1-PolicyBaselineDecay)*r
		} else {
			mean[c], seen[c] = r, true
		}
		if h == 0 {
			all = r
		} else {
			all = PolicyBaselineDecay*all + (1-PolicyBaselineDecay)*r
		}
	}
}

// powInt returns v^p for a small p ≥ 0, with 0⁰ = 1.
func powInt(v float64, p int) float64 {
	r := 1.0
	for ; p > 0; p-- {
		r *= v
	}
	return r
}
