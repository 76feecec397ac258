package pipelines

import (
	"regexp"
	"slices"

	"rulescape/core/sensitivity"
)

// Campaign is a parsed and validated campaign file. Build one with Parse;
// Plan expands it into units.
type Campaign struct {
	File        string   // the name given to Parse
	Name        string   // campaign name (path-safe)
	Description string   // free text; not part of the ID
	Defaults    Params   // the preset with the defaults block applied
	Tasks       []Task   // in file order
	Rules       []Rule   // in file order
	Seeds       []uint64 // every train unit's seed, in the order given
	Train       TrainSettings
	Stages      Stages
	Concurrency Concurrency

	units *units // every unit, resolved and validated by Parse
	id    string // campaign ID (v2, Plan.ID)
	spec  string // the file's contents as given to Parse
}

// units are the resolved units of a campaign.
type units struct {
	metaopt []MetaoptJob
	train   []TrainUnit
}

// Task is one entry of tasks: a registered task with its parameters.
type Task struct {
	Name   string // entry name, used in unit IDs (default: Task)
	Task   string // registered task name (core/tasks)
	Params Params // Defaults with this entry's task_params and overrides applied
}

// RuleKind says how a rule entry gives Θ.
type RuleKind string

// Rule kinds.
const (
	RuleNamed   RuleKind = "named"   // a named point of the rule space (plasticity.Named)
	RuleTheta   RuleKind = "theta"   // an explicit (K+1)×(L+1) matrix
	RuleRandom  RuleKind = "random"  // θ_kl ~ N(0, scale²) from a seed (RandomRule)
	RuleMetaopt RuleKind = "metaopt" // the result of a meta-optimization job of this campaign
)

// Rule is one entry of rules.
type Rule struct {
	Name    string       // entry name, used in unit IDs
	Kind    RuleKind     // how Θ is given
	Named   string       // RuleNamed: the named rule
	Theta   Matrix       // RuleTheta: Θ as written
	Random  *RandomSpec  // RuleRandom: the draw
	Metaopt *MetaoptSpec // RuleMetaopt: the job's settings
	Tasks   []string     // task entries this rule is trained on (all when empty)
}

// RandomSpec is a seeded random rule: θ_kl ~ N(0, Scale²), orders K and L
// of the resolved parameters.
type RandomSpec struct {
	Seed  uint64  `yaml:"seed" json:"seed"`   // PCG seed of the draw (default 1)
	Scale float64 `yaml:"scale" json:"scale"` // standard deviation, Θ units (default 0.1)
}

// MetaoptSpec is the meta-optimization job of a `from: metaopt` rule. The
// fields mirror the flags of `rulescape metaopt`, with the same defaults.
type MetaoptSpec struct {
	Task          string  `yaml:"task" json:"task"`                     // tasks entry to optimize on (default: the only one)
	Iters         int     `yaml:"iters" json:"iters"`                   // meta-iterations (100)
	Learners      int     `yaml:"learners" json:"learners"`             // learners S averaged per iteration (8)
	Trials        int     `yaml:"trials" json:"trials"`                 // learning horizon H, trials per learner (300)
	Estimator     string  `yaml:"estimator" json:"estimator"`           // exact, adjoint, projection:Ω, fd, policy-gradient, es or cmaes (exact)
	Dist          string  `yaml:"dist" json:"dist"`                     // projection directions: rademacher or gaussian
	FDStep        float64 `yaml:"fd_step" json:"fd_step"`               // finite-difference step (1e-5)
	Gamma         float64 `yaml:"gamma" json:"gamma"`                   // discount γ of later trials, (0, 1] (1)
	LogEta        bool    `yaml:"log_eta" json:"log_eta"`               // meta-learn log η too (false)
	Seed          uint64  `yaml:"seed" json:"seed"`                     // run seed of learners and optimizer (1)
	FixedSeeds    bool    `yaml:"fixed_seeds" json:"fixed_seeds"`       // same learner seeds every iteration (false)
	HeldOut       int     `yaml:"held_out" json:"held_out"`             // held-out learner seeds (8)
	EvalEvery     int     `yaml:"eval_every" json:"eval_every"`         // held-out evaluation period, iterations (10)
	LR            float64 `yaml:"lr" json:"lr"`                         // Adam step size, Θ units per iteration (0.02)
	ClipNorm      float64 `yaml:"clip_norm" json:"clip_norm"`           // clip of the averaged gradient norm (0 = none)
	LearnerClip   float64 `yaml:"learner_clip" json:"learner_clip"`     // clip of each learner's gradient norm (0 = none)
	ESSigma       float64 `yaml:"es_sigma" json:"es_sigma"`             // es: perturbation scale σ (0.05)
	ESPairs       int     `yaml:"es_pairs" json:"es_pairs"`             // es: antithetic pairs (0 = learners)
	CMASigma      float64 `yaml:"cma_sigma" json:"cma_sigma"`           // cmaes: initial step size σ₀ (0.1)
	CMAPopulation int     `yaml:"cma_population" json:"cma_population"` // cmaes: candidates per generation (0 = 4 + ⌊3 ln P⌋)
	Init          string  `yaml:"init" json:"init"`                     // initial rule: zero, random or a named rule (zero)
	InitScale     float64 `yaml:"init_scale" json:"init_scale"`         // random init: θ_kl ~ N(0, s²) (0.1)
	Scale         string  `yaml:"scale" json:"scale"`                   // search coordinates: auto or none (auto)
}

// DefaultMetaopt returns the defaults of a metaopt job (those of
// `rulescape metaopt`).
func DefaultMetaopt() MetaoptSpec {
	return MetaoptSpec{Iters: 100, Learners: 8, Trials: 300, Estimator: "exact", Dist: "rademacher",
		FDStep: 1e-5, Gamma: 1, Seed: 1, HeldOut: 8, EvalEvery: 10, LR: 0.02, ESSigma: 0.05,
		CMASigma: 0.1, Init: "zero", InitScale: 0.1, Scale: "auto"}
}

// TrainSettings are the settings of the train stage.
type TrainSettings struct {
	// Trials per network; 0 keeps the resolved trials parameter (preset
	// 3000). It acts as a defaults-level value: tasks' and rules'
	// overrides of trials replace it.
	Trials int `yaml:"trials" json:"trials"`
	// StopAtCriterion ends a network's run when it meets the criterion.
	StopAtCriterion bool `yaml:"stop_at_criterion" json:"stop_at_criterion"`
}

// Stages holds the settings of the analysis stages and the report; their
// meaning is documented in README.md.
type Stages struct {
	FixedPoints FixedPointsStage `yaml:"fixedpoints" json:"fixedpoints"`
	RSA         RSAStage         `yaml:"rsa" json:"rsa"`
	Landscape   LandscapeStage   `yaml:"landscape" json:"landscape"`
	Sensitivity SensitivityStage `yaml:"sensitivity" json:"sensitivity"`
	DSA         DSAStage         `yaml:"dsa" json:"dsa"`
	Atlas       AtlasStage       `yaml:"atlas" json:"atlas"`
	Report      ReportStage      `yaml:"report" json:"report"`
}

// FixedPointsStage searches fixed points of every trained network.
//
// The deflation settings are omitted from the JSON (and so from the
// units' keys and the campaign ID) at their zero values: a campaign that
// does not use deflation keeps its ID. Parse writes a deflation_power or
// deflation_shift equal to its default as 0, and both as 0 when deflation
// is 0 (they do not change the result then).
type FixedPointsStage struct {
	Enabled  bool    `yaml:"enabled" json:"enabled"`     // true when the section is present
	Inits    int     `yaml:"inits" json:"inits"`         // initial states per input (64)
	MaxIters int     `yaml:"max_iters" json:"max_iters"` // optimizer iterations per search (2000)
	Tol      float64 `yaml:"tol" json:"tol"`             // speed q below which a point is fixed (1e-6)
	// Deflation is the number of rounds of deflated searches (one per
	// initial state each) after the plain descents; 0, the default, runs
	// none.
	Deflation int `yaml:"deflation" json:"deflation,omitempty"`
	// DeflationPower is the power p of the deflation operator (0 = 3).
	DeflationPower float64 `yaml:"deflation_power" json:"deflation_power,omitempty"`
	// DeflationShift is the shift σ of the deflation operator (0 = 1).
	DeflationShift float64 `yaml:"deflation_shift" json:"deflation_shift,omitempty"`
}

// Defaults of the deflation settings that 0 stands for
// (core/fixedpoints.Settings).
const (
	DefaultDeflationPower = 3.0
	DefaultDeflationShift = 1.0
)

// Normalized returns s with the deflation settings written as Parse keeps
// them: a power or shift equal to its default as 0, both as 0 when
// deflation is off.
func (s FixedPointsStage) Normalized() FixedPointsStage {
	if s.DeflationPower == DefaultDeflationPower || s.Deflation == 0 {
		s.DeflationPower = 0
	}
	if s.DeflationShift == DefaultDeflationShift || s.Deflation == 0 {
		s.DeflationShift = 0
	}
	return s
}

// RSAStage compares the representations of the networks of each task.
type RSAStage struct {
	Enabled      bool   `yaml:"enabled" json:"enabled"`           // true when the section is present
	Permutations int    `yaml:"permutations" json:"permutations"` // permutation-test shuffles (1000)
	Metric       string `yaml:"metric" json:"metric"`             // RDM dissimilarity: correlation or euclidean
}

// LandscapeStage maps the dynamical landscape of every trained network of
// a task (core/landscape) from the fixed points of the fixedpoints stage,
// which it needs: counts by index, coordinates on the top principal axes of
// the trajectories, the saddle → attractor graph, and the topology distance
// between every two networks with a seed-stratified permutation test of
// within- against between-rule distance.
type LandscapeStage struct {
	Enabled      bool `yaml:"enabled" json:"enabled"`             // true when the section is present
	PCs          int  `yaml:"pcs" json:"pcs"`                     // principal axes the points are projected on (3)
	Permutations int  `yaml:"permutations" json:"permutations"`   // topology permutation-test shuffles (1000; 0 = no test)
	ConnectSteps int  `yaml:"connect_steps" json:"connect_steps"` // Euler steps of 0.1 τ following each saddle branch (4000)
}

// SensitivityStage measures the behavioural sensitivity G_S(W) of every
// trained network.
type SensitivityStage struct {
	Enabled       bool    `yaml:"enabled" json:"enabled"`             // true when the section is present
	Perturbations int     `yaml:"perturbations" json:"perturbations"` // random weight perturbations (100)
	Scale         float64 `yaml:"scale" json:"scale"`                 // probe size relative to ‖W‖_F (sensitivity.DefaultScale, 1e-6)
}

// DSAStage compares the dynamics of the networks of each task by
// Dynamical Similarity Analysis (core/dsa): per network a linear operator
// fitted to its delay-embedded condition-averaged trajectories, per pair of
// networks the DSA distance and the spectral distance, and seed-stratified
// permutation tests of within- against between-rule distance.
type DSAStage struct {
	Enabled       bool `yaml:"enabled" json:"enabled"`               // true when the section is present
	Delays        int  `yaml:"n_delays" json:"n_delays"`             // states per delay vector (10)
	DelayInterval int  `yaml:"delay_interval" json:"delay_interval"` // steps between them (1)
	Rank          int  `yaml:"rank" json:"rank"`                     // dimension of the operator (10)
	Restarts      int  `yaml:"restarts" json:"restarts"`             // starts of the search over orthogonal matrices (16)
	Permutations  int  `yaml:"permutations" json:"permutations"`     // permutation-test shuffles (1000; 0 = no test)
	// Distances are the pair distances computed: DistanceDSA (the angular
	// DSA distance and its Frobenius companion, ~50 ms a pair) and
	// DistanceSpectral (the eigenvalue Wasserstein distance, cheap). Empty,
	// the default, computes both; Parse writes a list naming both as empty,
	// so a campaign that does not set it keeps its keys.
	Distances []string `yaml:"distances" json:"distances,omitempty"`
}

// The distances of a dsa stage's pairs (DSAStage.Distances) and of the
// atlas stage's weights.
const (
	DistanceDSA      = "dsa"
	DistanceSpectral = "spectral"
	DistanceTopology = "topology" // the landscape stage's topology distance
)

// Computes reports whether the stage computes distance (DistanceDSA or
// DistanceSpectral).
func (s DSAStage) Computes(distance string) bool {
	return len(s.Distances) == 0 || slices.Contains(s.Distances, distance)
}

// AtlasStage groups the networks of each task into solution families
// (core/atlas) from a weighted combination of distances between them —
// the dsa stage's dsa and spectral distances and the landscape stage's
// topology distance, each divided by its median — checks each family's
// stability by resampling, and tests whether the rule predicts the family.
type AtlasStage struct {
	Enabled bool `yaml:"enabled" json:"enabled"` // true when the section is present
	// Weights are the weights of the distances (DistanceDSA,
	// DistanceSpectral, DistanceTopology); 0 leaves a distance out. Parse
	// gives every distance one: 1 when its stage computes it, else 0.
	Weights       map[string]float64 `yaml:"weights" json:"weights"`
	MinFamilies   int                `yaml:"min_families" json:"min_families"`     // fewest families tried (2)
	MaxFamilies   int                `yaml:"max_families" json:"max_families"`     // most families tried (10)
	MinSilhouette float64            `yaml:"min_silhouette" json:"min_silhouette"` // below it at every cut: one family (0.25)
	Resamples     int                `yaml:"resamples" json:"resamples"`           // subsamples of the stability check (20)
	Fraction      float64            `yaml:"fraction" json:"fraction"`             // share of networks in each subsample (0.8)
	Permutations  int                `yaml:"permutations" json:"permutations"`     // shuffles of the association test (1000; 0 = no test)
}

// AtlasDistances are the distances an atlas stage can weigh, in the
// order of their weights.
var AtlasDistances = []string{DistanceDSA, DistanceSpectral, DistanceTopology}

// ReportStage writes the HTML report of the campaign.
type ReportStage struct {
	Enabled bool `yaml:"enabled" json:"enabled"` // true unless the section sets false
}

// Concurrency bounds how much of the campaign runs at once. It does not
// change any result and is not part of the campaign ID.
type Concurrency struct {
	MaxParallel int `yaml:"max_parallel" json:"max_parallel"` // units in flight at once (0 = up to 64; the workers' slots limit it)
}

// defaultStages returns the stage settings before the file's: analysis
// stages off (a present section turns its stage on), the report on.
func defaultStages() Stages {
	return Stages{
		FixedPoints: FixedPointsStage{Inits: 64, MaxIters: 2000, Tol: 1e-6},
		RSA:         RSAStage{Permutations: 1000, Metric: "correlation"},
		Landscape:   LandscapeStage{PCs: 3, Permutations: 1000, ConnectSteps: 4000},
		Sensitivity: SensitivityStage{Perturbations: 100, Scale: sensitivity.DefaultScale},
		DSA:         DSAStage{Delays: 10, DelayInterval: 1, Rank: 10, Restarts: 16, Permutations: 1000},
		Atlas:       AtlasStage{MinFamilies: 2, MaxFamilies: 10, MinSilhouette: 0.25, Resamples: 20, Fraction: 0.8, Permutations: 1000},
		Report:      ReportStage{Enabled: true},
	}
}

// nameRE is what campaign, task and rule names may look like: they appear
// in unit IDs and object keys.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
