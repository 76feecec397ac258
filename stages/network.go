package stages

import (
	"fmt"

	"rulescape/core/rnn"
	"rulescape/core/sensitivity"
	"rulescape/core/train"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// Evaluation batches of the analysis stages: trials per condition, and the
// time bins of RSA. The batches are seeded by the network's seed: train
// uses that seed with the train.Stream* ids, and the batch streams of
// package sensitivity differ from those, so the evaluation trials of a
// network stay apart from its training trials.
const (
	// FixedPointRepeats is the trials per condition whose states seed the
	// fixed-point search (and whose trajectories the landscape projects
	// on).
	FixedPointRepeats = 4
	// SensitivityRepeats is the trials per condition of the sensitivity
	// batch.
	SensitivityRepeats = 4
	// RSARepeats is the trials per condition averaged for RSA.
	RSARepeats = 4
	// RSABins is the time bins of every condition's average in RSA.
	RSABins = 10
)

// Which weights of a networks row an analysis reads.
const (
	Final   = "final"   // W_final, as the campaign's analysis stages use
	Initial = "initial" // W⁰, whose ΔW is zero
)

// Network is a trained network of a networks row, rebuilt with the setup
// its train unit trained it in: what the analysis stages analyse.
// LoadNetwork builds one; treat its fields as read-only.
type Network struct {
	Unit  *pipelines.TrainUnit
	Seed  int64        // the network's seed, as its rows record it
	Which string       // Final or Initial: the network column of its rows
	Net   *rnn.Network // the analysed weights: W_final, or W⁰ when Which is Initial
	W0    []float64    // the initial recurrent weights W⁰
	Setup *train.Setup // the setup it was trained in
}

// LoadNetwork rebuilds the network of one networks row of train unit u.
// which is Final or Initial. theta is the Θ of the unit's metaopt job when
// u.Metaopt is set; the analyses run no plasticity, so only its shape
// matters to them. Its errors are Invalid.
func LoadNetwork(u *pipelines.TrainUnit, theta [][]float64, r schemas.NetworkRow, which string) (*Network, error) {
	setup, err := u.Setup(theta)
	if err != nil {
		return nil, invalid(err)
	}
	w := r.WFinal
	switch which {
	case Final:
	case Initial:
		w = r.W0
	default:
		return nil, invalid(fmt.Errorf("network of %s: which = %q: want final or initial", u.ID, which))
	}
	clamp := make([]int, len(r.ClampIndex))
	for i, c := range r.ClampIndex {
		clamp[i] = int(c)
	}
	net := &rnn.Network{N: int(r.N), M: int(r.M), O: int(r.O), W: w, Win: r.WIn, Wout: r.WOut, B: r.B,
		ClampIndex: clamp, ClampValue: r.ClampValue}
	if len(net.ClampIndex) == 0 {
		net.ClampIndex, net.ClampValue = nil, nil
	}
	if err := net.Validate(); err != nil {
		return nil, invalid(fmt.Errorf("network of %s: %w", u.ID, err))
	}
	if len(r.W0) != len(r.WFinal) {
		return nil, invalid(fmt.Errorf("network of %s: w0 has %d values, w_final %d", u.ID, len(r.W0), len(r.WFinal)))
	}
	return &Network{Unit: u, Seed: r.Seed, Which: which, Net: net, W0: r.W0, Setup: setup}, nil
}

// EvalBatch draws the network's frozen evaluation batch: repeats trials of
// every condition from x⁰ ~ U[−X0Range, X0Range], without perturbations
// and without plasticity, seeded by the network's seed. Its errors are
// Invalid.
func (n *Network) EvalBatch(repeats int) (*sensitivity.Batch, error) {
	b, err := sensitivity.NewBatch(n.Setup.Task, n.Net, n.Setup.Dyn, sensitivity.BatchSettings{
		Repeats: repeats, Seed: n.Unit.Seed, X0Range: n.Setup.X0Range})
	if err != nil {
		return nil, invalid(fmt.Errorf("%s: evaluation batch: %w", n.Unit.ID, err))
	}
	return b, nil
}

// Simulate runs every trial of the batch on the network and returns their
// traces and conditions.
func (n *Network) Simulate(b *sensitivity.Batch) ([]*rnn.Trace, []int) {
	traces := make([]*rnn.Trace, len(b.Items))
	conds := make([]int, len(b.Items))
	for i, it := range b.Items {
		tr := &rnn.Trace{}
		n.Net.Run(b.Dyn, it.X0, it.Trial.U, nil, it.Trial.T, tr)
		traces[i], conds[i] = tr, it.Trial.Condition
	}
	return traces, conds
}

// clone copies v; nil becomes an empty slice (a list column is never
// null).
func clone(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return append([]float64(nil), v...)
}
