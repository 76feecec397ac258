package report

import (
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

// DSADistances is one task's matrix of one dsa_pairs method over its final
// networks, with the method's rule-comparison rows.
type DSADistances struct {
	Task, Method string
	Networks     []NetworkID // sorted by rule, then seed
	D            []float64   // n×n, row-major; 0 on the diagonal, NaN where no pair was measured
	// Within is the seed-stratified test ("within_vs_between:<method>"),
	// SameSeed the mean distance of same-seed networks of different rules
	// ("same_seed_between:<method>"); nil when absent.
	Within, SameSeed *schemas.DSAPairRow
}

// DSAMatrices assembles, per task, the distance matrix of method over the
// final networks from the dsa_pairs rows, sorted by task.
func DSAMatrices(pairs []schemas.DSAPairRow, method string) []DSADistances {
	byTask := map[string][]schemas.DSAPairRow{}
	within, same := map[string]*schemas.DSAPairRow{}, map[string]*schemas.DSAPairRow{}
	for _, r := range pairs {
		switch {
		case r.Method == method && r.ANetwork == "final" && r.BNetwork == "final":
			byTask[r.Task] = append(byTask[r.Task], r)
		case r.Method == "within_vs_between:"+method:
			within[r.Task] = &r
		case r.Method == "same_seed_between:"+method:
			same[r.Task] = &r
		}
	}
	var out []DSADistances
	for _, t := range slices.Sorted(maps.Keys(byTask)) {
		ids, d := pairMatrix(byTask[t], func(r *schemas.DSAPairRow) (NetworkID, NetworkID) {
			return NetworkID{r.ARule, r.ASeed}, NetworkID{r.BRule, r.BSeed}
		}, func(r *schemas.DSAPairRow) float64 { return r.Value }, 0)
		out = append(out, DSADistances{Task: t, Method: method, Networks: ids, D: d, Within: within[t], SameSeed: same[t]})
	}
	return out
}

// dsaMethodNames describe the methods dsaFigures draws.
var dsaMethodNames = map[string]string{
	"dsa":      "DSA distance (radians: angle between the fitted operators after the best orthogonal change of coordinates)",
	"spectral": "spectral distance (1-Wasserstein distance between the operators' eigenvalues)",
}

// dsaFigures draws, per task, the DSA and spectral distance matrices of the
// final networks (rule blocks labelled, each with its colour bar) and the
// operators' eigenvalues in the complex plane, coloured by rule.
func dsaFigures(d *Data, pal rulePalette) ([]Figure, error) {
	mats := map[string][]DSADistances{}
	var tasks []string
	for _, m := range []string{"dsa", "spectral"} {
		for _, x := range DSAMatrices(d.DSAPairs, m) {
			mats[x.Task] = append(mats[x.Task], x)
			tasks = append(tasks, x.Task)
		}
	}
	for _, r := range d.DSAOperators {
		tasks = append(tasks, r.Task)
	}
	slices.Sort(tasks)
	tasks = slices.Compact(tasks)
	var figs []Figure
	for _, task := range tasks {
		var row []*plot.Plot
		var notes []string
		for _, m := range mats[task] {
			hm, scale, err := distancePanel(m)
			if err != nil {
				return nil, err
			}
			row = append(row, hm)
			var order []string
			for _, id := range m.Networks {
				order = append(order, fmt.Sprintf("%s/%d", id.Rule, id.Seed))
			}
			seeds := ""
			if len(m.Networks) <= 40 {
				seeds = " seeds along the bottom,"
			}
			note := fmt.Sprintf("%s (%s) of every pair of final networks, %s; rows top to bottom and columns left to right in the order %s (rule blocks labelled on the left,%s blue lines between rules).",
				m.Method, dsaMethodNames[m.Method], scale, strings.Join(order, ", "), seeds)
			if w := m.Within; w != nil {
				note += fmt.Sprintf(" Mean between-rule − mean within-rule %s over pairs of different seeds %.3g, seed-stratified permutation p = %.3g (%d permutations).",
					m.Method, w.Value, w.PValue, w.Permutations)
			} else {
				note += fmt.Sprintf(" No within- vs between-rule test of %s (one rule, no permutations, or no within-rule pair across seeds).", m.Method)
			}
			if s := m.SameSeed; s != nil {
				note += fmt.Sprintf(" Mean %s of same-seed networks of different rules (shared W⁰) %.3g.", m.Method, s.Value)
			}
			notes = append(notes, note)
		}
		ev, n, err := eigenPlot(task, d.DSAOperators, pal)
		if err != nil {
			return nil, err
		}
		if ev != nil {
			row = append(row, ev)
			notes = append(notes, fmt.Sprintf("Last panel: the eigenvalues of the %d networks' fitted one-step operators (dsa_operators) in the complex plane, coloured by rule, with the unit circle (modulus 1: a neutral direction, such as a line attractor or a rotation; inside: decay).", n))
		}
		if len(row) == 0 {
			continue
		}
		r, err := renderGrid([][]*plot.Plot{row})
		if err != nil {
			return nil, err
		}
		src := append(d.sources(schemas.DSAPairs), d.sources(schemas.DSAOperators)...)
		figs = append(figs, Figure{ID: "fig-dsa-" + task, Title: "Dynamical similarity: " + task,
			Caption: strings.Join(notes, " "), Sources: src, render: r})
	}
	return figs, nil
}

// distancePanel draws one distance matrix with its rule blocks labelled
// and a colour bar with its scale on its right (blockMatrixPanel), from 0
// to its robust top (robustTop), and returns the scale in words.
func distancePanel(m DSADistances) (hm *plot.Plot, scale string, err error) {
	s := colourScale{Pal: moreland.ExtendedBlackBody().Palette(64)}
	s.Hi, s.Clipped = robustTop(m.D, len(m.Networks))
	scale = scaleText(s)
	if s.Hi == 0 {
		s.Hi, scale = 1, "all 0 (black)"
	}
	hm, err = blockMatrixPanel(fmt.Sprintf("%s: %s, %d networks", m.Task, m.Method, len(m.Networks)), m.Networks, m.D, s)
	return hm, scale, err
}

// eigenPlot draws the eigenvalues of task's final operators, coloured by
// rule, with the unit circle; nil when there are none.
func eigenPlot(task string, ops []schemas.DSAOperatorRow, pal rulePalette) (*plot.Plot, int, error) {
	byRule := map[string]plotter.XYs{}
	n := 0
	for _, r := range ops {
		if r.Task != task || r.Network != "final" {
			continue
		}
		n++
		for k := range r.EigenRe {
			if finite(r.EigenRe[k]) && finite(r.EigenIm[k]) {
				byRule[r.Rule] = append(byRule[r.Rule], plotter.XY{X: r.EigenRe[k], Y: r.EigenIm[k]})
			}
		}
	}
	if n == 0 {
		return nil, 0, nil
	}
	p := newPlot(task+": operator eigenvalues", "Re λ", "Im λ")
	var circle plotter.XYs
	for k := range 129 {
		th := 2 * math.Pi * float64(k) / 128
		circle = append(circle, plotter.XY{X: math.Cos(th), Y: math.Sin(th)})
	}
	l, err := plotter.NewLine(circle)
	if err != nil {
		return nil, 0, err
	}
	l.Color = color.RGBA{160, 160, 160, 255}
	p.Add(l)
	for _, rule := range slices.Sorted(maps.Keys(byRule)) {
		sc, err := plotter.NewScatter(byRule[rule])
		if err != nil {
			return nil, 0, err
		}
		sc.Color = pal.of(rule)
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(2)
		p.Add(sc)
		p.Legend.Add(rule, sc)
	}
	return p, n, nil
}
