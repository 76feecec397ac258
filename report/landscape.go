package report

import (
	"cmp"
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"rulescape/schemas"
)

// IndexBins is the number of index classes the landscape figure counts
// fixed points in: index 0 (attractors), 1, 2, and 3 or more.
const IndexBins = 4

// indexLabels name the index classes on the figure's axis.
var indexLabels = [IndexBins]string{"0 (stable)", "1", "2", "≥ 3"}

// IndexCount is the number of fixed points by index of one rule's final
// networks on one task.
type IndexCount struct {
	Task, Rule string
	Inputs     []string // the task's constant inputs the counts are summed over, in row order
	Seeds      []int64  // the rule's networks, by seed
	// Counts[i][b] is the number of fixed points of network Seeds[i] with
	// index b (the last class: index IndexBins−1 or more), summed over
	// the inputs. Slow points and fixed points of unknown index (−1) are
	// not counted.
	Counts [][]int
	// Mean, Min and Max are the mean, smallest and largest of Counts[·][b]
	// over the networks, per index class b.
	Mean, Min, Max []float64
	Slow, Unknown  int // slow points and fixed points of unknown index left out, over the networks
}

// IndexCounts counts the fixed points of each final network by index from
// the landscape rows, per task and rule, sorted by task and rule. The
// networks of a rule are those with landscape rows and those named by a
// topology pair of landscape_pairs (a network without any fixed point has
// no landscape row; it counts zero in every class).
func IndexCounts(rows []schemas.LandscapeRow, pairs []schemas.LandscapePairRow) []IndexCount {
	type net struct {
		task, rule string
		seed       int64
	}
	counts := map[net]*[IndexBins]int{}
	slow, unknown := map[net]int{}, map[net]int{}
	inputs := map[string][]string{}
	see := func(n net) {
		if counts[n] == nil {
			counts[n] = &[IndexBins]int{}
		}
	}
	for _, r := range rows {
		if r.Network != "final" {
			continue
		}
		n := net{r.Task, r.Rule, r.Seed}
		see(n)
		if !slices.Contains(inputs[r.Task], r.Input) {
			inputs[r.Task] = append(inputs[r.Task], r.Input)
		}
		switch {
		case r.Slow:
			slow[n]++
		case r.Index < 0:
			unknown[n]++
		default:
			counts[n][min(int(r.Index), IndexBins-1)]++
		}
	}
	for _, p := range pairs {
		if p.Method == "topology" && p.ANetwork == "final" && p.BNetwork == "final" {
			see(net{p.Task, p.ARule, p.ASeed})
			see(net{p.Task, p.BRule, p.BSeed})
		}
	}
	nets := make([]net, 0, len(counts))
	for n := range counts {
		nets = append(nets, n)
	}
	slices.SortFunc(nets, func(a, b net) int {
		return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule), cmp.Compare(a.seed, b.seed))
	})
	var out []IndexCount
	for _, n := range nets {
		if len(out) == 0 || out[len(out)-1].Task != n.task || out[len(out)-1].Rule != n.rule {
			out = append(out, IndexCount{Task: n.task, Rule: n.rule, Inputs: inputs[n.task]})
		}
		c := &out[len(out)-1]
		c.Seeds = append(c.Seeds, n.seed)
		c.Counts = append(c.Counts, counts[n][:])
		c.Slow += slow[n]
		c.Unknown += unknown[n]
	}
	for i := range out {
		c := &out[i]
		for b := range IndexBins {
			lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
			for _, k := range c.Counts {
				v := float64(k[b])
				lo, hi, sum = min(lo, v), max(hi, v), sum+v
			}
			c.Mean = append(c.Mean, sum/float64(len(c.Counts)))
			c.Min, c.Max = append(c.Min, lo), append(c.Max, hi)
		}
	}
	return out
}

// TopologyDistances is the network × network topology distance matrix of
// one task's final networks (landscape_pairs, method "topology") with the
// stage's rule comparison.
type TopologyDistances struct {
	Task     string
	Networks []NetworkID // sorted by rule, then seed
	D        []float64   // n×n distances, row-major; 0 on the diagonal, NaN for a pair without a row
	// Within is the seed-stratified test of between- against within-rule
	// distance (method "within_vs_between:topology"), nil when the stage
	// recorded none.
	Within *schemas.LandscapePairRow
	// SameSeed is the mean distance of networks of different rules and the
	// same seed (method "same_seed_between:topology"), nil when absent.
	SameSeed *schemas.LandscapePairRow
}

// TopologyMatrices assembles, per task, the topology distance matrix of
// the final networks from the landscape_pairs rows, sorted by task.
func TopologyMatrices(pairs []schemas.LandscapePairRow) []TopologyDistances {
	byTask := map[string][]schemas.LandscapePairRow{}
	within, same := map[string]*schemas.LandscapePairRow{}, map[string]*schemas.LandscapePairRow{}
	for _, r := range pairs {
		switch {
		case r.Method == "topology" && r.ANetwork == "final" && r.BNetwork == "final":
			byTask[r.Task] = append(byTask[r.Task], r)
		case r.Method == "within_vs_between:topology":
			within[r.Task] = &r
		case r.Method == "same_seed_between:topology":
			same[r.Task] = &r
		}
	}
	var out []TopologyDistances
	for _, t := range slices.Sorted(maps.Keys(byTask)) {
		ids, d := pairMatrix(byTask[t], func(r *schemas.LandscapePairRow) (NetworkID, NetworkID) {
			return NetworkID{r.ARule, r.ASeed}, NetworkID{r.BRule, r.BSeed}
		}, func(r *schemas.LandscapePairRow) float64 { return r.Value }, 0)
		out = append(out, TopologyDistances{Task: t, Networks: ids, D: d, Within: within[t], SameSeed: same[t]})
	}
	return out
}

// ruleComparison states, for one task, the landscape stage's test of
// within- against between-rule topology and the RSA stage's tests of
// within- against between-rule geometry (rsa_pairs), with their numbers.
func ruleComparison(task string, within, same *schemas.LandscapePairRow, rsaRows []schemas.RSAPairRow) string {
	var b strings.Builder
	if within != nil {
		fmt.Fprintf(&b, "Topology (landscape_pairs): mean between-rule − mean within-rule distance over pairs of different seeds %.3g, seed-stratified permutation p = %.3g (%d permutations)",
			within.Value, within.PValue, within.Permutations)
	} else {
		b.WriteString("Topology (landscape_pairs): no within- vs between-rule test (one rule, no permutations, or no within-rule pair across seeds)")
	}
	if same != nil {
		fmt.Fprintf(&b, "; mean distance of same-seed networks of different rules %.3g", same.Value)
	}
	b.WriteString(".")
	var geo []string
	for _, m := range []struct{ method, name string }{{"spearman", "Spearman correlation of RDMs"}, {"cka", "linear CKA"}} {
		var w, s *schemas.RSAPairRow
		for _, r := range rsaRows {
			switch {
			case r.Task == task && r.Method == "within_vs_between:"+m.method:
				w = &r
			case r.Task == task && r.Method == "same_seed_between:"+m.method:
				s = &r
			}
		}
		if w == nil && s == nil {
			continue
		}
		var t string
		if w != nil {
			t = fmt.Sprintf("%s: mean within-rule − mean between-rule similarity %.3g, p = %.3g (%d permutations)", m.name, w.Value, w.PValue, w.Permutations)
		} else {
			t = m.name + ": no within- vs between-rule test"
		}
		if s != nil {
			t += fmt.Sprintf(", same-seed between-rule similarity %.3g", s.Value)
		}
		geo = append(geo, t)
	}
	if len(geo) > 0 {
		b.WriteString(" Geometry (rsa_pairs): " + strings.Join(geo, "; ") + ".")
	} else {
		b.WriteString(" Geometry: the campaign has no RSA test of this task.")
	}
	return b.String()
}

// landscapeFigures draws one figure per task: the number of fixed points
// by index per rule (mean over the rule's networks, min–max whiskers, one
// dot per network) and the network × network topology distance matrix
// ordered by rule, with the rule comparisons of the landscape and RSA
// stages in the caption.
func landscapeFigures(d *Data, pal rulePalette) ([]Figure, error) {
	counts := IndexCounts(d.Landscape, d.LandscapePairs)
	mats := TopologyMatrices(d.LandscapePairs)
	var tasks []string
	for _, c := range counts {
		tasks = append(tasks, c.Task)
	}
	for _, m := range mats {
		tasks = append(tasks, m.Task)
	}
	slices.Sort(tasks)
	tasks = slices.Compact(tasks)
	var figs []Figure
	for _, task := range tasks {
		var row []*plot.Plot
		var notes []string
		var tc []IndexCount
		for _, c := range counts {
			if c.Task == task {
				tc = append(tc, c)
			}
		}
		if len(tc) > 0 {
			p, err := indexCountPlot(task, tc, pal)
			if err != nil {
				return nil, err
			}
			row = append(row, p)
			var parts []string
			slow, unknown := 0, 0
			for _, c := range tc {
				var bins []string
				for b := range IndexBins {
					bins = append(bins, fmt.Sprintf("%s: %.3g [%g–%g]", strings.TrimSuffix(indexLabels[b], " (stable)"), c.Mean[b], c.Min[b], c.Max[b]))
				}
				parts = append(parts, fmt.Sprintf("%s (%d networks) %s", c.Rule, len(c.Seeds), strings.Join(bins, ", ")))
				slow += c.Slow
				unknown += c.Unknown
			}
			inputs := "inputs " + strings.Join(tc[0].Inputs, ", ")
			if len(tc[0].Inputs) == 0 {
				inputs = "inputs (none has a landscape row)"
			}
			note := fmt.Sprintf("Left: fixed points per network by index (number of unstable dimensions; 0 = stable), summed over the %s; bar: mean over the rule's final networks, whisker: min–max, dots: networks. Slow points are not counted (%d left out)",
				inputs, slow)
			if unknown > 0 {
				note += fmt.Sprintf(", nor fixed points of unknown index (%d)", unknown)
			}
			notes = append(notes, note+". Mean [min–max] per index: "+strings.Join(parts, "; ")+".")
		}
		var within, same *schemas.LandscapePairRow
		for _, m := range mats {
			if m.Task != task {
				continue
			}
			within, same = m.Within, m.SameSeed
			n := len(m.Networks)
			sc := colourScale{Pal: moreland.ExtendedBlackBody().Palette(64)}
			sc.Hi, sc.Clipped = robustTop(m.D, n)
			scale := scaleText(sc)
			if sc.Hi == 0 {
				sc.Hi, scale = 1, "all 0 (black)"
			}
			hm, err := blockMatrixPanel(fmt.Sprintf("%s: topology distance, %d networks", task, n), m.Networks, m.D, sc)
			if err != nil {
				return nil, err
			}
			row = append(row, hm)
			var order []string
			for _, id := range m.Networks {
				order = append(order, fmt.Sprintf("%s/%d", id.Rule, id.Seed))
			}
			notes = append(notes, fmt.Sprintf("Right: topology distance (landscape_pairs, method topology: L1 distance of the counts by index and the saddle → attractor degrees, mean over the inputs) of every pair of final networks, %s; rows top to bottom and columns left to right in the order %s (rule blocks labelled on the left, blue lines between rules).",
				scale, strings.Join(order, ", ")))
		}
		if len(row) == 0 {
			continue
		}
		notes = append(notes, ruleComparison(task, within, same, d.RSAPairs))
		r, err := renderGrid([][]*plot.Plot{row})
		if err != nil {
			return nil, err
		}
		src := append(d.sources(schemas.Landscape), d.sources(schemas.LandscapePairs)...)
		src = append(src, d.sources(schemas.RSAPairs)...)
		figs = append(figs, Figure{ID: "fig-landscape-" + task, Title: "Dynamical landscape: " + task,
			Caption: strings.Join(notes, " "), Sources: src, render: r})
	}
	return figs, nil
}

// indexCountPlot draws the counts by index of one task's rules as grouped
// bars (the mean over networks) with min–max whiskers and a dot per network.
func indexCountPlot(task string, counts []IndexCount, pal rulePalette) (*plot.Plot, error) {
	p := newPlot(task+": fixed points by index", "index (unstable dimensions)", "fixed points per network")
	names := indexLabels[:]
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(IndexBins)-0.5
	p.Y.Min = 0
	nr := len(counts)
	bw := 0.8 / float64(nr)
	hiY := 1.0
	for ri, c := range counts {
		col := pal.of(c.Rule)
		for b := range IndexBins {
			x := float64(b) + (float64(ri)-float64(nr-1)/2)*bw
			hiY = max(hiY, c.Max[b])
			if c.Mean[b] > 0 {
				bar, err := plotter.NewPolygon(plotter.XYs{{X: x - bw/2, Y: 0}, {X: x + bw/2, Y: 0}, {X: x + bw/2, Y: c.Mean[b]}, {X: x - bw/2, Y: c.Mean[b]}})
				if err != nil {
					return nil, err
				}
				bar.Color = fade(col, 170)
				bar.LineStyle.Color = col
				bar.LineStyle.Width = vg.Points(0.5)
				p.Add(bar)
			}
			if c.Max[b] > c.Min[b] {
				for _, xy := range []plotter.XYs{{{X: x, Y: c.Min[b]}, {X: x, Y: c.Max[b]}},
					{{X: x - bw/4, Y: c.Min[b]}, {X: x + bw/4, Y: c.Min[b]}}, {{X: x - bw/4, Y: c.Max[b]}, {X: x + bw/4, Y: c.Max[b]}}} {
					l, err := plotter.NewLine(xy)
					if err != nil {
						return nil, err
					}
					l.Color = color.RGBA{40, 40, 40, 255}
					p.Add(l)
				}
			}
			var dots plotter.XYs
			for i, k := range c.Counts {
				off := 0.0
				if n := len(c.Counts); n > 1 {
					off = (float64(i)/float64(n-1) - 0.5) * bw * 0.6
				}
				dots = append(dots, plotter.XY{X: x + off, Y: float64(k[b])})
			}
			s, err := plotter.NewScatter(dots)
			if err != nil {
				return nil, err
			}
			s.Color = color.RGBA{40, 40, 40, 255}
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(1.8)
			p.Add(s)
		}
		// The legend's swatch is a bar of the rule's colour, drawn or not.
		key, err := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return nil, err
		}
		key.Color, key.LineStyle.Color, key.LineStyle.Width = fade(col, 170), col, vg.Points(0.5)
		p.Legend.Add(fmt.Sprintf("%s (%d networks)", c.Rule, len(c.Seeds)), key)
	}
	p.Y.Max = hiY * 1.15
	return p, nil
}
