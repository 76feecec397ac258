package plasticity

import (
	"math"
	"testing"

	"rulescape/core/rnn"
)

// TestIsolatedKickEligibility shows, on a case with a closed form, why the
// linear node-perturbation-like rule (θ₁₁ = −1) cannot learn from the
// fluctuation x − x̄ while Miconi's cubic rule (θ₃₃ = −1) can.
//
// A free unit at rest (x = 0, no input, no recurrence) receives one kick ξ at
// step t₀ from a clamped pre-synaptic unit of constant rate r. The kick moves
// x by αξ at once (Δ^{t₀} = −αξ), then x relaxes back with time constant τ
// and each relaxation step contributes a small Δ of the opposite sign. Since
// x̄ is a low-pass filter of x with unit gain at zero frequency, ΣΔ^t → 0: the
// linear eligibility r·Σ(x − x̄) vanishes, whereas the cubic one is dominated
// by the kick, r³ Σ(x − x̄)³ ≈ r³ (αξ)³ (1 + O(α²)).
func TestIsolatedKickEligibility(t *testing.T) {
	const n, T, t0, xi = 2, 3000, 10, 16.0
	net, _ := rnn.NewNetwork(n, 0, 1)
	net.Wout[0] = 1
	net.ClampIndex, net.ClampValue = []int{1}, []float64{1}
	dyn := rnn.Dynamics{Dt: 1, Tau: 30}
	alpha := dyn.Alpha()
	x0 := []float64{0, 1}
	kick := make([]float64, T*n)
	kick[t0*n+0] = xi
	var tr rnn.Trace
	net.Run(dyn, x0, nil, kick, T, &tr)
	r := math.Tanh(1)

	delta, xbar, c := make([]float64, T*n), make([]float64, n), make([]float64, T)
	Fluctuation(tr.X, n, T, 0.05, delta, xbar)
	Weights(c, T, dyn.Dt, 1, nil, 0)
	var ws Workspace
	e := make([]float64, n*n)

	np, _ := Named("node-perturbation", 3, 3)
	ws.Eligibility(np, delta, tr.R, c, n, T, e)
	linear := e[0*n+1]
	if scale := alpha * xi * r; math.Abs(linear) > 1e-3*scale {
		t.Fatalf("linear eligibility %g should cancel to ≪ αξr = %g", linear, scale)
	}

	mic, _ := Named("miconi", 3, 3)
	ws.Eligibility(mic, delta, tr.R, c, n, T, e)
	cubic := e[0*n+1]
	want := math.Pow(r*alpha*xi, 3)
	if math.Abs(cubic-want) > 3*alpha*alpha*want {
		t.Fatalf("cubic eligibility %g, want ≈ (rαξ)³ = %g", cubic, want)
	}
}
