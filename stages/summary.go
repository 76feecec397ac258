package stages

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"rulescape/schemas"
)

// Summaries of the analysis stages' rows: what `rulescape analyze` prints
// (JSON-tagged; NaN and ±Inf encode as null), computed from the rows a
// stage function returns.

// Float is a float64 that encodes NaN and ±Inf as JSON null.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if v := float64(f); math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func floats(v []float64) []Float {
	out := make([]Float, len(v))
	for i, x := range v {
		out[i] = Float(x)
	}
	return out
}

// FixedPointsSummary summarizes a network's fixed_points rows.
type FixedPointsSummary struct {
	// Inputs are every constant input of the task, in its order, even one
	// without a point.
	Inputs []FixedPointsInput `json:"inputs"`
	Points []FixedPointInfo   `json:"points"`
}

// FixedPointsInput counts the points of one input.
type FixedPointsInput struct {
	Input string `json:"input"`
	Fixed int    `json:"fixed"`
	Slow  int    `json:"slow"`
	// ByType counts the fixed points by type and index: "stable",
	// "saddle:1", …, "unstable:k".
	ByType map[string]int `json:"by_type"`
	// MapDiffers counts the fixed points whose Euler-map index differs
	// from their index, by "index→map index", e.g. "5→7".
	MapDiffers map[string]int `json:"map_differs,omitempty"`
	// The completeness estimate of the input's set (the set_* columns;
	// all 0 for an input without points).
	Starts   int32   `json:"starts"`
	Observed int32   `json:"observed"`
	F1       int32   `json:"f1"`
	F2       int32   `json:"f2"`
	Chao1    float64 `json:"chao1"`
	Deflated int32   `json:"deflated"`
}

// FixedPointInfo is one point of a FixedPointsSummary.
type FixedPointInfo struct {
	Input string    `json:"input"`
	X     []float64 `json:"x"`
	Q     float64   `json:"q"`
	Slow  bool      `json:"slow"`
	Type  string    `json:"type"`   // stable, saddle or unstable
	Index int32     `json:"index"`  // unstable dimensions
	Count int32     `json:"count"`  // initial states that ended here
	EigRe []Float   `json:"eig_re"` // over the free coordinates
	EigIm []Float   `json:"eig_im"`
	// Deflated counts the deflated searches that found it; IndexMap is its
	// Euler-map index.
	Deflated   int32   `json:"deflated"`
	IndexMap   int32   `json:"index_map"`
	Henrici    Float   `json:"henrici"`
	HenriciRel Float   `json:"henrici_rel"`
	Response   []Float `json:"response_norm"` // ‖(−J)⁻¹ W_in e_k‖ per input channel
}

// SummarizeFixedPoints summarizes the fixed_points rows of n.
func SummarizeFixedPoints(n *Network, rows []schemas.FixedPointRow) FixedPointsSummary {
	s := FixedPointsSummary{Points: []FixedPointInfo{}}
	at := map[string]int{}
	for _, in := range n.Setup.Task.FixedPointInputs() {
		at[in.Name] = len(s.Inputs)
		s.Inputs = append(s.Inputs, FixedPointsInput{Input: in.Name, ByType: map[string]int{}})
	}
	for _, p := range rows {
		i, ok := at[p.Input]
		if !ok { // not expected: the rows come from these inputs
			i = len(s.Inputs)
			at[p.Input] = i
			s.Inputs = append(s.Inputs, FixedPointsInput{Input: p.Input, ByType: map[string]int{}})
		}
		in := &s.Inputs[i]
		in.Starts, in.Observed, in.F1, in.F2, in.Chao1, in.Deflated = p.SetStarts, p.SetObserved, p.SetF1, p.SetF2, p.SetChao1, p.SetDeflated
		if p.Slow {
			in.Slow++
		} else {
			in.Fixed++
			key := p.Type
			if p.Index != 0 {
				key = fmt.Sprintf("%s:%d", p.Type, p.Index)
			}
			in.ByType[key]++
			if p.IndexMap >= 0 && p.IndexMap != p.Index {
				if in.MapDiffers == nil {
					in.MapDiffers = map[string]int{}
				}
				in.MapDiffers[fmt.Sprintf("%d→%d", p.Index, p.IndexMap)]++
			}
		}
		k := 0 // the free coordinates' eigenvalues; the padding is NaN
		for k < len(p.EigRe) && !math.IsNaN(p.EigRe[k]) {
			k++
		}
		s.Points = append(s.Points, FixedPointInfo{Input: p.Input, X: p.X, Q: p.Q, Slow: p.Slow, Type: p.Type, Index: p.Index,
			Count: p.Count, EigRe: floats(p.EigRe[:k]), EigIm: floats(p.EigIm[:k]),
			Deflated: p.Deflated, IndexMap: p.IndexMap, Henrici: Float(p.Henrici), HenriciRel: Float(p.HenriciRel), Response: floats(p.ResponseNorm)})
	}
	return s
}

// Types renders the counts by type: "1 stable, 2 saddle (index 1)", "-"
// for none.
func (in FixedPointsInput) Types() string {
	rank := func(k string) int {
		switch {
		case k == "stable":
			return 0
		case strings.HasPrefix(k, "saddle"):
			return 1
		}
		return 2
	}
	var parts []string
	for _, k := range slices.SortedStableFunc(mapKeys(in.ByType), func(a, b string) int { return rank(a) - rank(b) }) {
		if typ, idx, ok := strings.Cut(k, ":"); ok {
			parts = append(parts, fmt.Sprintf("%d %s (index %s)", in.ByType[k], typ, idx))
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", in.ByType[k], typ))
		}
	}
	for _, k := range slices.Sorted(mapKeys(in.MapDiffers)) {
		idx, m, _ := strings.Cut(k, "→")
		parts = append(parts, fmt.Sprintf("%d of index %s with Euler-map index %s", in.MapDiffers[k], idx, m))
	}
	return orDash(parts, ", ")
}

// mapKeys returns the keys of m in order.
func mapKeys[V any](m map[string]V) func(func(string) bool) {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return slices.Values(ks)
}

func orDash(parts []string, sep string) string {
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, sep)
}

// SensitivitySummary is a sensitivity row's values.
type SensitivitySummary struct {
	Score          Float   `json:"score"`
	GradNorm       Float   `json:"grad_norm"`
	SingularValues []Float `json:"singular_values"`
	AlignmentDW    Float   `json:"alignment_dw"`
	TopFraction    Float   `json:"top_fraction"`
	Epsilon        Float   `json:"epsilon"`
	DeltaSTop      Float   `json:"delta_s_top"`
	DeltaSRandom   Float   `json:"delta_s_random"`
	ShiftTop       Float   `json:"shift_top"`
	ShiftRandom    Float   `json:"shift_random"`
	// FirstOrderTop is ε·σ₁, the first-order size of ΔS along the top
	// singular direction.
	FirstOrderTop Float `json:"first_order_top"`
}

// SummarizeSensitivity summarizes a sensitivity row.
func SummarizeSensitivity(row schemas.SensitivityRow) SensitivitySummary {
	first := math.NaN()
	if len(row.SingularValues) > 0 {
		first = row.Epsilon * row.SingularValues[0]
	}
	return SensitivitySummary{Score: Float(row.Score), GradNorm: Float(row.GradNorm),
		SingularValues: floats(row.SingularValues), AlignmentDW: Float(row.AlignmentDW), TopFraction: Float(row.TopFraction),
		Epsilon: Float(row.Epsilon), DeltaSTop: Float(row.DeltaSTop), DeltaSRandom: Float(row.DeltaSRandom),
		ShiftTop: Float(row.ShiftTop), ShiftRandom: Float(row.ShiftRandom), FirstOrderTop: Float(first)}
}

// TopShare is σ₁²/‖G_S‖²: the share of the top singular direction (NaN
// without a gradient).
func (s SensitivitySummary) TopShare() float64 {
	var total float64
	for _, v := range s.SingularValues {
		total += float64(v * v)
	}
	if !(total > 0) {
		return math.NaN()
	}
	return float64(s.SingularValues[0]*s.SingularValues[0]) / total
}

// PairInfo is one pair of networks, or one summary row (A = B = −1), of
// an rsa or landscape summary.
type PairInfo struct {
	Method       string `json:"method"`
	A            int    `json:"a"` // index into the networks; −1 for a summary
	B            int    `json:"b"`
	Value        Float  `json:"value"`
	PValue       Float  `json:"p_value"`
	Permutations int32  `json:"permutations"`
}

// Summary reports whether p is a summary row: a permutation test
// (WithinPrefix) or a same-seed mean (SameSeedPrefix).
func (p PairInfo) Summary() bool { return p.A < 0 }

// Measure is the method of a summary row without its prefix.
func (p PairInfo) Measure() string {
	return strings.TrimPrefix(strings.TrimPrefix(p.Method, WithinPrefix), SameSeedPrefix)
}

// Matrix is a networks×networks matrix of one method.
type Matrix [][]Float

// pairMatrices fills one matrix per method from the pair rows, which come
// method by method (rsa: methods outer, pairs inner) or pair by pair
// (landscape: pairs outer, methods inner), and returns them with the
// pairs; diag fills the diagonal.
func pairMatrices(n int, methods []string, methodsOuter bool, diag float64, rows []pairRow) (map[string]Matrix, []PairInfo, error) {
	mats := map[string]Matrix{}
	pairs := []PairInfo{}
	var ij [][2]int
	for i := range n {
		for j := i + 1; j < n; j++ {
			ij = append(ij, [2]int{i, j})
		}
	}
	if len(ij) > 0 {
		for _, m := range methods {
			d := make(Matrix, n)
			for i := range d {
				d[i] = make([]Float, n)
				d[i][i] = Float(diag)
			}
			mats[m] = d
		}
	}
	c := 0
	for _, r := range rows {
		if r.summary {
			pairs = append(pairs, PairInfo{Method: r.method, A: -1, B: -1, Value: Float(r.value), PValue: Float(r.p), Permutations: r.perms})
			continue
		}
		m, k := c/len(ij), c%len(ij)
		if !methodsOuter {
			m, k = c%len(methods), c/len(methods)
		}
		if c >= len(ij)*len(methods) || r.method != methods[m] {
			return nil, nil, fmt.Errorf("pair row %d of method %s is out of order: an internal error", c, r.method)
		}
		c++
		i, j := ij[k][0], ij[k][1]
		d := mats[r.method]
		d[i][j], d[j][i] = Float(r.value), Float(r.value)
		pairs = append(pairs, PairInfo{Method: r.method, A: i, B: j, Value: Float(r.value), PValue: Float(r.p)})
	}
	if c != len(ij)*len(methods) {
		return nil, nil, fmt.Errorf("%d pair rows for %d pairs: an internal error", c, len(ij))
	}
	return mats, pairs, nil
}

// pairRow is what pairMatrices reads of an rsa_pairs or landscape_pairs row.
type pairRow struct {
	method, rule string
	summary      bool
	value, p     float64
	perms        int32
}

// RSAMethods are the methods of rsa_pairs rows, in the order of the rows.
var RSAMethods = []string{MethodSpearman, MethodCKA, MethodProcrustes}

// RSASummary summarizes the rows of an rsa unit.
type RSASummary struct {
	Labels []string `json:"labels"` // the RDMs' stimuli
	// Similarity holds per method the networks×networks matrix (diagonal
	// null).
	Similarity map[string]Matrix `json:"similarity"`
	Pairs      []PairInfo        `json:"pairs"`
}

// SummarizeRSA summarizes the rows RSA returned for n networks.
func SummarizeRSA(n int, rows RSARows) (RSASummary, error) {
	prs := make([]pairRow, len(rows.Pairs))
	for i, p := range rows.Pairs {
		prs[i] = pairRow{method: p.Method, summary: p.ARule == "*", value: p.Value, p: p.PValue, perms: p.Permutations}
	}
	sim, pairs, err := pairMatrices(n, RSAMethods, true, math.NaN(), prs)
	if err != nil {
		return RSASummary{}, fmt.Errorf("rsa: %w", err)
	}
	s := RSASummary{Similarity: sim, Pairs: pairs}
	if len(rows.RDMs) > 0 {
		s.Labels = rows.RDMs[0].Labels
	}
	return s, nil
}

// LandscapeMethods are the methods of a pair of networks in
// landscape_pairs, in the order of its rows.
var LandscapeMethods = []string{MethodTopology, MethodIndex, MethodGraph}

// LandscapeSummary summarizes the rows of a landscape unit.
type LandscapeSummary struct {
	Maps []LandscapeMap `json:"maps"` // one per network, in order
	// Distance holds per method (topology, index, graph) the
	// networks×networks matrix of distances (diagonal 0); empty for one
	// network.
	Distance map[string]Matrix `json:"distance"`
	Pairs    []PairInfo        `json:"pairs"`
}

// LandscapeMap is one network's landscape.
type LandscapeMap struct {
	// Explained is the fraction of the trajectories' variance along each
	// axis (null beyond the network's axes); empty when the network has no
	// point.
	Explained []Float          `json:"explained"`
	Inputs    []LandscapeInput `json:"inputs"`
}

// LandscapeInput summarizes a network's landscape under one input.
type LandscapeInput struct {
	Input string `json:"input"`
	// ByIndex[k] counts the fixed points (not slow points) of index k;
	// ByIndex[0] the attractors. Empty without fixed points.
	ByIndex     []int            `json:"by_index"`
	Slow        int              `json:"slow"`
	Connections []Connection     `json:"connections"`
	Points      []LandscapePoint `json:"points"`
}

// Connection is one saddle → attractors connection.
type Connection struct {
	Saddle     int32    `json:"saddle"`     // point number of the index-1 fixed point
	Attractors [2]int32 `json:"attractors"` // ends of its branches +v and −v; −1: none
}

// LandscapePoint is one point of a network's landscape.
type LandscapePoint struct {
	Point int32   `json:"point"` // number among the input's points, as in the rows
	Index int32   `json:"index"` // unstable dimensions (−1 unknown)
	Type  string  `json:"type"`
	Slow  bool    `json:"slow"`
	PC    []Float `json:"pc"`
	// Connects holds, for an index-1 fixed point, the attractors (point
	// numbers) its two branches reach, −1 for none.
	Connects []int32 `json:"connects,omitempty"`
}

// SummarizeLandscape summarizes the rows Landscape returned for nets and
// their fixed_points rows.
func SummarizeLandscape(nets []*Network, fixedPoints [][]schemas.FixedPointRow, rows LandscapeRows) (LandscapeSummary, error) {
	s := LandscapeSummary{}
	// The rows come network by network, one per fixed point in order.
	k := 0
	for i, n := range nets {
		if k+len(fixedPoints[i]) > len(rows.Points) {
			return s, fmt.Errorf("landscape: %d rows for more fixed points: an internal error", len(rows.Points))
		}
		m, err := landscapeMap(n, rows.Points[k:k+len(fixedPoints[i])])
		if err != nil {
			return s, err
		}
		s.Maps = append(s.Maps, m)
		k += len(fixedPoints[i])
	}
	if k != len(rows.Points) {
		return s, fmt.Errorf("landscape: %d rows for %d fixed points: an internal error", len(rows.Points), k)
	}
	prs := make([]pairRow, len(rows.Pairs))
	for i, p := range rows.Pairs {
		prs[i] = pairRow{method: p.Method, summary: p.ARule == "*", value: p.Value, p: p.PValue, perms: p.Permutations}
	}
	var err error
	if s.Distance, s.Pairs, err = pairMatrices(len(nets), LandscapeMethods, false, 0, prs); err != nil {
		return s, fmt.Errorf("landscape: %w", err)
	}
	return s, nil
}

// landscapeMap summarizes the landscape rows of one network.
func landscapeMap(n *Network, rows []schemas.LandscapeRow) (LandscapeMap, error) {
	m := LandscapeMap{Explained: []Float{}}
	at := map[string]int{}
	// Every constant input of the task, in its order, even one with no point.
	for _, in := range n.Setup.Task.FixedPointInputs() {
		at[in.Name] = len(m.Inputs)
		m.Inputs = append(m.Inputs, LandscapeInput{Input: in.Name, ByIndex: []int{}, Connections: []Connection{}, Points: []LandscapePoint{}})
	}
	for _, r := range rows {
		k, ok := at[r.Input]
		if !ok || r.Rule != n.Unit.Rule || r.Seed != n.Seed {
			return m, fmt.Errorf("landscape: row %s/%d input %q is not of network %s: an internal error", r.Rule, r.Seed, r.Input, n.Unit.ID)
		}
		if len(m.Explained) == 0 {
			m.Explained = floats(r.Explained)
		}
		s := &m.Inputs[k]
		switch {
		case r.Slow:
			s.Slow++
		case r.Index >= 0:
			for len(s.ByIndex) <= int(r.Index) {
				s.ByIndex = append(s.ByIndex, 0)
			}
			s.ByIndex[r.Index]++
		}
		if len(r.Connects) == 2 {
			s.Connections = append(s.Connections, Connection{Saddle: r.Point, Attractors: [2]int32{r.Connects[0], r.Connects[1]}})
		}
		s.Points = append(s.Points, LandscapePoint{Point: r.Point, Index: r.Index, Type: r.Type, Slow: r.Slow, PC: floats(r.PC), Connects: r.Connects})
	}
	return m, nil
}

// ByIndexText renders the counts by index: "1 stable, 2 index 1", "-"
// for none.
func (in LandscapeInput) ByIndexText() string {
	var parts []string
	for k, v := range in.ByIndex {
		switch {
		case v == 0:
		case k == 0:
			parts = append(parts, fmt.Sprintf("%d stable", v))
		default:
			parts = append(parts, fmt.Sprintf("%d index %d", v, k))
		}
	}
	return orDash(parts, ", ")
}

// ConnectionsText renders the connections: "#1 → #0, #2; #3 → #0, none",
// "-" for none.
func (in LandscapeInput) ConnectionsText() string {
	end := func(p int32) string {
		if p < 0 {
			return "none"
		}
		return fmt.Sprintf("#%d", p)
	}
	var parts []string
	for _, c := range in.Connections {
		parts = append(parts, fmt.Sprintf("#%d → %s, %s", c.Saddle, end(c.Attractors[0]), end(c.Attractors[1])))
	}
	return orDash(parts, "; ")
}

// ExplainedText renders the explained fractions: "PC1 71.2%, PC2 20.1%
// (total 91.3%)".
func (m LandscapeMap) ExplainedText() string {
	var parts []string
	var total float64
	for k, v := range m.Explained {
		if math.IsNaN(float64(v)) {
			continue
		}
		total += float64(v)
		parts = append(parts, fmt.Sprintf("PC%d %.1f%%", k+1, 100*float64(v)))
	}
	if len(parts) == 0 {
		return "n/a (no fixed or slow point)"
	}
	return fmt.Sprintf("%s (total %.1f%%)", strings.Join(parts, ", "), 100*total)
}
