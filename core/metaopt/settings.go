package metaopt

import (
	"fmt"
	"math"
)

// Method is the meta-optimization algorithm.
type Method string

// Methods.
const (
	// MethodAdam ascends J with Adam on the averaged gradient estimates the
	// Objective returns (exact tangents, random projections or finite
	// differences — the objective decides).
	MethodAdam Method = "adam"
	// MethodES is antithetic evolution strategies: a black-box gradient
	// estimate from J values alone, followed by the same Adam update.
	MethodES Method = "es"
	// MethodCMAES is CMA-ES (Hansen's (μ/μ_w, λ) covariance matrix adaptation)
	// on J values alone.
	MethodCMAES Method = "cmaes"
)

// Shaping is how ES turns J values into fitnesses.
type Shaping string

// Fitness shapings.
const (
	// ShapingRank replaces the J values of the population by centered ranks
	// in [−½, ½] (Salimans et al. 2017): invariant to the scale of J and
	// robust to outliers.
	ShapingRank Shaping = "rank"
	// ShapingPlain uses J itself: the estimate is then unbiased for the
	// gradient of the Gaussian-smoothed objective E[J(Θ+σε)].
	ShapingPlain Shaping = "plain"
)

// ESSettings configures MethodES. The zero value works.
type ESSettings struct {
	// Pairs is the number of antithetic pairs Θ±σε per iteration; pair k is
	// run on learner seed k mod Learners, both members on the same seed
	// (common random numbers). Default Learners. Learner-runs per iteration:
	// 2·Pairs.
	Pairs int `json:"pairs,omitempty"`
	// Sigma is the perturbation scale σ in Θ units. Default 0.05.
	Sigma float64 `json:"sigma,omitempty"`
	// Shaping is "rank" (default) or "plain".
	Shaping Shaping `json:"shaping,omitempty"`
}

// CMASettings configures MethodCMAES. The zero value works.
type CMASettings struct {
	// Population is λ, the candidates per generation; each candidate is
	// scored by its mean J over the iteration's Learners seeds (the same seeds
	// for every candidate). Learner-runs per iteration: λ·Learners.
	// Default 4 + ⌊3 ln P⌋.
	Population int `json:"population,omitempty"`
	// Sigma is the initial step size σ₀ in Θ units. Default 0.1.
	Sigma float64 `json:"sigma,omitempty"`
}

// Settings configures an Optimizer. The zero value works (Adam, 100
// iterations of 8 fresh learners, no held-out seeds); every field documents
// its default.
type Settings struct {
	// Method is "adam" (default), "es" or "cmaes".
	Method Method `json:"method,omitempty"`
	// Iters is the number of iterations Run performs in total (counting
	// those done before a restore). Default 100.
	Iters int `json:"iters,omitempty"`
	// Learners is S, the learners averaged per iteration. Default 8.
	Learners int `json:"learners,omitempty"`
	// Workers is how many learner-runs execute in parallel. Default
	// GOMAXPROCS. Results do not depend on it.
	Workers int `json:"workers,omitempty"`
	// Seed is the run seed from which every learner seed and the optimizer's
	// own random stream derive. 0 is a valid seed.
	Seed uint64 `json:"seed"`
	// FixedSeeds uses the same S learner seeds (those of iteration 0) in every
	// iteration, which makes J a deterministic function of Θ. Default false:
	// fresh seeds every iteration.
	FixedSeeds bool `json:"fixed_seeds,omitempty"`
	// HeldOut is the number of held-out learner seeds, disjoint streams from
	// the training seeds, evaluated without gradient at the Θ an iteration
	// starts from when its index is a multiple of EvalEvery (iterations 0,
	// EvalEvery, 2·EvalEvery, …), and by Run on the final Θ. Default 0 (none).
	HeldOut int `json:"held_out,omitempty"`
	// EvalEvery is the held-out evaluation period in iterations. Default 0:
	// only at the end of Run.
	EvalEvery int `json:"eval_every,omitempty"`
	// LR is the Adam step size α, in Θ units per iteration. Default 0.01.
	LR float64 `json:"lr,omitempty"`
	// Beta1 and Beta2 are Adam's moment decay rates. Defaults 0.9 and 0.999.
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	// Eps is Adam's ε. Default 1e-8.
	Eps float64 `json:"eps,omitempty"`
	// ClipNorm rescales the averaged gradient to this Euclidean norm when
	// longer. Default 0: no clipping.
	ClipNorm float64 `json:"clip_norm,omitempty"`
	// LearnerClipNorm rescales each learner's gradient to this Euclidean norm
	// when longer, before averaging (Adam only). Through long, chaotic
	// learning processes a few learners' exact gradients can be many orders
	// of magnitude larger than the others' and would otherwise decide the
	// average alone. Default 0: no clipping.
	LearnerClipNorm float64 `json:"learner_clip_norm,omitempty"`
	// MinValidFraction is the fraction of an iteration's learners (ES: pairs;
	// CMA-ES: candidates) that must survive; below it the iteration fails
	// with a *DivergedError and Θ is unchanged. At least one must always
	// survive. Default 0.5.
	MinValidFraction float64 `json:"min_valid_fraction,omitempty"`
	// ES configures MethodES.
	ES ESSettings `json:"es,omitzero"`
	// CMA configures MethodCMAES.
	CMA CMASettings `json:"cma,omitzero"`
}

// withDefaults returns s with every zero field set to its default, except
// Workers (resolved at run time, since it does not affect results) and the
// CMA population (which depends on P).
func (s Settings) withDefaults() Settings {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if s.Method == "" {
		s.Method = MethodAdam
	}
	if s.Iters == 0 {
		s.Iters = 100
	}
	if s.Learners == 0 {
		s.Learners = 8
	}
	def(&s.LR, 0.01)
	def(&s.Beta1, 0.9)
	def(&s.Beta2, 0.999)
	def(&s.Eps, 1e-8)
	def(&s.MinValidFraction, 0.5)
	if s.ES.Pairs == 0 {
		s.ES.Pairs = s.Learners
	}
	def(&s.ES.Sigma, 0.05)
	if s.ES.Shaping == "" {
		s.ES.Shaping = ShapingRank
	}
	def(&s.CMA.Sigma, 0.1)
	return s
}

// validate checks defaulted settings and names the bad field.
func (s Settings) validate() error {
	bad := func(field string, v any, fix string) error {
		return fmt.Errorf("metaopt: settings: %s = %v: %s", field, v, fix)
	}
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case s.Method != MethodAdam && s.Method != MethodES && s.Method != MethodCMAES:
		return bad("Method", fmt.Sprintf("%q", s.Method), `use "adam", "es" or "cmaes"`)
	case s.Iters < 0:
		return bad("Iters", s.Iters, "must be ≥ 0")
	case s.Learners < 0:
		return bad("Learners", s.Learners, "must be ≥ 1 (0 = default 8)")
	case s.Workers < 0:
		return bad("Workers", s.Workers, "must be ≥ 1 (0 = GOMAXPROCS)")
	case s.HeldOut < 0:
		return bad("HeldOut", s.HeldOut, "must be ≥ 0")
	case s.EvalEvery < 0:
		return bad("EvalEvery", s.EvalEvery, "must be ≥ 0 (0 = only at the end)")
	case !pos(s.LR):
		return bad("LR", s.LR, "must be > 0 and finite")
	case !(s.Beta1 > 0 && s.Beta1 < 1):
		return bad("Beta1", s.Beta1, "must be in (0, 1)")
	case !(s.Beta2 > 0 && s.Beta2 < 1):
		return bad("Beta2", s.Beta2, "must be in (0, 1)")
	case !pos(s.Eps):
		return bad("Eps", s.Eps, "must be > 0 and finite")
	case !(s.ClipNorm >= 0):
		return bad("ClipNorm", s.ClipNorm, "must be ≥ 0 (0 = no clipping)")
	case !(s.LearnerClipNorm >= 0):
		return bad("LearnerClipNorm", s.LearnerClipNorm, "must be ≥ 0 (0 = no clipping)")
	case !(s.MinValidFraction > 0 && s.MinValidFraction <= 1):
		return bad("MinValidFraction", s.MinValidFraction, "must be in (0, 1]")
	case s.ES.Pairs < 0:
		return bad("ES.Pairs", s.ES.Pairs, "must be ≥ 1 (0 = Learners)")
	case !pos(s.ES.Sigma):
		return bad("ES.Sigma", s.ES.Sigma, "must be > 0 and finite")
	case s.ES.Shaping != ShapingRank && s.ES.Shaping != ShapingPlain:
		return bad("ES.Shaping", fmt.Sprintf("%q", s.ES.Shaping), `use "rank" or "plain"`)
	case s.CMA.Population < 0 || s.CMA.Population == 1:
		return bad("CMA.Population", s.CMA.Population, "must be ≥ 2 (0 = 4 + ⌊3 ln P⌋)")
	case !pos(s.CMA.Sigma):
		return bad("CMA.Sigma", s.CMA.Sigma, "must be > 0 and finite")
	}
	return nil
}

// minValid is the number of survivors an iteration of n members needs.
func (s Settings) minValid(n int) int {
	return max(1, int(math.Ceil(s.MinValidFraction*float64(n)-1e-9)))
}

// Seed derivation domains, so that training, held-out and estimator seeds
// come from unrelated streams.
const (
	domainLearner   = 0x6c6561726e6572 // "learner"
	domainHeldOut   = 0x68656c646f7574 // "heldout"
	domainEstimator = 0x657374696d6174 // "estimat"
	domainRNG       = 0x726e67         // "rng"
)

// splitmix64 is the SplitMix64 finalizer: a bijective, well-mixing hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// derive hashes (seed, domain, a, b) into one seed.
func derive(seed, domain, a, b uint64) uint64 {
	return splitmix64(splitmix64(splitmix64(seed^splitmix64(domain))^a) ^ b)
}

// LearnerSeed is the seed of training learner s (0-based) in iteration iter
// (0-based): a hash of (Seed, iter, s), or of (Seed, 0, s) with FixedSeeds.
func (s Settings) LearnerSeed(iter, learner int) uint64 {
	if s.FixedSeeds {
		iter = 0
	}
	return derive(s.Seed, domainLearner, uint64(iter), uint64(learner))
}

// HeldOutSeed is the seed of held-out learner j (0-based), the same in every
// evaluation.
func (s Settings) HeldOutSeed(j int) uint64 {
	return derive(s.Seed, domainHeldOut, 0, uint64(j))
}

// EstimatorSeed is Request.EstimatorSeed for training learner s of iteration
// iter; it changes with iter even with FixedSeeds.
func (s Settings) EstimatorSeed(iter, learner int) uint64 {
	return derive(s.Seed, domainEstimator, uint64(iter), uint64(learner))
}
