package schemastest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"

	"rulescape/schemas"
)

// Campaign is the campaign ID of every fixture row.
const Campaign = "c0ffee"

// floats returns n standard normal values.
func floats(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func floats32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// LearningCurves returns n learning-curve rows over two rules and seven seeds;
// row 3 (if present) is a diverged trial with NaN error and reward.
func LearningCurves(n int) []schemas.LearningCurveRow {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]schemas.LearningCurveRow, n)
	for i := range rows {
		e := rng.Float64()
		rows[i] = schemas.LearningCurveRow{Campaign: Campaign, Task: "dnms", Rule: []string{"miconi", "node_perturbation"}[i%2],
			Seed: int64(i % 7), Trial: int64(i), Condition: int32(i % 4), Error: e, Reward: -e, Correct: e < 0.5}
	}
	if n > 3 {
		rows[3].Error, rows[3].Reward = math.NaN(), math.NaN() // a diverged trial stays NaN, not null
	}
	return rows
}

// Networks returns count networks of n units, m inputs and o outputs with
// random weights and Miconi's three clamped bias units.
func Networks(count, n, m, o int) []schemas.NetworkRow {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([]schemas.NetworkRow, count)
	for i := range rows {
		rows[i] = schemas.NetworkRow{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: int64(i),
			N: int32(n), M: int32(m), O: int32(o),
			W0: floats(rng, n*n), WFinal: floats(rng, n*n), WIn: floats(rng, n*m), WOut: floats(rng, o*n), B: floats(rng, n),
			ClampIndex: []int32{0, 1, 2}, ClampValue: []float64{1, 1, -1}, Trials: 1000, TrialsToCriterion: int64(i) - 1}
	}
	return rows
}

// Trajectories returns 4 conditions × 25 steps of a 9-unit, 1-output network.
func Trajectories() []schemas.TrajectoryRow {
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []schemas.TrajectoryRow
	for c := range 4 {
		for t := range 25 {
			rows = append(rows, schemas.TrajectoryRow{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: 3, Network: "final",
				Condition: int32(c), T: int32(t), Trials: 50, X: floats32(rng, 9), Y: floats32(rng, 1)})
		}
	}
	return rows
}

// MetaoptHistory returns 30 iterations with P = 16; every tenth has a
// held-out J and a meta-learned log η, the others NaN (null in files).
func MetaoptHistory() []schemas.MetaoptRow {
	rng := rand.New(rand.NewPCG(7, 8))
	rows := make([]schemas.MetaoptRow, 30)
	for i := range rows {
		g := floats(rng, 16)
		rows[i] = schemas.MetaoptRow{Campaign: Campaign, Task: "dnms", Estimator: "projection", Directions: 4, Seed: 9, Iter: int64(i),
			Theta: floats(rng, 16), LogEta: math.NaN(), J: -rng.Float64(), Grad: g, GradNorm: math.Sqrt(dot(g, g)),
			HeldoutJ: math.NaN(), LR: 0.01}
		if i%10 == 0 {
			rows[i].HeldoutJ = -0.25
			rows[i].LogEta = math.Log(0.003)
		}
	}
	// the final row: the final Θ and its held-out J, nothing estimated
	final := rows[len(rows)-1]
	final.Iter++
	final.Theta, final.LogEta = floats(rng, 16), math.Log(0.004)
	final.J, final.Grad, final.GradNorm, final.LR, final.HeldoutJ = math.NaN(), nil, math.NaN(), math.NaN(), -0.2
	return append(rows, final)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// FixedPoints returns 12 points of a 6-unit network with 3 inputs.
func FixedPoints() []schemas.FixedPointRow {
	rng := rand.New(rand.NewPCG(9, 10))
	rows := make([]schemas.FixedPointRow, 12)
	for i := range rows {
		rows[i] = schemas.FixedPointRow{Campaign: Campaign, Task: "flipflop", Rule: "miconi", Seed: 1, Network: "final",
			Input: fmt.Sprintf("cond=%d", i%3), U: floats(rng, 3), X: floats(rng, 6), Q: 1e-9 * rng.Float64(), Slow: i%5 == 0,
			EigRe: floats(rng, 6), EigIm: floats(rng, 6), Index: int32(i % 3), Type: []string{"stable", "saddle", "saddle"}[i%3],
			Count: int32(i % 4), Deflated: int32(i % 2), IndexMap: int32(i%3 + i%2), Henrici: rng.Float64(), HenriciRel: rng.Float64(),
			ReadoutOverlap: floats(rng, 2*6), Response: floats(rng, 3*6), ResponseNorm: floats(rng, 3),
			SetStarts: 64, SetObserved: 5, SetF1: 2, SetF2: 1, SetChao1: 7, SetDeflated: int32(i % 3)}
	}
	return rows
}

// RDMs returns 3 RDMs over 4 conditions.
func RDMs() []schemas.RDMRow {
	rng := rand.New(rand.NewPCG(11, 12))
	rows := make([]schemas.RDMRow, 3)
	for i := range rows {
		rows[i] = schemas.RDMRow{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: int64(i), Network: "final", Space: "x",
			Epoch: "delay", Metric: "correlation", K: 4, Labels: []string{"AA", "AB", "BA", "BB"}, D: floats(rng, 16)}
	}
	return rows
}

// RSAPairs returns 2 comparisons, one without a permutation test (p NaN).
func RSAPairs() []schemas.RSAPairRow {
	return []schemas.RSAPairRow{
		{Campaign: Campaign, Task: "dnms", Space: "x", Epoch: "delay", Method: "spearman", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "node_perturbation", BSeed: 2, BNetwork: "final", Value: 0.75, PValue: 0.01, Permutations: 1000},
		{Campaign: Campaign, Task: "dnms", Space: "r", Epoch: "all", Method: "cka", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "miconi", BSeed: 3, BNetwork: "initial", Value: 0.5, PValue: math.NaN()},
	}
}

// Sensitivity returns 2 rows with 10 singular values.
func Sensitivity() []schemas.SensitivityRow {
	rng := rand.New(rand.NewPCG(13, 14))
	rows := make([]schemas.SensitivityRow, 2)
	for i := range rows {
		rows[i] = schemas.SensitivityRow{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: int64(i), Network: "final",
			Score: rng.Float64(), GradNorm: rng.Float64(), SingularValues: floats(rng, 10), AlignmentDW: 0.3,
			Epsilon: 1e-3, ShiftTop: 0.2, ShiftRandom: 0.01}
	}
	return rows
}

// Landscape returns 4 points of one network under 2 inputs, projected on
// 3 axes; the saddle connects point 0 and nothing.
func Landscape() []schemas.LandscapeRow {
	ex := []float64{0.6, 0.3, 0.05}
	row := func(input string, point, index int32, typ string, slow bool, pc []float64, connects []int32) schemas.LandscapeRow {
		return schemas.LandscapeRow{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: 2, Network: "final", Input: input,
			Point: point, Index: index, Type: typ, Slow: slow, PC: pc, Explained: ex, Connects: connects}
	}
	return []schemas.LandscapeRow{
		row("none", 0, 0, "stable", false, []float64{1, 2, 3}, nil),
		row("none", 1, 1, "saddle", false, []float64{0, 0.5, -1}, []int32{0, -1}),
		row("A", 0, 0, "stable", false, []float64{-1, 2, 0}, nil),
		row("A", 1, 2, "saddle", true, []float64{3, 1, 0.25}, nil),
	}
}

// LandscapePairs returns a pair distance and a permutation-test summary.
func LandscapePairs() []schemas.LandscapePairRow {
	return []schemas.LandscapePairRow{
		{Campaign: Campaign, Task: "dnms", Method: "topology", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "node_perturbation", BSeed: 2, BNetwork: "final", Value: 2.5, PValue: math.NaN()},
		{Campaign: Campaign, Task: "dnms", Method: "within_vs_between:topology", ARule: "*", ANetwork: "final",
			BRule: "*", BNetwork: "final", Value: 0.75, PValue: 0.02, Permutations: 1000},
	}
}

// DSAOperators returns the operators of two networks at rank 2, the
// second with an undefined R² (null).
func DSAOperators() []schemas.DSAOperatorRow {
	return []schemas.DSAOperatorRow{
		{Campaign: Campaign, Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Delays: 5, DelayInterval: 2, Rank: 2, Effective: 2,
			R2: 0.98, EigenRe: []float64{0.9, 0.9}, EigenIm: []float64{0.1, -0.1}, Singular: []float64{3, 1}, A: []float64{0.9, -0.1, 0.1, 0.9}},
		{Campaign: Campaign, Task: "dnms", Rule: "node_perturbation", Seed: 2, Network: "final", Delays: 5, DelayInterval: 2, Rank: 2, Effective: 1,
			R2: math.NaN(), EigenRe: []float64{0.5, 0}, EigenIm: []float64{0, 0}, Singular: []float64{2, 0}, A: []float64{0.5, 0, 0, 0}},
	}
}

// DSAPairs returns a pair distance and a permutation-test summary.
func DSAPairs() []schemas.DSAPairRow {
	return []schemas.DSAPairRow{
		{Campaign: Campaign, Task: "dnms", Method: "dsa", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "node_perturbation", BSeed: 2, BNetwork: "final", Value: 0.4, PValue: math.NaN()},
		{Campaign: Campaign, Task: "dnms", Method: "within_vs_between:dsa", ARule: "*", ANetwork: "final",
			BRule: "*", BNetwork: "final", Value: 0.1, PValue: 0.01, Permutations: 1000},
	}
}

// AtlasNetworks returns two networks of one family, the first its
// medoid, and one whose silhouette is undefined (null).
func AtlasNetworks() []schemas.AtlasNetworkRow {
	return []schemas.AtlasNetworkRow{
		{Campaign: Campaign, Task: "gonogo", Rule: "miconi", Seed: 1, Network: "final", Family: 0, Medoid: true, Silhouette: 0.6},
		{Campaign: Campaign, Task: "gonogo", Rule: "node_perturbation", Seed: 2, Network: "final", Family: 1, Silhouette: math.NaN()},
	}
}

// AtlasFamilies returns two families, the second never drawn in a
// subsample (stability null) and of one network (within_distance null).
func AtlasFamilies() []schemas.AtlasFamilyRow {
	return []schemas.AtlasFamilyRow{
		{Campaign: Campaign, Task: "gonogo", Family: 0, Families: 2, Size: 5, Stability: 0.9, MedoidRule: "miconi", MedoidSeed: 1,
			MedoidNetwork: "final", WithinDistance: 0.4, Silhouette: 0.5, Rand: 0.8, CramersV: 0.7, PValue: 0.01, Permutations: 99},
		{Campaign: Campaign, Task: "gonogo", Family: 1, Families: 2, Size: 1, Stability: math.NaN(), MedoidRule: "node_perturbation", MedoidSeed: 2,
			MedoidNetwork: "final", WithinDistance: math.NaN(), Silhouette: 0.5, Rand: 0.8, CramersV: 0.7, PValue: math.NaN()},
	}
}

// AtlasRules returns a rule × family table of one rule and two families.
func AtlasRules() []schemas.AtlasRuleRow {
	return []schemas.AtlasRuleRow{
		{Campaign: Campaign, Task: "gonogo", Rule: "miconi", Family: 0, Count: 3, Share: 0.75},
		{Campaign: Campaign, Task: "gonogo", Rule: "miconi", Family: 1, Count: 1, Share: 0.25},
	}
}

// Equal compares rows (or slices of rows) field by field, treating NaN as
// equal to NaN.
func Equal(a, b any) bool {
	return reflect.DeepEqual(nanToSentinel(a), nanToSentinel(b))
}

// nanToSentinel returns a copy in which every float NaN is replaced by a
// sentinel, so that reflect.DeepEqual can compare rows that contain NaN.
func nanToSentinel(x any) any {
	v := reflect.ValueOf(x)
	out := reflect.New(v.Type()).Elem()
	copyNaN(out, v)
	return out.Interface()
}

func copyNaN(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Float64, reflect.Float32:
		f := src.Float()
		if math.IsNaN(f) {
			f = -12345.678
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			copyNaN(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		for i := range src.NumField() {
			copyNaN(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}
