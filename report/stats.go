package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
	"rulescape/core/stats"
	"rulescape/schemas"
)

// Band is a median with its interquartile band at each x.
type Band struct {
	X      []float64
	Median []float64
	Q25    []float64
	Q75    []float64
}

// Curve is the learning curve of one rule on one task over its seeds.
type Curve struct {
	Task, Rule string
	Seeds      int
	Band       Band // over seeds, of each seed's smoothed error, per trial
	// Criterion is the median over the seeds that met the learning
	// criterion of their trials to criterion; NaN when none did.
	Criterion float64
	Reached   int // seeds that met the criterion
}

// LearningCurves returns one Curve per task and rule, sorted by task and
// rule: at trial h, the median and quartiles over seeds of each seed's
// error averaged over the trailing window of trials max(0, h−window+1)…h
// (window ≤ 1: the raw errors). NaN errors (a diverged network) are left
// out of the averages and quantiles. The criterion marks come from the
// networks' trials to criterion.
func LearningCurves(rows []schemas.LearningCurveRow, nets []Network, window int) []Curve {
	type key struct{ task, rule string }
	per := map[key]map[int64][]float64{} // errors by trial, per seed
	for _, r := range rows {
		k := key{r.Task, r.Rule}
		if per[k] == nil {
			per[k] = map[int64][]float64{}
		}
		e := per[k][r.Seed]
		for int64(len(e)) <= r.Trial {
			e = append(e, math.NaN())
		}
		e[r.Trial] = r.Error
		per[k][r.Seed] = e
	}
	keys := make([]key, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	out := make([]Curve, 0, len(keys))
	for _, k := range keys {
		seeds := per[k]
		ids := make([]int64, 0, len(seeds))
		trials := 0
		for s, e := range seeds {
			ids = append(ids, s)
			trials = max(trials, len(e))
		}
		slices.Sort(ids)
		smooth := make([][]float64, len(ids))
		for i, s := range ids {
			smooth[i] = trailingMean(seeds[s], window)
		}
		c := Curve{Task: k.task, Rule: k.rule, Seeds: len(ids), Criterion: math.NaN()}
		col := make([]float64, 0, len(ids))
		for h := range trials {
			col = col[:0]
			for _, e := range smooth {
				if h < len(e) {
					col = append(col, e[h])
				}
			}
			c.Band.X = append(c.Band.X, float64(h))
			c.Band.Median = append(c.Band.Median, stats.Quantile(col, 0.5))
			c.Band.Q25 = append(c.Band.Q25, stats.Quantile(col, 0.25))
			c.Band.Q75 = append(c.Band.Q75, stats.Quantile(col, 0.75))
		}
		var ttc []float64
		for _, n := range nets {
			if n.Task == k.task && n.Rule == k.rule && n.TrialsToCriterion >= 0 {
				ttc = append(ttc, float64(n.TrialsToCriterion))
			}
		}
		c.Reached = len(ttc)
		if len(ttc) > 0 {
			c.Criterion = stats.Quantile(ttc, 0.5)
		}
		out = append(out, c)
	}
	return out
}

// trailingMean returns the mean of the non-NaN values of e over the
// trailing window ending at each index (NaN when the window has none).
func trailingMean(e []float64, window int) []float64 {
	window = max(window, 1)
	out := make([]float64, len(e))
	var sum float64
	var n int
	for i, v := range e {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
		if j := i - window; j >= 0 && !math.IsNaN(e[j]) {
			sum -= e[j]
			n--
		}
		if n > 0 {
			out[i] = sum / float64(n)
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// MeanRDM is the mean RDM of one rule's networks on one task.
type MeanRDM struct {
	Task, Rule string
	Metric     string
	Networks   int
	K          int
	Labels     []string
	D          []float64 // K×K, row-major
}

// MeanRDMs averages the RDMs of the final networks per task and rule
// (entrywise over seeds; RDMs with another K or other labels than the
// first of their group are left out), sorted by task and rule.
func MeanRDMs(rows []schemas.RDMRow) []MeanRDM {
	type key struct{ task, rule string }
	groups := map[key]*MeanRDM{}
	var keys []key
	for _, r := range rows {
		if r.Network != "final" {
			continue
		}
		k := key{r.Task, r.Rule}
		g := groups[k]
		if g == nil {
			g = &MeanRDM{Task: r.Task, Rule: r.Rule, Metric: r.Metric, K: int(r.K), Labels: r.Labels, D: make([]float64, len(r.D))}
			groups[k] = g
			keys = append(keys, k)
		}
		if int(r.K) != g.K || !slices.Equal(r.Labels, g.Labels) {
			continue
		}
		for i, v := range r.D {
			g.D[i] += v
		}
		g.Networks++
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	out := make([]MeanRDM, len(keys))
	for i, k := range keys {
		g := groups[k]
		for j := range g.D {
			g.D[j] /= float64(g.Networks)
		}
		out[i] = *g
	}
	return out
}

// NetworkID names one network of a similarity matrix.
type NetworkID struct {
	Rule string
	Seed int64
}

// Similarity is the network × network similarity matrix of one task under
// one RSA measure, with its classical MDS embedding.
type Similarity struct {
	Task, Method string
	Networks     []NetworkID // sorted by rule, then seed
	S            []float64   // n×n similarities, row-major; 1 on the diagonal
	// MDS holds the n 2-D coordinates of the classical MDS of the
	// distances 1 − S (nil with fewer than 3 networks).
	MDS [][2]float64
	// NegativeFraction is the MDS's share of negative eigenvalues.
	NegativeFraction float64
	// Within is the permutation test of within-rule against between-rule
	// similarity when the RSA stage ran one (value and p-value).
	Within *schemas.RSAPairRow
}

// Similarities builds, per task, the similarity matrix of the final
// networks from the rsa_pairs rows of method (e.g. "spearman") and embeds
// it by classical MDS (rsa.ClassicalMDS of 1 − S, clamped at 0), sorted by
// task.
func Similarities(rows []schemas.RSAPairRow, method string) ([]Similarity, error) {
	byTask := map[string][]schemas.RSAPairRow{}
	var within = map[string]*schemas.RSAPairRow{}
	for _, r := range rows {
		switch {
		case r.Method == method && r.ANetwork == "final" && r.BNetwork == "final":
			byTask[r.Task] = append(byTask[r.Task], r)
		case r.Method == "within_vs_between:"+method:
			within[r.Task] = &r
		}
	}
	tasks := make([]string, 0, len(byTask))
	for t := range byTask {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	var out []Similarity
	for _, t := range tasks {
		ids, sim := pairMatrix(byTask[t], func(r *schemas.RSAPairRow) (NetworkID, NetworkID) {
			return NetworkID{r.ARule, r.ASeed}, NetworkID{r.BRule, r.BSeed}
		}, func(r *schemas.RSAPairRow) float64 { return r.Value }, 1)
		n := len(ids)
		s := Similarity{Task: t, Method: method, Networks: ids, S: sim, Within: within[t]}
		if n >= 3 {
			d := mat.NewSymDense(n, nil)
			ok := true
			for i := range n {
				for j := i + 1; j < n; j++ {
					v := s.S[i*n+j]
					if math.IsNaN(v) {
						ok = false
					}
					d.SetSym(i, j, max(0, 1-v))
				}
			}
			if ok {
				m, err := rsa.ClassicalMDS(d, 2)
				if err != nil {
					return nil, fmt.Errorf("report: MDS of the %s networks of task %s: %w", method, t, err)
				}
				s.MDS = make([][2]float64, n)
				for i := range n {
					s.MDS[i] = [2]float64{m.Coords.At(i, 0), m.Coords.At(i, 1)}
				}
				s.NegativeFraction = m.NegativeFraction
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Spectrum is the sensitivity spectrum of one rule's networks on one task.
type Spectrum struct {
	Task, Rule string
	// Seeds holds each network's singular values divided by the largest
	// (σ_i/σ_1), by seed.
	Seeds  [][]float64
	Median []float64 // the median over seeds at each index
}

// Spectra groups the singular values of G_S of the final networks per task
// and rule, normalized by each network's largest, sorted by task and rule.
func Spectra(rows []schemas.SensitivityRow) []Spectrum {
	type key struct{ task, rule string }
	type seeded struct {
		seed int64
		s    []float64
	}
	groups := map[key][]seeded{}
	for _, r := range rows {
		if r.Network != "final" || len(r.SingularValues) == 0 {
			continue
		}
		s := make([]float64, len(r.SingularValues))
		top := r.SingularValues[0]
		for i, v := range r.SingularValues {
			s[i] = v / top
		}
		k := key{r.Task, r.Rule}
		groups[k] = append(groups[k], seeded{r.Seed, s})
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	out := make([]Spectrum, len(keys))
	for i, k := range keys {
		g := groups[k]
		slices.SortFunc(g, func(a, b seeded) int { return cmp.Compare(a.seed, b.seed) })
		sp := Spectrum{Task: k.task, Rule: k.rule}
		n := 0
		for _, s := range g {
			sp.Seeds = append(sp.Seeds, s.s)
			n = max(n, len(s.s))
		}
		col := make([]float64, 0, len(g))
		for j := range n {
			col = col[:0]
			for _, s := range g {
				if j < len(s.s) {
					col = append(col, s.s[j])
				}
			}
			sp.Median = append(sp.Median, stats.Quantile(col, 0.5))
		}
		out[i] = sp
	}
	return out
}

// ProjectedPoint is one fixed or slow point on the principal axes.
type ProjectedPoint struct {
	PC    []float64 // coordinates on the (up to 3) axes
	Type  string    // "stable", "saddle" or "unstable"
	Slow  bool
	Input string
}

// FixedPointMap is the fixed points of one network drawn on the principal
// axes of its trajectories: as the landscape stage projected them, or of
// its condition-averaged trajectories (trajectories dataset), or, when the
// campaign has neither for that network, of the points themselves.
type FixedPointMap struct {
	Task, Rule string
	Seed       int64
	// Basis names the axes: "landscape" (the landscape rows' pc and
	// explained: the top principal axes of the network's trajectories),
	// "trajectories" or "fixed points".
	Basis     string
	Explained []float64 // fraction of the basis's variance on each axis
	Points    []ProjectedPoint
	// Edges join an index-1 saddle to an attractor its unstable manifold
	// reaches (landscape connects), as indices into Points, saddle first;
	// only with the landscape basis.
	Edges [][2]int
	// Trajectories are the projected condition-averaged trajectories, by
	// condition (empty when the basis is the fixed points).
	Trajectories [][][]float64
	Conditions   []int32
}

// FixedPointMaps returns, per task and rule, the map of the final network
// of the lowest seed that has fixed points, on at most dims (2 or 3)
// principal axes, sorted by task and rule. When land has a row for every
// fixed_points row of that network, the points are the landscape rows, at
// their pc coordinates, with the explained variance of the landscape and
// the saddle → attractor edges of connects; otherwise the axes are computed
// here (from trajs, or from the points).
func FixedPointMaps(fps []schemas.FixedPointRow, trajs []schemas.TrajectoryRow, land []schemas.LandscapeRow, dims int) ([]FixedPointMap, error) {
	type key struct {
		task, rule string
	}
	seedOf := map[key]int64{}
	for _, p := range fps {
		k := key{p.Task, p.Rule}
		if s, ok := seedOf[k]; p.Network == "final" && (!ok || p.Seed < s) {
			seedOf[k] = p.Seed
		}
	}
	keys := make([]key, 0, len(seedOf))
	for k := range seedOf {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	var out []FixedPointMap
	for _, k := range keys {
		seed := seedOf[k]
		m := FixedPointMap{Task: k.task, Rule: k.rule, Seed: seed}
		var pts []schemas.FixedPointRow
		for _, p := range fps {
			if p.Task == k.task && p.Rule == k.rule && p.Seed == seed && p.Network == "final" {
				pts = append(pts, p)
			}
		}
		if lm, ok := landscapeMap(m, len(pts), land, dims); ok {
			out = append(out, lm)
			continue
		}
		byCond := map[int32][]schemas.TrajectoryRow{}
		var basis [][]float64
		for _, r := range trajs {
			if r.Task == k.task && r.Rule == k.rule && r.Seed == seed && r.Network == "final" && len(r.X) == len(pts[0].X) {
				byCond[r.Condition] = append(byCond[r.Condition], r)
				basis = append(basis, f64(r.X))
			}
		}
		m.Basis = "trajectories"
		if len(basis) < 2 {
			m.Basis, basis = "fixed points", nil
			for _, p := range pts {
				basis = append(basis, p.X)
			}
		}
		pca, err := fitPCA(basis, dims)
		if err != nil {
			return nil, fmt.Errorf("report: fixed points of %s/%s seed %d: %w", k.task, k.rule, seed, err)
		}
		m.Explained = pca.Explained
		for _, p := range pts {
			m.Points = append(m.Points, ProjectedPoint{PC: pca.Project(p.X), Type: p.Type, Slow: p.Slow, Input: p.Input})
		}
		if m.Basis == "trajectories" {
			conds := make([]int32, 0, len(byCond))
			for c := range byCond {
				conds = append(conds, c)
			}
			slices.Sort(conds)
			for _, c := range conds {
				rs := byCond[c]
				slices.SortFunc(rs, func(a, b schemas.TrajectoryRow) int { return cmp.Compare(a.T, b.T) })
				var line [][]float64
				for _, r := range rs {
					line = append(line, pca.Project(f64(r.X)))
				}
				m.Trajectories = append(m.Trajectories, line)
				m.Conditions = append(m.Conditions, c)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// fitPCA is stats.FitPCA, except that a single point gets one
// zero-variance axis along its first coordinate (every point at 0).
func fitPCA(x [][]float64, dims int) (*stats.PCA, error) {
	if len(x) != 1 || len(x[0]) == 0 {
		return stats.FitPCA(x, dims)
	}
	axis := make([]float64, len(x[0]))
	axis[0] = 1
	return &stats.PCA{Mean: slices.Clone(x[0]), Axes: [][]float64{axis}, Variance: []float64{0}, Explained: []float64{0}}, nil
}

// landscapeMap fills m (task, rule and seed set) from the landscape rows
// of its final network, if there is one for each of its n fixed and slow
// points.
func landscapeMap(m FixedPointMap, n int, land []schemas.LandscapeRow, dims int) (FixedPointMap, bool) {
	var rows []schemas.LandscapeRow
	for _, r := range land {
		if r.Task == m.Task && r.Rule == m.Rule && r.Seed == m.Seed && r.Network == "final" {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 || len(rows) != n || len(rows[0].PC) == 0 {
		return m, false
	}
	type at struct {
		input string
		point int32
	}
	index := map[at]int{}
	m.Basis = "landscape"
	k := min(dims, len(rows[0].PC))
	m.Explained = slices.Clone(rows[0].Explained[:min(k, len(rows[0].Explained))])
	for i, r := range rows {
		if len(r.PC) < k {
			return m, false
		}
		index[at{r.Input, r.Point}] = i
		m.Points = append(m.Points, ProjectedPoint{PC: slices.Clone(r.PC[:k]), Type: r.Type, Slow: r.Slow, Input: r.Input})
	}
	for i, r := range rows {
		for _, c := range r.Connects {
			j, ok := index[at{r.Input, c}]
			if c < 0 || !ok || slices.Contains(m.Edges, [2]int{i, j}) {
				continue
			}
			m.Edges = append(m.Edges, [2]int{i, j})
		}
	}
	return m, true
}

func f64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// networkIndex returns the networks the pair rows name, sorted by rule then
// seed, and each one's position in that order.
// pairMatrix indexes the networks of pair rows (networkIndex) and returns
// them with the n×n symmetric matrix of the rows' values: diag on the
// diagonal, NaN where no pair was measured.
func pairMatrix[R any](rows []R, ends func(*R) (NetworkID, NetworkID), value func(*R) float64, diag float64) ([]NetworkID, []float64) {
	ids, idx := networkIndex(rows, ends)
	n := len(ids)
	m := make([]float64, n*n)
	for i := range m {
		m[i] = math.NaN()
	}
	for i := range n {
		m[i*n+i] = diag
	}
	for k := range rows {
		a, b := ends(&rows[k])
		i, j := idx[a], idx[b]
		m[i*n+j], m[j*n+i] = value(&rows[k]), value(&rows[k])
	}
	return ids, m
}

func networkIndex[R any](rows []R, ends func(*R) (NetworkID, NetworkID)) ([]NetworkID, map[NetworkID]int) {
	idx := map[NetworkID]int{}
	var ids []NetworkID
	for i := range rows {
		a, b := ends(&rows[i])
		for _, id := range []NetworkID{a, b} {
			if _, ok := idx[id]; !ok {
				idx[id] = 0
				ids = append(ids, id)
			}
		}
	}
	slices.SortFunc(ids, func(a, b NetworkID) int { return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Seed, b.Seed)) })
	for i, id := range ids {
		idx[id] = i
	}
	return ids, idx
}
