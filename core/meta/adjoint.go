package meta

import (
	"context"
	"fmt"
	"math"

	"rulescape/core/internal/kern"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/stats"
	"rulescape/core/tasks"
)

// Method names how an exact gradient is computed: forward-mode tangents
// (Gradient) or the adjoint, reverse-mode sweep (Adjoint). Both give ∇J to
// rounding error; they differ in cost.
type Method string

// Methods of the exact gradient.
const (
	MethodForward Method = "forward" // Gradient: one tangent system per coordinate
	MethodAdjoint Method = "adjoint" // Adjoint: one backward sweep, whatever the number of coordinates
)

// AdjointThreshold is the number of differentiated coordinates D (P, plus
// one with log η) from which DefaultMethod picks the adjoint. Forward mode
// pays about one objective per coordinate, the adjoint two to three
// objectives whatever D: on N = 100, T = 200, H = 10 (a busy 2-core
// machine, -benchtime=5x) forward mode took 21, 63 and 177 ms for D = 1, 4
// and 9, the adjoint 30, 43 and 49 ms; a second run gave 22, 20, 142 ms
// (D = 1, 2, 4) against 27, 49, 103 ms. Forward mode wins up to D = 2, the
// adjoint from D = 4 on.
const AdjointThreshold = 3

// DefaultMethod returns the faster method for d differentiated coordinates.
func DefaultMethod(d int) Method {
	if d >= AdjointThreshold {
		return MethodAdjoint
	}
	return MethodForward
}

// ParseMethod parses "forward" or "adjoint"; "" gives "" (the caller's
// default, see DefaultMethod).
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodForward, MethodAdjoint, "":
		return m, nil
	}
	return "", fmt.Errorf("meta: gradient method %q: use forward or adjoint", s)
}

// Exact returns J, the rewards and ∇J computed by method m (forward:
// Gradient, adjoint: Adjoint; "" picks DefaultMethod for the number of
// coordinates).
func Exact(ctx context.Context, p *Problem, rule plasticity.Rule, m Method, opts Options) (*Result, error) {
	if m == "" {
		m = DefaultMethod(dims(rule, opts))
	}
	switch m {
	case MethodForward:
		return Gradient(ctx, p, rule, opts)
	case MethodAdjoint:
		return Adjoint(ctx, p, rule, opts)
	}
	return nil, fmt.Errorf("meta: gradient method %q: use forward or adjoint", m)
}

// Adjoint returns J, the rewards and the exact gradient ∇J (plus ∂J/∂log η
// with opts.LogEta) by reverse-mode differentiation of the whole learning
// process: a forward sweep runs the learner and keeps the weights W^h at
// every trial boundary; a backward sweep, from the last trial to the first
// learning one, recomputes each trial from its checkpoint and propagates the
// adjoints of the weights and of the reward baselines through it
// (docs/METAGRAD.md, "The adjoint"). Its cost does not depend on the number
// of coordinates: two to three objectives. Memory: the H checkpoints (H·N²
// floats, and the clip pattern, one bit an entry), one trial's per-step quantities (O(T·N·(K+L))) and a cache of
// episodes no larger than the checkpoints (the episode generator is re-run
// from the start for earlier blocks of trials, so nothing grows like H·T·N).
//
// It agrees with Gradient to rounding error, with the same model reading at
// the non-differentiable points (clip kink clipped, sign(0) = 0), and
// reports divergence the same way.
func Adjoint(ctx context.Context, p *Problem, rule plasticity.Rule, opts Options) (*Result, error) {
	return adjoint(ctx, p, rule, opts, adjointSettings{}, nil)
}

// adjointSettings are the internal knobs of adjoint (tests set them).
type adjointSettings struct {
	// cacheFloats bounds the floats of the episode cache; 0 = the default,
	// max(checkpoint floats, minCacheFloats).
	cacheFloats int
}

// minCacheFloats is the smallest default episode cache (16 MB), so that
// short problems are generated once.
const minCacheFloats = 1 << 21

// adjointStats counts what adjoint stores, for the memory test.
type adjointStats struct {
	checkpointFloats int // W^h kept for the backward sweep
	cacheFloats      int // floats of the episode copies (all buffers ever allocated)
	scratchFloats    int // per-trial and N×N working arrays
	passes           int // runs of the episode generator
}

// trialRecord is what the forward sweep keeps of a trial besides W^h.
type trialRecord struct {
	cond     int
	baseline float64 // R̄_c before the trial
	adv      float64 // A
	gain     float64 // G
	reward   float64 // R
	floats   int     // size of the episode in floats
}

// episodeFloats is the number of floats an episode copy holds.
func episodeFloats(ep *Episode) int {
	return len(ep.Trial.U) + len(ep.Trial.Target) + len(ep.Trial.Mask) + len(ep.X0) + len(ep.Xi) + len(ep.Gate)
}

// copyEpisode deep-copies src into dst, reusing dst's storage.
func copyEpisode(dst, src *Episode) {
	cp := func(d, s []float64) []float64 {
		if s == nil {
			return nil
		}
		d = grow(d, len(s))
		copy(d, s)
		return d
	}
	t := src.Trial
	t.U, t.Target, t.Mask = cp(dst.Trial.U, src.Trial.U), cp(dst.Trial.Target, src.Trial.Target), cp(dst.Trial.Mask, src.Trial.Mask)
	dst.Trial = t
	dst.X0, dst.Xi, dst.Gate = cp(dst.X0, src.X0), cp(dst.Xi, src.Xi), cp(dst.Gate, src.Gate)
}

func adjoint(ctx context.Context, p *Problem, rule plasticity.Rule, opts Options, set adjointSettings, st *adjointStats) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if st == nil {
		st = &adjointStats{}
	}
	cfg := p.Cfg
	n, H, warm := p.Net.N, p.H, cfg.WarmupTrials
	net := p.Net.Clone()
	l, err := plasticity.NewLearner(net, p.Dyn, rule, cfg, p.Conditions)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if p.Mask != nil {
		l.Mask = p.Mask
	}
	budget := set.cacheFloats
	if budget <= 0 {
		budget = max((H-warm-1)*n*n, minCacheFloats)
	}

	// Forward sweep: the learner, the checkpoints W^h for warm < h < H
	// (W^h = W⁰ for h ≤ warm), and the largest suffix of episodes that fits
	// the cache.
	res := &Result{Rewards: make([]float64, 0, H), Grad: make([]float64, dims(rule, opts))}
	recs := make([]trialRecord, 0, H)
	ckpt := make([][]float64, H)
	clipped := make([][]uint64, H) // the clip pattern of learning trials
	var window []*Episode          // copies of episodes [H−len(window), H) at the end
	var spare []*Episode
	cached := 0
	discount := 1.0
	done := 0
	var iterErr error
	st.passes++
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
		if h > warm {
			ckpt[h] = append([]float64(nil), net.W...)
			st.checkpointFloats += n * n
		}
		cond := ep.Trial.Condition
		baseline := l.Baseline[cond]
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			iterErr = fmt.Errorf("meta: %w", err)
			return false
		}
		if h >= warm && cfg.Clip > 0 {
			// The clip pattern 1{|ηGA e_ij| ≥ c_max}, one bit an entry,
			// so that the backward sweep need not recompute e^T.
			bits := make([]uint64, (n*n+63)/64)
			scale := cfg.Eta * out.Gain * out.Advantage // as the learner computes it
			for k, e := range l.Elig {
				if !(math.Abs(scale*e) < cfg.Clip) {
					bits[k/64] |= 1 << (k % 64)
				}
			}
			clipped[h] = bits
			st.checkpointFloats += len(bits)
		}
		size := episodeFloats(ep)
		recs = append(recs, trialRecord{cond: cond, baseline: baseline, adv: out.Advantage, gain: out.Gain, reward: out.Reward, floats: size})
		res.Rewards = append(res.Rewards, out.Reward)
		res.J += discount * out.Reward
		discount *= p.Gamma
		if h >= warm {
			for len(window) > 0 && cached+size > budget {
				cached -= episodeFloats(window[0])
				spare = append(spare, window[0])
				window = window[1:]
			}
			var c *Episode
			if k := len(spare); k > 0 {
				c, spare = spare[k-1], spare[:k-1]
			} else {
				c = &Episode{}
			}
			copyEpisode(c, ep)
			window = append(window, c)
			cached += size
		}
		done++
		return done < H
	})
	if iterErr != nil {
		return nil, iterErr
	}
	if done < H {
		return nil, fmt.Errorf("meta: episode generator stopped after %d episodes, want H=%d", done, H)
	}
	if warm >= H {
		return res, nil // no trial learns: J does not depend on Θ or η
	}

	// Backward sweep over the learning trials h = H−1 … warm.
	bw := newBackward(p, rule, cfg, l.Mask, opts.LogEta)
	weights := func(h int) []float64 {
		if h > warm {
			return ckpt[h]
		}
		return p.Net.W
	}
	step := func(h int, ep *Episode) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("meta: stopped at trial %d of the backward sweep: %w", h, err)
		}
		disc := math.Pow(p.Gamma, float64(h))
		if err := bw.trial(h, ep, weights(h), clipped[h], recs[h], h > warm, disc, res.Grad); err != nil {
			return err
		}
		ckpt[h], clipped[h] = nil, nil // no longer needed
		return nil
	}
	next := H - len(window)
	for h := H - 1; h >= next; h-- {
		if err := step(h, window[h-next]); err != nil {
			return nil, err
		}
	}
	cache := append(spare, window...)
	for next > warm {
		// The block [lo, next): as many trials as fit the cache, at least one.
		lo, size := next-1, recs[next-1].floats
		for lo > warm && size+recs[lo-1].floats <= budget {
			lo--
			size += recs[lo].floats
		}
		for len(cache) < next-lo {
			cache = append(cache, &Episode{})
		}
		st.passes++
		got := lo
		p.Episodes(func(h int, ep *Episode) bool {
			if h < lo {
				return true
			}
			if h != got {
				iterErr = fmt.Errorf("meta: episode generator yielded episode %d, want %d", h, got)
				return false
			}
			if err := p.checkEpisode(h, ep); err != nil {
				iterErr = err
				return false
			}
			copyEpisode(cache[h-lo], ep)
			got++
			return got < next
		})
		if iterErr != nil {
			return nil, iterErr
		}
		if got < next {
			return nil, fmt.Errorf("meta: episode generator stopped after %d episodes on its second run, want %d", got, next)
		}
		for h := next - 1; h >= lo; h-- {
			if err := step(h, cache[h-lo]); err != nil {
				return nil, err
			}
		}
		next = lo
	}
	if !finite(res.Grad...) {
		return nil, &plasticity.DivergenceError{Trial: warm, Reason: fmt.Sprintf("the adjoint gradient is not finite: %v", res.Grad)}
	}
	st.scratchFloats = bw.floats()
	for _, c := range cache {
		st.cacheFloats += cap(c.Trial.U) + cap(c.Trial.Target) + cap(c.Trial.Mask) + cap(c.X0) + cap(c.Xi) + cap(c.Gate)
	}
	return res, nil
}

// backward holds the adjoints carried across trials and the scratch of one
// trial of the backward sweep.
type backward struct {
	n, K, L1      int
	rule          plasticity.Rule
	cfg           plasticity.Config
	dyn           rnn.Dynamics
	alpha, lambda float64
	mask          []float64
	logEta        bool
	net           *rnn.Network // recomputation; its W points at the checkpoint

	wbar []float64 // W̄: adjoint of the weights after the trial being processed
	bbar []float64 // adjoints of the baselines R̄_c after that trial

	tr                     rnn.Trace
	delta, xbar, c, gE     []float64
	wT, what, whatT        []float64 // N×N
	colsum                 []float64 // Ŵᵀ1 (the l = 0 row of Û)
	rowsD, rowsB, uu, pp   []float64 // stacked rows and their products with Ŵ
	idx                    []int     // step t → its row among the steps with c_t ≠ 0 (−1: none)
	g, ax, ab, tmp, gd, gr []float64 // N
	gs, rs                 []float64 // N×chunkSteps: α g^{t+1} and r^t, stacked for W̄
	rpow, dpow, bl         []float64 // one step's r^{∘k}, Δ^{∘l}, b_l
}

func newBackward(p *Problem, rule plasticity.Rule, cfg plasticity.Config, mask []float64, logEta bool) *backward {
	n := p.Net.N
	L1 := rule.L + 1
	net := p.Net.Clone()
	return &backward{
		n: n, K: rule.K, L1: L1, rule: rule, cfg: cfg, dyn: p.Dyn,
		alpha: p.Dyn.Alpha(), lambda: plasticity.Decay(p.Dyn.Dt, cfg.TauE), mask: mask, logEta: logEta, net: net,
		wbar: make([]float64, n*n), bbar: make([]float64, p.Conditions),
		wT: make([]float64, n*n), what: make([]float64, n*n), whatT: make([]float64, n*n),
		colsum: make([]float64, n),
		g:      make([]float64, n), ax: make([]float64, n), ab: make([]float64, n), tmp: make([]float64, n),
		gd: make([]float64, n), gr: make([]float64, n),
		gs: make([]float64, n*chunkSteps), rs: make([]float64, n*chunkSteps),
		rpow: make([]float64, (rule.K+1)*n), dpow: make([]float64, L1*n), bl: make([]float64, L1*n),
	}
}

// floats returns the number of floats held by the working arrays.
func (b *backward) floats() int {
	s := 0
	for _, v := range [][]float64{b.wbar, b.bbar, b.tr.X, b.tr.R, b.tr.Y, b.delta, b.xbar, b.c, b.gE,
		b.wT, b.what, b.whatT, b.colsum, b.rowsD, b.rowsB, b.uu, b.pp,
		b.g, b.ax, b.ab, b.tmp, b.gd, b.gr, b.gs, b.rs, b.rpow, b.dpow, b.bl} {
		s += cap(v)
	}
	return s + 2*cap(b.tr.X) + len(b.net.W) // the trace's drive, the network
}

// trial back-propagates through learning trial h (h ≥ warm-up), whose
// weights were w and whose forward record is rec. On entry b.wbar and
// b.bbar are the adjoints of W^{h+1} and of the baselines after the trial;
// on return those of W^h (when needW: W^h depends on Θ) and of the
// baselines before it. The gradient accumulates into grad.
//
// With s = ηGA, Ŵ = W̄ ∘ Mask ∘ 1{|s e| < c_max} and ē = s Ŵ:
//
//	s̄ = ⟨Ŵ, e⟩,  Ā = s̄ηG,  Ḡ = s̄ηA,  ∂J/∂log η += ηGA s̄
//	ρ = γ^h + (1−α_R) B̄_c + Ā            (the adjoint of R^h)
//	B̄_c ← α_R B̄_c − Ā + sign(R̄_c) Ḡ      (baseline gain; plain: no Ḡ)
//	θ̄_kl += Σ_t c_t (Δ^t)^l·ē (r^t)^k
//
// and the state adjoints run backwards through the trial's T steps with
// sources −ρ ∂E/∂x (the reward) and ē's contractions with Δ^t and r^t.
func (b *backward) trial(h int, ep *Episode, w []float64, clipped []uint64, rec trialRecord, needW bool, discount float64, grad []float64) error {
	n, K, L1 := b.n, b.K, b.L1
	tr := &ep.Trial
	T, O := tr.T, tr.O
	theta := b.rule.Theta
	cfg := b.cfg

	// Recompute the trial exactly as the learner ran it.
	b.net.W = w
	b.net.Run(b.dyn, ep.X0, tr.U, ep.Xi, T, &b.tr)
	X, R, Y := b.tr.X, b.tr.R, b.tr.Y
	if E := plasticity.TrialError(cfg.Loss, Y, tr.Target, tr.Mask, T, O); -E != rec.reward {
		return fmt.Errorf("meta: adjoint: trial %d recomputes to reward %v, the forward sweep had %v: the episode generator is not deterministic", h, -E, rec.reward)
	}
	b.delta = grow(b.delta, T*n)
	b.xbar = grow(b.xbar, n)
	b.c = grow(b.c, T)
	plasticity.Fluctuation(X, n, T, cfg.AlphaX, b.delta, b.xbar)
	plasticity.Weights(b.c, T, b.dyn.Dt, b.lambda, ep.Gate, cfg.GateStart)

	eta, A, G := cfg.Eta, rec.adv, rec.gain
	s := eta * G * A
	// Ŵ = W̄ ∘ Mask ∘ 1{unclipped}, the clip pattern from the forward sweep.
	anyW := false
	for k, wb := range b.wbar {
		m := b.mask[k]
		if clipped != nil && clipped[k/64]&(1<<(k%64)) != 0 {
			m = 0
		}
		v := wb * m
		b.what[k] = v
		if v != 0 {
			anyW = true
		}
	}
	eTerms := anyW && s != 0 // ē ≠ 0: the eligibility's adjoint reaches Θ and the states

	// Steps that count (c_t ≠ 0) and the powers whose products are needed:
	// P̂_l^t = Ŵ b_l^t for the active columns of Θ (for s̄ and ∂Φ/∂Δ) and
	// Û_l^t = Ŵᵀ(Δ^t)^l for l = 1…L (l = 0 is Ŵᵀ1).
	var lP []int
	if anyW {
		for l := 0; l < L1; l++ {
			for k := 0; k <= K; k++ {
				if theta[k*L1+l] != 0 {
					lP = append(lP, l)
					break
				}
			}
		}
	}
	nU := 0
	if eTerms {
		nU = L1 - 1
	}
	b.idx = b.idx[:0]
	steps := 0
	for t := 0; t < T; t++ {
		if b.c[t] != 0 {
			b.idx = append(b.idx, steps)
			steps++
		} else {
			b.idx = append(b.idx, -1)
		}
	}
	rowsP, rowsU := steps*len(lP), steps*nU
	if rowsP > 0 || rowsU > 0 {
		b.rowsB = grow(b.rowsB, rowsP*n)
		b.rowsD = grow(b.rowsD, rowsU*n)
		for t := 0; t < T; t++ {
			i := b.idx[t]
			if i < 0 {
				continue
			}
			b.polynomials(R[t*n:(t+1)*n], b.delta[t*n:(t+1)*n])
			for q, l := range lP {
				copy(b.rowsB[(i*len(lP)+q)*n:], b.bl[l*n:(l+1)*n])
			}
			for l := 1; l <= nU; l++ {
				copy(b.rowsD[(i*nU+l-1)*n:], b.dpow[l*n:(l+1)*n])
			}
		}
		b.pp = grow(b.pp, rowsP*n)
		b.uu = grow(b.uu, rowsU*n)
		if rowsP > 0 {
			kern.MulABt(rowsP, n, n, b.rowsB, n, b.what, n, b.pp, n)
		}
		if rowsU > 0 {
			transpose(b.whatT, b.what, n)
			kern.MulABt(rowsU, n, n, b.rowsD, n, b.whatT, n, b.uu, n)
		}
	}
	var sbar float64
	if rowsP > 0 {
		// s̄ = ⟨Ŵ, e⟩ = Σ_t c_t Σ_l (Δ^t)^l · P̂_l^t.
		for t := 0; t < T; t++ {
			i := b.idx[t]
			if i < 0 {
				continue
			}
			d := b.delta[t*n : (t+1)*n]
			var st float64
			for q, l := range lP {
				pr := b.pp[(i*len(lP)+q)*n : (i*len(lP)+q+1)*n]
				var acc float64
				for j, v := range pr {
					acc += powi(d[j], l) * v
				}
				st += acc
			}
			sbar += b.c[t] * st
		}
	}

	// Trial-level adjoints.
	c := rec.cond
	abar, gbar := sbar*eta*G, sbar*eta*A
	if b.logEta {
		grad[len(grad)-1] += eta * G * A * sbar
	}
	rho := discount + (1-cfg.AlphaR)*b.bbar[c] + abar
	nb := cfg.AlphaR*b.bbar[c] - abar
	if cfg.Gain == plasticity.GainBaseline {
		nb += stats.Sign(rec.baseline) * gbar
	}
	b.bbar[c] = nb
	if !finite(sbar, rho, nb) {
		return &plasticity.DivergenceError{Trial: h, Reason: fmt.Sprintf("the adjoint of the reward is %v (of the update scale %v)", rho, sbar)}
	}

	if eTerms {
		for j := range b.colsum {
			b.colsum[j] = 0
		}
		for i := 0; i < n; i++ {
			for j, v := range b.what[i*n : (i+1)*n] {
				b.colsum[j] += v
			}
		}
		// θ̄_kl += s Σ_t c_t Û_l^t · (r^t)^k.
		for t := 0; t < T; t++ {
			i := b.idx[t]
			if i < 0 {
				continue
			}
			b.powersR(R[t*n : (t+1)*n])
			f := s * b.c[t]
			for l := 0; l < L1; l++ {
				u := b.colsum
				if l > 0 {
					u = b.uu[(i*nU+l-1)*n : (i*nU+l)*n]
				}
				for k := 0; k <= K; k++ {
					rk := b.rpow[k*n : (k+1)*n]
					var acc float64
					for j, v := range u {
						acc += v * rk[j]
					}
					grad[k*L1+l] += f * acc
				}
			}
		}
	}
	if !needW {
		return nil
	}

	// State adjoints, backwards through the steps, and W̄ += α Σ_t g^{t+1} ⊗ r^t.
	transpose(b.wT, w, n)
	b.gE = grow(b.gE, T*n)
	rewardSlopes(b.gE, tr, Y, R, b.net.Wout, cfg.Loss, n)
	clear(b.ax)
	clear(b.ab)
	alpha, ax := b.alpha, cfg.AlphaX
	cols := 0
	flush := func() {
		if cols > 0 {
			kern.MulABtAdd(n, n, cols, b.gs, chunkSteps, b.rs, chunkSteps, b.wbar, n)
			cols = 0
		}
	}
	for t := T - 1; t >= 0; t-- {
		g := b.g
		gE := b.gE[t*n : (t+1)*n]
		for i := range g {
			g[i] = b.ax[i] - rho*gE[i] + (1-ax)*b.ab[i]
		}
		// ē's sources: −gΔ^t on x^{t+1} (and +gΔ^t on x̄^t), φ'(x^{t+1})∘gr^{t+1}.
		clear(b.gd)
		if eTerms {
			if i := b.idx[t]; i >= 0 {
				b.deltaSource(t, i, s, lP)
			}
			if t+1 < T {
				if i := b.idx[t+1]; i >= 0 {
					b.rateSource(t+1, i, s, nU)
					ph := R[(t+1)*n : (t+2)*n]
					for j, v := range b.gr {
						g[j] += (1 - ph[j]*ph[j]) * v
					}
				}
			}
		}
		for i, v := range b.gd {
			g[i] -= v
			b.ab[i] = ax*b.ab[i] + v
		}
		for _, ci := range b.net.ClampIndex {
			g[ci] = 0
		}
		rt := R[t*n : (t+1)*n]
		for i, v := range g {
			b.gs[i*chunkSteps+cols] = alpha * v
		}
		for j, v := range rt {
			b.rs[j*chunkSteps+cols] = v
		}
		cols++
		if cols == chunkSteps {
			flush()
		}
		if t > 0 {
			kern.MulAv(n, n, b.wT, n, g, b.tmp)
			for i := range b.ax {
				b.ax[i] = (1-alpha)*g[i] + alpha*(1-rt[i]*rt[i])*b.tmp[i]
			}
		}
	}
	flush()
	var sum float64
	for _, v := range b.wbar {
		sum += math.Abs(v)
	}
	if !finite(sum) {
		return &plasticity.DivergenceError{Trial: h, Reason: "the adjoint of the weights is not finite"}
	}
	return nil
}

// deltaSource sets b.gd = s c_t Σ_{l ≥ 1} l (Δ^t)^{l−1} ∘ P̂_l^t (the
// derivative of ⟨ē, e⟩ with respect to Δ^t); i is t's row.
func (b *backward) deltaSource(t, i int, s float64, lP []int) {
	n := b.n
	d := b.delta[t*n : (t+1)*n]
	f := s * b.c[t]
	for q, l := range lP {
		if l == 0 {
			continue
		}
		pr := b.pp[(i*len(lP)+q)*n : (i*len(lP)+q+1)*n]
		fl := f * float64(l)
		for j, v := range pr {
			b.gd[j] += fl * powi(d[j], l-1) * v
		}
	}
}

// rateSource sets b.gr = s c_t Σ_l Û_l^t ∘ b'_l^t with b'_l = Σ_k θ_kl k r^{k−1}
// (the derivative of ⟨ē, e⟩ with respect to r^t); i is t's row.
func (b *backward) rateSource(t, i int, s float64, nU int) {
	n, K, L1 := b.n, b.K, b.L1
	theta := b.rule.Theta
	clear(b.gr)
	if K == 0 {
		return
	}
	b.powersR(b.tr.R[t*n : (t+1)*n])
	f := s * b.c[t]
	for l := 0; l < L1; l++ {
		u := b.colsum
		if l > 0 {
			u = b.uu[(i*nU+l-1)*n : (i*nU+l)*n]
		}
		for k := 1; k <= K; k++ {
			th := theta[k*L1+l]
			if th == 0 {
				continue
			}
			rk1 := b.rpow[(k-1)*n : k*n]
			fk := f * th * float64(k)
			for j, v := range u {
				b.gr[j] += fk * v * rk1[j]
			}
		}
	}
}

// powersR fills rpow[k] = r^{∘k}, k = 0…K.
func (b *backward) powersR(r []float64) {
	n := b.n
	for j := range r {
		b.rpow[j] = 1
	}
	for k := 1; k <= b.K; k++ {
		prev, cur := b.rpow[(k-1)*n:k*n], b.rpow[k*n:(k+1)*n]
		for j, v := range r {
			cur[j] = prev[j] * v
		}
	}
}

// polynomials fills dpow[l] = Δ^{∘l} and bl[l] = Σ_k θ_kl r^{∘k} for one step.
func (b *backward) polynomials(r, delta []float64) {
	n, K, L1 := b.n, b.K, b.L1
	theta := b.rule.Theta
	b.powersR(r)
	for i := range delta {
		b.dpow[i] = 1
	}
	for l := 1; l < L1; l++ {
		prev, cur := b.dpow[(l-1)*n:l*n], b.dpow[l*n:(l+1)*n]
		for i, v := range delta {
			cur[i] = prev[i] * v
		}
	}
	for l := 0; l < L1; l++ {
		bl := b.bl[l*n : (l+1)*n]
		clear(bl)
		for k := 0; k <= K; k++ {
			th := theta[k*L1+l]
			if th == 0 {
				continue
			}
			rk := b.rpow[k*n : (k+1)*n]
			for j := range bl {
				bl[j] += th * rk[j]
			}
		}
	}
}

// rewardSlopes fills gE (T×N) with the weights of the state x^{t+1} in
// the trial error, row t: gE^t = φ'(x^{t+1}) ∘ W_outᵀ(m^t ℓ'(y^{t+1} −
// y*^{t+1})) / Σ m, as the forward mode weighs ẋ^{t+1} (zero for an empty
// mask).
func rewardSlopes(gE []float64, tr *tasks.Trial, Y, R, wout []float64, loss plasticity.Loss, n int) {
	T, O := tr.T, tr.O
	clear(gE[:T*n])
	var msum float64
	for t := 0; t < T; t++ {
		msum += tr.Mask[t]
	}
	if msum == 0 {
		return
	}
	for t := 0; t < T; t++ {
		m := tr.Mask[t]
		if m == 0 {
			continue
		}
		g := gE[t*n : (t+1)*n]
		for o := 0; o < O; o++ {
			s := m * lossSlope(loss, Y[t*O+o]-tr.Target[t*O+o]) / msum
			if s == 0 {
				continue
			}
			for j, w := range wout[o*n : (o+1)*n] {
				g[j] += s * w
			}
		}
		r := R[(t+1)*n : (t+2)*n]
		for j := range g {
			g[j] *= 1 - r[j]*r[j]
		}
	}
}

// transpose writes aᵀ (n×n) into dst.
func transpose(dst, a []float64, n int) {
	for i := 0; i < n; i++ {
		row := a[i*n : (i+1)*n]
		for j, v := range row {
			dst[j*n+i] = v
		}
	}
}

// powi returns v^p for a small non-negative integer p, with 0⁰ = 1.
func powi(v float64, p int) float64 {
	s := 1.0
	for ; p > 0; p-- {
		s *= v
	}
	return s
}

// adjointCost is the cost of one adjoint gradient in the units of
// Learners (a primal pass is 1): the forward sweep, the recomputation and
// the backward products: about three primal passes whatever D (15 units of
// 2TN² flops against the primal's 5 for a dense K = L = 3 rule,
// docs/METAGRAD.md).
const adjointCost = 3
