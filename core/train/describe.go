package train

import (
	"fmt"
	"strconv"
	"strings"

	"rulescape/core/plasticity"
)

// Describe lists the setup for people, one labelled line per part (rule,
// network, dynamics, perturbation, learner, criterion), e.g.
//
//	rule       K=3 L=3 θ33=-1
//	network    N=200 G=1.5 dense W_in~U[±1] readout=units clamps=1,1,-1 x0~U[±0.1]
func (s *Setup) Describe() []string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	orNone := func(v float64, unit string) string {
		if v == 0 {
			return "none"
		}
		return num(v) + unit
	}
	density := "dense"
	if d := s.Init.Density; d > 0 && d < 1 {
		density = "density " + num(d)
	}
	clamps := make([]string, len(s.Init.Clamps))
	for i, v := range s.Init.Clamps {
		clamps[i] = num(v)
	}
	if len(clamps) == 0 {
		clamps = []string{"none"}
	}
	p := s.Perturb
	pert := "none (a reward-gated rule cannot learn without exploration)"
	switch p.Scheme {
	case "decoupled":
		pert = fmt.Sprintf("decoupled p=%s A=%s from step %d", num(p.Prob), num(p.Amp), p.Start)
	case "gaussian":
		pert = fmt.Sprintf("gaussian σ=%s from step %d", num(p.Sigma), p.Start)
	}
	l, c := s.Learner, s.Criterion
	precision := ""
	if s.Precision == F32 {
		precision = " precision=f32"
	}
	return []string{
		fmt.Sprintf("rule       K=%d L=%d %s", s.Rule.K, s.Rule.L, thetaTerms(s.Rule)),
		fmt.Sprintf("network    N=%d G=%s %s W_in~U[±%s] readout=%s clamps=%s x0~U[±%s]",
			s.Init.N, num(s.Init.G), density, num(s.Init.InScale), s.Init.Readout, strings.Join(clamps, ","), num(s.X0Range)),
		fmt.Sprintf("dynamics   dt=%s ms τ=%s ms", num(s.Dyn.Dt), num(s.Dyn.Tau)),
		"perturb    " + pert,
		fmt.Sprintf("learner    η=%s gain=%s clip=%s warm-up=%d α_R=%s loss=%s α_x=%s τ_e=%s gate t≥%d max|W|=%s",
			num(l.Eta), l.Gain, orNone(l.Clip, ""), l.WarmupTrials, num(l.AlphaR), l.Loss, num(l.AlphaX),
			orNone(l.TauE, " ms"), l.GateStart, num(l.MaxWeight)) + precision,
		fmt.Sprintf("criterion  error < %s in ≥ %s%% of the last %d trials", num(c.Threshold), num(100*c.Fraction), c.Window),
	}
}

// thetaTerms lists the non-zero θ_kl of a rule.
func thetaTerms(r plasticity.Rule) string {
	var parts []string
	for k := 0; k <= r.K; k++ {
		for l := 0; l <= r.L; l++ {
			if v := r.At(k, l); v != 0 {
				parts = append(parts, fmt.Sprintf("θ%d%d=%s", k, l, strconv.FormatFloat(v, 'g', -1, 64)))
			}
		}
	}
	if len(parts) == 0 {
		return "all θ = 0"
	}
	return strings.Join(parts, " ")
}
