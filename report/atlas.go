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

// maxPrototypes is the most prototype panels an atlas figure draws; the
// caption names every prototype.
const maxPrototypes = 12

// AtlasTable is one task's rule × family table of the atlas stage.
type AtlasTable struct {
	Task     string
	Rules    []string // in the order of the atlas_rules rows (the plan's)
	Families []schemas.AtlasFamilyRow
	Counts   []float64 // len(Rules) × len(Families), row-major
}

// AtlasTables assembles, per task (sorted), the rule × family table from
// the atlas_rules and atlas_families rows.
func AtlasTables(rules []schemas.AtlasRuleRow, fams []schemas.AtlasFamilyRow) []AtlasTable {
	var tasks []string
	for _, f := range fams {
		tasks = append(tasks, f.Task)
	}
	slices.Sort(tasks)
	tasks = slices.Compact(tasks)
	var out []AtlasTable
	for _, task := range tasks {
		t := AtlasTable{Task: task}
		for _, f := range fams {
			if f.Task == task {
				t.Families = append(t.Families, f)
			}
		}
		slices.SortFunc(t.Families, func(a, b schemas.AtlasFamilyRow) int { return cmp.Compare(a.Family, b.Family) })
		for _, r := range rules {
			if r.Task == task && !slices.Contains(t.Rules, r.Rule) {
				t.Rules = append(t.Rules, r.Rule)
			}
		}
		k := len(t.Families)
		t.Counts = make([]float64, len(t.Rules)*k)
		for _, r := range rules {
			if r.Task == task && int(r.Family) < k {
				t.Counts[slices.Index(t.Rules, r.Rule)*k+int(r.Family)] = float64(r.Count)
			}
		}
		out = append(out, t)
	}
	return out
}

// indexSummary counts a network's fixed points by index (unstable
// dimensions) over every input, e.g. "3 of index 0, 2 of index 1".
func indexSummary(fps []schemas.FixedPointRow) string {
	counts := map[int32]int{}
	for _, p := range fps {
		counts[p.Index]++
	}
	if len(counts) == 0 {
		return "no fixed points recorded"
	}
	var parts []string
	for _, i := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d of index %d", counts[i], i))
	}
	return strings.Join(parts, ", ")
}

// atlasFigures draws, per task, the rule × family table of the atlas
// (counts as colours, with a colour bar and the counts written in the
// cells), each family's stability, and each family's prototype (medoid)
// network: its fixed points on the principal axes of its trajectories.
func atlasFigures(d *Data, _ rulePalette) ([]Figure, error) {
	var figs []Figure
	for _, t := range AtlasTables(d.AtlasRules, d.AtlasFamilies) {
		table, scale, err := atlasTablePanel(t)
		if err != nil {
			return nil, err
		}
		stab, err := stabilityPanel(t)
		if err != nil {
			return nil, err
		}
		rows := [][]*plot.Plot{{table, stab}}
		var protos []*plot.Plot
		var notes []string
		landscape := false
		for _, f := range t.Families {
			var fps []schemas.FixedPointRow
			for _, p := range d.FixedPoints {
				if p.Task == t.Task && p.Rule == f.MedoidRule && p.Seed == f.MedoidSeed && p.Network == f.MedoidNetwork {
					fps = append(fps, p)
				}
			}
			note := fmt.Sprintf("family %d (%d networks, stability %s): prototype %s seed %d, fixed points %s",
				f.Family, f.Size, fmtNaN(f.Stability, "%.2f"), f.MedoidRule, f.MedoidSeed, indexSummary(fps))
			if len(fps) > 0 && len(protos) < maxPrototypes {
				maps, err := FixedPointMaps(fps, d.Trajectories, d.Landscape, 3)
				if err != nil {
					return nil, err
				}
				if len(maps) == 1 {
					p, _, err := fixedPointPanel(maps[0], fmt.Sprintf("family %d prototype: %s / %d", f.Family, f.MedoidRule, f.MedoidSeed))
					if err != nil {
						return nil, err
					}
					protos = append(protos, p)
					note += " (drawn on " + basisText[maps[0].Basis] + ")"
					landscape = landscape || maps[0].Basis == "landscape"
				}
			}
			notes = append(notes, note)
		}
		rows = append(rows, tile(protos)...)
		r, err := renderGrid(rows)
		if err != nil {
			return nil, err
		}
		f0 := t.Families[0]
		caption := fmt.Sprintf("Solution families of the %s networks (atlas stage; docs/ANALYSIS.md, \"Solution-family atlas\"): average-linkage clusters of the weighted, median-normalised distances, cut at %d families",
			t.Task, f0.Families)
		if f0.Families > 1 {
			caption += fmt.Sprintf(" (mean silhouette %.2f; adjusted Rand of subsample clusterings against the full one %.2f)", f0.Silhouette, f0.Rand)
		} else {
			caption += " (no cut reached min_silhouette: no substantial structure)"
		}
		caption += fmt.Sprintf(". First panel: networks of each rule (rows) in each family (columns), %s; the numbers are the counts. Second panel: each family's clusterboot stability (mean best Jaccard over subsamples; ≥ 0.75 stable, ≤ 0.5 dissolved). Rule–family association: Cramér's V = %.2f",
			scale, f0.CramersV)
		if f0.Permutations > 0 {
			caption += fmt.Sprintf(", seed-stratified permutation p = %.3g (%d permutations)", f0.PValue, f0.Permutations)
		} else {
			caption += " (not tested: one rule, one family or no permutations)"
		}
		caption += ". Other panels: each family's prototype (its medoid network), its fixed points (filled) and slow points (rings) coloured by stability (green stable, orange saddle, red unstable)"
		if landscape {
			caption += ", on the principal axes of the network's trajectories as the landscape stage projected them, thin lines joining each index-1 saddle to the attractors its unstable manifold reaches; grey lines are the prototype's condition-averaged trajectories only when the campaign stored a trajectories dataset for it (the landscape dataset keeps the points' coordinates, not the trajectories)"
		}
		caption += ". " + strings.Join(notes, "; ") + "."
		src := append(d.sources(schemas.AtlasNetworks), d.sources(schemas.AtlasFamilies)...)
		src = append(src, d.sources(schemas.AtlasRules)...)
		src = append(src, d.sources(schemas.FixedPoints)...)
		if landscape {
			src = append(src, d.sources(schemas.Landscape)...)
		}
		figs = append(figs, Figure{ID: "fig-atlas-" + t.Task, Title: "Solution families: " + t.Task, Caption: caption, Sources: src, render: r})
	}
	return figs, nil
}

func fmtNaN(v float64, format string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// atlasTablePanel draws the rule × family counts with a colour bar and its
// scale on the right, and returns the scale in words.
func atlasTablePanel(t AtlasTable) (*plot.Plot, string, error) {
	nr, nc := len(t.Rules), len(t.Families)
	hi := 0.0
	for _, v := range t.Counts {
		hi = max(hi, v)
	}
	scale := fmt.Sprintf("colour from 0 (black) to %.0f networks (white), as the bar on the right", hi)
	if hi == 0 {
		hi = 1
	}
	cm := moreland.ExtendedBlackBody()
	p := heatMap(t.Task+": networks by rule and family", grid{rows: nr, cols: nc, v: t.Counts, flip: true}, cm.Palette(64), 0, hi)
	var yTicks, xTicks []plot.Tick
	for i, r := range t.Rules {
		yTicks = append(yTicks, plot.Tick{Value: float64(nr - 1 - i), Label: r})
	}
	for j, f := range t.Families {
		xTicks = append(xTicks, plot.Tick{Value: float64(j), Label: fmt.Sprintf("F%d", f.Family)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(yTicks)
	p.X.Tick.Marker = plot.ConstantTicks(xTicks)
	p.X.Label.Text = "family"
	if nr*nc <= 400 {
		var xys plotter.XYs
		var labels []string
		for i := range nr {
			for j := range nc {
				xys = append(xys, plotter.XY{X: float64(j), Y: float64(nr - 1 - i)})
				labels = append(labels, fmt.Sprintf("%.0f", t.Counts[i*nc+j]))
			}
		}
		cells, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return nil, "", err
		}
		for i := range cells.TextStyle {
			cells.TextStyle[i].Font.Size = vg.Points(7)
			cells.TextStyle[i].XAlign = draw.XCenter
			cells.TextStyle[i].YAlign = draw.YCenter
			cells.TextStyle[i].Color = color.Black
			if t.Counts[i]/hi < 0.6 {
				cells.TextStyle[i].Color = color.White
			}
		}
		p.Add(cells)
	}
	if err := placeColourBar(p, colourScale{Pal: cm.Palette(64), Hi: hi}, float64(nc), float64(nr), atlasBar, true); err != nil {
		return nil, "", err
	}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font.Size = vg.Points(7)
		a.Tick.Length = vg.Points(2)
	}
	return p, scale, nil
}

// stabilityPanel draws each family's clusterboot stability as a bar, with
// the 0.5 and 0.75 levels.
func stabilityPanel(t AtlasTable) (*plot.Plot, error) {
	p := newPlot(t.Task+": family stability", "family", "mean best Jaccard")
	vals := make(plotter.Values, len(t.Families))
	var ticks []plot.Tick
	for i, f := range t.Families {
		vals[i] = 0
		if finite(f.Stability) {
			vals[i] = f.Stability
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprintf("F%d (n=%d)", f.Family, f.Size)})
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(12))
	if err != nil {
		return nil, err
	}
	bars.Color = plotter.DefaultLineStyle.Color
	p.Add(bars)
	for _, level := range []float64{0.5, 0.75} {
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: level}, {X: float64(len(t.Families)) - 0.5, Y: level}})
		if err != nil {
			return nil, err
		}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		p.Add(l)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0, 1
	return p, nil
}
