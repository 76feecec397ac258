package rnn

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/internal/kern"
)

// Network holds the sizes and weights of one rate network. All matrices are
// row-major: W[i*N+j] is the weight from pre-synaptic unit j to post-synaptic
// unit i.
type Network struct {
	N, M, O int // recurrent units, inputs, outputs

	W    []float64 // N×N recurrent weights (plastic)
	Win  []float64 // N×M input weights
	Wout []float64 // O×N readout weights
	B    []float64 // N biases

	ClampIndex []int     // units held at fixed values (Miconi 2017: three bias units)
	ClampValue []float64 // their values, same length as ClampIndex
}

// Dynamics holds the time constants of the Euler discretisation.
type Dynamics struct {
	Dt  float64 // step, ms (Miconi: 1)
	Tau float64 // membrane time constant, ms (Miconi: 30)
}

// Alpha returns α = dt/τ.
func (d Dynamics) Alpha() float64 { return d.Dt / d.Tau }

// Validate reports a bad time constant.
func (d Dynamics) Validate() error {
	if !(d.Dt > 0) || math.IsInf(d.Dt, 0) {
		return fmt.Errorf("rnn: dt = %v: must be a positive number of ms", d.Dt)
	}
	if !(d.Tau >= d.Dt) || math.IsInf(d.Tau, 0) {
		return fmt.Errorf("rnn: tau = %v: must be finite and at least dt = %v", d.Tau, d.Dt)
	}
	return nil
}

// NewNetwork returns a network of the given sizes with zero weights.
func NewNetwork(n, m, o int) (*Network, error) {
	if n <= 0 || m < 0 || o <= 0 {
		return nil, fmt.Errorf("rnn: sizes N=%d M=%d O=%d: need N ≥ 1, M ≥ 0, O ≥ 1", n, m, o)
	}
	return &Network{
		N: n, M: m, O: o,
		W:    make([]float64, n*n),
		Win:  make([]float64, n*m),
		Wout: make([]float64, o*n),
		B:    make([]float64, n),
	}, nil
}

// Validate checks that every slice has the size its dimensions promise and that
// the clamps name distinct units.
func (net *Network) Validate() error {
	n, m, o := net.N, net.M, net.O
	if n <= 0 || m < 0 || o <= 0 {
		return fmt.Errorf("rnn: sizes N=%d M=%d O=%d: need N ≥ 1, M ≥ 0, O ≥ 1", n, m, o)
	}
	check := func(name string, s []float64, want int) error {
		if len(s) != want {
			return fmt.Errorf("rnn: %s has %d values, want %d", name, len(s), want)
		}
		return nil
	}
	if err := errors.Join(check("W", net.W, n*n), check("W_in", net.Win, n*m),
		check("W_out", net.Wout, o*n), check("b", net.B, n)); err != nil {
		return err
	}
	if len(net.ClampIndex) != len(net.ClampValue) {
		return fmt.Errorf("rnn: %d clamp indices but %d clamp values", len(net.ClampIndex), len(net.ClampValue))
	}
	seen := map[int]bool{}
	for _, i := range net.ClampIndex {
		if i < 0 || i >= n {
			return fmt.Errorf("rnn: clamp index %d out of range [0, %d)", i, n)
		}
		if seen[i] {
			return fmt.Errorf("rnn: clamp index %d listed twice", i)
		}
		seen[i] = true
	}
	return nil
}

// Clone returns a deep copy.
func (net *Network) Clone() *Network {
	c := *net
	c.W = append([]float64(nil), net.W...)
	c.Win = append([]float64(nil), net.Win...)
	c.Wout = append([]float64(nil), net.Wout...)
	c.B = append([]float64(nil), net.B...)
	c.ClampIndex = append([]int(nil), net.ClampIndex...)
	c.ClampValue = append([]float64(nil), net.ClampValue...)
	return &c
}

// ApplyClamps sets the clamped entries of a state vector x.
func (net *Network) ApplyClamps(x []float64) {
	for k, i := range net.ClampIndex {
		x[i] = net.ClampValue[k]
	}
}

// IsClamped reports whether unit i is clamped.
func (net *Network) IsClamped(i int) bool {
	for _, c := range net.ClampIndex {
		if c == i {
			return true
		}
	}
	return false
}

// WMatrix returns a gonum view of W sharing its storage.
func (net *Network) WMatrix() *mat.Dense { return mat.NewDense(net.N, net.N, net.W) }

// Trace is the record of one trial: states, rates and outputs at every step.
// Rows are time: X[t*N:(t+1)*N] is x^t.
type Trace struct {
	N, O, T int
	X       []float64 // (T+1)×N states x^0…x^T
	R       []float64 // (T+1)×N rates r^t = tanh(x^t)
	Y       []float64 // T×O outputs; row t−1 holds y^t = W_out r^t, t = 1…T
	drive   []float64 // T×N: W_in u^t + b + ξ^t
	w       kern.Packed
}

// Resize makes the trace hold T steps of an (N, O) network, reusing storage.
func (tr *Trace) Resize(n, o, t int) {
	tr.N, tr.O, tr.T = n, o, t
	tr.X = grow(tr.X, (t+1)*n)
	tr.R = grow(tr.R, (t+1)*n)
	tr.Y = grow(tr.Y, t*o)
	tr.drive = grow(tr.drive, t*n)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Run simulates one trial of T steps from x0 with inputs u (T×M, row t is u^t)
// and perturbations xi (T×N, row t is ξ^t; nil means none), writing the result
// into tr. x0 is used as given: apply clamps to it first (ApplyClamps) if the
// clamped units should start at their values.
func (net *Network) Run(dyn Dynamics, x0, u, xi []float64, T int, tr *Trace) {
	n, m, o := net.N, net.M, net.O
	tr.Resize(n, o, T)
	alpha := dyn.Alpha()

	// drive^t = W_in u^t + b + ξ^t for all t: one product U·W_inᵀ per run
	// of steps with a non-zero input (a zero u^t gives a zero row, as the
	// product would: tasks hold their inputs at 0 for most of a trial).
	d := tr.drive
	clear(d)
	if m > 0 {
		for t0 := 0; t0 < T; {
			if isZero(u[t0*m : (t0+1)*m]) {
				t0++
				continue
			}
			t1 := t0 + 1
			for t1 < T && !isZero(u[t1*m:(t1+1)*m]) {
				t1++
			}
			kern.MulABt(t1-t0, n, m, u[t0*m:], m, net.Win, m, d[t0*n:], n)
			t0 = t1
		}
	}
	for t := 0; t < T; t++ {
		row := d[t*n : (t+1)*n]
		for i, b := range net.B {
			row[i] += b
		}
	}
	if xi != nil {
		for k, v := range xi[:T*n] {
			d[k] += v
		}
	}

	copy(tr.X[:n], x0)
	tr.w.Pack(n, n, net.W, n) // W·r by panels on AVX-512: the bits of kern.MulAv
	for t := 0; t < T; t++ {
		x := tr.X[t*n : (t+1)*n]
		r := tr.R[t*n : (t+1)*n]
		kern.Tanh(r, x)
		next := tr.X[(t+1)*n : (t+2)*n]
		// next = W r  (then the Euler update in place)
		tr.w.MulV(r, next)
		kern.EulerStep(next, x, d[t*n:(t+1)*n], alpha) // x + α(−x + W r + d), unfused
		net.ApplyClamps(next)
	}
	kern.Tanh(tr.R[T*n:(T+1)*n], tr.X[T*n:(T+1)*n])
	// y^t = W_out r^t for t = 1…T: one product R[1:]·W_outᵀ.
	kern.MulABt(T, o, n, tr.R[n:(T+1)*n], n, net.Wout, n, tr.Y, o)
}

// isZero reports whether every value of v is 0 (either sign).
func isZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
