package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"rulescape/core/plasticity"
	"rulescape/schemas"
)

// maxCols is the number of panels per row of a figure.
const maxCols = 3

// tile lays out panels in rows of at most maxCols.
func tile(panels []*plot.Plot) [][]*plot.Plot {
	var rows [][]*plot.Plot
	for i := 0; i < len(panels); i += maxCols {
		rows = append(rows, panels[i:min(i+maxCols, len(panels))])
	}
	return rows
}

// curveWindow is the smoothing window of the learning curves: 1/50 of
// the trials, at least 4 (consecutive trials alternate between conditions
// of different difficulty) and at most all of them.
func curveWindow(rows []schemas.LearningCurveRow) int {
	var trials int64
	for _, r := range rows {
		trials = max(trials, r.Trial+1)
	}
	return int(max(1, min(trials, max(4, trials/50))))
}

// learningCurvesFigure draws one panel per task: per rule, the median over
// seeds of the smoothed error with its interquartile band, and a dashed
// vertical line at the median trials to criterion; then the trials to
// criterion of every network (criterionFigure).
func learningCurvesFigure(d *Data, pal rulePalette) ([]Figure, error) {
	if len(d.LearningCurves) == 0 {
		return nil, nil
	}
	window := curveWindow(d.LearningCurves)
	curves := LearningCurves(d.LearningCurves, d.Networks, window)
	var panels []*plot.Plot
	var notes []string
	byTask := map[string]*plot.Plot{}
	for _, c := range curves {
		p := byTask[c.Task]
		if p == nil {
			p = newPlot("task "+c.Task, "trial", fmt.Sprintf("error (mean over %d trials)", window))
			byTask[c.Task] = p
			panels = append(panels, p)
		}
		col := pal.of(c.Rule)
		b := c.Band
		var poly plotter.XYs
		for i := range b.X {
			if finite(b.Q75[i]) {
				poly = append(poly, plotter.XY{X: b.X[i], Y: b.Q75[i]})
			}
		}
		for i := len(b.X) - 1; i >= 0; i-- {
			if finite(b.Q25[i]) {
				poly = append(poly, plotter.XY{X: b.X[i], Y: b.Q25[i]})
			}
		}
		if len(poly) >= 3 {
			band, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, err
			}
			band.Color = fade(col, 60)
			band.LineStyle.Width = 0
			p.Add(band)
		}
		if med := xys(b.X, b.Median); len(med) > 0 {
			line, err := plotter.NewLine(med)
			if err != nil {
				return nil, err
			}
			line.Color = col
			line.Width = vg.Points(1.5)
			p.Add(line)
			p.Legend.Add(fmt.Sprintf("%s (%d seeds)", c.Rule, c.Seeds), line)
		}
		if c.Reached > 0 {
			lo, hi := bandRange(b)
			crit, err := plotter.NewLine(plotter.XYs{{X: c.Criterion, Y: lo}, {X: c.Criterion, Y: hi}})
			if err != nil {
				return nil, err
			}
			crit.Color = col
			crit.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(crit)
		}
		notes = append(notes, fmt.Sprintf("%s/%s: %d of %d seeds met the criterion", c.Task, c.Rule, c.Reached, c.Seeds)+
			criterionText(c))
	}
	r, err := renderGrid(tile(panels))
	if err != nil {
		return nil, err
	}
	crit, err := criterionFigure(d, pal)
	if err != nil {
		return nil, err
	}
	return append([]Figure{{ID: "fig-learning-curves", Title: "Learning curves",
		Caption: fmt.Sprintf("Error per trial, each seed's error averaged over the trailing %d trials; line: median over seeds, band: interquartile range, dashed line: median trials to criterion over the seeds that met it. %s.",
			window, strings.Join(notes, "; ")),
		Sources: append(d.sources(schemas.LearningCurves), d.sources(schemas.Networks)...), render: r}}, crit...), nil
}

func criterionText(c Curve) string {
	if c.Reached == 0 {
		return ""
	}
	return fmt.Sprintf(" (median %g trials)", c.Criterion)
}

// bandRange returns the smallest and largest finite value of a band.
func bandRange(b Band) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{b.Q25, b.Median, b.Q75} {
		for _, v := range s {
			if finite(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

// metaoptFigures draws, per metaopt job, J and held-out J per iteration,
// ‖∇J‖ per iteration, and the discovered Θ as a (K+1)×(L+1) heat map beside
// Miconi's and node perturbation's rules on the same colour scale.
func metaoptFigures(d *Data, _ rulePalette) ([]Figure, error) {
	var figs []Figure
	for i, run := range d.Metaopt {
		if len(run.Rows) == 0 {
			continue
		}
		rows := slices.Clone(run.Rows)
		slices.SortFunc(rows, func(a, b schemas.MetaoptRow) int { return int(a.Iter - b.Iter) })
		var it, j, g, hit, hj []float64
		for _, r := range rows {
			if finite(r.J) { // not on the final row, which holds the final Θ alone
				it = append(it, float64(r.Iter))
				j = append(j, r.J)
				g = append(g, r.GradNorm)
			}
			if finite(r.HeldoutJ) {
				hit = append(hit, float64(r.Iter))
				hj = append(hj, r.HeldoutJ)
			}
		}
		pj := newPlot("J per iteration", "iteration", "J")
		lj, err := plotter.NewLine(xys(it, j))
		if err != nil {
			return nil, err
		}
		lj.Color = ruleColors[0]
		lj.Width = vg.Points(1.5)
		pj.Add(lj)
		pj.Legend.Add("J (training learners)", lj)
		if len(hj) > 0 {
			sh, err := plotter.NewScatter(xys(hit, hj))
			if err != nil {
				return nil, err
			}
			sh.Color = ruleColors[1]
			sh.Shape = draw.BoxGlyph{}
			sh.Radius = vg.Points(3)
			pj.Add(sh)
			pj.Legend.Add("J (held-out seeds)", sh)
		}
		pg := newPlot("gradient norm", "iteration", "norm of the gradient of J")
		lg, err := plotter.NewLine(xys(it, g))
		if err != nil {
			return nil, err
		}
		lg.Color = ruleColors[2]
		lg.Width = vg.Points(1.5)
		pg.Add(lg)

		last := rows[len(rows)-1]
		k, l := run.K, run.L
		if (k+1)*(l+1) != len(last.Theta) {
			return nil, fmt.Errorf("report: %s: Θ has %d values, want (K+1)(L+1) = %d for K=%d, L=%d", run.Unit, len(last.Theta), (k+1)*(l+1), k, l)
		}
		label := fmt.Sprintf("%s (iteration %d)", run.Rule, last.Iter)
		if !finite(last.J) {
			label = fmt.Sprintf("%s (final, after %d iterations)", run.Rule, last.Iter)
		}
		thetas := []struct {
			name string
			v    []float64
		}{{label, last.Theta}}
		for _, name := range []string{"miconi", "node-perturbation"} {
			if r, err := plasticity.Named(name, k, l); err == nil {
				thetas = append(thetas, struct {
					name string
					v    []float64
				}{name, r.Theta})
			}
		}
		var vals [][]float64
		for _, t := range thetas {
			vals = append(vals, t.v)
		}
		big := symmetricTop(vals...)
		heat := []*plot.Plot{}
		for _, t := range thetas {
			p, err := thetaPanel("θ_kl: "+t.name, k, l, t.v, big)
			if err != nil {
				return nil, err
			}
			heat = append(heat, p)
		}
		r, err := renderGrid([][]*plot.Plot{{pj, pg}, heat})
		if err != nil {
			return nil, err
		}
		id := "fig-metaopt"
		if i > 0 {
			id = fmt.Sprintf("fig-metaopt-%d", i+1)
		}
		var src []string
		for _, e := range d.Manifest.Datasets {
			if e.Unit == run.Unit && e.Kind == string(schemas.MetaoptHistory) {
				src = append(src, e.Ref.Key)
			}
		}
		figs = append(figs, Figure{ID: id, Title: "Meta-optimization: " + run.Unit,
			Caption: fmt.Sprintf("Top: J and its held-out estimate, and the norm ‖∇J‖ of its gradient estimate, per iteration (%d iterations, estimator %s). Bottom: the rule Θ at the last iteration as a (K+1)×(L+1) = %d×%d map of θ_kl (k, the power of the rate, up the rows; l, the power of the fluctuation, along the columns; each cell labelled with θ_kl to two significant digits) beside Miconi's and node perturbation's rules; blue negative, light grey 0, red positive, one colour scale from −%.3g to %.3g, as the bars on the right.",
				len(rows), last.Estimator, k+1, l+1, big, big),
			Sources: src, render: r})
	}
	return figs, nil
}

// thetaPanel draws the (k+1)×(l+1) rule theta (row-major, row k) as a
// heat map on the diverging scale −big … big, k up and l across (axes
// numbered 0 … k and 0 … l), each cell labelled with its value to two
// significant digits, with a colour bar on its right.
func thetaPanel(title string, k, l int, theta []float64, big float64) (*plot.Plot, error) {
	sc := colourScale{Pal: moreland.SmoothBlueRed().Palette(64), Lo: -big, Hi: big}
	p := heatMap(title, grid{rows: k + 1, cols: l + 1, v: theta}, sc.Pal, sc.Lo, sc.Hi)
	p.X.Label.Text, p.Y.Label.Text = "l (power of the fluctuation)", "k (power of the rate)"
	var xt, yt []plot.Tick
	for i := 0; i <= l; i++ {
		xt = append(xt, plot.Tick{Value: float64(i), Label: strconv.Itoa(i)})
	}
	for i := 0; i <= k; i++ {
		yt = append(yt, plot.Tick{Value: float64(i), Label: strconv.Itoa(i)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	size := vg.Points(9)
	if (k+1)*(l+1) > 16 {
		size = vg.Points(7)
	}
	var pts plotter.XYs
	var labels []string
	for kk := 0; kk <= k; kk++ {
		for ll := 0; ll <= l; ll++ {
			pts = append(pts, plotter.XY{X: float64(ll), Y: float64(kk)})
			labels = append(labels, numText(theta[kk*(l+1)+ll], 2))
		}
	}
	if len(pts) <= 64 {
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
		if err != nil {
			return nil, err
		}
		for i := range lab.TextStyle {
			lab.TextStyle[i].XAlign, lab.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			lab.TextStyle[i].Font.Size = size
		}
		p.Add(lab)
	}
	if err := placeColourBar(p, sc, float64(l+1), float64(k+1), thetaBar, true); err != nil {
		return nil, err
	}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font.Size = vg.Points(8)
		a.Tick.Length = vg.Points(2)
	}
	return p, nil
}

// typeColors are the colours of the fixed-point types.
var typeColors = map[string]color.RGBA{
	"stable":   {44, 160, 44, 255},
	"saddle":   {255, 127, 14, 255},
	"unstable": {214, 39, 40, 255},
}

// fixedPointFigure draws, per task and rule, the fixed and slow points of
// one network on its top two principal axes, coloured by stability.
func fixedPointFigure(d *Data, _ rulePalette) ([]Figure, error) {
	if len(d.FixedPoints) == 0 {
		return nil, nil
	}
	maps, err := FixedPointMaps(d.FixedPoints, d.Trajectories, d.Landscape, 3)
	if err != nil {
		return nil, err
	}
	var panels []*plot.Plot
	var notes []string
	landscape := false // some panel is on the landscape stage's axes
	for _, m := range maps {
		p, counts, err := fixedPointPanel(m, fmt.Sprintf("%s / %s, seed %d", m.Task, m.Rule, m.Seed))
		if err != nil {
			return nil, err
		}
		panels = append(panels, p)
		note := fmt.Sprintf("%s/%s seed %d: %d stable, %d saddle, %d unstable on the PCs of %s",
			m.Task, m.Rule, m.Seed, counts["stable"], counts["saddle"], counts["unstable"], basisText[m.Basis])
		if m.Basis == "landscape" {
			note += fmt.Sprintf(", %d saddle → attractor connections", len(m.Edges))
			landscape = true
		}
		notes = append(notes, note)
	}
	r, err := renderGrid(tile(panels))
	if err != nil {
		return nil, err
	}
	src := append(d.sources(schemas.FixedPoints), d.sources(schemas.Trajectories)...)
	if landscape {
		src = append(src, d.sources(schemas.Landscape)...)
	}
	return []Figure{{ID: "fig-fixed-points", Title: "Fixed points",
		Caption: "Fixed points (filled) and slow points (rings) of the final network of each rule's lowest seed, coloured by stability (green stable, orange saddle, red unstable), on two principal axes: " +
			"those of the network's trajectories as the landscape stage projected them (landscape pc and explained) when the campaign has a landscape of the network, " +
			"else those of its condition-averaged trajectories (grey lines) from a trajectories dataset, else those of the points themselves; each panel's axes are named below. " +
			"With the landscape's projection, thin lines join each index-1 saddle to the attractors its unstable manifold reaches (landscape connects). " +
			strings.Join(notes, "; ") + ".",
		Sources: src, render: r}}, nil
}

// fixedPointPanel draws the fixed and slow points of m on its first two
// axes, coloured by type, with its trajectories and saddle → attractor
// edges, and returns the points counted by type.
func fixedPointPanel(m FixedPointMap, title string) (*plot.Plot, map[string]int, error) {
	pcy := 1
	if len(m.Explained) < 2 {
		pcy = 0
	}
	p := newPlot(title, axisLabel(m, 0), axisLabel(m, pcy))
	for ci, line := range m.Trajectories {
		var xy plotter.XYs
		for _, v := range line {
			xy = append(xy, plotter.XY{X: v[0], Y: at(v, pcy)})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, nil, err
		}
		l.Color = color.RGBA{150, 150, 150, 255}
		if ci == 0 {
			p.Legend.Add("trajectories", l)
		}
		p.Add(l)
	}
	for ei, e := range m.Edges {
		a, b := m.Points[e[0]].PC, m.Points[e[1]].PC
		l, err := plotter.NewLine(plotter.XYs{{X: a[0], Y: at(a, pcy)}, {X: b[0], Y: at(b, pcy)}})
		if err != nil {
			return nil, nil, err
		}
		l.Color = color.RGBA{90, 90, 90, 255}
		l.Width = vg.Points(0.75)
		if ei == 0 {
			p.Legend.Add("saddle → attractor", l)
		}
		p.Add(l)
	}
	counts := map[string]int{}
	for _, typ := range []string{"stable", "saddle", "unstable"} {
		for _, slow := range []bool{false, true} {
			var xy plotter.XYs
			for _, pt := range m.Points {
				if pt.Type == typ && pt.Slow == slow {
					xy = append(xy, plotter.XY{X: pt.PC[0], Y: at(pt.PC, pcy)})
				}
			}
			if len(xy) == 0 {
				continue
			}
			counts[typ] += len(xy)
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, nil, err
			}
			s.Color = typeColors[typ]
			s.Radius = vg.Points(3.5)
			s.Shape = draw.CircleGlyph{}
			name := typ
			if slow {
				s.Shape = draw.RingGlyph{}
				name += " (slow)"
			}
			p.Add(s)
			p.Legend.Add(name, s)
		}
	}
	return p, counts, nil
}

// basisText describes the axes of a FixedPointMap by its Basis.
var basisText = map[string]string{
	"landscape":    "its trajectories (landscape stage)",
	"trajectories": "its condition-averaged trajectories (trajectories dataset)",
	"fixed points": "the points themselves (no trajectories)",
}

func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func axisLabel(m FixedPointMap, i int) string {
	if i >= len(m.Explained) {
		return fmt.Sprintf("PC%d", i+1)
	}
	return fmt.Sprintf("PC%d (%.0f%% var.)", i+1, 100*m.Explained[i])
}

// rdmFigure draws the mean RDM of each rule per task, one colour scale
// per task.
func rdmFigure(d *Data, _ rulePalette) ([]Figure, error) {
	means := MeanRDMs(d.RDMs)
	if len(means) == 0 {
		return nil, nil
	}
	lo, hi := map[string]float64{}, map[string]float64{}
	for _, m := range means {
		if _, ok := lo[m.Task]; !ok {
			lo[m.Task], hi[m.Task] = math.Inf(1), math.Inf(-1)
		}
		for _, v := range m.D {
			if finite(v) {
				lo[m.Task], hi[m.Task] = min(lo[m.Task], v), max(hi[m.Task], v)
			}
		}
	}
	var panels []*plot.Plot
	var notes []string
	for i, m := range means {
		if !finite(lo[m.Task]) || !finite(hi[m.Task]) {
			lo[m.Task], hi[m.Task] = 0, 1 // every entry NaN: drawn in the NaN colour
		}
		sc := colourScale{Pal: moreland.ExtendedBlackBody().Palette(64), Lo: lo[m.Task], Hi: hi[m.Task]}
		if !(sc.Hi > sc.Lo) {
			sc.Hi = sc.Lo + 1
		}
		p := heatMap(fmt.Sprintf("%s / %s (%d networks)", m.Task, m.Rule, m.Networks),
			grid{rows: m.K, cols: m.K, v: m.D, flip: true}, sc.Pal, sc.Lo, sc.Hi)
		// Every panel has room for a colour bar, so that the matrices are
		// drawn alike; the last panel of each task draws its task's.
		fk := float64(m.K)
		last := i == len(means)-1 || means[i+1].Task != m.Task
		if err := placeColourBar(p, sc, fk, fk, matrixBar, last); err != nil {
			return nil, err
		}
		xt, yt := stimulusTicks(m.Labels)
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
		p.X.Label.Text, p.Y.Label.Text = "stimulus (columns in the rows' order)", "stimulus (condition@time bin)"
		for _, a := range []*plot.Axis{&p.X, &p.Y} {
			a.Tick.Label.Font.Size = vg.Points(7)
			a.Tick.Length = vg.Points(2)
			a.Label.TextStyle.Font.Size = vg.Points(9)
		}
		panels = append(panels, p)
		notes = append(notes, fmt.Sprintf("%s: %s dissimilarity from %.3g (black) to %.3g (white)", m.Task, m.Metric, lo[m.Task], hi[m.Task]))
	}
	slices.Sort(notes)
	notes = slices.Compact(notes)
	r, err := renderGrid(tile(panels))
	if err != nil {
		return nil, err
	}
	return []Figure{{ID: "fig-rdms", Title: "Representational dissimilarity matrices",
		Caption: fmt.Sprintf("Mean over seeds of the final networks' RDMs, per rule; rows (top to bottom) and columns (left to right) are the %d stimuli %s … %s in label order (condition@time bin), the conditions labelled at the centres of their blocks of time bins. Each task's matrices share one colour scale, shown by the bar on the right of its last panel: %s.",
			means[0].K, means[0].Labels[0], means[0].Labels[len(means[0].Labels)-1], strings.Join(notes, "; ")),
		Sources: d.sources(schemas.RDMs), render: r}}, nil
}

// stimulusTicks returns the ticks of an RDM's columns (x) and rows (y,
// row 0 at the top) of the stimuli labels: one per condition (the part of
// a "condition@time bin" label before the @) at the centre of its run of
// consecutive stimuli when there are at most 16 such runs, else none.
func stimulusTicks(labels []string) (x, y []plot.Tick) {
	n := len(labels)
	cond := func(s string) string { c, _, _ := strings.Cut(s, "@"); return c }
	start := 0
	for i := 1; i <= n; i++ {
		if i < n && cond(labels[i]) == cond(labels[start]) {
			continue
		}
		c := float64(start+i-1) / 2
		x = append(x, plot.Tick{Value: c, Label: cond(labels[start])})
		y = append(y, plot.Tick{Value: float64(n-1) - c, Label: cond(labels[start])})
		start = i
	}
	if len(x) > 16 {
		return nil, nil
	}
	return x, y
}

// similarityFigure draws, per task, the network × network similarity
// matrix (Spearman correlation of RDMs, or CKA when there is none) and its
// MDS embedding coloured by rule.
func similarityFigure(d *Data, pal rulePalette) ([]Figure, error) {
	method := "spearman"
	sims, err := Similarities(d.RSAPairs, method)
	if err != nil {
		return nil, err
	}
	if len(sims) == 0 {
		method = "cka"
		if sims, err = Similarities(d.RSAPairs, method); err != nil || len(sims) == 0 {
			return nil, err
		}
	}
	var rows [][]*plot.Plot
	var notes []string
	for _, s := range sims {
		n := len(s.Networks)
		hm, err := blockMatrixPanel(fmt.Sprintf("%s: %s similarity, %d networks", s.Task, s.Method, n), s.Networks, s.S,
			colourScale{Pal: moreland.SmoothBlueRed().Palette(64), Lo: -1, Hi: 1, Divider: color.Black})
		if err != nil {
			return nil, err
		}
		row := []*plot.Plot{hm}
		if s.MDS != nil {
			p := newPlot(s.Task+": MDS of 1 − similarity", "MDS 1", "MDS 2")
			var rules []string
			for _, id := range s.Networks {
				if !slices.Contains(rules, id.Rule) {
					rules = append(rules, id.Rule)
				}
			}
			for _, rule := range rules {
				var xy plotter.XYs
				for i, id := range s.Networks {
					if id.Rule == rule {
						xy = append(xy, plotter.XY{X: s.MDS[i][0], Y: s.MDS[i][1]})
					}
				}
				sc, err := plotter.NewScatter(xy)
				if err != nil {
					return nil, err
				}
				sc.Color = pal.of(rule)
				sc.Shape = draw.CircleGlyph{}
				sc.Radius = vg.Points(4)
				p.Add(sc)
				p.Legend.Add(rule, sc)
			}
			row = append(row, p)
		}
		rows = append(rows, row)
		var order []string
		for _, id := range s.Networks {
			order = append(order, fmt.Sprintf("%s/%d", id.Rule, id.Seed))
		}
		note := fmt.Sprintf("%s: networks in the order %s", s.Task, strings.Join(order, ", "))
		if s.MDS != nil {
			note += fmt.Sprintf("; MDS negative-eigenvalue share %.2f", s.NegativeFraction)
		}
		if w := s.Within; w != nil {
			note += fmt.Sprintf("; within − between rule similarity %.3g, permutation p = %.3g (%d permutations)", w.Value, w.PValue, w.Permutations)
		}
		notes = append(notes, note)
	}
	r, err := renderGrid(rows)
	if err != nil {
		return nil, err
	}
	return []Figure{{ID: "fig-similarity", Title: "Network × network similarity",
		Caption: fmt.Sprintf("Left: %s similarity of every pair of final networks (rows top to bottom and columns left to right by rule, then seed; rule blocks labelled on the left, black lines between rules; colour from −1 (blue) through 0 (light grey) to 1 (red), as the bar on the right). Right: their classical MDS embedding from the distances 1 − similarity, coloured by rule. %s.",
			method, strings.Join(notes, "; ")),
		Sources: d.sources(schemas.RSAPairs), render: r}}, nil
}

// sensitivityFigure draws, per task, the singular spectrum of G_S of every
// network (thin) and its median per rule (thick), normalized by σ_1, on a
// log scale.
func sensitivityFigure(d *Data, pal rulePalette) ([]Figure, error) {
	spectra := Spectra(d.Sensitivity)
	if len(spectra) == 0 {
		return nil, nil
	}
	var panels []*plot.Plot
	byTask := map[string]*plot.Plot{}
	positive := func(s []float64) plotter.XYs {
		var xy plotter.XYs
		for i, v := range s {
			if finite(v) && v > 0 {
				xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		return xy
	}
	for _, s := range spectra {
		p := byTask[s.Task]
		if p == nil {
			p = newPlot("task "+s.Task, "index i", "σ_i / σ_1")
			// The spectra fall from the top left: the bottom left is free.
			p.Legend.Top, p.Legend.Left = false, true
			byTask[s.Task] = p
			panels = append(panels, p)
		}
		logY := func() { // only once the panel has positive values to scale
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = decadeTicks{}
		}
		col := pal.of(s.Rule)
		for _, seed := range s.Seeds {
			if xy := positive(seed); len(xy) >= 2 {
				l, err := plotter.NewLine(xy)
				if err != nil {
					return nil, err
				}
				l.Color = fade(col, 90)
				p.Add(l)
				logY()
			}
		}
		if xy := positive(s.Median); len(xy) >= 2 {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			l.Color = col
			l.Width = vg.Points(2)
			p.Add(l)
			logY()
			p.Legend.Add(fmt.Sprintf("%s (%d networks)", s.Rule, len(s.Seeds)), l)
		}
	}
	r, err := renderGrid(tile(panels))
	if err != nil {
		return nil, err
	}
	return []Figure{{ID: "fig-sensitivity", Title: "Sensitivity spectra",
		Caption: "Singular values of the behavioural sensitivity G_S = ∂S/∂W of each final network divided by the largest (thin lines), and their median per rule (thick), on a log scale; zero singular values are not drawn.",
		Sources: d.sources(schemas.Sensitivity), render: r}}, nil
}
