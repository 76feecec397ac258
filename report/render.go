package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// dpi of the PNG figures.
const dpi = 96

// panelWidth and panelHeight are the size of one panel of a figure.
const (
	panelWidth  = 4.2 * vg.Inch
	panelHeight = 3.2 * vg.Inch
)

// ruleColors are the colours of the rules, assigned in sorted rule order
// (Tableau 10).
var ruleColors = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// rulePalette maps the campaign's rules to colours.
type rulePalette map[string]color.RGBA

func (p rulePalette) of(rule string) color.RGBA {
	if c, ok := p[rule]; ok {
		return c
	}
	return color.RGBA{0, 0, 0, 255}
}

// fade returns c with alpha a (0–255), premultiplied as color.RGBA requires.
func fade(c color.RGBA, a uint8) color.RGBA {
	f := float64(a) / 255
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), a}
}

// rendered is one figure drawn in both formats.
type rendered struct {
	PNG, SVG []byte
}

// renderGrid draws the plots, laid out in rows × columns tiles (nil plots
// leave a tile empty), to PNG and SVG.
func renderGrid(plots [][]*plot.Plot) (rendered, error) {
	rows := len(plots)
	cols := 0
	for _, r := range plots {
		cols = max(cols, len(r))
	}
	if rows == 0 || cols == 0 {
		return rendered{}, fmt.Errorf("report: a figure with no panels")
	}
	for i := range plots {
		for len(plots[i]) < cols {
			plots[i] = append(plots[i], nil)
		}
	}
	w, h := vg.Length(cols)*panelWidth, vg.Length(rows)*panelHeight
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	legendRoom(plots, tiles, w, h)
	draw1 := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		// An opaque background, so the figures read on any page colour.
		dc.SetColor(color.White)
		var bg vg.Path
		bg.Move(vg.Point{})
		bg.Line(vg.Point{X: w})
		bg.Line(vg.Point{X: w, Y: h})
		bg.Line(vg.Point{Y: h})
		bg.Close()
		dc.Fill(bg)
		canvases := plot.Align(plots, tiles, dc)
		for i := range plots {
			for j, p := range plots[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
	}
	img := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	draw1(img)
	var out rendered
	var buf bytes.Buffer
	if _, err := img.WriteTo(&buf); err != nil {
		return rendered{}, fmt.Errorf("report: encoding PNG: %w", err)
	}
	out.PNG = bytes.Clone(buf.Bytes())
	buf.Reset()
	svg := vgsvg.NewWith(vgsvg.UseWH(w, h))
	draw1(svg)
	if _, err := svg.WriteTo(&buf); err != nil {
		return rendered{}, fmt.Errorf("report: encoding SVG: %w", err)
	}
	out.SVG = buf.Bytes()
	return out, nil
}

// legendRoom moves each panel's y range so that its legend is clear of
// the data: it draws the panels without their legends at a low resolution,
// finds the highest (legend at the top) or lowest (at the bottom) drawn
// pixel under the legend's box, across its width, and raises the top of
// the range (or lowers its bottom) until that pixel lies outside the box,
// in rounds, since new tick labels move the data area. Panels without a
// legend entry are left alone; a legend taller than half the data area
// gets half of it.
func legendRoom(plots [][]*plot.Plot, tiles draw.Tiles, w, h vg.Length) {
	const rounds = 5 // a move changes the tick labels, so the data area
	for range rounds {
		checks, drawn := drawWithoutLegends(plots, tiles, w, h)
		moved := false
		for _, k := range checks {
			if k.move(drawn) {
				moved = true
			}
		}
		if !moved {
			return
		}
	}
}

// The geometry of legendRoom's check.
const (
	legendCheckDPI = 48                       // dots per inch of the check
	legendPixel    = vg.Inch / legendCheckDPI // the size of one of its pixels
	legendMargin   = 3 * vg.Millimeter        // between the legend and the data
	legendEdge     = vg.Length(1)             // looked at outside the data area (the axes are 5 points away)
	legendMaxShare = 0.5                      // the largest share of the data area's height a legend gets
	legendSlack    = 0.02                     // of the data area's height, beyond the legend's
)

// legendCheck is a panel with a legend, as legendRoom's check drew it.
type legendCheck struct {
	p      *plot.Plot
	data   draw.Canvas // where the data are drawn
	top    vg.Length   // the top of the legend's canvas
	lh, lw vg.Length   // the legend's size
}

// drawWithoutLegends draws the plots without their legends at
// legendCheckDPI and returns the panels that have a legend and a function
// saying whether the pixel at a canvas point is drawn (not the white
// background).
func drawWithoutLegends(plots [][]*plot.Plot, tiles draw.Tiles, w, h vg.Length) ([]legendCheck, func(x, y vg.Length) bool) {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(legendCheckDPI))
	canvases := plot.Align(plots, tiles, draw.New(img))
	var checks []legendCheck
	for i := range plots {
		for j, p := range plots[i] {
			if p == nil {
				continue
			}
			c := canvases[i][j]
			if size := p.Legend.Rectangle(c).Size(); size.Y > 0 && p.Y.Max > p.Y.Min {
				top := c.Max.Y
				if p.Title.Text != "" {
					top -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
				}
				checks = append(checks, legendCheck{p: p, data: p.DataCanvas(c), top: top, lh: size.Y, lw: size.X})
			}
			legend := p.Legend
			p.Legend = plot.NewLegend()
			p.Draw(c)
			p.Legend = legend
		}
	}
	pix := img.Image()
	ih := pix.Bounds().Dy()
	drawn := func(x, y vg.Length) bool {
		ix, iy := int(x/legendPixel), ih-1-int(y/legendPixel)
		if !(image.Point{ix, iy}).In(pix.Bounds()) {
			return false
		}
		r, g, b, _ := pix.At(ix, iy).RGBA()
		return r < 245<<8 || g < 245<<8 || b < 245<<8
	}
	return checks, drawn
}

// firstDrawnRow scans the rows from y0 in steps of dy while inside(y) and
// returns the first at which a pixel between x0 and x1 is drawn.
func firstDrawnRow(drawn func(x, y vg.Length) bool, y0, dy vg.Length, inside func(vg.Length) bool, x0, x1 vg.Length) (vg.Length, bool) {
	for y := y0; inside(y); y += dy {
		for x := x0; x <= x1; x += legendPixel {
			if drawn(x, y) {
				return y, true
			}
		}
	}
	return 0, false
}

// move extends k's y range (its top for a legend at the top, else its
// bottom) so that the drawn pixel nearest the legend's side, within the
// legend's width, falls outside the legend's box; it says whether it
// moved the range.
func (k legendCheck) move(drawn func(x, y vg.Length) bool) bool {
	p, d := k.p, k.data
	dh := d.Max.Y - d.Min.Y
	if dh <= 0 {
		return false
	}
	// The legend's width, within the panel's data area and the margin on
	// its far side (a legend wider than the data area runs over the axis,
	// whose pixels are not data).
	x0, x1 := max(d.Max.X-k.lw-legendMargin, d.Min.X-legendEdge), d.Max.X+legendEdge
	if p.Legend.Left {
		x0, x1 = d.Min.X-legendEdge, min(d.Min.X+k.lw+legendMargin, d.Max.X+legendEdge)
	}
	f := min(float64(k.lh+legendMargin)/float64(dh), legendMaxShare)
	tf, inv := func(v float64) float64 { return v }, func(v float64) float64 { return v }
	if _, ok := p.Y.Scale.(plot.LogScale); ok {
		if !(p.Y.Min > 0) {
			return false
		}
		tf, inv = math.Log, math.Exp
	}
	tmin, tmax := tf(p.Y.Min), tf(p.Y.Max)
	if p.Legend.Top {
		y, found := firstDrawnRow(drawn, k.top-legendPixel/2, -legendPixel, func(y vg.Length) bool { return y > d.Min.Y }, x0, x1)
		hit := float64(y+legendPixel/2-d.Min.Y) / float64(dh) // as a share of the data area's height
		if !found || hit <= 1-f || hit <= 0 {
			return false
		}
		// Put the hit a little below 1 − f of the new range (the glyphs'
		// size does not scale with it).
		th := tmin + hit*(tmax-tmin)
		p.Y.Max = inv(tmin + (th-tmin)/(1-f-legendSlack))
		return true
	}
	y, found := firstDrawnRow(drawn, d.Min.Y-legendEdge, legendPixel, func(y vg.Length) bool { return y < d.Max.Y }, x0, x1)
	hit := float64(y-legendPixel/2-d.Min.Y) / float64(dh)
	if !found || hit >= f || hit >= 1 {
		return false
	}
	th := tmin + hit*(tmax-tmin)
	p.Y.Min = inv((th - (f+legendSlack)*tmax) / (1 - f - legendSlack))
	return true
}

// newPlot returns a plot with a title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.X.Tick.Marker = shortTicks{}
	p.Y.Tick.Marker = shortTicks{}
	return p
}

// decadeTicks are ticks at the powers of ten of a log axis, labelled
// "1e-3" style at most about six times (every k-th decade).
type decadeTicks struct{}

// Ticks returns the ticks of [lo10, hi10] (lo10 > 0).
func (decadeTicks) Ticks(lo10, hi10 float64) []plot.Tick {
	if !(lo10 > 0) || !(hi10 > lo10) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(lo10))), int(math.Ceil(math.Log10(hi10)))
	step := max(1, (hi-lo+5)/6)
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		v := math.Pow(10, float64(e))
		t := plot.Tick{Value: v}
		if (e-hi)%step == 0 {
			t.Label = "1e" + strconv.Itoa(e)
			if e == 0 {
				t.Label = "1"
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// shortTicks are gonum/plot's default ticks with their labels written in
// the fewest digits that round-trip (2500, not 2500.00).
type shortTicks struct{}

// Ticks returns the default ticks of [min, max], relabelled.
func (shortTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label == "" {
			continue
		}
		v := ticks[i].Value
		if a := math.Abs(v); a != 0 && (a < 1e-3 || a >= 1e6) {
			ticks[i].Label = strconv.FormatFloat(v, 'g', 4, 64)
		} else {
			ticks[i].Label = strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64)
		}
	}
	return ticks
}

// xys builds plotter points from x and y, leaving out points where either
// is not finite.
func xys(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(x))
	for i := range x {
		if finite(x[i]) && finite(y[i]) {
			out = append(out, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// grid is a row-major matrix as a plotter.GridXYZ: column c at x = c,
// row r at y = r (row 0 at the bottom unless flip).
type grid struct {
	rows, cols int
	v          []float64
	flip       bool // row 0 at the top (matrices as printed)
}

func (g grid) Dims() (c, r int) { return g.cols, g.rows }
func (g grid) Z(c, r int) float64 {
	if g.flip {
		r = g.rows - 1 - r
	}
	return g.v[r*g.cols+c]
}
func (g grid) X(c int) float64 { return float64(c) }
func (g grid) Y(r int) float64 { return float64(r) }

// rasterCells is the number of cells above which heatMap draws a raster
// image instead of one rectangle per cell: a 1,000 × 1,000 distance matrix
// (the atlas pipeline's) drawn as rectangles is a 90 MB SVG and takes
// seconds to render; as an image it is a PNG embedded in the SVG.
const rasterCells = 200 * 200

// heatMap returns a plot of g with the colour range [lo, hi]: cell (c, r)
// covers [c − ½, c + ½] × [r − ½, r + ½], coloured as plotter.HeatMap
// colours it (NaN light grey, values outside [lo, hi] in the end
// colours), drawn as rectangles or, above rasterCells
// cells, as an image with one pixel per cell.
func heatMap(title string, g grid, pal palette.Palette, lo, hi float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if lo == hi {
		lo, hi = lo-1, hi+1
	}
	nan := color.RGBA{220, 220, 220, 255}
	if g.rows*g.cols > rasterCells {
		colors := pal.Colors()
		ps := float64(len(colors)-1) / (hi - lo)
		img := image.NewRGBA(image.Rect(0, 0, g.cols, g.rows))
		for r := range g.rows {
			for c := range g.cols {
				var col color.Color = nan
				if z := g.Z(c, r); !math.IsNaN(z) {
					col = colors[int((min(max(z, lo), hi)-lo)*ps+0.5)]
				}
				img.Set(c, g.rows-1-r, col) // image rows run top down
			}
		}
		p.Add(plotter.NewImage(img, -0.5, -0.5, float64(g.cols)-0.5, float64(g.rows)-0.5))
	} else {
		h := plotter.NewHeatMap(g, pal)
		h.Min, h.Max = lo, hi
		h.NaN = nan
		// Values outside [lo, hi] (a clipped scale) in the end colours.
		colors := pal.Colors()
		h.Underflow, h.Overflow = colors[0], colors[len(colors)-1]
		p.Add(h)
	}
	p.HideAxes()
	return p
}
