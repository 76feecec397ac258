package browsercheck

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // figures may be GIF, JPEG or PNG
	_ "image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// FigureStats are the measurements CheckFigure based its verdict on.
type FigureStats struct {
	// Box is the image's box in the screenshot, in pixels (rounded).
	Box image.Rectangle
	// Colours is the number of distinct colours (5 bits per channel) in
	// the screenshot's box; Ink the fraction of its pixels that differ from
	// its most frequent colour (the background).
	Colours int
	Ink     float64
	// Compared is true when the image file could be read and decoded (a
	// PNG, JPEG or GIF from a file:, data: or http(s) URL, fetched again)
	// and the screenshot was compared with it; the fields below are then
	// set. An SVG file, an inline <svg> and a <canvas> are not compared:
	// the content checks alone apply to them.
	Compared bool
	// SourceInk is the Ink of the image file scaled to the box.
	SourceInk float64
	// InkShown is the fraction of the scaled image's ink pixels that the
	// screenshot shows in the same place (within one pixel and a colour
	// tolerance); StrayInk the fraction of the screenshot's ink pixels
	// that the image does not have there.
	InkShown, StrayInk float64
	// LineColours are the image's dominant non-background colours, and
	// LineColoursShown how many of them the screenshot's box holds in
	// comparable amounts.
	LineColours      []color.RGBA
	LineColoursShown int
}

// Thresholds of CheckFigure.
const (
	minBoxPixels   = 16   // each side of the image's box
	minColours     = 3    // distinct colours in the box: the background and two more
	minInk         = 0.01 // non-background fraction of the box
	minInkShown    = 0.85 // of the image's ink, found in the screenshot
	maxStrayInk    = 0.15 // of the screenshot's ink, absent from the image
	inkDistance    = 48   // channel difference from the background that counts as ink
	matchDistance  = 64   // channel difference within which two pixels match
	maxLineColours = 4    // dominant colours checked
	minLineShare   = 0.002
	quantShift     = 3 // 5 bits per channel
)

// CheckFigure checks that the element with the given ID shows its image in
// the screenshot: the element is visible and its image loaded (see
// Visible), the screenshot's pixels inside the image's box are not blank
// (at least 3 colours and 1 % of pixels off the background), and — when
// the image file can be read (a file:, data: or http(s) URL of a PNG, JPEG
// or GIF) —
// they show that file scaled to the box: ≥ 85 % of the file's ink pixels
// appear in place, ≤ 15 % of the screenshot's ink is not in the file, and
// the file's dominant colours (its curves) are present. The file itself
// must not be blank either. A blank, broken, hidden, covered or
// misplaced image fails with an error saying which of these it is.
func (r *Report) CheckFigure(id string) (FigureStats, error) {
	var st FigureStats
	e, err := r.Visible(id)
	if err != nil {
		return st, err
	}
	shot, err := png.Decode(bytes.NewReader(r.Screenshot))
	if err != nil {
		return st, fmt.Errorf("%s: decoding the screenshot: %w", r.URL, err)
	}
	b := e.Image.Box
	st.Box = image.Rect(round(b.X), round(b.Y), round(b.X+b.Width), round(b.Y+b.Height))
	if st.Box.Dx() < minBoxPixels || st.Box.Dy() < minBoxPixels {
		return st, fmt.Errorf("%s: the image of #%s is drawn %d×%d px, too small to be read (at least %d×%d)",
			r.URL, id, st.Box.Dx(), st.Box.Dy(), minBoxPixels, minBoxPixels)
	}
	if !st.Box.In(shot.Bounds()) {
		return st, fmt.Errorf("%s: the image of #%s at %v is not inside the %v screenshot", r.URL, id, st.Box, shot.Bounds())
	}
	got := crop(shot, st.Box)
	bg := dominant(got)
	st.Colours, st.Ink = colours(got), inkFraction(got, bg)
	if st.Colours < minColours || st.Ink < minInk {
		return st, fmt.Errorf("%s: the image of #%s (%s) looks blank in the screenshot: %d colours, %.2f%% of pixels off the background %v (want ≥ %d and ≥ %.0f%%)",
			r.URL, id, e.Image.Src, st.Colours, 100*st.Ink, bg, minColours, 100*minInk)
	}

	if e.Image.Tag != "img" {
		return st, nil // inline svg or canvas: nothing to compare with; the content checks stand
	}
	src, err := readImage(e.Image.Src)
	if err != nil {
		return st, nil // not comparable (e.g. an SVG file): the content checks above stand
	}
	want := scale(src, st.Box.Dx(), st.Box.Dy(), bg)
	st.Compared = true
	wbg := dominant(want)
	st.SourceInk = inkFraction(want, wbg)
	if st.SourceInk < minInk || colours(want) < minColours {
		return st, fmt.Errorf("%s: the image file of #%s (%s) is blank: %.2f%% ink, %d colours", r.URL, id, e.Image.Src, 100*st.SourceInk, colours(want))
	}
	st.InkShown = shown(want, wbg, got)
	st.StrayInk = 1 - shown(got, bg, want)
	if st.InkShown < minInkShown || st.StrayInk > maxStrayInk {
		return st, fmt.Errorf("%s: the screenshot does not show the image of #%s (%s) in its box %v: %.0f%% of the image's ink shown (want ≥ %.0f%%), %.0f%% of the box's ink not in the image (want ≤ %.0f%%) — covered, clipped, distorted or another picture",
			r.URL, id, e.Image.Src, st.Box, 100*st.InkShown, 100*minInkShown, 100*st.StrayInk, 100*maxStrayInk)
	}
	st.LineColours = lineColours(want, wbg)
	for _, c := range st.LineColours {
		if share(got, c) >= 0.5*share(want, c) {
			st.LineColoursShown++
		}
	}
	if st.LineColoursShown < len(st.LineColours) {
		return st, fmt.Errorf("%s: the image of #%s (%s): %d of its %d dominant colours %v appear in the screenshot",
			r.URL, id, e.Image.Src, st.LineColoursShown, len(st.LineColours), st.LineColours)
	}
	return st, nil
}

func round(x float64) int {
	if x < 0 {
		return -int(-x + 0.5)
	}
	return int(x + 0.5)
}

// rgba is an image as 8-bit RGBA rows.
type rgba struct {
	w, h int
	pix  []color.RGBA
}

func (m *rgba) at(x, y int) color.RGBA { return m.pix[y*m.w+x] }

func crop(img image.Image, r image.Rectangle) *rgba {
	out := &rgba{w: r.Dx(), h: r.Dy(), pix: make([]color.RGBA, r.Dx()*r.Dy())}
	for y := 0; y < out.h; y++ {
		for x := 0; x < out.w; x++ {
			out.pix[y*out.w+x] = color.RGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.RGBA)
		}
	}
	return out
}

// scale resamples img to w×h by averaging the source pixels each target
// pixel covers (a box filter, as a browser does when shrinking), with
// transparency composited over bg.
func scale(img image.Image, w, h int, bg color.RGBA) *rgba {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	out := &rgba{w: w, h: h, pix: make([]color.RGBA, w*h)}
	for y := 0; y < h; y++ {
		y0, y1 := y*sh/h, max((y+1)*sh/h, y*sh/h+1)
		for x := 0; x < w; x++ {
			x0, x1 := x*sw/w, max((x+1)*sw/w, x*sw/w+1)
			var sr, sg, sb float64
			n := 0.0
			for yy := y0; yy < y1 && yy < sh; yy++ {
				for xx := x0; xx < x1 && xx < sw; xx++ {
					r, g, bl, a := img.At(b.Min.X+xx, b.Min.Y+yy).RGBA() // premultiplied, 16 bit
					t := 1 - float64(a)/0xffff
					sr += float64(r)/257 + t*float64(bg.R)
					sg += float64(g)/257 + t*float64(bg.G)
					sb += float64(bl)/257 + t*float64(bg.B)
					n++
				}
			}
			out.pix[y*w+x] = color.RGBA{uint8(sr/n + 0.5), uint8(sg/n + 0.5), uint8(sb/n + 0.5), 255}
		}
	}
	return out
}

func quant(c color.RGBA) [3]uint8 {
	return [3]uint8{c.R >> quantShift, c.G >> quantShift, c.B >> quantShift}
}

func unquant(q [3]uint8) color.RGBA {
	const half = 1 << (quantShift - 1)
	return color.RGBA{q[0]<<quantShift | half, q[1]<<quantShift | half, q[2]<<quantShift | half, 255}
}

// histogram counts the quantised colours of m.
func histogram(m *rgba) map[[3]uint8]int {
	h := map[[3]uint8]int{}
	for _, c := range m.pix {
		h[quant(c)]++
	}
	return h
}

// dominant is the most frequent colour of m, the mean of its bin.
func dominant(m *rgba) color.RGBA {
	h := histogram(m)
	var best [3]uint8
	n := -1
	for q, k := range h {
		if k > n || (k == n && less(q, best)) {
			best, n = q, k
		}
	}
	var sr, sg, sb, k float64
	for _, c := range m.pix {
		if quant(c) == best {
			sr, sg, sb, k = sr+float64(c.R), sg+float64(c.G), sb+float64(c.B), k+1
		}
	}
	return color.RGBA{uint8(sr/k + 0.5), uint8(sg/k + 0.5), uint8(sb/k + 0.5), 255}
}

func less(a, b [3]uint8) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func colours(m *rgba) int { return len(histogram(m)) }

// dist is the largest channel difference of two colours.
func dist(a, b color.RGBA) int {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return max(d(a.R, b.R), d(a.G, b.G), d(a.B, b.B))
}

func inkFraction(m *rgba, bg color.RGBA) float64 {
	n := 0
	for _, c := range m.pix {
		if dist(c, bg) > inkDistance {
			n++
		}
	}
	return float64(n) / float64(len(m.pix))
}

// shown is the fraction of a's ink pixels (off bg) for which b has a pixel
// of a matching colour at the same place or one pixel away.
func shown(a *rgba, bg color.RGBA, b *rgba) float64 {
	ink, hit := 0, 0
	for y := 0; y < a.h; y++ {
		for x := 0; x < a.w; x++ {
			c := a.at(x, y)
			if dist(c, bg) <= inkDistance {
				continue
			}
			ink++
		search:
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < b.w && yy < b.h && dist(c, b.at(xx, yy)) <= matchDistance {
						hit++
						break search
					}
				}
			}
		}
	}
	if ink == 0 {
		return 1
	}
	return float64(hit) / float64(ink)
}

// lineColours returns up to maxLineColours of m's most frequent colours
// that are neither the background nor grey (axes and text are grey or
// black; the curves are coloured), each covering at least 0.2 % of m.
func lineColours(m *rgba, bg color.RGBA) []color.RGBA {
	type bin struct {
		q [3]uint8
		n int
	}
	var bins []bin
	for q, n := range histogram(m) {
		c := unquant(q)
		if dist(c, bg) <= inkDistance || chroma(c) < 48 || float64(n) < minLineShare*float64(len(m.pix)) {
			continue
		}
		bins = append(bins, bin{q, n})
	}
	sort.Slice(bins, func(i, j int) bool {
		if bins[i].n != bins[j].n {
			return bins[i].n > bins[j].n
		}
		return less(bins[i].q, bins[j].q)
	})
	var out []color.RGBA
	for _, b := range bins {
		c := unquant(b.q)
		dup := false
		for _, o := range out {
			if dist(o, c) <= 2*inkDistance/3 {
				dup = true
			}
		}
		if !dup {
			out = append(out, c)
		}
		if len(out) == maxLineColours {
			break
		}
	}
	return out
}

func chroma(c color.RGBA) int {
	return max(int(c.R), int(c.G), int(c.B)) - min(int(c.R), int(c.G), int(c.B))
}

// share is the fraction of m's pixels within inkDistance/2 of c.
func share(m *rgba, c color.RGBA) float64 {
	n := 0
	for _, p := range m.pix {
		if dist(p, c) <= inkDistance/2 {
			n++
		}
	}
	return float64(n) / float64(len(m.pix))
}

// readImage decodes the image at a file: or data: URL.
func readImage(src string) (image.Image, error) {
	var data []byte
	switch {
	case strings.HasPrefix(src, "data:"):
		meta, payload, ok := strings.Cut(src[len("data:"):], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return nil, fmt.Errorf("data URL without base64 payload")
		}
		var err error
		if data, err = base64.StdEncoding.DecodeString(payload); err != nil {
			return nil, err
		}
	case strings.HasPrefix(src, "file:"):
		u, err := url.Parse(src)
		if err != nil {
			return nil, err
		}
		if data, err = os.ReadFile(u.Path); err != nil {
			return nil, err
		}
	case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get(src)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
		}
		if data, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: only file:, data: and http(s) images are compared", src)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}
