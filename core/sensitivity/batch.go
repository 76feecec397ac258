package sensitivity

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Random stream ids of NewBatch; a batch seed s uses rand.NewPCG(s, id) for
// one purpose, so that changing the perturbation scheme leaves the trials and
// the initial states as they were.
const (
	StreamTask    = 0x2001 // task trial noise
	StreamState   = 0x2002 // x⁰
	StreamPerturb = 0x2003 // ξ
)

// Item is one trial of a frozen evaluation batch: the trial (inputs, targets,
// mask), its initial state x⁰ (N) and its perturbations ξ (T×N, row t is ξ^t;
// nil means none). Nothing in an item changes during an evaluation: there is
// no plasticity and no fresh noise.
type Item struct {
	Trial tasks.Trial
	X0    []float64
	Xi    []float64
}

// Batch is a frozen evaluation batch: the dynamics and the trials on which the
// behavioural score S(W) is evaluated.
type Batch struct {
	Dyn   rnn.Dynamics
	Items []Item
}

// BatchSettings configures NewBatch. The zero value gives one trial per
// condition from x⁰ = 0 (clamps applied) without perturbations.
type BatchSettings struct {
	// Repeats is the number of trials per condition (default 1).
	Repeats int
	// Seed seeds the trial noise, x⁰ and ξ (independent PCG streams).
	Seed uint64
	// X0Range draws x⁰ ~ U[−X0Range, X0Range] with the clamps applied
	// (Miconi: 0.1; default 0, i.e. x⁰ = 0 apart from the clamped units).
	X0Range float64
	// Perturb draws the frozen perturbations ξ of every trial (default none:
	// the batch then holds nil ξ).
	Perturb rnn.Perturbation
}

// NewBatch draws a frozen evaluation batch of task for net: Repeats trials of
// every condition, in condition order (all repeats of condition 0 first), each
// with its x⁰ and ξ. It is a deterministic function of its arguments.
func NewBatch(task tasks.Task, net *rnn.Network, dyn rnn.Dynamics, s BatchSettings) (*Batch, error) {
	if task == nil {
		return nil, errors.New("sensitivity: no task: pass a tasks.Task to draw the batch from")
	}
	if err := tasks.Validate(task); err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	if err := dyn.Validate(); err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	if err := s.Perturb.Validate(); err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	if s.Repeats < 0 {
		return nil, fmt.Errorf("sensitivity: Repeats = %d: must be ≥ 1 (0 means 1)", s.Repeats)
	}
	if !(s.X0Range >= 0) || math.IsInf(s.X0Range, 0) {
		return nil, fmt.Errorf("sensitivity: X0Range = %v: must be finite and ≥ 0", s.X0Range)
	}
	reps := max(s.Repeats, 1)
	spec := task.Spec()
	if spec.Inputs != net.M || spec.Outputs != net.O {
		return nil, fmt.Errorf("sensitivity: task %s has M=%d inputs and O=%d outputs but the network has M=%d, O=%d",
			task.Name(), spec.Inputs, spec.Outputs, net.M, net.O)
	}
	taskRNG := rand.New(rand.NewPCG(s.Seed, StreamTask))
	stateRNG := rand.New(rand.NewPCG(s.Seed, StreamState))
	xiRNG := rand.New(rand.NewPCG(s.Seed, StreamPerturb))
	perturbed := s.Perturb.Scheme != "" && s.Perturb.Scheme != rnn.None
	b := &Batch{Dyn: dyn}
	for c := range spec.Conditions {
		for range reps {
			tr := task.Trial(c, taskRNG)
			x0 := make([]float64, net.N)
			net.InitState(stateRNG, x0, s.X0Range)
			var xi []float64
			if perturbed {
				xi = make([]float64, tr.T*net.N)
				s.Perturb.Fill(xiRNG, xi, tr.T, net.N)
			}
			b.Items = append(b.Items, Item{Trial: tr, X0: x0, Xi: xi})
		}
	}
	return b, nil
}

// Validate checks that the batch fits net: non-empty, valid dynamics, and
// every trial's sizes match the network's.
func (b *Batch) Validate(net *rnn.Network) error {
	if b == nil || len(b.Items) == 0 {
		return errors.New("sensitivity: empty batch: draw one with NewBatch or fill Batch.Items")
	}
	if err := net.Validate(); err != nil {
		return fmt.Errorf("sensitivity: %w", err)
	}
	if err := b.Dyn.Validate(); err != nil {
		return fmt.Errorf("sensitivity: batch: %w", err)
	}
	n := net.N
	for h, it := range b.Items {
		tr := &it.Trial
		switch {
		case tr.T <= 0:
			return fmt.Errorf("sensitivity: batch item %d: T = %d: must be ≥ 1", h, tr.T)
		case tr.M != net.M || tr.O != net.O:
			return fmt.Errorf("sensitivity: batch item %d: trial has M=%d, O=%d but the network has M=%d, O=%d", h, tr.M, tr.O, net.M, net.O)
		case len(tr.U) != tr.T*tr.M || len(tr.Target) != tr.T*tr.O || len(tr.Mask) != tr.T:
			return fmt.Errorf("sensitivity: batch item %d: U, Target, Mask have %d, %d, %d values, want T·M=%d, T·O=%d, T=%d",
				h, len(tr.U), len(tr.Target), len(tr.Mask), tr.T*tr.M, tr.T*tr.O, tr.T)
		case len(it.X0) != n:
			return fmt.Errorf("sensitivity: batch item %d: X0 has %d values, want N = %d", h, len(it.X0), n)
		case it.Xi != nil && len(it.Xi) != tr.T*n:
			return fmt.Errorf("sensitivity: batch item %d: Xi has %d values, want T·N = %d (or nil for none)", h, len(it.Xi), tr.T*n)
		}
		for t, m := range tr.Mask {
			if !(m >= 0) || math.IsInf(m, 0) {
				return fmt.Errorf("sensitivity: batch item %d: mask entry %d = %v: must be finite and ≥ 0", h, t, m)
			}
		}
	}
	return nil
}

func checkLoss(loss plasticity.Loss) error {
	switch loss {
	case "", plasticity.LossAbs, plasticity.LossMSE:
		return nil
	}
	return fmt.Errorf("sensitivity: unknown loss %q: use abs or mse", loss)
}
