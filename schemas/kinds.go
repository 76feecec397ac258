package schemas

import (
	"fmt"
	"math"
)

// Row is the constraint satisfied by the row struct of every dataset kind
// (LearningCurveRow, NetworkRow, …). Its methods are unexported: the set of
// kinds is closed, and callers only name the row type.
type Row[R any] interface {
	// Kind returns the dataset kind the row belongs to.
	Kind() Kind
	columns() []column[R]
	validate() error
}

// checkSeed rejects seeds outside int64: Parquet INT64 is signed and the seed
// columns are int64 so that DuckDB, pandas, Spark and R all read them alike.
func checkSeed(seed int64) error {
	if seed < 0 {
		return fmt.Errorf("seed = %d: must be ≥ 0", seed)
	}
	return nil
}

func checkLen(field string, got, want int) error {
	if got != want {
		return fmt.Errorf("%s has %d values, want %d", field, got, want)
	}
	return nil
}

// LearningCurveRow is one learning trial h of one network (docs/MODEL.md §3).
type LearningCurveRow struct {
	Campaign  string
	Task      string
	Rule      string
	Seed      int64   // training seed of the network
	Trial     int64   // h, 0-based
	Condition int32   // c_h, the trial type
	Error     float64 // E^h (NaN if the network diverged)
	Reward    float64 // R^h = −E^h
	Correct   bool    // the task's judgement of the response
}

// Kind returns LearningCurves.
func (LearningCurveRow) Kind() Kind { return LearningCurves }

func (r LearningCurveRow) validate() error { return checkSeed(r.Seed) }

func (LearningCurveRow) columns() []column[LearningCurveRow] {
	type R = LearningCurveRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		int64Col("trial", func(r *R) *int64 { return &r.Trial }),
		int32Col("condition", func(r *R) *int32 { return &r.Condition }),
		float64Col("error", func(r *R) *float64 { return &r.Error }),
		float64Col("reward", func(r *R) *float64 { return &r.Reward }),
		boolCol("correct", func(r *R) *bool { return &r.Correct }),
	}
}

// NetworkRow is one trained network: its sizes, its initial and final
// recurrent weights and its fixed weights, all float64 and row-major, so that
// a network read back runs bit-identically to the one that was written.
//
// The matrices are variable-length list<float64> columns, not
// fixed_size_list: a campaign mixes tasks with different M and O (and sweeps
// may vary N), and with fixed sizes every such file of one stage would have a
// different column type, which breaks reading a stage with one glob. The sizes
// are explicit columns and the writer checks every length against them.
type NetworkRow struct {
	Campaign          string
	Task              string
	Rule              string
	Seed              int64
	N, M, O           int32     // recurrent units, inputs, outputs
	W0                []float64 // N×N initial recurrent weights W⁰
	WFinal            []float64 // N×N recurrent weights after learning
	WIn               []float64 // N×M input weights
	WOut              []float64 // O×N readout weights
	B                 []float64 // N biases
	ClampIndex        []int32   // clamped units (Miconi 2017: three bias units)
	ClampValue        []float64 // their values, same length as ClampIndex
	Trials            int64     // learning trials completed
	TrialsToCriterion int64     // trials needed to meet the criterion; −1 if never
}

// Kind returns Networks.
func (NetworkRow) Kind() Kind { return Networks }

func (r NetworkRow) validate() error {
	n, m, o := int(r.N), int(r.M), int(r.O)
	if n <= 0 || m < 0 || o <= 0 {
		return fmt.Errorf("sizes n=%d m=%d o=%d: need n ≥ 1, m ≥ 0, o ≥ 1", n, m, o)
	}
	if err := checkSeed(r.Seed); err != nil {
		return err
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{{"w0", len(r.W0), n * n}, {"w_final", len(r.WFinal), n * n}, {"w_in", len(r.WIn), n * m},
		{"w_out", len(r.WOut), o * n}, {"b", len(r.B), n}, {"clamp_value", len(r.ClampValue), len(r.ClampIndex)}} {
		if err := checkLen(c.name, c.got, c.want); err != nil {
			return err
		}
	}
	for _, i := range r.ClampIndex {
		if i < 0 || int(i) >= n {
			return fmt.Errorf("clamp_index %d outside 0…%d", i, n-1)
		}
	}
	return nil
}

func (NetworkRow) columns() []column[NetworkRow] {
	type R = NetworkRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		int32Col("n", func(r *R) *int32 { return &r.N }),
		int32Col("m", func(r *R) *int32 { return &r.M }),
		int32Col("o", func(r *R) *int32 { return &r.O }),
		float64Vec("w0", false, func(r *R) *[]float64 { return &r.W0 }),
		float64Vec("w_final", false, func(r *R) *[]float64 { return &r.WFinal }),
		float64Vec("w_in", false, func(r *R) *[]float64 { return &r.WIn }),
		float64Vec("w_out", false, func(r *R) *[]float64 { return &r.WOut }),
		float64Vec("b", false, func(r *R) *[]float64 { return &r.B }),
		int32Vec("clamp_index", false, func(r *R) *[]int32 { return &r.ClampIndex }),
		float64Vec("clamp_value", false, func(r *R) *[]float64 { return &r.ClampValue }),
		int64Col("trials", func(r *R) *int64 { return &r.Trials }),
		int64Col("trials_to_criterion", func(r *R) *int64 { return &r.TrialsToCriterion }),
	}
}

// TrajectoryRow is the condition-averaged state of one network at one step:
// the mean over Trials trials of condition Condition of x^t and y^t.
type TrajectoryRow struct {
	Campaign  string
	Task      string
	Rule      string
	Seed      int64
	Network   string    // which weights: "initial" or "final"
	Condition int32     // trial type
	T         int32     // step t, 0…T (x) ; y is y^t, zero at t = 0
	Trials    int32     // trials averaged
	X         []float32 // N mean states x^t (fixed_size_list<float32>[N])
	Y         []float32 // O mean outputs y^t (fixed_size_list<float32>[O])
}

// Kind returns Trajectories.
func (TrajectoryRow) Kind() Kind { return Trajectories }

func (r TrajectoryRow) validate() error {
	if len(r.X) == 0 {
		return fmt.Errorf("x is empty: want the N unit states")
	}
	return checkSeed(r.Seed)
}

func (TrajectoryRow) columns() []column[TrajectoryRow] {
	type R = TrajectoryRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		int32Col("condition", func(r *R) *int32 { return &r.Condition }),
		int32Col("t", func(r *R) *int32 { return &r.T }),
		int32Col("trials", func(r *R) *int32 { return &r.Trials }),
		float32Vec("x", true, func(r *R) *[]float32 { return &r.X }),
		float32Vec("y", true, func(r *R) *[]float32 { return &r.Y }),
	}
}

// MetaoptRow is one iteration of meta-optimization of Θ (docs/MODEL.md §4–5).
// The last row of a job's history (Iter = the job's iterations) is its
// final Θ, the rule the campaign trains with, after the last step: J, Grad,
// GradNorm and LR are absent there (nothing was estimated at it) and
// HeldoutJ is the final held-out evaluation, when the job has held-out seeds.
type MetaoptRow struct {
	Campaign   string
	Task       string
	Estimator  string    // gradient estimator: "exact", "adjoint", "projection:Ω", "fd", "policy-gradient", "es", "cmaes"
	Directions int32     // tangent directions per iteration (P for exact and adjoint, Ω for projections)
	Seed       int64     // seed of the meta-optimization run
	Iter       int64     // iteration, 0-based; Theta is the value at which J and Grad were evaluated
	Theta      []float64 // Θ, P values, θ_kl at k*(L+1)+l (fixed_size_list<float64>[P])
	LogEta     float64   // log η when it is meta-learned; NaN (null in the file) otherwise
	J          float64   // J(Θ) on this iteration's learners; NaN (null) on the final row
	Grad       []float64 // estimate of ∇J, P values (fixed_size_list<float64>[P]); nil (null) on the final row
	GradNorm   float64   // ‖Grad‖₂; NaN (null) on the final row
	HeldoutJ   float64   // J on held-out seeds; NaN (null) when not evaluated
	LR         float64   // step size used for the update after this iteration; NaN (null) on the final row
}

// Kind returns MetaoptHistory.
func (MetaoptRow) Kind() Kind { return MetaoptHistory }

func (r MetaoptRow) validate() error {
	if len(r.Theta) == 0 {
		return fmt.Errorf("theta is empty: want the P rule parameters")
	}
	if r.Grad != nil {
		if err := checkLen("grad", len(r.Grad), len(r.Theta)); err != nil {
			return err
		}
	}
	return checkSeed(r.Seed)
}

func (MetaoptRow) columns() []column[MetaoptRow] {
	type R = MetaoptRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("estimator", func(r *R) *string { return &r.Estimator }),
		int32Col("directions", func(r *R) *int32 { return &r.Directions }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		int64Col("iter", func(r *R) *int64 { return &r.Iter }),
		float64Vec("theta", true, func(r *R) *[]float64 { return &r.Theta }),
		optFloat64Col("log_eta", func(r *R) *float64 { return &r.LogEta }),
		optFloat64Col("j", func(r *R) *float64 { return &r.J }),
		optFloat64Vec("grad", true, func(r *R) *[]float64 { return &r.Grad }),
		optFloat64Col("grad_norm", func(r *R) *float64 { return &r.GradNorm }),
		optFloat64Col("heldout_j", func(r *R) *float64 { return &r.HeldoutJ }),
		optFloat64Col("lr", func(r *R) *float64 { return &r.LR }),
	}
}

// FixedPointRow is one fixed or slow point of a network under a constant
// input ū (docs/MODEL.md §6): F(x) = −x + Wφ(x) + W_in ū + b.
type FixedPointRow struct {
	Campaign string
	Task     string
	Rule     string
	Seed     int64
	Network  string    // "initial" or "final"
	Input    string    // label of the constant input, e.g. "cond=0" or "zero"
	U        []float64 // ū, M values (fixed_size_list<float64>[M])
	X        []float64 // location, N values (fixed_size_list<float64>[N])
	Q        float64   // q(x) = ½‖F(x)‖²
	Slow     bool      // a slow point (tol_q ≤ q < tol_slow), not a fixed point
	EigRe    []float64 // real parts of the Jacobian's eigenvalues, N values, descending real part
	EigIm    []float64 // imaginary parts, same order
	Index    int32     // number of unstable dimensions (eigenvalues with real part > 0)
	Type     string    // "stable", "saddle" or "unstable"
	Count    int32     // initial states whose plain descent ended at this point (version 2)

	// Version 3: deflation, the Euler-map index, the dynamics measures and
	// the completeness estimate of the point's (network, input) set.
	Deflated       int32     // deflated searches that found this point as a new root
	IndexMap       int32     // unstable directions of the Euler map: eigenvalues with |1 + (dt/τ)λ| > 1
	Henrici        float64   // Henrici's departure from normality of the Jacobian
	HenriciRel     float64   // Henrici / ‖J‖_F
	ReadoutOverlap []float64 // O×N row-major: overlap of readout o with the eigenvector of eigenvalue i (NaN padding as eig_re)
	Response       []float64 // M×N row-major: (−J)⁻¹ W_in, row k the response of x* to input channel k
	ResponseNorm   []float64 // M values: Euclidean norm of each row of Response
	SetStarts      int32     // plain descents under this input (the starts)
	SetObserved    int32     // fixed points of this input found by at least one plain descent (S_obs)
	SetF1          int32     // of those, found by exactly one plain descent
	SetF2          int32     // found by exactly two
	SetChao1       float64   // Chao1 estimate of the fixed points the descent reaches
	SetDeflated    int32     // fixed points of this input found only by deflated searches
}

// Kind returns FixedPoints.
func (FixedPointRow) Kind() Kind { return FixedPoints }

func (r FixedPointRow) validate() error {
	if len(r.X) == 0 {
		return fmt.Errorf("x is empty: want the N coordinates of the point")
	}
	if err := checkLen("eig_re", len(r.EigRe), len(r.X)); err != nil {
		return err
	}
	if err := checkLen("eig_im", len(r.EigIm), len(r.X)); err != nil {
		return err
	}
	n := len(r.X)
	if len(r.ReadoutOverlap)%n != 0 {
		return fmt.Errorf("readout_overlap has %d values, want O×N with N=%d", len(r.ReadoutOverlap), n)
	}
	if err := checkLen("response", len(r.Response), len(r.U)*n); err != nil {
		return err
	}
	if err := checkLen("response_norm", len(r.ResponseNorm), len(r.U)); err != nil {
		return err
	}
	return checkSeed(r.Seed)
}

func (FixedPointRow) columns() []column[FixedPointRow] {
	type R = FixedPointRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		stringCol("input", func(r *R) *string { return &r.Input }),
		float64Vec("u", true, func(r *R) *[]float64 { return &r.U }),
		float64Vec("x", true, func(r *R) *[]float64 { return &r.X }),
		float64Col("q", func(r *R) *float64 { return &r.Q }),
		boolCol("slow", func(r *R) *bool { return &r.Slow }),
		float64Vec("eig_re", true, func(r *R) *[]float64 { return &r.EigRe }),
		float64Vec("eig_im", true, func(r *R) *[]float64 { return &r.EigIm }),
		int32Col("index", func(r *R) *int32 { return &r.Index }),
		stringCol("type", func(r *R) *string { return &r.Type }),
		int32Col("count", func(r *R) *int32 { return &r.Count }),
		int32Col("deflated", func(r *R) *int32 { return &r.Deflated }),
		int32Col("index_map", func(r *R) *int32 { return &r.IndexMap }),
		float64Col("henrici", func(r *R) *float64 { return &r.Henrici }),
		float64Col("henrici_rel", func(r *R) *float64 { return &r.HenriciRel }),
		float64Vec("readout_overlap", true, func(r *R) *[]float64 { return &r.ReadoutOverlap }),
		float64Vec("response", true, func(r *R) *[]float64 { return &r.Response }),
		float64Vec("response_norm", true, func(r *R) *[]float64 { return &r.ResponseNorm }),
		int32Col("set_starts", func(r *R) *int32 { return &r.SetStarts }),
		int32Col("set_observed", func(r *R) *int32 { return &r.SetObserved }),
		int32Col("set_f1", func(r *R) *int32 { return &r.SetF1 }),
		int32Col("set_f2", func(r *R) *int32 { return &r.SetF2 }),
		float64Col("set_chao1", func(r *R) *float64 { return &r.SetChao1 }),
		int32Col("set_deflated", func(r *R) *int32 { return &r.SetDeflated }),
	}
}

// RDMRow is one representational dissimilarity matrix of one network over
// K conditions, stored as the full symmetric K×K matrix, row-major.
type RDMRow struct {
	Campaign string
	Task     string
	Rule     string
	Seed     int64
	Network  string    // "initial" or "final"
	Space    string    // responses compared: "x" (states) or "r" (rates)
	Epoch    string    // time window the responses were taken from, e.g. "delay" or "all"
	Metric   string    // "correlation", "euclidean" (squared, per unit) or "crossnobis"
	K        int32     // conditions
	Labels   []string  // K condition labels (list<string>)
	D        []float64 // K×K dissimilarities, row-major (fixed_size_list<float64>[K*K])
}

// Kind returns RDMs.
func (RDMRow) Kind() Kind { return RDMs }

func (r RDMRow) validate() error {
	if r.K <= 0 {
		return fmt.Errorf("k = %d: need at least one condition", r.K)
	}
	if err := checkLen("labels", len(r.Labels), int(r.K)); err != nil {
		return err
	}
	if err := checkLen("d", len(r.D), int(r.K*r.K)); err != nil {
		return err
	}
	return checkSeed(r.Seed)
}

func (RDMRow) columns() []column[RDMRow] {
	type R = RDMRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		stringCol("space", func(r *R) *string { return &r.Space }),
		stringCol("epoch", func(r *R) *string { return &r.Epoch }),
		stringCol("metric", func(r *R) *string { return &r.Metric }),
		int32Col("k", func(r *R) *int32 { return &r.K }),
		stringVec("labels", func(r *R) *[]string { return &r.Labels }),
		float64Vec("d", true, func(r *R) *[]float64 { return &r.D }),
	}
}

// RSAPairRow compares two networks a and b of one task: an RDM comparison
// (Spearman, Kendall τ_a, cosine, Pearson) or a direct comparison of the raw
// responses (linear CKA, Procrustes shape distance).
type RSAPairRow struct {
	Campaign     string
	Task         string
	Space        string // "x" or "r"
	Epoch        string // time window
	Method       string // "spearman", "kendall_tau_a", "cosine", "pearson", "cka", "procrustes"
	ARule, BRule string
	ASeed, BSeed int64
	ANetwork     string // "initial" or "final"
	BNetwork     string
	Value        float64 // similarity (or distance, for procrustes)
	PValue       float64 // permutation p-value; NaN (null) when not tested
	Permutations int32   // permutations behind PValue; 0 when not tested
}

// Kind returns RSAPairs.
func (RSAPairRow) Kind() Kind { return RSAPairs }

func (r RSAPairRow) validate() error {
	if err := checkSeed(r.ASeed); err != nil {
		return fmt.Errorf("a_%w", err)
	}
	if err := checkSeed(r.BSeed); err != nil {
		return fmt.Errorf("b_%w", err)
	}
	if !math.IsNaN(r.PValue) && (r.PValue < 0 || r.PValue > 1) {
		return fmt.Errorf("p_value = %v: must be in [0, 1] or NaN", r.PValue)
	}
	return nil
}

func (RSAPairRow) columns() []column[RSAPairRow] {
	type R = RSAPairRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("space", func(r *R) *string { return &r.Space }),
		stringCol("epoch", func(r *R) *string { return &r.Epoch }),
		stringCol("method", func(r *R) *string { return &r.Method }),
		stringCol("a_rule", func(r *R) *string { return &r.ARule }),
		int64Col("a_seed", func(r *R) *int64 { return &r.ASeed }),
		stringCol("a_network", func(r *R) *string { return &r.ANetwork }),
		stringCol("b_rule", func(r *R) *string { return &r.BRule }),
		int64Col("b_seed", func(r *R) *int64 { return &r.BSeed }),
		stringCol("b_network", func(r *R) *string { return &r.BNetwork }),
		float64Col("value", func(r *R) *float64 { return &r.Value }),
		optFloat64Col("p_value", func(r *R) *float64 { return &r.PValue }),
		int32Col("permutations", func(r *R) *int32 { return &r.Permutations }),
	}
}

// SensitivityRow is the behavioural sensitivity G_S(W) = ∂S/∂W of one
// network on a fixed evaluation batch (docs/MODEL.md §6).
type SensitivityRow struct {
	Campaign       string
	Task           string
	Rule           string
	Seed           int64
	Network        string    // "initial" or "final"
	Score          float64   // S, the behavioural score on the evaluation batch
	GradNorm       float64   // ‖G_S‖_F
	SingularValues []float64 // N singular values of G_S, descending (fixed_size_list<float64>[N])
	AlignmentDW    float64   // cosine between G_S and the learned ΔW = W_final − W⁰
	Epsilon        float64   // Frobenius norm of the probe perturbations
	ShiftTop       float64   // RMS change of condition-averaged trajectories along the top singular direction
	ShiftRandom    float64   // the same along a random direction of equal norm
	// Version 2:
	TopFraction  float64 // fraction of ‖ΔW‖²_F in the top singular subspace of G_S (k = 1)
	DeltaSTop    float64 // S(W + ε·top direction) − S(W)
	DeltaSRandom float64 // S(W + ε·random direction) − S(W), mean over the random directions
}

// Kind returns Sensitivity.
func (SensitivityRow) Kind() Kind { return Sensitivity }

func (r SensitivityRow) validate() error {
	if len(r.SingularValues) == 0 {
		return fmt.Errorf("singular_values is empty: want the N singular values of G_S")
	}
	return checkSeed(r.Seed)
}

func (SensitivityRow) columns() []column[SensitivityRow] {
	type R = SensitivityRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		float64Col("score", func(r *R) *float64 { return &r.Score }),
		float64Col("grad_norm", func(r *R) *float64 { return &r.GradNorm }),
		float64Vec("singular_values", true, func(r *R) *[]float64 { return &r.SingularValues }),
		float64Col("alignment_dw", func(r *R) *float64 { return &r.AlignmentDW }),
		float64Col("epsilon", func(r *R) *float64 { return &r.Epsilon }),
		float64Col("shift_top", func(r *R) *float64 { return &r.ShiftTop }),
		float64Col("shift_random", func(r *R) *float64 { return &r.ShiftRandom }),
		float64Col("top_fraction", func(r *R) *float64 { return &r.TopFraction }),
		float64Col("delta_s_top", func(r *R) *float64 { return &r.DeltaSTop }),
		float64Col("delta_s_random", func(r *R) *float64 { return &r.DeltaSRandom }),
	}
}

// LandscapeRow is one fixed or slow point of a network under a constant
// input, placed in the network's dynamical landscape (docs/MODEL.md §6; package
// core/landscape): its index, its coordinates on the top principal axes of
// the network's trajectories, and, for an index-1 fixed point, the
// attractors the two branches of its unstable manifold reach.
type LandscapeRow struct {
	Campaign  string
	Task      string
	Rule      string
	Seed      int64
	Network   string    // "initial" or "final"
	Input     string    // label of the constant input, as in fixed_points
	Point     int32     // the point's number among the network's points of this input (fixed_points row order)
	Index     int32     // unstable dimensions (−1 when unknown)
	Type      string    // "stable", "saddle" or "unstable"
	Slow      bool      // a slow point, not a fixed point
	PC        []float64 // projection on the top principal axes (fixed_size_list<float64>[pcs])
	Explained []float64 // fraction of the trajectories' variance along each axis, same for every row of a network (fixed_size_list<float64>[pcs])
	// Connects holds, for an index-1 fixed point, the Point numbers of the
	// stable fixed points reached along +v and −v (−1: none); empty for
	// other points (list<int32>).
	Connects []int32
}

// Kind returns Landscape.
func (LandscapeRow) Kind() Kind { return Landscape }

func (r LandscapeRow) validate() error {
	if err := checkLen("explained", len(r.Explained), len(r.PC)); err != nil {
		return err
	}
	if len(r.Connects) != 0 && len(r.Connects) != 2 {
		return fmt.Errorf("connects has %d values, want 0 or the 2 branch ends of an index-1 saddle", len(r.Connects))
	}
	return checkSeed(r.Seed)
}

func (LandscapeRow) columns() []column[LandscapeRow] {
	type R = LandscapeRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		stringCol("input", func(r *R) *string { return &r.Input }),
		int32Col("point", func(r *R) *int32 { return &r.Point }),
		int32Col("index", func(r *R) *int32 { return &r.Index }),
		stringCol("type", func(r *R) *string { return &r.Type }),
		boolCol("slow", func(r *R) *bool { return &r.Slow }),
		float64Vec("pc", true, func(r *R) *[]float64 { return &r.PC }),
		float64Vec("explained", true, func(r *R) *[]float64 { return &r.Explained }),
		int32Vec("connects", false, func(r *R) *[]int32 { return &r.Connects }),
	}
}

// LandscapePairRow compares the landscape topology of two networks a and b
// of one task (core/landscape.Compare), or summarizes the comparison of the
// rules (a_rule = b_rule = "*").
type LandscapePairRow struct {
	Campaign     string
	Task         string
	Method       string // "topology", "index" or "graph"; summaries "within_vs_between:topology", "same_seed_between:topology"
	ARule, BRule string
	ASeed, BSeed int64
	ANetwork     string // "initial" or "final"
	BNetwork     string
	Value        float64 // distance (pairs) or summary value
	PValue       float64 // permutation p-value; NaN (null) when not tested
	Permutations int32   // permutations behind PValue; 0 when not tested
}

// Kind returns LandscapePairs.
func (LandscapePairRow) Kind() Kind { return LandscapePairs }

func (r LandscapePairRow) validate() error {
	return RSAPairRow{ASeed: r.ASeed, BSeed: r.BSeed, PValue: r.PValue}.validate()
}

func (LandscapePairRow) columns() []column[LandscapePairRow] {
	type R = LandscapePairRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("method", func(r *R) *string { return &r.Method }),
		stringCol("a_rule", func(r *R) *string { return &r.ARule }),
		int64Col("a_seed", func(r *R) *int64 { return &r.ASeed }),
		stringCol("a_network", func(r *R) *string { return &r.ANetwork }),
		stringCol("b_rule", func(r *R) *string { return &r.BRule }),
		int64Col("b_seed", func(r *R) *int64 { return &r.BSeed }),
		stringCol("b_network", func(r *R) *string { return &r.BNetwork }),
		float64Col("value", func(r *R) *float64 { return &r.Value }),
		optFloat64Col("p_value", func(r *R) *float64 { return &r.PValue }),
		int32Col("permutations", func(r *R) *int32 { return &r.Permutations }),
	}
}

// DSAOperatorRow is the linear operator the dsa stage fitted to one
// network's condition-averaged trajectories (core/dsa): a delay embedding
// of n_delays states delay_interval steps apart, reduced to its top rank
// principal directions, and the least-squares one-step map A on them.
type DSAOperatorRow struct {
	Campaign      string
	Task          string
	Rule          string
	Seed          int64
	Network       string    // "initial" or "final"
	Delays        int32     // n_delays
	DelayInterval int32     // delay_interval, in steps
	Rank          int32     // r
	Effective     int32     // principal directions with variance (≤ rank); A is zero past them
	R2            float64   // fraction of the variance of the next step the fit explains (NaN without variance)
	EigenRe       []float64 // real parts of A's r eigenvalues, by descending modulus (fixed_size_list<float64>[rank])
	EigenIm       []float64 // their imaginary parts (fixed_size_list<float64>[rank])
	Singular      []float64 // top r singular values of the centred Hankel matrix (fixed_size_list<float64>[rank])
	A             []float64 // the operator, r × r row-major (fixed_size_list<float64>[rank²])
}

// Kind returns DSAOperators.
func (DSAOperatorRow) Kind() Kind { return DSAOperators }

func (r DSAOperatorRow) validate() error {
	if r.Rank <= 0 {
		return fmt.Errorf("rank = %d: must be positive", r.Rank)
	}
	for _, c := range []struct {
		name string
		got  int
	}{{"eigen_re", len(r.EigenRe)}, {"eigen_im", len(r.EigenIm)}, {"singular", len(r.Singular)}} {
		if err := checkLen(c.name, c.got, int(r.Rank)); err != nil {
			return err
		}
	}
	if err := checkLen("a", len(r.A), int(r.Rank*r.Rank)); err != nil {
		return err
	}
	return checkSeed(r.Seed)
}

func (DSAOperatorRow) columns() []column[DSAOperatorRow] {
	type R = DSAOperatorRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		int32Col("n_delays", func(r *R) *int32 { return &r.Delays }),
		int32Col("delay_interval", func(r *R) *int32 { return &r.DelayInterval }),
		int32Col("rank", func(r *R) *int32 { return &r.Rank }),
		int32Col("effective_rank", func(r *R) *int32 { return &r.Effective }),
		optFloat64Col("r2", func(r *R) *float64 { return &r.R2 }),
		float64Vec("eigen_re", true, func(r *R) *[]float64 { return &r.EigenRe }),
		float64Vec("eigen_im", true, func(r *R) *[]float64 { return &r.EigenIm }),
		float64Vec("singular", true, func(r *R) *[]float64 { return &r.Singular }),
		float64Vec("a", true, func(r *R) *[]float64 { return &r.A }),
	}
}

// DSAPairRow compares the dynamics of two networks a and b of one task
// (core/dsa), or summarizes the comparison of the rules (a_rule = b_rule =
// "*").
type DSAPairRow struct {
	Campaign     string
	Task         string
	Method       string // "dsa", "dsa_frobenius" or "spectral"; summaries "within_vs_between:<method>", "same_seed_between:<method>"
	ARule, BRule string
	ASeed, BSeed int64
	ANetwork     string // "initial" or "final"
	BNetwork     string
	Value        float64 // distance (pairs) or summary value
	PValue       float64 // permutation p-value; NaN (null) when not tested
	Permutations int32   // permutations behind PValue; 0 when not tested
}

// Kind returns DSAPairs.
func (DSAPairRow) Kind() Kind { return DSAPairs }

func (r DSAPairRow) validate() error {
	return RSAPairRow{ASeed: r.ASeed, BSeed: r.BSeed, PValue: r.PValue}.validate()
}

func (DSAPairRow) columns() []column[DSAPairRow] {
	type R = DSAPairRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("method", func(r *R) *string { return &r.Method }),
		stringCol("a_rule", func(r *R) *string { return &r.ARule }),
		int64Col("a_seed", func(r *R) *int64 { return &r.ASeed }),
		stringCol("a_network", func(r *R) *string { return &r.ANetwork }),
		stringCol("b_rule", func(r *R) *string { return &r.BRule }),
		int64Col("b_seed", func(r *R) *int64 { return &r.BSeed }),
		stringCol("b_network", func(r *R) *string { return &r.BNetwork }),
		float64Col("value", func(r *R) *float64 { return &r.Value }),
		optFloat64Col("p_value", func(r *R) *float64 { return &r.PValue }),
		int32Col("permutations", func(r *R) *int32 { return &r.Permutations }),
	}
}

// AtlasNetworkRow places one network of a task in a solution family of
// the atlas stage (core/atlas).
type AtlasNetworkRow struct {
	Campaign   string
	Task       string
	Rule       string
	Seed       int64
	Network    string  // "final"
	Family     int32   // 0…families−1, families numbered by first member in network order
	Medoid     bool    // the network is its family's prototype (medoid)
	Silhouette float64 // the network's silhouette width in the cut; NaN (null) when the atlas found one family
}

// Kind returns AtlasNetworks.
func (AtlasNetworkRow) Kind() Kind { return AtlasNetworks }

func (r AtlasNetworkRow) validate() error {
	if r.Family < 0 {
		return fmt.Errorf("family = %d: must be ≥ 0", r.Family)
	}
	return checkSeed(r.Seed)
}

func (AtlasNetworkRow) columns() []column[AtlasNetworkRow] {
	type R = AtlasNetworkRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int64Col("seed", func(r *R) *int64 { return &r.Seed }),
		stringCol("network", func(r *R) *string { return &r.Network }),
		int32Col("family", func(r *R) *int32 { return &r.Family }),
		boolCol("is_medoid", func(r *R) *bool { return &r.Medoid }),
		optFloat64Col("silhouette", func(r *R) *float64 { return &r.Silhouette }),
	}
}

// AtlasFamilyRow is one solution family of a task: its size, stability
// and prototype, with the task's clustering summaries repeated on every
// row of the task.
type AtlasFamilyRow struct {
	Campaign       string
	Task           string
	Family         int32
	Families       int32   // number of families of the task
	Size           int32   // networks in the family
	Stability      float64 // mean best Jaccard over subsamples; NaN (null) when never drawn
	MedoidRule     string  // the prototype network
	MedoidSeed     int64
	MedoidNetwork  string
	WithinDistance float64 // mean combined distance between members; NaN (null) for a family of one
	Silhouette     float64 // the task's mean silhouette at the chosen cut; NaN (null) for one family
	Rand           float64 // the task's mean adjusted Rand index of subsample clusterings against the full one
	CramersV       float64 // the task's rule × family association
	PValue         float64 // its seed-stratified permutation p-value; NaN (null) when not tested
	Permutations   int32   // permutations behind p_value, 0 when not tested
}

// Kind returns AtlasFamilies.
func (AtlasFamilyRow) Kind() Kind { return AtlasFamilies }

func (r AtlasFamilyRow) validate() error {
	switch {
	case r.Family < 0 || r.Family >= r.Families:
		return fmt.Errorf("family = %d: must be in [0, families = %d)", r.Family, r.Families)
	case r.Size < 1:
		return fmt.Errorf("size = %d: a family has at least 1 network", r.Size)
	case !math.IsNaN(r.Stability) && (r.Stability < 0 || r.Stability > 1):
		return fmt.Errorf("stability = %v: must be in [0, 1] or NaN", r.Stability)
	case !math.IsNaN(r.PValue) && (r.PValue < 0 || r.PValue > 1):
		return fmt.Errorf("p_value = %v: must be in [0, 1] or NaN", r.PValue)
	}
	return checkSeed(r.MedoidSeed)
}

func (AtlasFamilyRow) columns() []column[AtlasFamilyRow] {
	type R = AtlasFamilyRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		int32Col("family", func(r *R) *int32 { return &r.Family }),
		int32Col("families", func(r *R) *int32 { return &r.Families }),
		int32Col("size", func(r *R) *int32 { return &r.Size }),
		optFloat64Col("stability", func(r *R) *float64 { return &r.Stability }),
		stringCol("medoid_rule", func(r *R) *string { return &r.MedoidRule }),
		int64Col("medoid_seed", func(r *R) *int64 { return &r.MedoidSeed }),
		stringCol("medoid_network", func(r *R) *string { return &r.MedoidNetwork }),
		optFloat64Col("within_distance", func(r *R) *float64 { return &r.WithinDistance }),
		optFloat64Col("silhouette", func(r *R) *float64 { return &r.Silhouette }),
		float64Col("rand", func(r *R) *float64 { return &r.Rand }),
		float64Col("cramers_v", func(r *R) *float64 { return &r.CramersV }),
		optFloat64Col("p_value", func(r *R) *float64 { return &r.PValue }),
		int32Col("permutations", func(r *R) *int32 { return &r.Permutations }),
	}
}

// AtlasRuleRow counts the networks of one rule in one family of a task:
// the rule × family contingency table, one row per cell (zeros included).
type AtlasRuleRow struct {
	Campaign string
	Task     string
	Rule     string
	Family   int32
	Count    int32   // networks of the rule in the family
	Share    float64 // Count over the rule's networks in the task
}

// Kind returns AtlasRules.
func (AtlasRuleRow) Kind() Kind { return AtlasRules }

func (r AtlasRuleRow) validate() error {
	switch {
	case r.Family < 0:
		return fmt.Errorf("family = %d: must be ≥ 0", r.Family)
	case r.Count < 0:
		return fmt.Errorf("count = %d: must be ≥ 0", r.Count)
	case !(r.Share >= 0 && r.Share <= 1):
		return fmt.Errorf("share = %v: must be in [0, 1]", r.Share)
	}
	return nil
}

func (AtlasRuleRow) columns() []column[AtlasRuleRow] {
	type R = AtlasRuleRow
	return []column[R]{
		stringCol("campaign", func(r *R) *string { return &r.Campaign }),
		stringCol("task", func(r *R) *string { return &r.Task }),
		stringCol("rule", func(r *R) *string { return &r.Rule }),
		int32Col("family", func(r *R) *int32 { return &r.Family }),
		int32Col("count", func(r *R) *int32 { return &r.Count }),
		float64Col("share", func(r *R) *float64 { return &r.Share }),
	}
}
