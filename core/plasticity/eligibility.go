package plasticity

import (
	"math"

	"rulescape/core/internal/kern"
)

// Decay returns λ_e = 1 − dt/τ_e, or 1 when τ_e = 0 (no decay).
func Decay(dt, tauE float64) float64 {
	if tauE == 0 || math.IsInf(tauE, 1) {
		return 1
	}
	return 1 - dt/tauE
}

// Fluctuation computes Δ^t = x̄^t − x^{t+1} for t = 0…T−1 into delta (T×N),
// with x̄⁰ = x⁰ and x̄^{t+1} = α_x x̄^t + (1−α_x) x^{t+1}. x holds x^0…x^T as
// rows. xbar is scratch of length N.
func Fluctuation(x []float64, n, T int, alphaX float64, delta, xbar []float64) {
	fluctuation(x, n, T, alphaX, delta, xbar)
}

// fluctuation is Fluctuation.
func fluctuation(x []float64, n, T int, alphaX float64, delta, xbar []float64) {
	copy(xbar[:n], x[:n])
	for t := 0; t < T; t++ {
		// Δ^t = x̄ − x^{t+1}, x̄ ← α_x x̄ + (1 − α_x) x^{t+1}, unfused.
		kern.FluctuationStep(delta[t*n:(t+1)*n], xbar[:n], x[(t+1)*n:(t+2)*n], alphaX, 1-alphaX)
	}
}

// Weights fills c (length T) with the weight of step t in the final trace,
// c_t = dt · g^t · λ_e^{T−1−t}, so that e^T = Σ_t c_t H^t. gate may be nil
// (g^t = 1 for t ≥ gateStart, else 0).
func Weights(c []float64, T int, dt, lambda float64, gate []float64, gateStart int) {
	p := dt
	for t := T - 1; t >= 0; t-- {
		g := 0.0
		if gate != nil {
			g = gate[t]
		} else if t >= gateStart {
			g = 1
		}
		c[t] = p * g
		p *= lambda
	}
}

// Workspace holds the scratch of Eligibility so repeated calls do not allocate.
type Workspace struct {
	a, b  []float64
	steps []int
}

// eligBlock is the number of stacked rows Workspace forms before
// multiplying them in: the k-block of kern.MulAtB, so that the products of
// the blocks, added in turn, are one product's sums.
const eligBlock = 256

// Eligibility computes e^T = Σ_t c_t Σ_kl θ_kl (Δ^t)^{∘l} ⊗ (r^t)^{∘k} into e
// (N×N, row = post, column = pre), from delta (T×N, Δ^t), r (at least T rows
// of N, r^t) and the step weights c (see Weights).
//
// It groups the rule by post-synaptic power: H^t = Σ_l (Δ^t)^{∘l} ⊗ b_l^t with
// b_l^t = Σ_k θ_kl (r^t)^{∘k}, stacks one row of N per (t, l) with c_t ≠ 0
// and a non-zero column of Θ — A with rows c_t (Δ^t)^{∘l}, B with rows
// b_l^t, in the traces' own layout — and forms e^T = AᵀB (kern.MulAtB),
// eligBlock rows at a time while they are in cache. The sums are those of
// one product A'B'ᵀ of the N×rows transposes (kern.MulABt's order), which
// is what it computes where kern.MulAtB would transpose (CPUs without
// AVX-512): the same bits on every CPU with AVX2.
func (ws *Workspace) Eligibility(rule Rule, delta, r, c []float64, n, T int, e []float64) {
	if !kern.AtBNative() {
		ws.eligibilityBands(rule, delta, r, c, n, T, e)
		return
	}
	g := groupByPower[float64](rule)
	active, th := g.l[:g.n], &g.th
	na := len(active)
	ws.a = growSlice(ws.a, (eligBlock+MaxOrder+1)*n)
	ws.b = growSlice(ws.b, (eligBlock+MaxOrder+1)*n)
	row, done := 0, false
	flush := func(rows int) {
		if done {
			kern.MulAtBAdd(n, n, rows, ws.a, n, ws.b, n, e, n)
		} else {
			kern.MulAtB(n, n, rows, ws.a, n, ws.b, n, e, n)
		}
		done = true
	}
	for t := 0; t < T && na > 0; t++ {
		ct := c[t]
		if ct == 0 {
			continue
		}
		d, rt := delta[t*n:(t+1)*n], r[t*n:(t+1)*n]
		for q, l := range active {
			arow, brow := ws.a[row*n:(row+1)*n], ws.b[row*n:(row+1)*n]
			if l == 3 {
				// powi(v, 3) inlined (Miconi's rule): the same operations.
				for i, v := range d {
					arow[i] = ct * (v * v * v)
				}
			} else {
				for i, v := range d {
					arow[i] = ct * powi(v, l)
				}
			}
			thq := th[q][:rule.K+1]
			if rule.K == 3 {
				// The loop below for K = 3 (the orders of Miconi's rule and
				// the default space), unrolled: the same operations.
				th0, th1, th2, th3 := thq[0], thq[1], thq[2], thq[3]
				for j, v := range rt {
					brow[j] = ((th3*v+th2)*v+th1)*v + th0
				}
			} else {
				for j, v := range rt {
					// Horner in the pre-synaptic rate: Σ_k θ_kl r^k.
					s := thq[rule.K]
					for k := rule.K - 1; k >= 0; k-- {
						s = s*v + thq[k]
					}
					brow[j] = s
				}
			}
			row++
		}
		if row >= eligBlock {
			flush(eligBlock)
			// A step's rows past the block start the next one.
			copy(ws.a, ws.a[eligBlock*n:row*n])
			copy(ws.b, ws.b[eligBlock*n:row*n])
			row -= eligBlock
		}
	}
	if row > 0 {
		flush(row)
	}
	if !done {
		clear(e[:n*n])
	}
}

// eligibilityBands is Eligibility for CPUs on which kern.MulAtB would
// transpose its operands: it forms the N×rows transposes directly, filled
// by bands of 8 units (each step's 8 values of Δ or r are one cache line,
// read once), and multiplies them with kern.MulABt — the same sums, so the
// same bits.
func (ws *Workspace) eligibilityBands(rule Rule, delta, r, c []float64, n, T int, e []float64) {
	g := groupByPower[float64](rule)
	active := g.l[:g.n]
	ws.steps = ws.steps[:0]
	for t := 0; t < T; t++ {
		if c[t] != 0 {
			ws.steps = append(ws.steps, t)
		}
	}
	steps := ws.steps
	na := len(active)
	rows := len(steps) * na
	clear(e[:n*n])
	if rows == 0 {
		return
	}
	// A and B are N×rows with one column per (t, l), column s·na + q for
	// the s-th step kept and the q-th active l: e^T = A Bᵀ, a product of
	// rows against rows that the kernels of core/internal/kern run at
	// several times gonum's speed. They are filled by bands of 8 units:
	// each step's 8 values of Δ (or r) are one cache line, read once, and
	// written into the band's 8 rows (the values do not depend on the
	// order in which they are formed).
	ws.a = growSlice(ws.a, rows*n)
	ws.b = growSlice(ws.b, rows*n)
	a, b := ws.a[:rows*n], ws.b[:rows*n]
	for q, l := range active {
		th := &g.th[q]
		for i0 := 0; i0 < n; i0 += 8 {
			i1 := min(i0+8, n)
			for s, t := range steps {
				col := s*na + q
				d := delta[t*n+i0 : t*n+i1]
				ct := c[t]
				if l == 3 {
					// powi(v, 3) inlined (Miconi's rule): the same operations.
					for ii, v := range d {
						a[(i0+ii)*rows+col] = ct * (v * v * v)
					}
				} else {
					for ii, v := range d {
						a[(i0+ii)*rows+col] = ct * powi(v, l)
					}
				}
				rt := r[t*n+i0 : t*n+i1]
				if rule.K == 3 {
					// The loop below for K = 3 (the orders of Miconi's rule
					// and the default space), unrolled: the same operations.
					th0, th1, th2, th3 := th[0], th[1], th[2], th[3]
					for jj, rj := range rt {
						b[(i0+jj)*rows+col] = ((th3*rj+th2)*rj+th1)*rj + th0
					}
					continue
				}
				for jj, rj := range rt {
					// Horner in the pre-synaptic rate: Σ_k θ_kl r^k.
					v := th[rule.K]
					for k := rule.K - 1; k >= 0; k-- {
						v = v*rj + th[k]
					}
					b[(i0+jj)*rows+col] = v
				}
			}
		}
	}
	kern.MulABt(n, n, rows, a, rows, b, rows, e, n)
}

// Workspace32 is Workspace for the float32 learner.
type Workspace32 struct {
	a, b, d, xbar []float32
}

// eligChunk is the number of stacked rows (steps × active powers) that
// Workspace32 forms before multiplying them in: with N = 200, the two
// factors' 2·128·N floats stay in L2 cache with e.
const eligChunk = 128

// Eligibility is Workspace.Eligibility in float32, from the trial's states
// x (x^0…x^T as rows of N) rather than Δ: Δ^t = x̄^t − x^{t+1} is formed on
// the way by Fluctuation's recursion, with α_x and 1 − α_x in float32.
// Θ is rounded to float32; the factors are laid out as the traces are, one
// row of N per kept step t (c_t ≠ 0) and active power l: A has rows
// c_t (Δ^t)^{∘l}, B rows Σ_k θ_kl (r^t)^{∘k}, and e^T = AᵀB
// (kern.MulAtB32), summed over the rows in increasing t in blocks of
// eligChunk rows, each block formed and multiplied while it is in cache.
func (ws *Workspace32) Eligibility(rule Rule, x, r, c []float32, alphaX float32, n, T int, e []float32) {
	g := groupByPower[float32](rule)
	active, th := g.l[:g.n], &g.th
	na := len(active)
	chunk := max(eligChunk/max(na, 1), 1) * na // whole steps per block
	ws.a = growSlice(ws.a, chunk*n)
	ws.b = growSlice(ws.b, chunk*n)
	ws.d = growSlice(ws.d, n)
	ws.xbar = growSlice(ws.xbar, n)
	d, xbar := ws.d[:n], ws.xbar[:n]
	copy(xbar, x[:n])
	row, done := 0, false
	flush := func() {
		if row == 0 {
			return
		}
		if done {
			kern.MulAtB32Add(n, n, row, ws.a, n, ws.b, n, e, n)
		} else {
			kern.MulAtB32(n, n, row, ws.a, n, ws.b, n, e, n)
		}
		row, done = 0, true
	}
	for t := 0; t < T; t++ {
		next := x[(t+1)*n : (t+2)*n]
		if c[t] == 0 || na == 0 {
			kern.Fluctuation32(nil, xbar, next, alphaX, 1-alphaX)
			continue
		}
		kern.Fluctuation32(d, xbar, next, alphaX, 1-alphaX)
		rt := r[t*n : (t+1)*n]
		for q, l := range active {
			// c_t·Δ^l and Σ_k θ_kl r^k, each value by the operations of
			// the float64 fill (powi, Horner), unfused.
			kern.PowScale32(ws.a[row*n:(row+1)*n], d, c[t], l)
			kern.Horner32(ws.b[row*n:(row+1)*n], rt, th[q][:rule.K+1])
			row++
		}
		if row == chunk {
			flush()
		}
	}
	flush()
	if !done {
		clear(e[:n*n])
	}
}

// powerGroups is a rule grouped by post-synaptic power, in precision F:
// the n powers l[0…n−1] whose column of Θ is not all zero, and
// th[q][k] = θ_{k, l[q]}.
type powerGroups[F float32 | float64] struct {
	l  [MaxOrder + 1]int
	th [MaxOrder + 1][MaxOrder + 1]F
	n  int
}

// groupByPower groups rule by post-synaptic power (see powerGroups).
func groupByPower[F float32 | float64](rule Rule) (g powerGroups[F]) {
	L1 := rule.L + 1
	for l := 0; l < L1; l++ {
		nonzero := false
		for k := 0; k <= rule.K; k++ {
			g.th[g.n][k] = F(rule.Theta[k*L1+l])
			nonzero = nonzero || rule.Theta[k*L1+l] != 0
		}
		if nonzero {
			g.l[g.n] = l
			g.n++
		}
	}
	return g
}

// powi returns v^p for a small non-negative integer p, with 0^0 = 1.
func powi[F float32 | float64](v F, p int) F {
	switch p {
	case 0:
		return 1
	case 1:
		return v
	case 2:
		return v * v
	case 3:
		return v * v * v
	}
	s := F(1)
	for ; p > 0; p-- {
		s *= v
	}
	return s
}

func growSlice[F float32 | float64](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}
