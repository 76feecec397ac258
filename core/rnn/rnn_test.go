package rnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/internal/kern"
)

func TestDecoupledPerturbationStatistics(t *testing.T) {
	const T, N = 2000, 200
	p := Perturbation{Scheme: Decoupled, Prob: 0.003, Amp: 16, Start: 4}
	xi := make([]float64, T*N)
	p.Fill(rand.New(rand.NewPCG(1, 2)), xi, T, N)
	var count int
	var sum, sumSq float64
	for k, v := range xi {
		if v == 0 {
			continue
		}
		if k < p.Start*N {
			t.Fatalf("entry %d (step %d) perturbed before start step %d", k, k/N, p.Start)
		}
		if math.Abs(v) > p.Amp {
			t.Fatalf("kick %v outside [−A, A]", v)
		}
		count++
		sum += v
		sumSq += v * v
	}
	trialsN := float64((T - p.Start) * N)
	// Binomial count: mean pn, sd √(np(1−p)); accept 4 sd.
	mean, sd := p.Prob*trialsN, math.Sqrt(trialsN*p.Prob*(1-p.Prob))
	if math.Abs(float64(count)-mean) > 4*sd {
		t.Fatalf("%d kicks, want %.0f ± %.0f", count, mean, 4*sd)
	}
	// U[−A, A]: mean 0, variance A²/3.
	m := sum / float64(count)
	v := sumSq / float64(count)
	if math.Abs(m) > 4*p.Amp/math.Sqrt(3*float64(count)) {
		t.Fatalf("kick mean %v, want 0", m)
	}
	if want := p.Amp * p.Amp / 3; math.Abs(v-want) > 0.1*want {
		t.Fatalf("kick second moment %v, want %v", v, want)
	}
}

func TestGaussianPerturbationStatistics(t *testing.T) {
	const T, N = 500, 50
	p := Perturbation{Scheme: Gaussian, Sigma: 0.3, Start: 2}
	xi := make([]float64, T*N)
	p.Fill(rand.New(rand.NewPCG(3, 4)), xi, T, N)
	var s, ss float64
	n := float64((T - p.Start) * N)
	for k, v := range xi {
		if k < p.Start*N && v != 0 {
			t.Fatal("perturbed before start")
		}
		s += v
		ss += v * v
	}
	if math.Abs(s/n) > 4*p.Sigma/math.Sqrt(n) {
		t.Fatalf("mean %v", s/n)
	}
	if v := ss / n; math.Abs(v-p.Sigma*p.Sigma) > 0.05*p.Sigma*p.Sigma {
		t.Fatalf("variance %v, want %v", v, p.Sigma*p.Sigma)
	}
}

func TestNonePerturbationClears(t *testing.T) {
	xi := []float64{1, 2, 3, 4}
	Perturbation{}.Fill(rand.New(rand.NewPCG(1, 1)), xi, 2, 2)
	for _, v := range xi {
		if v != 0 {
			t.Fatal("scheme none left a perturbation")
		}
	}
}

func TestPerturbationValidate(t *testing.T) {
	for _, p := range []Perturbation{
		{Scheme: "pink"}, {Scheme: Decoupled, Prob: 1.5}, {Scheme: Decoupled, Prob: 0.1, Amp: -1},
		{Scheme: Gaussian, Sigma: math.NaN()}, {Scheme: None, Start: -1},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestInitRecurrentScale(t *testing.T) {
	const n = 400
	for _, density := range []float64{0, 0.2} {
		w := make([]float64, n*n)
		InitRecurrent(rand.New(rand.NewPCG(5, 6)), w, n, 1.5, density)
		var ss float64
		zeros := 0
		for _, v := range w {
			ss += v * v
			if v == 0 {
				zeros++
			}
		}
		// E[w²] = G²/N whatever the density.
		if got, want := ss/float64(n*n), 1.5*1.5/n; math.Abs(got-want) > 0.03*want {
			t.Errorf("density %v: E[w²] = %v, want %v", density, got, want)
		}
		if density > 0 {
			frac := 1 - float64(zeros)/float64(n*n)
			if math.Abs(frac-density) > 0.01 {
				t.Errorf("density %v: %v non-zero", density, frac)
			}
		}
	}
}

// TestRunLinearRegime checks Run against the closed form of a linear system:
// with tiny weights and states, tanh is the identity to O(x³), and a single
// unit with W = w, constant input u obeys x^{t} = x* + (x⁰ − x*)(1 − α(1−w))^t.
func TestRunLinearRegime(t *testing.T) {
	net, _ := NewNetwork(1, 1, 1)
	net.W[0], net.Win[0], net.Wout[0] = 0.5, 1, 2
	const T = 50
	u := make([]float64, T)
	for k := range u {
		u[k] = 1e-4
	}
	dyn := Dynamics{Dt: 1, Tau: 10}
	var tr Trace
	net.Run(dyn, []float64{2e-4}, u, nil, T, &tr)
	a := dyn.Alpha()
	xstar := 1e-4 / (1 - 0.5)
	for step := 0; step <= T; step++ {
		want := xstar + (2e-4-xstar)*math.Pow(1-a*(1-0.5), float64(step))
		if d := math.Abs(tr.X[step] - want); d > 1e-11 {
			t.Fatalf("x^%d = %g, linear closed form %g", step, tr.X[step], want)
		}
		if step > 0 && math.Abs(tr.Y[step-1]-2*math.Tanh(tr.X[step])) > 1e-18 {
			t.Fatalf("y^%d is not W_out r^%d", step, step)
		}
	}
}

func TestClampsHold(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	net, err := Init(rng, InitConfig{N: 10, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, 10)
	net.InitState(rng, x0, 0.1)
	u := make([]float64, 30*2)
	InitUniform(rng, u, 1)
	var tr Trace
	net.Run(Dynamics{Dt: 1, Tau: 5}, x0, u, nil, 30, &tr)
	for step := 0; step <= 30; step++ {
		for k, i := range net.ClampIndex {
			if tr.X[step*10+i] != net.ClampValue[k] {
				t.Fatalf("clamped unit %d is %v at step %d", i, tr.X[step*10+i], step)
			}
		}
	}
	if net.ClampIndex[0] != 1 || net.Wout[0] != 1 {
		t.Fatal("readout should be unit 0 and clamps follow it")
	}
}

func TestInitConfigValidate(t *testing.T) {
	for _, c := range []InitConfig{{N: 0}, {N: 3, G: -1}, {N: 3, Density: 2}, {N: 3, Readout: "x"},
		{N: 3, Clamps: []float64{1, 1, 1}}} {
		if c.Validate(1, 1) == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func BenchmarkRunDNMSSize(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net, _ := Init(rng, InitConfig{N: 200, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	x0 := make([]float64, 200)
	net.InitState(rng, x0, 0.1)
	u := make([]float64, 1000*2)
	var tr Trace
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		net.Run(Dynamics{Dt: 1, Tau: 30}, x0, u, nil, 1000, &tr)
	}
}

// TestDriveSkipsZeroInputs checks that computing the input drive only over
// the runs of steps with a non-zero input gives the bits of one product
// over the whole trial, with zero runs at the start, inside and at the end.
func TestDriveSkipsZeroInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, m, T = 11, 3, 40
	net, err := Init(rng, InitConfig{N: n, G: 1.5}, m, 2)
	if err != nil {
		t.Fatal(err)
	}
	u := make([]float64, T*m)
	for step := range T {
		if (step >= 5 && step < 12) || step == 20 || step >= 37 {
			for p := range m {
				u[step*m+p] = rng.NormFloat64()
			}
		}
	}
	u[25*m+1] = math.Copysign(0, -1) // a −0 input is a zero input
	x0 := make([]float64, n)
	net.InitState(rng, x0, 0.5)
	var tr Trace
	net.Run(Dynamics{Dt: 1, Tau: 10}, x0, u, nil, T, &tr)
	want := make([]float64, T*n)
	kern.MulABt(T, n, m, u, m, net.Win, m, want, n)
	for step := range T {
		for i := range n {
			want[step*n+i] += net.B[i]
		}
	}
	for k, v := range tr.drive {
		if math.Float64bits(v) != math.Float64bits(want[k]) {
			t.Fatalf("drive[%d] = %v, one product gives %v", k, v, want[k])
		}
	}
}
