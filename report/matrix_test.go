package report

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestRobustTop checks the top of a distance matrix's colour scale: one
// outlying network among 100 (2% of the off-diagonal values, more than the
// 1% above the 99th percentile) no longer sets it, a constant matrix is
// not clipped, and a matrix without values has top 0.
func TestRobustTop(t *testing.T) {
	const n = 100
	d := make([]float64, n*n)
	for i := range n {
		for j := range n {
			if i != j {
				d[i*n+j] = 0.01 + 0.02*float64((i*7+j*13)%50)/49 // 0.01 … 0.03
			}
			if (i == 17) != (j == 17) {
				d[i*n+j] = 0.17
			}
		}
	}
	d[5*n+6] = math.NaN()
	hi, clipped := robustTop(d, n)
	if !clipped || hi < 0.029 || hi > 0.06 {
		t.Errorf("one outlier of %d: top %v (clipped %v), want about 0.03, clipped", n, hi, clipped)
	}
	for i := range d {
		if i%(n+1) != 0 {
			d[i] = 2
		}
	}
	if hi, clipped := robustTop(d, n); hi != 2 || clipped {
		t.Errorf("constant 2: top %v (clipped %v), want 2, not clipped", hi, clipped)
	}
	if hi, clipped := robustTop([]float64{0, math.NaN(), math.NaN(), 0}, 2); hi != 0 || clipped {
		t.Errorf("no values: top %v (clipped %v), want 0", hi, clipped)
	}
}

// TestColourBarLabels checks the labels of colour bars: a diverging scale,
// a clipped one, and the caption's words for the clipped one.
func TestColourBarLabels(t *testing.T) {
	if got := (colourScale{Lo: -1, Hi: 1}).barLabels(); got != [3]string{"−1", "0", "1"} {
		t.Errorf("−1 … 1: %q", got)
	}
	s := colourScale{Hi: 0.173, Clipped: true}
	if got := s.barLabels(); got != [3]string{"0", "0.0865", "≥ 0.173"} {
		t.Errorf("0 … 0.173, clipped: %q", got)
	}
	if txt := scaleText(s); !strings.Contains(txt, "to 0.173 (white)") || !strings.Contains(txt, "99th percentile") || !strings.Contains(txt, "≥ 0.173") {
		t.Errorf("scaleText: %q", txt)
	}
	if got := numText(-4.27e-6, 2) + " " + numText(0.0068, 2) + " " + numText(-1.98, 2); got != "−4.3e-6 0.0068 −2" {
		t.Errorf("numText(…, 2): %q", got)
	}
}

// TestBlockMatrixPanel draws a matrix of two rules and checks its rule
// ticks (block centres, top down) and seed ticks, and its refusal of a
// matrix of the wrong size.
func TestBlockMatrixPanel(t *testing.T) {
	ids := []NetworkID{{"a", 1}, {"a", 2}, {"b", 1}}
	v := []float64{0, 1, 2, 1, 0, 3, 2, 3, 0}
	p, err := blockMatrixPanel("m", ids, v, colourScale{Pal: moreland.ExtendedBlackBody().Palette(8), Hi: 2, Clipped: true})
	if err != nil {
		t.Fatal(err)
	}
	y := p.Y.Tick.Marker.Ticks(0, 1)
	if len(y) != 2 || y[0] != (plot.Tick{Value: 1.5, Label: "a"}) || y[1] != (plot.Tick{Value: 0, Label: "b"}) {
		t.Errorf("rule ticks %v, want a at 1.5, b at 0", y)
	}
	if x := p.X.Tick.Marker.Ticks(0, 1); len(x) != 3 || x[2].Label != "1" {
		t.Errorf("seed ticks %v", x)
	}
	if _, err := blockMatrixPanel("m", ids, v[:4], colourScale{}); err == nil {
		t.Error("4 values for 3 networks: no error")
	}
}

// TestLegendRoom checks that legendRoom lifts the top of a panel whose
// data reach its top right corner, where the legend is, until the point
// (with its glyph) is below the legend, and leaves a panel whose data keep
// clear of the legend alone.
func TestLegendRoom(t *testing.T) {
	panel := func(xys plotter.XYs) (*plot.Plot, *plotter.Scatter) {
		p := newPlot("t", "x (s)", "y (m)")
		s, err := plotter.NewScatter(xys)
		if err != nil {
			t.Fatal(err)
		}
		p.Add(s)
		p.Legend.Add("a rather long legend entry", s)
		p.Legend.Add("another entry", s)
		return p, s
	}
	tiles := draw.Tiles{Rows: 1, Cols: 1}
	p, s := panel(plotter.XYs{{X: 0, Y: 0}, {X: 0.5, Y: 0.3}, {X: 1, Y: 1}})
	plots := [][]*plot.Plot{{p}}
	legendRoom(plots, tiles, panelWidth, panelHeight)
	c := plot.Align(plots, tiles, draw.New(vgimg.New(panelWidth, panelHeight)))[0][0]
	dc := p.DataCanvas(c)
	_, ty := p.Transforms(&dc)
	if lh := p.Legend.Rectangle(c).Size().Y; ty(1)+s.Radius > dc.Max.Y-lh {
		t.Errorf("the point at the top right is at %v, under the legend (%v … %v); y range %v … %v", ty(1)+s.Radius, dc.Max.Y-lh, dc.Max.Y, p.Y.Min, p.Y.Max)
	}
	p, _ = panel(plotter.XYs{{X: 0, Y: 0}, {X: 0.1, Y: 1}, {X: 1, Y: 0}})
	legendRoom([][]*plot.Plot{{p}}, tiles, panelWidth, panelHeight)
	if p.Y.Max != 1 {
		t.Errorf("data clear of the legend: y max %v, want 1", p.Y.Max)
	}
}
