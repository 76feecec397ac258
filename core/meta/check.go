package meta

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"

	"rulescape/core/plasticity"
)

// ReadCaseFile reads and validates a case file and returns its problem and
// rule (ReadCase, FromCase); errors about its content start with path.
func ReadCaseFile(path string) (*Problem, plasticity.Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, plasticity.Rule{}, err
	}
	defer f.Close()
	c, err := ReadCase(bufio.NewReader(f))
	if err != nil {
		return nil, plasticity.Rule{}, fmt.Errorf("%s: %w", path, err)
	}
	p, rule, err := FromCase(c)
	if err != nil {
		return nil, plasticity.Rule{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, rule, nil
}

// WriteCaseFile writes problem p with rule as a case file (NewCase).
func WriteCaseFile(path string, p *Problem, rule plasticity.Rule) error {
	c, err := NewCase(p, rule)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := c.Write(w); err != nil {
		f.Close()
		return err
	}
	return errors.Join(w.Flush(), f.Close())
}

// CheckOptions choose what Check computes besides J and the rewards.
type CheckOptions struct {
	Options
	// Directions > 0 estimates the gradient from that many random
	// directions of law Dist drawn from Seed (Projection) instead of the
	// exact gradient.
	Directions int
	Dist       Distribution
	Seed       uint64
	// FDStep > 0 adds the central finite-difference gradient with that
	// step and its relative error to the exact gradient.
	FDStep float64
	// Method computes the exact gradient: forward, adjoint, or "" for
	// DefaultMethod.
	Method Method
}

// Report is J, the rewards and the gradient of one problem, the gradient
// shaped as Θ: what `rulescape metagrad` prints.
type Report struct {
	J            float64     `json:"J"`
	Rewards      []float64   `json:"rewards"`
	Grad         [][]float64 `json:"grad"` // (K+1)×(L+1): grad[k][l] = ∂J/∂θ_kl
	GradLogEta   *float64    `json:"grad_log_eta,omitempty"`
	GradFD       [][]float64 `json:"grad_fd,omitempty"`
	GradFDLogEta *float64    `json:"grad_fd_log_eta,omitempty"`
	RelError     *float64    `json:"rel_error,omitempty"` // ‖g − g_fd‖ / max(‖g‖, ‖g_fd‖)
	Omega        int         `json:"omega,omitempty"`
	Distribution string      `json:"distribution,omitempty"`
	Seed         *uint64     `json:"seed,omitempty"`
	Directions   [][]float64 `json:"directions,omitempty"`
	Derivs       []float64   `json:"derivs,omitempty"`
	Samples      [][]float64 `json:"samples,omitempty"`
}

// Check computes the Report of problem p with rule as o asks: the exact
// gradient (or a projection estimate), and the finite-difference check.
func Check(ctx context.Context, p *Problem, rule plasticity.Rule, o CheckOptions) (*Report, error) {
	switch {
	case o.Directions < 0:
		return nil, fmt.Errorf("meta: %d directions: need Ω ≥ 1 (or 0 for the exact gradient)", o.Directions)
	case o.Directions > 0 && o.FDStep > 0:
		return nil, errors.New("meta: the finite-difference check compares the exact gradient, not a projection")
	case o.Dist != Rademacher && o.Dist != Gaussian && (o.Directions > 0 || o.Dist != ""):
		return nil, fmt.Errorf("meta: distribution %q: use rademacher or gaussian", o.Dist)
	}
	var res *Result
	var err error
	if o.Directions > 0 {
		res, err = Projection(ctx, p, rule, o.Directions, o.Dist, rand.New(rand.NewPCG(o.Seed, 0x6d657461)), o.Options)
	} else {
		res, err = Exact(ctx, p, rule, o.Method, o.Options)
	}
	if err != nil {
		return nil, err
	}
	r := &Report{J: res.J, Rewards: res.Rewards}
	r.Grad, r.GradLogEta = shapeGrad(res.Grad, rule)
	if o.Directions > 0 {
		seed := o.Seed
		r.Omega, r.Distribution, r.Seed = o.Directions, string(o.Dist), &seed
		r.Directions, r.Derivs, r.Samples = res.Directions, res.Derivs, res.Samples
	}
	if o.FDStep > 0 {
		fd, err := FiniteDifference(ctx, p, rule, o.FDStep, o.Options)
		if err != nil {
			return nil, err
		}
		r.GradFD, r.GradFDLogEta = shapeGrad(fd.Grad, rule)
		rel := RelError(res.Grad, fd.Grad)
		r.RelError = &rel
	}
	return r, nil
}

// shapeGrad shapes a gradient as (K+1)×(L+1) plus the optional log η entry.
func shapeGrad(g []float64, rule plasticity.Rule) ([][]float64, *float64) {
	L1 := rule.L + 1
	m := make([][]float64, rule.K+1)
	for k := range m {
		m[k] = append([]float64(nil), g[k*L1:(k+1)*L1]...)
	}
	if len(g) > rule.P() {
		v := g[rule.P()]
		return m, &v
	}
	return m, nil
}
