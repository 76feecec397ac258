package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"rulescape/core/stats"
)

// colourScale is the colour scale of a heat map: Pal over [Lo, Hi], values
// outside the range drawn in the end colours. Clipped says some values lie
// above Hi (a robust upper end): the colour bar's top then reads "≥ Hi".
type colourScale struct {
	Pal     palette.Palette
	Lo, Hi  float64
	Clipped bool
	// Divider is the colour of the lines between a block matrix's rules;
	// nil is a light blue, clear of the black-body palette.
	Divider color.Color
}

// barLabels returns the labels of s's colour bar at Lo, the middle of the
// range and Hi, in three significant digits.
func (s colourScale) barLabels() [3]string {
	top := numText(s.Hi, 3)
	if s.Clipped {
		top = "≥ " + top
	}
	return [3]string{numText(s.Lo, 3), numText((s.Lo+s.Hi)/2, 3), top}
}

// numText writes v in at most digits significant digits with a true
// minus sign and a short exponent ("−0.47", "0.173", "4.3e-6"); 0 is "0",
// never "-0".
func numText(v float64, digits int) string {
	if !finite(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'g', digits, 64)
	s = strings.NewReplacer("e-0", "e-", "e+0", "e", "e+", "e").Replace(s)
	return strings.Replace(s, "-", "−", 1)
}

// robustQuantile is the quantile of a distance matrix's off-diagonal
// values that robustTop takes as the top of its colour scale at most.
const robustQuantile = 0.99

// robustTop returns the upper end of the colour scale of the n×n matrix d
// (row-major): the robustQuantile quantile of its finite off-diagonal
// values or, if smaller, Tukey's outer fence Q3 + 3·IQR of them, when that
// is positive and below their maximum (clipped), else their maximum; 0
// when there is no finite off-diagonal value. The fence matters: one
// outlying network of n has 2/n of the off-diagonal values (2% of 100),
// which puts the 99th percentile among its own values and leaves every
// other cell in the bottom colours.
func robustTop(d []float64, n int) (hi float64, clipped bool) {
	var v []float64
	for i := range n {
		for j := range n {
			if x := d[i*n+j]; i != j && finite(x) {
				v = append(v, x)
			}
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	top := slices.Max(v)
	q := stats.Quantile(v, robustQuantile)
	if q1, q3 := stats.Quantile(v, 0.25), stats.Quantile(v, 0.75); q3 > q1 {
		q = min(q, q3+3*(q3-q1))
	}
	if q > 0 && q < top {
		return q, true
	}
	return top, false
}

// scaleText describes a distance matrix's colour scale from 0 (black) to
// s.Hi (white) in words for a caption.
func scaleText(s colourScale) string {
	if !s.Clipped {
		return fmt.Sprintf("colour from 0 (black) to %.3g (white), as the bar on the right", s.Hi)
	}
	return fmt.Sprintf("colour from 0 (black) to %.3g (white), as the bar on the right: a robust top, the %.0fth percentile of the off-diagonal values or, if smaller, their upper quartile plus three interquartile ranges; larger values (outlying networks) are drawn white, the bar's top reads \"≥ %s\"",
		s.Hi, 100*robustQuantile, numText(s.Hi, 3))
}

// blockMatrixPanel draws the n×n matrix values (row-major) of networks
// (sorted by rule, then seed) with its rule blocks labelled — lines between
// the rules, rule names on the left, seeds along the bottom when there are
// at most 40 networks — and a colour bar of scale on its right labelled at
// its bottom, middle and top.
func blockMatrixPanel(title string, networks []NetworkID, values []float64, scale colourScale) (*plot.Plot, error) {
	n := len(networks)
	if len(values) != n*n {
		return nil, fmt.Errorf("report: %s: %d values for %d networks", title, len(values), n)
	}
	lo, hi := scale.Lo, scale.Hi
	if !(hi > lo) {
		hi = lo + 1
	}
	hm := heatMap(title, grid{rows: n, cols: n, v: values, flip: true}, scale.Pal, lo, hi)
	fn := float64(n)
	var yTicks, xTicks []plot.Tick
	start := 0
	for i := 1; i <= n; i++ {
		if i < n && networks[i].Rule == networks[i-1].Rule {
			continue
		}
		centre := float64(start+i-1) / 2
		yTicks = append(yTicks, plot.Tick{Value: fn - 1 - centre, Label: networks[start].Rule})
		start = i
		if i == n {
			break
		}
		x, y := float64(i)-0.5, fn-float64(i)-0.5
		for _, xy := range []plotter.XYs{{{X: x, Y: -0.5}, {X: x, Y: fn - 0.5}}, {{X: -0.5, Y: y}, {X: fn - 0.5, Y: y}}} {
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, err
			}
			l.Color = color.RGBA{0, 160, 255, 255}
			if scale.Divider != nil {
				l.Color = scale.Divider
			}
			l.Width = vg.Points(1)
			hm.Add(l)
		}
	}
	e := fn - 0.5
	frame, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: -0.5}, {X: e, Y: -0.5}, {X: e, Y: e}, {X: -0.5, Y: e}, {X: -0.5, Y: -0.5}})
	if err != nil {
		return nil, err
	}
	frame.Color = color.RGBA{128, 128, 128, 255}
	hm.Add(frame)
	hm.X.Label.Text = "columns: the same networks, left to right"
	if n <= 40 {
		for i, id := range networks {
			xTicks = append(xTicks, plot.Tick{Value: float64(i), Label: strconv.FormatInt(id.Seed, 10)})
		}
		hm.X.Label.Text = "seed (columns in the rows' order)"
	}
	hm.Y.Tick.Marker = plot.ConstantTicks(yTicks)
	hm.X.Tick.Marker = plot.ConstantTicks(xTicks)
	if err := placeColourBar(hm, colourScale{Pal: scale.Pal, Lo: lo, Hi: hi, Clipped: scale.Clipped}, fn, fn, matrixBar, true); err != nil {
		return nil, err
	}
	// heatMap hides the axes (no line, no ticks); the labels above show
	// on them.
	for _, a := range []*plot.Axis{&hm.X, &hm.Y} {
		a.Tick.Label.Font.Size = vg.Points(7)
		a.Tick.Length = vg.Points(2)
		a.Label.TextStyle.Font.Size = vg.Points(9)
	}
	return hm, nil
}

// barLayout sizes a colour bar beside a heat map, in the heat map's cells:
// the gap before the bar, the bar's width and the room after it for its
// labels are each a + b·columns ({a, b}); labelGap separates the labels
// from the bar.
type barLayout struct {
	gap, width, room [2]float64
	labelGap         float64
}

// The bar layouts of the report's heat maps: network and stimulus
// matrices (tens to hundreds of cells a side), the atlas's rule × family
// counts and the Θ maps (a few cells).
var (
	matrixBar = barLayout{gap: [2]float64{0.2, 0.04}, width: [2]float64{0.3, 0.06}, room: [2]float64{1, 0.2}, labelGap: 0.1}
	atlasBar  = barLayout{gap: [2]float64{0.15, 0.04}, width: [2]float64{0.25, 0.08}, room: [2]float64{0.6, 0.2}, labelGap: 0.05}
	thetaBar  = barLayout{gap: [2]float64{0.15, 0.04}, width: [2]float64{0.25, 0.08}, room: [2]float64{0.8, 0.25}, labelGap: 0.05}
)

// placeColourBar sets p's ranges to a cols × rows heat map (cells centred
// on 0 … cols−1, 0 … rows−1) with room on its right for a colour bar of s
// laid out as l, and draws the bar when withBar (false keeps the room
// empty, so that panels beside one with the bar are drawn alike).
func placeColourBar(p *plot.Plot, s colourScale, cols, rows float64, l barLayout, withBar bool) error {
	at := func(ab [2]float64) float64 { return ab[0] + ab[1]*cols }
	x0 := cols - 0.5 + at(l.gap)
	if withBar {
		if err := addColourBar(p, s, x0, at(l.width), l.labelGap, rows); err != nil {
			return err
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, x0+at(l.width)+at(l.room), -0.5, rows-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	return nil
}

// addColourBar draws a vertical colour bar of s at x0, width wide and rows
// tall (in the cells of the heat map beside it, whose rows span −½ …
// rows − ½), labelled as s.barLabels says at its bottom, middle and top,
// labelGap to the right of the bar.
func addColourBar(p *plot.Plot, s colourScale, x0, width, labelGap, rows float64) error {
	hb := plotter.NewHeatMap(barGrid{x0: x0, width: width, n: rows, lo: s.Lo, hi: s.Hi}, s.Pal)
	hb.Min, hb.Max = s.Lo, s.Hi
	p.Add(hb)
	x := x0 + width + labelGap
	text := s.barLabels()
	labels, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    []plotter.XY{{X: x, Y: -0.5}, {X: x, Y: rows/2 - 0.5}, {X: x, Y: rows - 0.5}},
		Labels: text[:],
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

// symmetricTop returns the largest finite |v| of values, 1 when there is
// none or it is 0 (the half-range of a diverging colour scale).
func symmetricTop(values ...[]float64) float64 {
	big := 0.0
	for _, vs := range values {
		for _, v := range vs {
			if finite(v) {
				big = max(big, math.Abs(v))
			}
		}
	}
	if big == 0 {
		return 1
	}
	return big
}
