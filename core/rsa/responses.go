package rsa

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Responses holds condition-averaged, time-binned responses of one network:
// one row ("stimulus") per (condition, time bin) pair, one column per unit.
// Row c·Bins + b holds condition Conditions[c] in time bin b.
type Responses struct {
	Conditions []int     // condition labels, ascending
	Bins       int       // time bins per condition
	Units      int       // columns
	Data       []float64 // (len(Conditions)·Bins) × Units, row-major
}

// Stimuli returns the number of rows, len(Conditions)·Bins.
func (r *Responses) Stimuli() int { return len(r.Conditions) * r.Bins }

// Row returns stimulus s's response pattern (a view into Data).
func (r *Responses) Row(s int) []float64 { return r.Data[s*r.Units : (s+1)*r.Units] }

// Matrix returns the responses as a Stimuli × Units matrix sharing Data.
func (r *Responses) Matrix() *mat.Dense { return mat.NewDense(r.Stimuli(), r.Units, r.Data) }

// check validates the shape of r.
func (r *Responses) check(name string) error {
	if r == nil {
		return fmt.Errorf("rsa: %s is nil", name)
	}
	if r.Units <= 0 || r.Bins <= 0 || len(r.Conditions) == 0 {
		return fmt.Errorf("rsa: %s has %d conditions, %d bins, %d units: all must be positive",
			name, len(r.Conditions), r.Bins, r.Units)
	}
	if len(r.Data) != r.Stimuli()*r.Units {
		return fmt.Errorf("rsa: %s.Data has %d values, want %d conditions × %d bins × %d units = %d",
			name, len(r.Data), len(r.Conditions), r.Bins, r.Units, r.Stimuli()*r.Units)
	}
	return nil
}

// ConditionAverage averages trials of the same condition and bins time.
//
// states[i] is trial i's T×units state history, row-major (for an rnn.Trace,
// the rates after each step, tr.R[tr.N:], with units = tr.N and T = tr.T;
// copy them if the Trace is reused for the next trial);
// conditions[i] is its condition label. All trials must have the same T.
// Time is split into consecutive bins of bin steps, each bin the mean over
// its steps; the T mod bin trailing steps that do not fill a bin are
// dropped. The result's rows are ordered by ascending condition label, then
// by bin.
func ConditionAverage(states [][]float64, conditions []int, units, bin int) (*Responses, error) {
	folds, err := ConditionAverageFolds(states, conditions, units, bin, 1)
	if err != nil {
		return nil, err
	}
	return folds[0], nil
}

// ConditionAverageFolds is ConditionAverage over disjoint subsets of the
// trials, for cross-validated dissimilarities (CrossnobisRDM). Each
// condition's trials, in the order they appear, are dealt round-robin into
// folds (trial k of a condition goes to fold k mod folds), so every condition
// needs at least folds trials. Fold f's responses average only its trials.
func ConditionAverageFolds(states [][]float64, conditions []int, units, bin, folds int) ([]*Responses, error) {
	if len(states) == 0 {
		return nil, fmt.Errorf("rsa: no trials: pass at least one state history")
	}
	if len(conditions) != len(states) {
		return nil, fmt.Errorf("rsa: %d condition labels for %d trials: give one label per trial", len(conditions), len(states))
	}
	if units <= 0 {
		return nil, fmt.Errorf("rsa: units = %d: must be positive", units)
	}
	if bin <= 0 {
		return nil, fmt.Errorf("rsa: bin = %d: must be a positive number of time steps", bin)
	}
	if folds <= 0 {
		return nil, fmt.Errorf("rsa: folds = %d: must be positive", folds)
	}
	n0 := len(states[0])
	if n0%units != 0 {
		return nil, fmt.Errorf("rsa: trial 0 has %d values, not a multiple of units = %d", n0, units)
	}
	for i, s := range states {
		if len(s) != n0 {
			return nil, fmt.Errorf("rsa: trial %d has %d values, trial 0 has %d: all trials must have the same length", i, len(s), n0)
		}
	}
	steps := n0 / units
	bins := steps / bin
	if bins == 0 {
		return nil, fmt.Errorf("rsa: bin = %d steps exceeds the %d steps of a trial", bin, steps)
	}

	labels := slices.Clone(conditions)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	index := make(map[int]int, len(labels))
	for i, c := range labels {
		index[c] = i
	}

	out := make([]*Responses, folds)
	counts := make([][]int, folds) // counts[f][c]: trials of condition c in fold f
	for f := range out {
		out[f] = &Responses{
			Conditions: slices.Clone(labels),
			Bins:       bins,
			Units:      units,
			Data:       make([]float64, len(labels)*bins*units),
		}
		counts[f] = make([]int, len(labels))
	}
	seen := make([]int, len(labels))
	for i, s := range states {
		c := index[conditions[i]]
		f := seen[c] % folds
		seen[c]++
		counts[f][c]++
		dst := out[f].Data[c*bins*units : (c+1)*bins*units]
		for b := range bins {
			row := dst[b*units : (b+1)*units]
			for t := b * bin; t < (b+1)*bin; t++ {
				for u, v := range s[t*units : (t+1)*units] {
					row[u] += v
				}
			}
		}
	}
	for c, n := range seen {
		if n < folds {
			return nil, fmt.Errorf("rsa: condition %d has %d trials, fewer than folds = %d: lower folds or add trials", labels[c], n, folds)
		}
	}
	for f, r := range out {
		for c := range labels {
			scale := 1 / float64(counts[f][c]*bin)
			seg := r.Data[c*bins*units : (c+1)*bins*units]
			for k := range seg {
				seg[k] *= scale
			}
		}
	}
	return out, nil
}
