package sensitivity

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
)

// DefaultScale is the default probe size ε relative to ‖W‖_F (the
// sensitivity stage's scale): ε = DefaultScale·‖W‖_F. It keeps the probes in
// the linear regime, where ΔS along the top singular direction is εσ₁ and
// the trajectory shifts are proportional to ε, so that the top and random
// probes compare directions, not sizes. On trained networks S is curved
// (training sits near a maximum of S) and tanh dynamics amplify: at a
// relative size of 10⁻² ΔS along u₁v₁ᵀ has the wrong sign on go/no-go
// networks of 30 and 200 units that reached the learning criterion, and at
// 10⁻⁴ it still falls 1–31% short of εσ₁; at 10⁻⁶ it is within 0.6%
// (see the package documentation, "Probe size").
const DefaultScale = 1e-6

// Change is how one weight perturbation W → W + εD changes the network's
// behaviour and its condition-dependent trajectories on a batch.
type Change struct {
	// DeltaS is S(W + εD) − S(W). To first order it is ε⟨G, D⟩_F, i.e. εσ₁
	// along the top singular direction of G.
	DeltaS float64
	// Distance is the mean squared distance between the perturbed and the
	// unperturbed condition-averaged rate trajectories, per condition, step
	// (t = 1…T) and unit: (1/(C·T·N)) Σ_c Σ_t ‖r̄'^t_c − r̄^t_c‖².
	Distance float64
	// Relative is Distance divided by the mean squared condition-averaged
	// rate of the unperturbed network, (1/(C·T·N)) Σ_c Σ_t ‖r̄^t_c‖² (0 when
	// the network is silent).
	Relative float64
}

// Effect compares a perturbation along a given direction with one along a
// random direction of the same Frobenius norm.
type Effect struct {
	Eps    float64 // ‖εD‖_F: both perturbations have this norm
	S      float64 // S(W), unperturbed
	Along  Change  // W + ε·D/‖D‖_F
	Random Change  // W + ε·R/‖R‖_F, R Gaussian on the rows of the free units
}

// PerturbationEffect evaluates net on the batch with W + ε·D/‖D‖_F (D is
// direction, N×N, e.g. SVD.Direction(0) of the sensitivity gradient) and with
// W + ε·R/‖R‖_F, R a matrix of independent N(0,1) entries drawn from rng on
// the rows of the free units (the rows of clamped units have no effect on
// anything, and neither do those of a sensitivity gradient's singular
// directions). net is not modified.
//
// The condition-averaged trajectory r̄^t_c of condition c is the mean over the
// batch's trials of condition c of their rates r^t (t = 1…T; x⁰ does not
// depend on W); with trials of unequal length each step averages the trials
// that reach it.
func PerturbationEffect(ctx context.Context, net *rnn.Network, b *Batch, loss plasticity.Loss,
	direction []float64, eps float64, rng *rand.Rand) (*Effect, error) {
	n := net.N
	if len(direction) != n*n {
		return nil, fmt.Errorf("sensitivity: perturbation direction has %d values, want N² = %d", len(direction), n*n)
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("sensitivity: perturbation size ε = %v: must be finite and > 0", eps)
	}
	if rng == nil {
		return nil, fmt.Errorf("sensitivity: no random source for the random direction: pass a *rand.Rand")
	}
	dn := Norm(direction)
	if dn == 0 || math.IsNaN(dn) || math.IsInf(dn, 0) {
		return nil, fmt.Errorf("sensitivity: perturbation direction has Frobenius norm %v: must be finite and non-zero", dn)
	}
	s0, base, err := evaluate(ctx, net, b, loss, true)
	if err != nil {
		return nil, err
	}
	random := make([]float64, n*n)
	for i := range n {
		if net.IsClamped(i) {
			continue
		}
		for j := range n {
			random[i*n+j] = rng.NormFloat64()
		}
	}
	eff := &Effect{Eps: eps, S: s0}
	for _, c := range []struct {
		d   []float64
		out *Change
	}{{direction, &eff.Along}, {random, &eff.Random}} {
		p := net.Clone()
		scale := eps / Norm(c.d)
		for k, v := range c.d {
			p.W[k] += scale * v
		}
		s, cm, err := evaluate(ctx, p, b, loss, true)
		if err != nil {
			return nil, fmt.Errorf("sensitivity: perturbed network: %w", err)
		}
		c.out.DeltaS = s - s0
		c.out.Distance, c.out.Relative = base.distance(cm)
	}
	return eff, nil
}

// Norm returns the Euclidean (Frobenius, for a matrix in row-major order)
// norm of a, summed in order: the norm behind the probe size ε and the
// gradient norm of the sensitivity stage.
func Norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// condMeans accumulates condition-averaged rate trajectories r̄^t_c, t = 1…T_c.
type condMeans struct {
	n     int
	conds []int             // sorted conditions
	sum   map[int][]float64 // T_c×N: row t−1 is r̄^t_c (after finish)
	count map[int][]int     // T_c: trials reaching step t
}

func newCondMeans(b *Batch, n int) *condMeans {
	cm := &condMeans{n: n, sum: map[int][]float64{}, count: map[int][]int{}}
	T := map[int]int{}
	for _, it := range b.Items {
		T[it.Trial.Condition] = max(T[it.Trial.Condition], it.Trial.T)
	}
	for c, t := range T {
		cm.conds = append(cm.conds, c)
		cm.sum[c] = make([]float64, t*n)
		cm.count[c] = make([]int, t)
	}
	slices.Sort(cm.conds)
	return cm
}

func (cm *condMeans) add(cond int, tr *rnn.Trace) {
	s, cnt, n := cm.sum[cond], cm.count[cond], cm.n
	for t := 1; t <= tr.T; t++ {
		row := s[(t-1)*n : t*n]
		for i, v := range tr.R[t*n : (t+1)*n] {
			row[i] += v
		}
		cnt[t-1]++
	}
}

func (cm *condMeans) finish() {
	n := cm.n
	for c, s := range cm.sum {
		for t, k := range cm.count[c] {
			for i := range n {
				s[t*n+i] /= float64(k)
			}
		}
	}
}

// distance returns the mean squared distance of p's trajectories from cm's
// and the same relative to cm's mean squared rate.
func (cm *condMeans) distance(p *condMeans) (float64, float64) {
	var d, ref float64
	var count int
	for _, c := range cm.conds {
		a, b := cm.sum[c], p.sum[c]
		for k, v := range a {
			e := b[k] - v
			d += e * e
			ref += v * v
		}
		count += len(a)
	}
	d /= float64(count)
	ref /= float64(count)
	if ref == 0 {
		return d, 0
	}
	return d, d / ref
}
