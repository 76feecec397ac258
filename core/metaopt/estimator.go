package metaopt

import (
	"fmt"
	"strconv"
	"strings"
)

// EstimatorKind names a way of obtaining the search direction.
type EstimatorKind string

// Estimator kinds. The gradient kinds are computed by the Objective (in
// rulescape, core/meta) and used with MethodAdam; the black-box kinds need
// only J and select their own Method.
const (
	EstimatorExact      EstimatorKind = "exact"      // P tangent systems: the exact ∇J
	EstimatorAdjoint    EstimatorKind = "adjoint"    // one reverse-mode sweep: the exact ∇J at a cost independent of P
	EstimatorProjection EstimatorKind = "projection" // Ω random directions: unbiased ĝ
	EstimatorFD         EstimatorKind = "fd"         // central finite differences, common random numbers
	EstimatorES         EstimatorKind = "es"         // antithetic evolution strategies (MethodES)
	EstimatorCMAES      EstimatorKind = "cmaes"      // CMA-ES (MethodCMAES)
)

// EstimatorPolicyGradient is the likelihood-ratio (REINFORCE) estimate in
// which the learner's Gaussian exploration noise is the policy's noise; a
// gradient kind (MethodAdam).
const EstimatorPolicyGradient EstimatorKind = "policy-gradient"

// Estimator is a parsed estimator specification such as "projection:4".
// The zero value is invalid; use ParseEstimator.
type Estimator struct {
	Kind EstimatorKind
	// Directions is Ω for EstimatorProjection, 0 otherwise.
	Directions int
}

// ParseEstimator parses "exact", "adjoint", "projection:Ω" (Ω ≥ 1 random
// directions), "fd", "policy-gradient", "es" or "cmaes", ignoring case and
// surrounding space.
func ParseEstimator(s string) (Estimator, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	name, arg, hasArg := strings.Cut(t, ":")
	const valid = `want exact, adjoint, projection:Ω (e.g. projection:4), fd, policy-gradient, es or cmaes`
	switch kind := EstimatorKind(name); kind {
	case EstimatorExact, EstimatorAdjoint, EstimatorFD, EstimatorPolicyGradient, EstimatorES, EstimatorCMAES:
		if hasArg {
			return Estimator{}, fmt.Errorf("metaopt: estimator %q: %s takes no argument; %s", s, name, valid)
		}
		return Estimator{Kind: kind}, nil
	case EstimatorProjection:
		if !hasArg {
			return Estimator{}, fmt.Errorf("metaopt: estimator %q: projection needs a direction count Ω, e.g. projection:4", s)
		}
		n, err := strconv.Atoi(arg)
		if err != nil {
			return Estimator{}, fmt.Errorf("metaopt: estimator %q: direction count %q is not an integer; use e.g. projection:4", s, arg)
		}
		if n < 1 {
			return Estimator{}, fmt.Errorf("metaopt: estimator %q: direction count Ω = %d must be ≥ 1", s, n)
		}
		return Estimator{Kind: kind, Directions: n}, nil
	}
	return Estimator{}, fmt.Errorf("metaopt: unknown estimator %q; %s", s, valid)
}

// String returns the canonical form accepted by ParseEstimator.
func (e Estimator) String() string {
	if e.Kind == EstimatorProjection {
		return fmt.Sprintf("projection:%d", e.Directions)
	}
	return string(e.Kind)
}

// Method is the optimization method the estimator goes with: MethodES or
// MethodCMAES for the black-box kinds, MethodAdam otherwise.
func (e Estimator) Method() Method {
	switch e.Kind {
	case EstimatorES:
		return MethodES
	case EstimatorCMAES:
		return MethodCMAES
	}
	return MethodAdam
}

// NeedsGradient reports whether the objective must compute gradients.
func (e Estimator) NeedsGradient() bool { return e.Method() == MethodAdam }

// MarshalText implements encoding.TextMarshaler.
func (e Estimator) MarshalText() ([]byte, error) {
	if _, err := ParseEstimator(e.String()); err != nil {
		return nil, err
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseEstimator.
func (e *Estimator) UnmarshalText(b []byte) error {
	v, err := ParseEstimator(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
