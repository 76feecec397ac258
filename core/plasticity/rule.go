package plasticity

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// MaxOrder is the largest K or L accepted: higher powers of rates in [−1, 1]
// and of fluctuations are numerically meaningless.
const MaxOrder = 8

// Rule is a point Θ of the plasticity space: Theta[k*(L+1)+l] = θ_kl, with k the
// power of the pre-synaptic rate and l the power of the post-synaptic fluctuation.
type Rule struct {
	K, L  int
	Theta []float64
}

// NewRule returns the zero rule of orders K, L.
func NewRule(k, l int) (Rule, error) {
	if err := checkOrders(k, l); err != nil {
		return Rule{}, err
	}
	return Rule{K: k, L: l, Theta: make([]float64, (k+1)*(l+1))}, nil
}

func checkOrders(k, l int) error {
	if k < 0 || k > MaxOrder || l < 0 || l > MaxOrder {
		return fmt.Errorf("plasticity: orders K=%d, L=%d out of range: each must be in [0, %d]", k, l, MaxOrder)
	}
	return nil
}

// P returns the number of parameters (K+1)(L+1).
func (r Rule) P() int { return (r.K + 1) * (r.L + 1) }

// At returns θ_kl.
func (r Rule) At(k, l int) float64 { return r.Theta[k*(r.L+1)+l] }

// Set sets θ_kl.
func (r Rule) Set(k, l int, v float64) { r.Theta[k*(r.L+1)+l] = v }

// Clone returns a deep copy.
func (r Rule) Clone() Rule {
	r.Theta = append([]float64(nil), r.Theta...)
	return r
}

// Validate checks the orders, the length of Theta and that it is finite.
func (r Rule) Validate() error {
	if err := checkOrders(r.K, r.L); err != nil {
		return err
	}
	if len(r.Theta) != r.P() {
		return fmt.Errorf("plasticity: theta has %d values, want (K+1)(L+1) = %d", len(r.Theta), r.P())
	}
	for i, v := range r.Theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("plasticity: theta[%d][%d] = %v: must be finite", i/(r.L+1), i%(r.L+1), v)
		}
	}
	return nil
}

// Matrix returns Θ as (K+1) rows of L+1 values.
func (r Rule) Matrix() [][]float64 {
	m := make([][]float64, r.K+1)
	for k := range m {
		m[k] = append([]float64(nil), r.Theta[k*(r.L+1):(k+1)*(r.L+1)]...)
	}
	return m
}

// FromMatrix builds a rule from (K+1) rows of L+1 values.
func FromMatrix(m [][]float64) (Rule, error) {
	if len(m) == 0 || len(m[0]) == 0 {
		return Rule{}, fmt.Errorf("plasticity: theta must be a non-empty (K+1)×(L+1) matrix")
	}
	r, err := NewRule(len(m)-1, len(m[0])-1)
	if err != nil {
		return Rule{}, err
	}
	for k, row := range m {
		if len(row) != r.L+1 {
			return Rule{}, fmt.Errorf("plasticity: theta row %d has %d values, want %d", k, len(row), r.L+1)
		}
		copy(r.Theta[k*(r.L+1):], row)
	}
	return r, r.Validate()
}

// namedPoints maps rule names to their non-zero coordinates (k, l, θ) in the
// sign convention Δ = x̄ − x of the specification.
var namedPoints = map[string][][3]float64{
	"zero":              nil,
	"miconi":            {{3, 3, -1}}, // (r_j (x_i − x̄_i))³, Miconi 2017
	"miconi-linear-pre": {{1, 3, -1}}, // r_j (x_i − x̄_i)³, Miconi's earlier rule
	"node-perturbation": {{1, 1, -1}}, // r_j (x_i − x̄_i)
	"hebbian-pre":       {{1, 0, 1}},  // pre-synaptic rate only
	"hebbian-post":      {{0, 1, -1}}, // post-synaptic fluctuation only
}

// RuleNames lists the named rules in alphabetical order.
func RuleNames() []string {
	names := make([]string, 0, len(namedPoints))
	for n := range namedPoints {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Named returns a named rule as a point of the space with orders K, L.
func Named(name string, k, l int) (Rule, error) {
	pts, ok := namedPoints[name]
	if !ok {
		return Rule{}, fmt.Errorf("plasticity: unknown rule %q: choose one of %s", name, strings.Join(RuleNames(), ", "))
	}
	r, err := NewRule(k, l)
	if err != nil {
		return Rule{}, err
	}
	for _, p := range pts {
		pk, pl := int(p[0]), int(p[1])
		if pk > k || pl > l {
			return Rule{}, fmt.Errorf("plasticity: rule %q needs K ≥ %d and L ≥ %d (have K=%d, L=%d)", name, pk, pl, k, l)
		}
		r.Set(pk, pl, p[2])
	}
	return r, nil
}
