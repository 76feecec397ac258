package pipelines

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"rulescape/core/train"
)

// Shape is what the memory of a unit depends on: the network's and the
// task's sizes and the rule's orders.
type Shape struct {
	N, M, O    int // recurrent units, inputs, outputs
	T          int // steps per trial
	Conditions int // trial types
	K, L       int // highest pre- and post-synaptic powers of the rule
}

// ShapeOf returns the shape of a training setup.
func ShapeOf(s *train.Setup) Shape {
	spec := s.Task.Spec()
	return Shape{N: s.Init.N, M: spec.Inputs, O: spec.Outputs, T: spec.Steps,
		Conditions: len(spec.Conditions), K: s.Rule.K, L: s.Rule.L}
}

// Estimate is an estimated peak memory: its size, the formula it comes
// from (for messages) and the parameter whose term is the largest (the
// one to lower: "n", "task_params" for the trial length, "trials", or a
// stage setting).
type Estimate struct {
	Bytes   int64
	Formula string
	Key     string
}

// term is one summand of an estimate, in bytes, and the key it grows with.
type term struct {
	key   string
	bytes float64
}

// estimate sums terms (saturating at MaxInt64) and names the largest.
func estimate(formula string, terms ...term) Estimate {
	var sum, top float64
	key := ""
	for _, t := range terms {
		sum += t.bytes
		if t.bytes > top {
			top, key = t.bytes, t.key
		}
	}
	b := int64(math.MaxInt64)
	if sum < math.MaxInt64 {
		b = int64(sum)
	}
	return Estimate{Bytes: b, Formula: formula, Key: key}
}

// f converts an int to float64 for the estimates (no overflow).
func f(v int) float64 { return float64(v) }

// learnerTerms are the terms of one learner training on one trial at a
// time, in bytes:
//
//	8 · (8·N² + 3·N·(M+O+1) + T·(M+2·O+1) + (T+1)·N·(7+2·L))
//
// Three copies of the network (the learner's, the initial and the final
// one kept in the result) with W (N²), W_in (N·M), W_out (O·N) and b; the
// plastic mask and the eligibility (N² each), and two more N×N for the
// network rows the results are written as; a trial's inputs, targets, mask
// and outputs; the trace's states, rates and drive, the perturbation, the
// fluctuations Δ and the eligibility's two stacked T·(L+1)×N factors.
func learnerTerms(s Shape) []term {
	n, t := f(s.N), f(s.T)
	return []term{
		{"n", 8 * (8*n*n + 3*n*f(s.M+s.O+1))},
		{"task_params", 8 * (t*f(s.M+2*s.O+1) + (t+1)*n*f(7+2*s.L))},
	}
}

// TrainBytes estimates the peak memory of one train unit (one network
// trained for trials trials):
//
//	8·(8·N² + 3·N·(M+O+1) + T·(M+2·O+1) + (T+1)·N·(7+2·L)) + 48·trials bytes
//
// (learnerTerms), where every trial keeps its error, judgement and
// condition (17 bytes) until the unit ends and becomes a row of the trials
// dataset (about 31 bytes more).
func TrainBytes(s Shape, trials int) Estimate {
	return estimate(fmt.Sprintf("8·(8·N² + (7+2L)·T·N) + 48·trials bytes at N = %d, T = %d, L = %d, %d trials", s.N, s.T, s.L, trials),
		append(learnerTerms(s), term{"trials", 48 * f(trials)})...)
}

// Directions returns the number D of tangent directions a metaopt job's
// learner carries: P = (K+1)(L+1) (+1 with log_eta) for the exact
// estimator (and for policy-gradient, whose P weight tangents this
// over-counts: it keeps D·N² floats of them, not 3·D·N²), Ω for
// projection:Ω, none for fd, es and cmaes.
func Directions(spec *MetaoptSpec, s Shape) int {
	switch {
	case spec.Estimator == "exact" || spec.Estimator == "policy-gradient":
		d := (s.K + 1) * (s.L + 1)
		if spec.LogEta {
			d++
		}
		return d
	case strings.HasPrefix(spec.Estimator, "projection:"):
		omega, _ := strconv.Atoi(strings.TrimPrefix(spec.Estimator, "projection:"))
		return omega
	}
	return 0
}

// ForwardBytes estimates the peak memory of one forward-mode learner of a
// meta-gradient with D tangent directions over a horizon of trials trials:
// a learner (learnerTerms) plus the tangents of W and of the eligibility's
// two factors, 3·D·N², the tangent states, 4·D·N, and the baselines', C·D:
//
//	TrainBytes(shape, trials) + 8·(3·D·N² + 4·D·N + C·D) bytes
func ForwardBytes(s Shape, d, trials int) Estimate {
	n := f(s.N)
	terms := append(learnerTerms(s),
		term{"trials", 48 * f(trials)},
		term{"directions", 8 * f(d) * (3*n*n + 4*n + f(s.Conditions))})
	return estimate(fmt.Sprintf("(8 + 3·D)·8·N² + 8·(7+2L)·T·N bytes a learner at N = %d, D = %d directions, T = %d, L = %d", s.N, d, s.T, s.L), terms...)
}

// MetaoptBytes estimates the peak memory of a metaopt job: its learners
// (ForwardBytes with D = Directions; a plain learner for fd, es and
// cmaes) as many at once as cores allows, at most the learners of one
// iteration (learners, held_out, 2·es_pairs or cma_population, whichever
// is largest):
//
//	min(cores, learners per iteration) · ForwardBytes(shape, D, trials)
func MetaoptBytes(s Shape, spec *MetaoptSpec, cores int) Estimate {
	d := Directions(spec, s)
	per := max(spec.Learners, spec.HeldOut, 2*spec.ESPairs, spec.CMAPopulation, 1)
	at := f(min(max(cores, 1), per))
	if isAdjoint(spec) {
		return adjointMetaoptBytes(s, spec, at)
	}
	one := ForwardBytes(s, d, spec.Trials)
	terms := append(learnerTerms(s), term{"trials", 48 * f(spec.Trials)})
	n := f(s.N)
	key := "estimator"
	if spec.Estimator == "exact" || spec.Estimator == "policy-gradient" {
		key = "n" // D = P is fixed by K and L: N is what to lower
	}
	terms = append(terms, term{key, 8 * f(d) * (3*n*n + 4*n + f(s.Conditions))})
	for i := range terms {
		terms[i].bytes *= at
	}
	e := estimate(fmt.Sprintf("%.0f learners at once × %s", at, one.Formula), terms...)
	return e
}

// FixedPointsBytes estimates the peak memory of a fixedpoints unit: the
// network and the search's N×N matrices (W_ff and its transpose), each of
// cores descents' workspace (J, JᵀJ, a symmetric copy and the
// factorization, about 8·N²) and, per constant input, inits initial and
// final states and the points found, with their eigenvalues (about 48·N
// bytes an initial state):
//
//	8·(4 + 8·cores)·N² + 48·inputs·inits·N bytes
func FixedPointsBytes(s Shape, inputs, inits, cores int) Estimate {
	n := f(s.N)
	return estimate(fmt.Sprintf("8·(4 + 8·cores)·N² + 48·inputs·inits·N bytes at N = %d, %d cores, %d inputs, %d inits", s.N, cores, inputs, inits),
		term{"n", 8 * (4 + 8*f(max(cores, 1))) * n * n},
		term{"inits", 48 * f(inputs) * f(inits) * n})
}

// SensitivityBytes estimates the peak memory of a sensitivity unit: the
// network, the gradient, a random direction and a probe (about 8·N²
// together), one adjoint N×N per core, the condition means of the outputs
// (2·C·T·N) and a trace per core:
//
//	8·((8 + cores)·N² + (2·C + 7·cores)·T·N) bytes
func SensitivityBytes(s Shape, cores int) Estimate {
	n, t, c := f(s.N), f(s.T), f(max(cores, 1))
	return estimate(fmt.Sprintf("8·((8 + cores)·N² + (2·C + 7·cores)·T·N) bytes at N = %d, T = %d, C = %d, %d cores", s.N, s.T, s.Conditions, cores),
		term{"n", 8 * (8 + c) * n * n},
		term{"task_params", 8 * (2*f(s.Conditions) + 7*c) * t * n})
}

// RSABytes estimates the peak memory of an rsa or landscape unit of a task
// with networks networks: every network's responses to every condition
// (C·T·N), their condition × condition dissimilarities, and the network ×
// network comparisons; for the landscape, every network's fixed points
// (points of N values, with eigenvalues: 3·N each) too:
//
//	8·networks·(2·C·T·N + C² + 3·points·N) + 8·networks² bytes
func RSABytes(s Shape, networks, points int) Estimate {
	n, t, c, k := f(s.N), f(s.T), f(s.Conditions), f(networks)
	return estimate(fmt.Sprintf("8·networks·(2·C·T·N + C² + 3·points·N) + 8·networks² bytes at %d networks, N = %d, T = %d, C = %d, %d points", networks, s.N, s.T, s.Conditions, points),
		term{"task_params", 8 * k * (2*c*t*n + c*c)},
		term{"seeds", 8*k*k + 24*k*f(points)*n})
}

// CaseBytes estimates the size of the case file `rulescape metagrad
// --write-case` writes: per trial the inputs, perturbations, targets, mask
// and initial state (T·(M+N+O+1) + N numbers), plus W⁰, W_in, W_out and
// the plastic mask, at about 24 bytes a number as JSON text. The case is
// built in memory whole (8 bytes a number) before it is written.
func CaseBytes(s Shape, trials int) Estimate {
	n, t := f(s.N), f(s.T)
	return estimate(fmt.Sprintf("24·(trials·(T·(M+N+O+1) + N) + 2·N² + N·(M+O)) bytes at N = %d, T = %d, %d trials", s.N, s.T, trials),
		term{"trials", 24 * f(trials) * (t*f(s.M+s.N+s.O+1) + n)},
		term{"n", 24 * (2*n*n + n*f(s.M+s.O))})
}

// Times returns the estimate of k units at once (saturating).
func (e Estimate) Times(k int) Estimate {
	if k == 1 {
		return e
	}
	b := float64(e.Bytes) * f(k)
	out := Estimate{Bytes: math.MaxInt64, Formula: fmt.Sprintf("%d at once × %s", k, e.Formula), Key: e.Key}
	if b < math.MaxInt64 {
		out.Bytes = int64(b)
	}
	return out
}
