package meta

import (
	"context"
	"fmt"
	"math"

	"rulescape/core/internal/kern"
	"rulescape/core/stats"

	"rulescape/core/plasticity"
)

// chunkSteps is the number of time steps whose eligibility-tangent rows are
// stacked into one matrix product. It bounds the scratch memory to
// O(chunkSteps·(L+1)·D·N) whatever T is; 64 steps give products large enough
// to run near the speed of the matrix kernel.
const chunkSteps = 64

// directions is a set of D tangent directions in (Θ, log η)-space.
type directions struct {
	V   [][]float64 // D rows of P rule components v_kl
	Eta []float64   // D log η components (nil = all zero)
}

func (ds *directions) count() int {
	if ds == nil {
		return 0
	}
	return len(ds.V)
}

// evaluation is the outcome of one pass through the learning process.
type evaluation struct {
	J       float64
	Rewards []float64
	JDot    []float64 // J̇ along each direction
}

// evaluate runs the learner of p with rule (and learning rate eta) over the H
// trials and, when dirs is non-empty, propagates the tangents of every
// direction alongside (docs/MODEL.md §5).
func evaluate(ctx context.Context, p *Problem, rule plasticity.Rule, eta float64, dirs *directions) (*evaluation, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	cfg := p.Cfg
	cfg.Eta = eta
	if !finite(eta) || eta < 0 {
		return nil, fmt.Errorf("meta: eta = %v: must be finite and ≥ 0", eta)
	}
	net := p.Net.Clone()
	l, err := plasticity.NewLearner(net, p.Dyn, rule, cfg, p.Conditions)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if p.Mask != nil {
		l.Mask = p.Mask
	}
	var tg *tangents
	if D := dirs.count(); D > 0 {
		tg = newTangents(p, rule, cfg, dirs, l.Mask)
	}
	ev := &evaluation{Rewards: make([]float64, 0, p.H)}
	if tg != nil {
		ev.JDot = make([]float64, dirs.count())
	}
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
		cond := ep.Trial.Condition
		baseline := l.Baseline[cond]
		if tg != nil {
			copy(tg.w, net.W) // W^h: Learn updates net.W in place
		}
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			iterErr = fmt.Errorf("meta: %w", err)
			return false
		}
		ev.Rewards = append(ev.Rewards, out.Reward)
		ev.J += discount * out.Reward
		if tg != nil {
			if err := tg.trial(h, ep, l, out, baseline, discount, ev.JDot); err != nil {
				iterErr = err
				return false
			}
		}
		discount *= p.Gamma
		done++
		return done < p.H
	})
	if iterErr != nil {
		return nil, iterErr
	}
	if done < p.H {
		return nil, fmt.Errorf("meta: episode generator stopped after %d episodes, want H=%d", done, p.H)
	}
	return ev, nil
}

// tangents holds the tangent state of D directions across trials and the
// scratch of one trial.
type tangents struct {
	n, D, K, L1   int
	dirs          *directions
	rule          plasticity.Rule
	cfg           plasticity.Config
	alpha, lambda float64
	dt            float64
	clampIdx      []int
	mask          []float64
	warm          int

	w      []float64 // W^h (N×N), the weights of the current trial
	wdot   []float64 // Ẇ_d stacked: (D·N)×N
	wdot0  bool      // every Ẇ_d is still zero
	bdot   []float64 // R̄̇_{c,d}: Conditions×D
	edot1  []float64 // (D·N)×N: Σ rows of (c_t l Δ^{l−1}∘Δ̇_d) ⊗ b_l
	edot2  []float64 // N×(D·N): Σ rows of c_t Δ^l ⊗ (b'_l∘φ'∘ẋ_d + Σ_k v_dkl r^k)
	active []bool    // active[l]: some direction has v_dkl ≠ 0 for some k

	// per-trial scratch
	delta, xbar, c, phip, gE []float64
	xd, xn, z, xbd           []float64 // D×N: ẋ^t, ẋ^{t+1}, α φ'∘ẋ, x̄̇^t
	brow                     []float64 // N: one row of B₂ before it is scattered
	q                        []float64 // chunk×(D·N): Ẇ_d r^t
	a1, b1, a2, b2           []float64
	rpow, bl, bpl, dpow      []float64
	upd                      []float64 // N×N: Mask ∘ clip indicator
}

func newTangents(p *Problem, rule plasticity.Rule, cfg plasticity.Config, dirs *directions, mask []float64) *tangents {
	n, D := p.Net.N, dirs.count()
	L1 := rule.L + 1
	tg := &tangents{
		n: n, D: D, K: rule.K, L1: L1, dirs: dirs, rule: rule, cfg: cfg,
		alpha: p.Dyn.Alpha(), lambda: plasticity.Decay(p.Dyn.Dt, cfg.TauE), dt: p.Dyn.Dt,
		clampIdx: p.Net.ClampIndex, mask: mask, warm: cfg.WarmupTrials,
		w: make([]float64, n*n), wdot: make([]float64, D*n*n), wdot0: true,
		bdot:  make([]float64, p.Conditions*D),
		edot1: make([]float64, D*n*n), edot2: make([]float64, D*n*n),
		active: make([]bool, L1),
		xd:     make([]float64, D*n), xn: make([]float64, D*n), z: make([]float64, D*n), xbd: make([]float64, D*n),
		rpow: make([]float64, (rule.K+1)*n), bl: make([]float64, L1*n), bpl: make([]float64, L1*n),
		dpow: make([]float64, L1*n),
		upd:  make([]float64, n*n), brow: make([]float64, n),
	}
	for _, v := range dirs.V {
		for k := 0; k <= rule.K; k++ {
			for l := 0; l < L1; l++ {
				if v[k*L1+l] != 0 {
					tg.active[l] = true
				}
			}
		}
	}
	return tg
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// lossSlope returns ℓ'(d) per output component: sign(d) for abs (0 at 0),
// 2d for mse.
func lossSlope(loss plasticity.Loss, d float64) float64 {
	if loss == plasticity.LossMSE {
		return 2 * d
	}
	return stats.Sign(d)
}

// trial propagates the tangents through trial h, whose primal the learner l
// has just run (out is its outcome, baseline the R̄_c before the update), and
// applies the weight-tangent and baseline-tangent updates.
func (tg *tangents) trial(h int, ep *Episode, l *plasticity.Learner, out plasticity.Outcome, baseline, discount float64, jdot []float64) error {
	n, D, K, L1 := tg.n, tg.D, tg.K, tg.L1
	tr := &ep.Trial
	T, O := tr.T, tr.O
	X, R, Y := l.Trace.X, l.Trace.R, l.Trace.Y
	theta := tg.rule.Theta

	tg.delta = grow(tg.delta, T*n)
	tg.xbar = grow(tg.xbar, n)
	tg.c = grow(tg.c, T)
	plasticity.Fluctuation(X, n, T, tg.cfg.AlphaX, tg.delta, tg.xbar)
	plasticity.Weights(tg.c, T, tg.dt, tg.lambda, ep.Gate, tg.cfg.GateStart)

	// φ'(x^t) for t = 0…T, and the weights of ẋ^t in Ė (t = 1…T):
	// Ė = Σ_t gE^t · ẋ^t with gE^t = φ'(x^t) ∘ W_outᵀ(m^t ℓ'(y^t − y*^t)) / Σ m.
	tg.phip = grow(tg.phip, (T+1)*n)
	for k, r := range R[:(T+1)*n] {
		tg.phip[k] = 1 - r*r
	}
	tg.gE = grow(tg.gE, T*n)
	clear(tg.gE)
	var msum float64
	for t := 0; t < T; t++ {
		msum += tr.Mask[t]
	}
	if msum != 0 {
		wout := l.Net.Wout
		for t := 0; t < T; t++ {
			m := tr.Mask[t]
			if m == 0 {
				continue
			}
			g := tg.gE[t*n : (t+1)*n]
			for o := 0; o < O; o++ {
				s := m * lossSlope(tg.cfg.Loss, Y[t*O+o]-tr.Target[t*O+o]) / msum
				if s == 0 {
					continue
				}
				for j, w := range wout[o*n : (o+1)*n] {
					g[j] += s * w
				}
			}
			ph := tg.phip[(t+1)*n : (t+2)*n]
			for j := range g {
				g[j] *= ph[j]
			}
		}
	}

	// Active post-synaptic powers of the two stacked products.
	var l1set, l2set []int
	for l := 0; l < L1; l++ {
		col, colK := false, false
		for k := 0; k <= K; k++ {
			if theta[k*L1+l] != 0 {
				col = true
				if k >= 1 {
					colK = true
				}
			}
		}
		if l >= 1 && col && !tg.wdot0 {
			l1set = append(l1set, l)
		}
		if (colK && !tg.wdot0) || tg.active[l] {
			l2set = append(l2set, l)
		}
	}

	DN := D * n
	clear(tg.xd)
	clear(tg.xbd)
	clear(tg.edot1)
	clear(tg.edot2)
	edotE := make([]float64, D) // Ė_d
	if !tg.wdot0 {
		tg.q = grow(tg.q, min(chunkSteps, T)*DN)
	}
	// The stacked factors are stored transposed, one column per row of the
	// sum (cap1, cap2 columns), so that each ė contribution is a product of
	// rows against rows (kern.MulABtAdd).
	cap1, cap2 := chunkSteps*len(l1set), chunkSteps*len(l2set)
	tg.a1 = grow(tg.a1, cap1*DN)
	tg.b1 = grow(tg.b1, cap1*n)
	tg.a2 = grow(tg.a2, cap2*n)
	tg.b2 = grow(tg.b2, cap2*DN)
	alpha, ax := tg.alpha, tg.cfg.AlphaX
	for t0 := 0; t0 < T; t0 += chunkSteps {
		t1 := min(T, t0+chunkSteps)
		if !tg.wdot0 {
			// Q[t][d·N+i] = (Ẇ_d r^t)_i for the whole chunk: one product.
			kern.MulABt(t1-t0, DN, n, R[t0*n:t1*n], n, tg.wdot, n, tg.q[:(t1-t0)*DN], DN)
		}
		rows1, rows2 := 0, 0
		for t := t0; t < t1; t++ {
			rt := R[t*n : (t+1)*n]
			ph := tg.phip[t*n : (t+1)*n]
			ct := tg.c[t]
			if ct != 0 && len(l2set) > 0 {
				tg.polynomials(rt, tg.delta[t*n:(t+1)*n])
				// Part 2 rows, which use ẋ^t: A = c_t Δ^l, B_d = b'_l∘φ'∘ẋ^t_d + Σ_k v_dkl r^k.
				for _, l := range l2set {
					dp := tg.dpow[l*n : (l+1)*n]
					for i, v := range dp {
						tg.a2[i*cap2+rows2] = ct * v
					}
					bp := tg.bpl[l*n : (l+1)*n]
					for d := 0; d < D; d++ {
						b := tg.brow[:n]
						if tg.wdot0 {
							clear(b)
						} else {
							xd := tg.xd[d*n : (d+1)*n]
							for j := range b {
								b[j] = bp[j] * ph[j] * xd[j]
							}
						}
						v := tg.dirs.V[d]
						for k := 0; k <= K; k++ {
							if vk := v[k*L1+l]; vk != 0 {
								rk := tg.rpow[k*n : (k+1)*n]
								for j := range b {
									b[j] += vk * rk[j]
								}
							}
						}
						for j, v := range b {
							tg.b2[(d*n+j)*cap2+rows2] = v
						}
					}
					rows2++
				}
			} else if ct != 0 && len(l1set) > 0 {
				tg.polynomials(rt, tg.delta[t*n:(t+1)*n])
			}
			if tg.wdot0 {
				continue // ẋ = 0 throughout the trial
			}
			// ẋ^{t+1} = (1−α)ẋ^t + α(W(φ'∘ẋ^t) + Ẇ r^t), clamped units 0.
			for d := 0; d < D; d++ {
				z, xd := tg.z[d*n:(d+1)*n], tg.xd[d*n:(d+1)*n]
				for j := range z {
					z[j] = alpha * ph[j] * xd[j]
				}
			}
			kern.MulABt(D, n, n, tg.z, n, tg.w, n, tg.xn, n)
			q := tg.q[(t-t0)*DN : (t-t0+1)*DN]
			gE := tg.gE[t*n : (t+1)*n]
			for d := 0; d < D; d++ {
				xn, xd, qd := tg.xn[d*n:(d+1)*n], tg.xd[d*n:(d+1)*n], q[d*n:(d+1)*n]
				for i := range xn {
					xn[i] += (1-alpha)*xd[i] + alpha*qd[i]
				}
				for _, c := range tg.clampIdx {
					xn[c] = 0
				}
				var s float64
				for j, g := range gE {
					s += g * xn[j]
				}
				edotE[d] += s
			}
			// Δ̇^t = x̄̇^t − ẋ^{t+1};  x̄̇^{t+1} = α_x x̄̇^t + (1−α_x) ẋ^{t+1}.
			// Part 1 rows: A_d = c_t l Δ^{l−1}∘Δ̇_d, B = b_l.
			if ct != 0 && len(l1set) > 0 {
				for _, l := range l1set {
					dp := tg.dpow[(l-1)*n : l*n]
					f := ct * float64(l)
					for d := 0; d < D; d++ {
						xn, xb := tg.xn[d*n:(d+1)*n], tg.xbd[d*n:(d+1)*n]
						for i := range xn {
							tg.a1[(d*n+i)*cap1+rows1] = f * dp[i] * (xb[i] - xn[i])
						}
					}
					for j, v := range tg.bl[l*n : (l+1)*n] {
						tg.b1[j*cap1+rows1] = v
					}
					rows1++
				}
			}
			for k, xn := range tg.xn {
				tg.xbd[k] = ax*tg.xbd[k] + (1-ax)*xn
			}
			tg.xd, tg.xn = tg.xn, tg.xd
		}
		if rows1 > 0 {
			kern.MulABtAdd(DN, n, rows1, tg.a1, cap1, tg.b1, cap1, tg.edot1, n)
		}
		if rows2 > 0 {
			kern.MulABtAdd(n, DN, rows2, tg.a2, cap2, tg.b2, cap2, tg.edot2, DN)
		}
	}

	// Trial-level tangents and the weight-tangent update.
	c := tr.Condition
	A, G := out.Advantage, out.Gain
	eta := tg.cfg.Eta
	scale := eta * G * A
	learn := h >= tg.warm
	if learn {
		clip := tg.cfg.Clip
		for k, e := range l.Elig {
			m := tg.mask[k]
			if clip > 0 && !(math.Abs(scale*e) < clip) {
				m = 0 // clipped: ΔW is the constant ±c_max there
			}
			tg.upd[k] = m
		}
	}
	changed := false
	for d := 0; d < D; d++ {
		rdot := -edotE[d]
		if !finite(rdot) {
			return &plasticity.DivergenceError{Trial: h, Reason: fmt.Sprintf("reward tangent along direction %d is %v", d, rdot)}
		}
		bd := &tg.bdot[c*D+d]
		if learn {
			adot := rdot - *bd
			var gdot float64
			if tg.cfg.Gain == plasticity.GainBaseline {
				gdot = stats.Sign(baseline) * *bd
			}
			var etaDot float64
			if tg.dirs.Eta != nil {
				etaDot = tg.dirs.Eta[d] * eta // d η = η d log η
			}
			s1 := eta*(gdot*A+G*adot) + etaDot*G*A
			e1 := tg.edot1[d*n*n : (d+1)*n*n]
			wd := tg.wdot[d*n*n : (d+1)*n*n]
			for i := 0; i < n; i++ {
				e2 := tg.edot2[i*DN+d*n : i*DN+(d+1)*n]
				row := i * n
				for j := 0; j < n; j++ {
					k := row + j
					m := tg.upd[k]
					if m == 0 {
						continue
					}
					dw := m * (s1*l.Elig[k] + scale*(e1[k]+e2[j]))
					if dw != 0 {
						wd[k] += dw
						changed = true
					}
				}
			}
		}
		*bd = tg.cfg.AlphaR**bd + (1-tg.cfg.AlphaR)*rdot
		jdot[d] += discount * rdot
	}
	if changed {
		tg.wdot0 = false
	}
	return nil
}

// polynomials fills, for one step, rpow[k] = r^{∘k}, dpow[l] = Δ^{∘l},
// bl[l] = Σ_k θ_kl r^{∘k} and bpl[l] = Σ_k θ_kl k r^{∘(k−1)}.
func (tg *tangents) polynomials(r, delta []float64) {
	n, K, L1 := tg.n, tg.K, tg.L1
	theta := tg.rule.Theta
	for j := range r {
		tg.rpow[j] = 1
	}
	for k := 1; k <= K; k++ {
		prev, cur := tg.rpow[(k-1)*n:k*n], tg.rpow[k*n:(k+1)*n]
		for j, v := range r {
			cur[j] = prev[j] * v
		}
	}
	for i := range delta {
		tg.dpow[i] = 1
	}
	for l := 1; l < L1; l++ {
		prev, cur := tg.dpow[(l-1)*n:l*n], tg.dpow[l*n:(l+1)*n]
		for i, v := range delta {
			cur[i] = prev[i] * v
		}
	}
	for l := 0; l < L1; l++ {
		b, bp := tg.bl[l*n:(l+1)*n], tg.bpl[l*n:(l+1)*n]
		clear(b)
		clear(bp)
		for k := 0; k <= K; k++ {
			th := theta[k*L1+l]
			if th == 0 {
				continue
			}
			rk := tg.rpow[k*n : (k+1)*n]
			for j := range b {
				b[j] += th * rk[j]
			}
			if k >= 1 {
				rk1 := tg.rpow[(k-1)*n : k*n]
				f := th * float64(k)
				for j := range bp {
					bp[j] += f * rk1[j]
				}
			}
		}
	}
}
