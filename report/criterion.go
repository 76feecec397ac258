package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"rulescape/core/stats"
	"rulescape/schemas"
)

// criterionFigure draws, per task, every network's trials to criterion by
// rule: a filled dot per seed that met the criterion, an open triangle at
// its last trial for one that did not (a lower bound), and a bar at the
// median over the seeds that met it. The x labels carry "met/networks".
func criterionFigure(d *Data, pal rulePalette) ([]Figure, error) {
	if len(d.Networks) == 0 {
		return nil, nil
	}
	byTask := map[string]map[string][]Network{}
	for _, n := range d.Networks {
		if byTask[n.Task] == nil {
			byTask[n.Task] = map[string][]Network{}
		}
		byTask[n.Task][n.Rule] = append(byTask[n.Task][n.Rule], n)
	}
	tasks := make([]string, 0, len(byTask))
	for t := range byTask {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	var panels []*plot.Plot
	var notes []string
	for _, task := range tasks {
		rules := make([]string, 0, len(byTask[task]))
		for r := range byTask[task] {
			rules = append(rules, r)
		}
		slices.Sort(rules)
		p := newPlot("task "+task, "rule (networks that met the criterion / networks)", "trials to criterion (trials)")
		p.Legend.Top, p.Legend.Left = true, true
		labels := make([]string, len(rules))
		hiY := 1.0
		var metLegend, notLegend plot.Thumbnailer
		for x, rule := range rules {
			nets := slices.Clone(byTask[task][rule])
			slices.SortFunc(nets, func(a, b Network) int { return cmp.Compare(a.Seed, b.Seed) })
			col := pal.of(rule)
			var met, not plotter.XYs
			var reached []float64
			for i, n := range nets {
				off := 0.0
				if len(nets) > 1 {
					off = (float64(i)/float64(len(nets)-1) - 0.5) * 0.5
				}
				if n.TrialsToCriterion >= 0 {
					met = append(met, plotter.XY{X: float64(x) + off, Y: float64(n.TrialsToCriterion)})
					reached = append(reached, float64(n.TrialsToCriterion))
					hiY = max(hiY, float64(n.TrialsToCriterion))
				} else {
					not = append(not, plotter.XY{X: float64(x) + off, Y: float64(n.Trials)})
					hiY = max(hiY, float64(n.Trials))
				}
			}
			labels[x] = fmt.Sprintf("%s %d/%d", rule, len(reached), len(nets))
			if len(met) > 0 {
				s, err := plotter.NewScatter(met)
				if err != nil {
					return nil, err
				}
				s.Color, s.Shape, s.Radius = col, draw.CircleGlyph{}, vg.Points(2.2)
				p.Add(s)
				if metLegend == nil {
					metLegend = legendGlyph(draw.CircleGlyph{}, 2.2)
				}
				slices.Sort(reached)
				med := stats.Quantile(reached, 0.5)
				bar, err := plotter.NewLine(plotter.XYs{{X: float64(x) - 0.35, Y: med}, {X: float64(x) + 0.35, Y: med}})
				if err != nil {
					return nil, err
				}
				bar.Color, bar.Width = col, vg.Points(1.5)
				p.Add(bar)
				notes = append(notes, fmt.Sprintf("%s/%s: %d of %d met the criterion, median %g trials", task, rule, len(reached), len(nets), med))
			} else {
				notes = append(notes, fmt.Sprintf("%s/%s: none of %d met the criterion", task, rule, len(nets)))
			}
			if len(not) > 0 {
				s, err := plotter.NewScatter(not)
				if err != nil {
					return nil, err
				}
				s.Color, s.Shape, s.Radius = col, draw.TriangleGlyph{}, vg.Points(2.6)
				p.Add(s)
				if notLegend == nil {
					notLegend = legendGlyph(draw.TriangleGlyph{}, 2.6)
				}
			}
		}
		if metLegend != nil {
			p.Legend.Add("met the criterion (bar: median)", metLegend)
		}
		if notLegend != nil {
			p.Legend.Add("not met: trials trained (a lower bound)", notLegend)
		}
		p.NominalX(labels...)
		rotateCrowded(&p.X, labels, len(rules))
		p.X.Min, p.X.Max = -0.5, float64(len(rules))-0.5
		p.Y.Min, p.Y.Max = 0, hiY*1.3 // room above the data for the legend
		panels = append(panels, p)
	}
	r, err := renderGrid(tile(panels))
	if err != nil {
		return nil, err
	}
	return []Figure{{ID: "fig-criterion", Title: "Trials to criterion",
		Caption: "Trials each network needed to meet the learning criterion, one mark per seed (seeds left to right within a rule); triangles: networks that never met it, at the number of trials they were trained (the criterion would need more). " +
			strings.Join(notes, "; ") + ".",
		Sources: d.sources(schemas.Networks), render: r}}, nil
}

// rotateCrowded turns the tick labels of a nominal axis of n categories by
// 30°, right-aligned at their ticks, when the widest of them is wider than
// the room one category has in a panel (so that they would collide).
func rotateCrowded(a *plot.Axis, labels []string, n int) {
	var widest vg.Length
	for _, l := range labels {
		widest = max(widest, a.Tick.Label.Width(l))
	}
	if n == 0 || widest <= 0.9*(panelWidth-vg.Inch)/vg.Length(n) {
		return
	}
	a.Tick.Label.Rotation = math.Pi / 6
	a.Tick.Label.XAlign = draw.XRight
	a.Tick.Label.YAlign = draw.YTop
}

// legendGlyph is a legend entry's swatch: a dark grey glyph of the shape
// the rules' colours are drawn with.
func legendGlyph(shape draw.GlyphDrawer, radius float64) plot.Thumbnailer {
	return &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: color.RGBA{40, 40, 40, 255}, Shape: shape, Radius: vg.Points(radius)}}
}
