package report

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
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
			note := fmt.Sprintf("%s (%s) of every pair of final networks, %s; rows top to bottom and columns left to right in the order %s (rule blocks labelled on the left, seeds along the bottom, blue lines between rules).",
				m.Method, dsaMethodNames[m.Method], scale, strings.Join(order, ", "))
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
// and a colour bar with its scale on its right, and returns the scale in
// words.
func distancePanel(m DSADistances) (hm *plot.Plot, scale string, err error) {
	n := len(m.Networks)
	hi := 0.0
	for _, v := range m.D {
		if finite(v) {
			hi = max(hi, v)
		}
	}
	scale = fmt.Sprintf("colour from 0 (black) to %.3g (white), as the bar on the right", hi)
	if hi == 0 {
		hi, scale = 1, "all 0 (black)"
	}
	hm = heatMap(fmt.Sprintf("%s: %s, %d networks", m.Task, m.Method, n), grid{rows: n, cols: n, v: m.D, flip: true},
		moreland.ExtendedBlackBody().Palette(64), 0, hi)
	// Rule blocks: lines between them, rule names at their centres (y) and
	// seeds per column (x, when they fit).
	var yTicks, xTicks []plot.Tick
	start := 0
	for i := 1; i <= n; i++ {
		if i < n && m.Networks[i].Rule == m.Networks[i-1].Rule {
			continue
		}
		centre := float64(start+i-1) / 2
		yTicks = append(yTicks, plot.Tick{Value: float64(n-1) - centre, Label: m.Networks[start].Rule})
		start = i
		if i == n {
			break
		}
		x, y := float64(i)-0.5, float64(n-i)-0.5
		for _, xy := range []plotter.XYs{{{X: x, Y: -0.5}, {X: x, Y: float64(n) - 0.5}}, {{X: -0.5, Y: y}, {X: float64(n) - 0.5, Y: y}}} {
			l, lerr := plotter.NewLine(xy)
			if lerr != nil {
				return nil, "", lerr
			}
			l.Color = color.RGBA{0, 160, 255, 255}
			l.Width = vg.Points(1)
			hm.Add(l)
		}
	}
	if n <= 40 {
		for i, id := range m.Networks {
			xTicks = append(xTicks, plot.Tick{Value: float64(i), Label: fmt.Sprint(id.Seed)})
		}
	}
	hm.Y.Tick.Marker = plot.ConstantTicks(yTicks)
	hm.X.Tick.Marker = plot.ConstantTicks(xTicks)
	hm.X.Label.Text = "seed"
	// The colour bar: a gap, the bar, room for its labels (in cells).
	fn := float64(n)
	gap, width, room := 0.04*fn+0.2, 0.06*fn+0.3, 0.16*fn+1
	x0 := fn - 0.5 + gap
	if err := addColourBar(hm, moreland.ExtendedBlackBody().Palette(64), x0, width, 0.1, fn, hi); err != nil {
		return nil, "", err
	}
	hm.X.Min, hm.X.Max, hm.Y.Min, hm.Y.Max = -0.5, x0+width+room, -0.5, fn-0.5
	hm.X.Padding, hm.Y.Padding = 0, 0
	// heatMap hides the axes (no line, no ticks); the labels above show
	// on them.
	for _, a := range []*plot.Axis{&hm.X, &hm.Y} {
		a.Tick.Label.Font.Size = vg.Points(7)
		a.Tick.Length = vg.Points(2)
	}
	return hm, scale, nil
}

// addColourBar draws a vertical colour bar of pal over [0, hi] at x0, width
// wide and rows tall (in the cells of the heat map beside it), with its
// scale labelled at 0, hi/2 and hi, labelGap to the right of the bar.
func addColourBar(p *plot.Plot, pal palette.Palette, x0, width, labelGap, rows, hi float64) error {
	hb := plotter.NewHeatMap(barGrid{x0: x0, width: width, n: rows, lo: 0, hi: hi}, pal)
	hb.Min, hb.Max = 0, hi
	p.Add(hb)
	x := x0 + width + labelGap
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    []plotter.XY{{X: x, Y: -0.5}, {X: x, Y: rows/2 - 0.5}, {X: x, Y: rows - 0.5}},
		Labels: []string{"0", fmt.Sprintf("%.3g", hi/2), fmt.Sprintf("%.3g", hi)},
	})
	if err != nil {
		return err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font.Size = vg.Points(7)
		labels.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(labels)
	return nil
}

// barGrid is a vertical colour bar as a 2 × 64 grid: columns at x0 …
// x0 + width, rows spanning the matrix's height n from lo (bottom) to hi.
type barGrid struct {
	x0, width, n, lo, hi float64
}

func (b barGrid) Dims() (c, r int)   { return 2, 64 }
func (b barGrid) Z(_, r int) float64 { return b.lo + (b.hi-b.lo)*float64(r)/63 }
func (b barGrid) X(c int) float64    { return b.x0 + b.width*(0.25+0.5*float64(c)) }
func (b barGrid) Y(r int) float64    { return -0.5 + b.n*(float64(r)+0.5)/64 }

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
