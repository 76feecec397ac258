package rnn

import "rulescape/core/internal/kern"

// Network32 is a Network held in float32, for the float32 training path:
// the same sizes, layout and clamps, with every weight rounded to float32.
type Network32 struct {
	N, M, O int

	W    []float32 // N×N recurrent weights (plastic)
	Win  []float32 // N×M input weights
	Wout []float32 // O×N readout weights
	B    []float32 // N biases

	ClampIndex []int     // units held at fixed values
	ClampValue []float32 // their values
}

// Float32 returns the network with every value rounded to float32.
func (net *Network) Float32() *Network32 {
	return &Network32{N: net.N, M: net.M, O: net.O,
		W: to32(net.W), Win: to32(net.Win), Wout: to32(net.Wout), B: to32(net.B),
		ClampIndex: append([]int(nil), net.ClampIndex...), ClampValue: to32(net.ClampValue)}
}

// Float64 returns the network as a Network (every float32 value is exact
// in float64).
func (net *Network32) Float64() *Network {
	return &Network{N: net.N, M: net.M, O: net.O,
		W: to64(net.W), Win: to64(net.Win), Wout: to64(net.Wout), B: to64(net.B),
		ClampIndex: append([]int(nil), net.ClampIndex...), ClampValue: to64(net.ClampValue)}
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// Trace32 is Trace in float32: X and R hold x^0…x^T and r^0…r^T as rows of
// N, Y holds y^1…y^T as rows of O.
type Trace32 struct {
	N, O, T int
	X       []float32
	R       []float32
	Y       []float32
	drive   []float32 // T×N: W_in u^t + b + ξ^t
	u       []float32 // M×T: the inputs, rounded, one row per input
	winT    []float32 // M×N: W_inᵀ
	w       kern.Packed32
}

// Resize makes the trace hold T steps of an (N, O) network, reusing storage.
func (tr *Trace32) Resize(n, o, t int) {
	tr.N, tr.O, tr.T = n, o, t
	tr.X = grow32(tr.X, (t+1)*n)
	tr.R = grow32(tr.R, (t+1)*n)
	tr.Y = grow32(tr.Y, t*o)
	tr.drive = grow32(tr.drive, t*n)
}

func grow32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Run is Network.Run in float32: it simulates one trial of T steps from x0
// with inputs u (T×M) and perturbations xi (T×N, nil = none), all given in
// float64 and rounded to float32 as they enter, and writes the trace into
// tr. Every operation is that of Network.Run, in the same order, in
// float32 arithmetic (α = dt/τ rounded once) with the float32 kernels,
// except that a zero ξ entry is skipped rather than added; the same
// inputs give the same bits on one machine.
func (net *Network32) Run(dyn Dynamics, x0, u, xi []float64, T int, tr *Trace32) {
	n, m, o := net.N, net.M, net.O
	tr.Resize(n, o, T)
	alpha := float32(dyn.Alpha())

	// d^t = b + W_in u^t for every step: b copied into every row, then
	// the inputs' product added as (Uᵀ)ᵀ W_inᵀ, one AᵀB product over the M
	// inputs (b + (u^t_1 w_i1 + …), the bits of adding b after it).
	d := tr.drive
	for t := range T {
		copy(d[t*n:(t+1)*n], net.B)
	}
	if m > 0 {
		tr.u = grow32(tr.u, m*T)
		for t := range T {
			for c, v := range u[t*m : (t+1)*m] {
				tr.u[c*T+t] = float32(v)
			}
		}
		tr.winT = grow32(tr.winT, m*n)
		for i := range n {
			for c, w := range net.Win[i*m : (i+1)*m] {
				tr.winT[c*n+i] = w
			}
		}
		kern.MulAtB32Add(T, n, m, tr.u, T, tr.winT, n, d, n)
	}
	if xi != nil {
		for k, v := range xi[:T*n] {
			if v != 0 {
				d[k] += float32(v)
			}
		}
	}

	x := tr.X[:n]
	for i, v := range x0[:n] {
		x[i] = float32(v)
	}
	tr.w.Pack(n, n, net.W, n)
	for t := 0; t < T; t++ {
		x := tr.X[t*n : (t+1)*n]
		r := tr.R[t*n : (t+1)*n]
		kern.Tanh32(r, x)
		next := tr.X[(t+1)*n : (t+2)*n]
		tr.w.MulV(r, next)
		kern.EulerStep32(next, x, d[t*n:(t+1)*n], alpha)
		for k, i := range net.ClampIndex {
			next[i] = net.ClampValue[k]
		}
	}
	kern.Tanh32(tr.R[T*n:(T+1)*n], tr.X[T*n:(T+1)*n])
	kern.MulABt32(T, o, n, tr.R[n:(T+1)*n], n, net.Wout, n, tr.Y, o)
}
