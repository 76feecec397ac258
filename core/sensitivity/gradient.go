package sensitivity

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"rulescape/core/internal/kern"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/stats"
)

// Score returns the behavioural score S(W) = −(1/|B|) Σ_h E^h of net on the
// frozen batch: the negated mean over the batch's trials of the masked trial
// error of plasticity.TrialError under loss (abs or mse; "" means abs).
func Score(ctx context.Context, net *rnn.Network, b *Batch, loss plasticity.Loss) (float64, error) {
	s, _, err := evaluate(ctx, net, b, loss, false)
	return s, err
}

// Gradient returns the score S(W) and its gradient G = ∂S/∂W (N×N,
// row-major: G[i*N+j] = ∂S/∂W_ij) by the adjoint method (backpropagation
// through time, see the package documentation): one forward and one backward
// pass per trial, run in parallel over trials. The result does not depend on
// the number of goroutines: the per-trial gradients are summed in trial order.
//
// For the abs loss the derivative of |d| at d = 0 is taken as 0 (the
// subgradient of minimum norm). Rows of clamped units are exactly zero.
func Gradient(ctx context.Context, net *rnn.Network, b *Batch, loss plasticity.Loss) (float64, []float64, error) {
	if err := checkLoss(loss); err != nil {
		return 0, nil, err
	}
	if err := b.Validate(net); err != nil {
		return 0, nil, err
	}
	n := net.N
	wt := transpose(net.W, n, n) // Wᵀ for the backward mat-vecs, shared read-only
	clamped := make([]bool, n)
	for _, i := range net.ClampIndex {
		clamped[i] = true
	}

	nb := len(b.Items)
	workers := min(runtime.GOMAXPROCS(0), nb)
	ws := make([]*adjoint, workers)
	for w := range ws {
		ws[w] = &adjoint{out: make([]float64, n*n)}
	}
	errs := make([]float64, nb)
	g := make([]float64, n*n)
	for start := 0; start < nb; start += workers {
		if err := ctx.Err(); err != nil {
			return 0, nil, fmt.Errorf("sensitivity: gradient stopped after %d of %d trials: %w", start, nb, err)
		}
		k := min(workers, nb-start)
		var wg sync.WaitGroup
		for s := range k {
			wg.Go(func() {
				errs[start+s] = ws[s].trial(net, wt, clamped, b.Dyn, &b.Items[start+s], loss)
			})
		}
		wg.Wait()
		for s := range k { // trial order: deterministic
			for i, v := range ws[s].out {
				g[i] += v
			}
		}
	}
	var sum float64
	for h, e := range errs {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return 0, nil, fmt.Errorf("sensitivity: batch item %d: trial error is %v: the network diverged on this trial", h, e)
		}
		sum += e
	}
	// The per-trial products hold Σ_t λ^{t+1}(r^t)ᵀ of ∂E/∂W; fold in α and
	// the −1/|B| of S once.
	scale := -b.Dyn.Alpha() / float64(nb)
	for i := range g {
		g[i] *= scale
	}
	return -sum / float64(nb), g, nil
}

// adjoint is the workspace of one goroutine of Gradient.
type adjoint struct {
	tr       rnn.Trace
	lamT, rT []float64 // N×T: column t holds λ^{t+1} and r^t
	a, lam   []float64 // N: a^t = ∂E/∂x^t, λ^t
	wl, gy   []float64 // N: Wᵀλ; O: ∂E/∂y^t
	out      []float64 // N×N: Σ_t λ^{t+1}(r^t)ᵀ of this trial
}

// trial runs one trial forward and backward, leaves Σ_t λ^{t+1}(r^t)ᵀ in
// ws.out and returns the trial error E.
func (ws *adjoint) trial(net *rnn.Network, wt []float64, clamped []bool, dyn rnn.Dynamics, it *Item, loss plasticity.Loss) float64 {
	n, o := net.N, net.O
	T := it.Trial.T
	alpha := dyn.Alpha()
	net.Run(dyn, it.X0, it.Trial.U, it.Xi, T, &ws.tr)
	y, target, mask := ws.tr.Y, it.Trial.Target, it.Trial.Mask
	E := plasticity.TrialError(loss, y, target, mask, T, o)

	ws.lamT = grow(ws.lamT, n*T)
	ws.rT = grow(ws.rT, n*T)
	ws.a = grow(ws.a, n)
	ws.lam = grow(ws.lam, n)
	ws.wl = grow(ws.wl, n)
	ws.gy = grow(ws.gy, o)

	var wsum float64
	for _, m := range mask[:T] {
		wsum += m
	}
	if wsum == 0 { // E ≡ 0 whatever W: no gradient
		clear(ws.out)
		return E
	}
	R := ws.tr.R
	a, lam, wl := ws.a, ws.lam, ws.wl
	clear(a)
	for t := T; t >= 1; t-- {
		// a^t += φ'(x^t) ∘ W_outᵀ ∂E/∂y^t, ∂E/∂y^t_o = m^t ℓ'(y^t_o − y*^t_o)/Σm.
		if m := mask[t-1]; m != 0 {
			gy := ws.gy
			nz := false
			for k := range o {
				d := y[(t-1)*o+k] - target[(t-1)*o+k]
				var dl float64
				if loss == plasticity.LossMSE {
					dl = 2 * d
				} else {
					dl = stats.Sign(d)
				}
				gy[k] = m * dl / wsum
				nz = nz || gy[k] != 0
			}
			if nz {
				r := R[t*n : (t+1)*n]
				for k := range o {
					if gk := gy[k]; gk != 0 {
						row := net.Wout[k*n : (k+1)*n]
						for i := range n {
							a[i] += gk * row[i] * (1 - r[i]*r[i])
						}
					}
				}
			}
		}
		// λ^t = a^t on the free units, 0 on the clamped ones (their state is
		// reset after every step, so nothing flows back through them).
		for i := range n {
			v := a[i]
			if clamped[i] {
				v = 0
			}
			lam[i] = v
			ws.lamT[i*T+t-1] = v
		}
		if t == 1 {
			break // x⁰ does not depend on W
		}
		// a^{t−1} = (1−α)λ^t + φ'(x^{t−1}) ∘ α Wᵀλ^t   (+ its own output term next).
		kern.MulAv(n, n, wt, n, lam, wl)
		r := R[(t-1)*n : t*n]
		for i := range n {
			a[i] = (1-alpha)*lam[i] + alpha*(1-r[i]*r[i])*wl[i]
		}
	}
	// rT column t = r^t, t = 0…T−1.
	for t := range T {
		r := R[t*n : (t+1)*n]
		for j, v := range r {
			ws.rT[j*T+t] = v
		}
	}
	// Σ_t λ^{t+1}(r^t)ᵀ as one product (N×T)·(N×T)ᵀ.
	kern.MulABt(n, n, T, ws.lamT, T, ws.rT, T, ws.out, n)
	return E
}

// evaluate runs every trial of the batch forward and returns S and, when
// traj is set, the condition-averaged rate trajectories (see conditionMeans).
func evaluate(ctx context.Context, net *rnn.Network, b *Batch, loss plasticity.Loss, traj bool) (float64, *condMeans, error) {
	if err := checkLoss(loss); err != nil {
		return 0, nil, err
	}
	if err := b.Validate(net); err != nil {
		return 0, nil, err
	}
	var cm *condMeans
	if traj {
		cm = newCondMeans(b, net.N)
	}
	var tr rnn.Trace
	var sum float64
	for h := range b.Items {
		if err := ctx.Err(); err != nil {
			return 0, nil, fmt.Errorf("sensitivity: evaluation stopped after %d of %d trials: %w", h, len(b.Items), err)
		}
		it := &b.Items[h]
		T := it.Trial.T
		net.Run(b.Dyn, it.X0, it.Trial.U, it.Xi, T, &tr)
		e := plasticity.TrialError(loss, tr.Y, it.Trial.Target, it.Trial.Mask, T, net.O)
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return 0, nil, fmt.Errorf("sensitivity: batch item %d: trial error is %v: the network diverged on this trial", h, e)
		}
		sum += e
		if cm != nil {
			cm.add(it.Trial.Condition, &tr)
		}
	}
	if cm != nil {
		cm.finish()
	}
	return -sum / float64(len(b.Items)), cm, nil
}

func transpose(a []float64, rows, cols int) []float64 {
	t := make([]float64, rows*cols)
	for i := range rows {
		for j := range cols {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
