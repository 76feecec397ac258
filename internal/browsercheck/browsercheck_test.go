package browsercheck

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Curve colours of the test figure (matplotlib's first three).
var curveColours = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}}

// curvesPNG draws a 480×320 learning-curve-like figure: white background,
// light grid, black axes with ticks, three decaying curves 2 px wide.
func curvesPNG() image.Image {
	const w, h = 480, 320
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	grey := color.RGBA{220, 220, 220, 255}
	for x := 60; x < w-20; x += 50 {
		for y := 20; y < h-40; y++ {
			img.Set(x, y, grey)
		}
	}
	for y := 40; y < h-40; y += 40 {
		for x := 50; x < w-20; x++ {
			img.Set(x, y, grey)
		}
	}
	for x := 50; x < w-20; x++ { // x axis
		img.Set(x, h-40, color.Black)
		img.Set(x, h-39, color.Black)
	}
	for y := 20; y <= h-40; y++ { // y axis
		img.Set(50, y, color.Black)
		img.Set(51, y, color.Black)
	}
	for k, c := range curveColours {
		tau := 40.0 * float64(k+1)
		prev := -1
		for x := 52; x < w-20; x++ {
			y := int(30 + (h-80)*(1-math.Exp(-float64(x-52)/tau))*0.9)
			y = h - 40 - (y - 30) // decaying towards the axis
			if prev < 0 {
				prev = y
			}
			lo, hi := min(prev, y), max(prev, y)
			for yy := lo - 1; yy <= hi+1; yy++ {
				img.Set(x, yy, c)
				img.Set(x+1, yy, c)
			}
			prev = y
		}
	}
	return img
}

// blankPNG is a white image with a faint, almost invisible grey frame.
func blankPNG() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 480, 320))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{254, 254, 254, 255}), image.Point{}, draw.Src)
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixtures copies testdata/*.html to a new directory next to the images
// the pages load, and returns it.
func fixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pages, err := filepath.Glob(filepath.Join("testdata", "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no fixtures in testdata (%v)", err)
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePNG(t, filepath.Join(dir, "curves.png"), curvesPNG())
	writePNG(t, filepath.Join(dir, "blank.png"), blankPNG())
	return dir
}

// TestOpen opens every fixture in one headless Chromium: the clean page
// passes every check, and each broken one fails with the right report.
func TestOpen(t *testing.T) {
	bin := Require(t)
	dir := fixtures(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := Start(ctx, Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	const fig = "fig-learning-curves"
	tests := []struct {
		page       string
		problems   []string // substrings, one per expected problem, in order
		visibleErr string   // substring of Visible's error, "" for none
		figureErr  string   // substring of CheckFigure's error, "" for none
		check      func(t *testing.T, r *Report)
	}{
		{page: "clean.html", check: func(t *testing.T, r *Report) {
			levels := map[string]string{}
			for _, m := range r.Console {
				levels[m.Level] = m.Text
			}
			if len(r.Console) != 3 || levels["log"] != "report ready {figures: 2}" || levels["info"] != "info is fine" ||
				levels["warning"] != "a warning is not an error" {
				t.Errorf("console = %+v; want the log, info and warning calls", r.Console)
			}
			if r.Title != "A clean report" {
				t.Errorf("title %q", r.Title)
			}
			e := r.Elements[fig]
			if e.Tag != "figure" || e.Image == nil || e.Image.NaturalWidth != 480 || e.Image.NaturalHeight != 320 ||
				e.Image.Box.Width != 480 || e.Image.Box.Height != 320 || e.Image.Box.Y < 1200 || !strings.HasSuffix(e.Image.Src, "/curves.png") {
				t.Errorf("%s = %+v, image %+v; want a figure holding the 480×320 curves.png below y=1200", fig, e, e.Image)
			}
			shot, err := png.Decode(bytes.NewReader(r.Screenshot))
			if err != nil {
				t.Fatal(err)
			}
			if b := shot.Bounds(); b.Dx() != r.PageWidth || b.Dy() != r.PageHeight || r.PageHeight < 1200+320 || r.PageWidth != 1280 {
				t.Errorf("screenshot %v, page %d×%d; want the whole page, taller than the viewport", b, r.PageWidth, r.PageHeight)
			}
			// The half-size copy: compared after scaling the file down.
			st, err := r.CheckFigure("fig-small")
			if err != nil || st.Box.Dx() != 240 || st.Box.Dy() != 160 || !st.Compared {
				t.Errorf("fig-small: %+v, %v", st, err)
			}
		}},
		{page: "console_error.html", problems: []string{"console error (console-api): boom 42 (file://"}},
		{page: "exception.html", problems: []string{"uncaught exception: Uncaught Error: late kaboom (file://"}, check: func(t *testing.T, r *Report) {
			if len(r.Exceptions) != 1 || r.Exceptions[0].Line != 6 {
				t.Errorf("exceptions = %+v; want one, thrown on line 7", r.Exceptions)
			}
		}},
		{page: "missing_image.html",
			problems:   []string{"console error (network): Failed to load resource", "failed to load image file://"},
			visibleErr: "did not load", figureErr: "did not load",
			check: func(t *testing.T, r *Report) {
				if len(r.FailedRequests) != 1 || !strings.HasSuffix(r.FailedRequests[0].URL, "/missing.png") ||
					r.FailedRequests[0].Error != "net::ERR_FILE_NOT_FOUND" || r.FailedRequests[0].Type != "Image" {
					t.Errorf("failed requests = %+v; want missing.png, net::ERR_FILE_NOT_FOUND", r.FailedRequests)
				}
			}},
		{page: "hidden.html", visibleErr: "is not visible", figureErr: "is not visible"},
		{page: "blank.html", figureErr: "looks blank in the screenshot"},
		{page: "covered.html", figureErr: "the screenshot does not show the image"},
		{page: "svg.html", check: func(t *testing.T, r *Report) {
			st, err := r.CheckFigure(fig)
			if e := r.Elements[fig]; err != nil || e.Image == nil || e.Image.Tag != "svg" || st.Compared || st.Colours < 3 {
				t.Errorf("inline svg: %+v, %v (element %+v)", st, err, e)
			}
			if _, err := r.CheckFigure("fig-small"); err == nil || !strings.Contains(err.Error(), "looks blank") {
				t.Errorf("blank svg: %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			r, err := b.Open(ctx, filepath.Join(dir, tc.page), fig, "fig-small")
			if err != nil {
				t.Fatal(err)
			}
			probs := r.Problems()
			if len(probs) != len(tc.problems) {
				t.Errorf("problems = %q; want %d like %q", probs, len(tc.problems), tc.problems)
			} else {
				for i, p := range tc.problems {
					if !strings.Contains(probs[i], p) {
						t.Errorf("problem %d = %q; want it to contain %q", i, probs[i], p)
					}
				}
			}
			if (r.Err() == nil) != (len(tc.problems) == 0) {
				t.Errorf("Err() = %v with problems %q", r.Err(), probs)
			}
			_, err = r.Visible(fig)
			checkErr(t, "Visible", err, tc.visibleErr)
			st, err := r.CheckFigure(fig)
			checkErr(t, "CheckFigure", err, tc.figureErr)
			if err == nil && r.Elements[fig].Image.Tag == "img" && (!st.Compared || st.InkShown < minInkShown || len(st.LineColours) != 3 || st.LineColoursShown != 3) {
				t.Errorf("CheckFigure passed with %+v; want the file compared and its 3 curve colours shown", st)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	// Over HTTP a missing image is a failed request with its status (and
	// the browser's own favicon lookup is not the page's problem).
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	r, err := b.Open(ctx, srv.URL+"/missing_image.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.FailedRequests) != 1 || r.FailedRequests[0].Status != 404 || !strings.HasSuffix(r.FailedRequests[0].URL, "/missing.png") {
		t.Errorf("over HTTP: failed requests = %+v; want missing.png with status 404", r.FailedRequests)
	}
	if p := r.Problems(); len(p) != 2 || !strings.Contains(p[1], "failed to load image http://") || !strings.HasSuffix(p[1], "missing.png: HTTP 404") {
		t.Errorf("over HTTP: problems = %q; want the console's and the request's report of missing.png", p)
	}
}

func checkErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", what, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s = %v; want an error containing %q", what, err, want)
	}
}

// TestCheckHTTP: one call opens a page served over HTTP; its figure's
// file is fetched again and compared.
func TestCheckHTTP(t *testing.T) {
	bin := Require(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(fixtures(t))))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r, err := Check(ctx, srv.URL+"/clean.html", Options{Binary: bin, Width: 800, Height: 600}, "fig-learning-curves")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.CheckFigure("fig-learning-curves"); err != nil || !st.Compared || st.LineColoursShown != 3 || r.Err() != nil {
		t.Errorf("clean.html over HTTP: %+v, %v, %v", st, err, r.Err())
	}
	if r.PageWidth != 800 {
		t.Errorf("page width %d, want the 800 px viewport", r.PageWidth)
	}
	if _, err := r.Visible("x"); err == nil || !strings.Contains(err.Error(), "was not measured") {
		t.Errorf("Visible of an unmeasured ID: %v", err)
	}
}

// TestCheckFigurePixels exercises the pixel comparison on synthetic
// screenshots, without a browser: the figure pasted in its box passes;
// shifted, blank, replaced or scaled wrongly it fails.
func TestCheckFigurePixels(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "curves.png")
	writePNG(t, src, curvesPNG())
	u, err := FileURL(src)
	if err != nil {
		t.Fatal(err)
	}
	other := image.NewRGBA(image.Rect(0, 0, 480, 320)) // another picture: stripes
	for y := range 320 {
		for x := range 480 {
			other.Set(x, y, curveColours[(x+y)/12%3])
		}
	}
	box := Box{X: 100, Y: 50, Width: 480, Height: 320}
	paste := func(img image.Image, at image.Point, w, h int) []byte {
		shot := image.NewRGBA(image.Rect(0, 0, 700, 420))
		draw.Draw(shot, shot.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		if img != nil {
			scaled := scale(img, w, h, color.RGBA{255, 255, 255, 255})
			for y := range h {
				for x := range w {
					shot.Set(at.X+x, at.Y+y, scaled.at(x, y))
				}
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, shot); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name string
		shot []byte
		want string
	}{
		{"in place", paste(curvesPNG(), image.Pt(100, 50), 480, 320), ""},
		{"one pixel off", paste(curvesPNG(), image.Pt(101, 50), 480, 320), ""},
		{"shifted 12 px", paste(curvesPNG(), image.Pt(112, 50), 480, 320), "does not show the image"},
		{"blank", paste(nil, image.Point{}, 0, 0), "looks blank"},
		{"another picture", paste(other, image.Pt(100, 50), 480, 320), "does not show the image"},
		{"drawn at half size", paste(curvesPNG(), image.Pt(100, 50), 240, 160), "does not show the image"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{URL: "test", Screenshot: tc.shot, Elements: map[string]Element{"f": {
				ID: "f", Found: true, Tag: "img", Box: box, Visible: true,
				Image: &Image{Tag: "img", Src: u, Box: box, Visible: true, Complete: true, NaturalWidth: 480, NaturalHeight: 320},
			}}}
			st, err := r.CheckFigure("f")
			checkErr(t, "CheckFigure", err, tc.want)
			if tc.want == "" && (!st.Compared || st.LineColoursShown != 3) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestFindChromium: the environment override wins and must exist.
func TestFindChromium(t *testing.T) {
	t.Setenv(EnvChromium, filepath.Join(t.TempDir(), "no-such-chromium"))
	if _, err := FindChromium(); err == nil || !strings.Contains(err.Error(), EnvChromium) {
		t.Errorf("FindChromium with a missing override: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvChromium, exe)
	if got, err := FindChromium(); err != nil || got != exe {
		t.Errorf("FindChromium = %q, %v; want the override %q", got, err, exe)
	}
}
