package browsercheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the Chromium binary to use instead of a PATH lookup.
const EnvChromium = "RULESCAPE_CHROMIUM"

// EnvRequire, set to 1, makes Require fail instead of skip when no
// Chromium is found (CI sets it).
const EnvRequire = "RULESCAPE_REQUIRE_CHROMIUM"

// binaryNames are looked up on PATH in this order.
var binaryNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNoChromium is returned (wrapped) by FindChromium when no browser is
// found.
var ErrNoChromium = errors.New("no Chromium found (looked at $" + EnvChromium + " and for " +
	strings.Join(binaryNames, ", ") + " on PATH) — install it with `apt-get install -y --no-install-recommends chromium` or point " +
	EnvChromium + " at the binary")

// FindChromium returns the Chromium binary: $RULESCAPE_CHROMIUM when set
// (it must exist), else the first of chromium, chromium-browser,
// google-chrome and google-chrome-stable on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		abs, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("$%s = %q: %w — point it at an executable Chromium", EnvChromium, p, err)
		}
		return abs, nil
	}
	for _, name := range binaryNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Required reports whether RULESCAPE_REQUIRE_CHROMIUM=1.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Require returns the Chromium binary, or skips t loudly when there is
// none — or fails it when RULESCAPE_REQUIRE_CHROMIUM=1.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := FindChromium()
	if err != nil {
		if Required() {
			t.Fatalf("%s=1 but %v", EnvRequire, err)
		}
		t.Skipf("!!! SKIPPING a test that needs headless Chromium: %v (set %s=1 to fail instead)", err, EnvRequire)
	}
	return bin
}

// Options configures Start. The zero value is usable.
type Options struct {
	// Binary is the Chromium executable. Empty means FindChromium().
	Binary string
	// Width and Height are the viewport in CSS pixels (default 1280×800).
	// The screenshot covers the whole page, however tall.
	Width, Height int
	// Settle is how long Open waits after the page loaded, its images
	// decoded and two frames were drawn, so that timers and late scripts
	// report their errors too (default 300 ms).
	Settle time.Duration
	// Timeout bounds each Open (default 60 s).
	Timeout time.Duration
	// Stderr receives Chromium's own output (default discarded).
	Stderr *os.File
}

// Browser is a running headless Chromium. Open pages with Open, each in a
// new tab; Close stops the browser. A Browser is safe for concurrent use.
type Browser struct {
	opts   Options
	ctx    context.Context // the browser's chromedp context
	cancel func()
}

// Start launches headless Chromium. The caller must Close it. ctx bounds
// the browser's whole life.
func Start(ctx context.Context, opts Options) (*Browser, error) {
	if opts.Binary == "" {
		bin, err := FindChromium()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	if opts.Width <= 0 {
		opts.Width = 1280
	}
	if opts.Height <= 0 {
		opts.Height = 800
	}
	if opts.Settle <= 0 {
		opts.Settle = 300 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	aopts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(opts.Binary),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("force-device-scale-factor", "1"),
	)
	if opts.Stderr != nil {
		aopts = append(aopts, chromedp.CombinedOutput(opts.Stderr))
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, aopts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first Do starts the browser (and its first, blank tab).
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("browsercheck: starting %s: %w", opts.Binary, err)
	}
	return &Browser{opts: opts, ctx: bctx, cancel: func() { bcancel(); acancel() }}, nil
}

// Close stops the browser and removes its temporary profile.
func (b *Browser) Close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// ConsoleMessage is one message of the page's console: a call of the console
// API (Source "console-api") or an entry of the browser's log, such as a
// failed resource load (Source "network").
type ConsoleMessage struct {
	// Level is "log", "debug", "info", "warning" or "error" (the console
	// API's types, e.g. "table" or "trace", are kept as they are).
	Level string `json:"level"`
	// Source is "console-api" for a call from the page, else the log's
	// source ("network", "javascript", "security", …).
	Source string `json:"source"`
	Text   string `json:"text"`
	URL    string `json:"url,omitempty"`
	Line   int64  `json:"line,omitempty"` // 0-based, as the protocol reports it
}

// Exception is an uncaught JavaScript exception or an unhandled promise
// rejection.
type Exception struct {
	Text   string `json:"text"` // e.g. "Uncaught Error: boom"
	URL    string `json:"url,omitempty"`
	Line   int64  `json:"line"`   // 0-based
	Column int64  `json:"column"` // 0-based
}

// FailedRequest is a resource the page asked for and did not get: a
// network error (e.g. net::ERR_FILE_NOT_FOUND for a missing file) or an
// HTTP status of 400 or more. The browser's own request for /favicon.ico
// of a page served over HTTP is not the page's: neither it nor its console
// line is recorded (a page that links /favicon.ico itself is not checked
// for it either).
type FailedRequest struct {
	URL    string `json:"url"`
	Type   string `json:"type"`             // Image, Script, Stylesheet, Fetch, …
	Status int    `json:"status,omitempty"` // HTTP status, 0 for a network error
	Error  string `json:"error,omitempty"`  // the network error, e.g. net::ERR_FILE_NOT_FOUND
}

// Box is a rectangle in CSS pixels relative to the top left of the page
// (not of the viewport), i.e. in the screenshot's pixel coordinates.
type Box struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Image is the picture an element is or holds: an <img>, else an inline
// <svg> or a <canvas>.
type Image struct {
	// Tag is "img", "svg" or "canvas".
	Tag string `json:"tag"`
	// Src is the URL an <img> was loaded from (currentSrc), absolute; ""
	// for svg and canvas.
	Src     string `json:"src"`
	Box     Box    `json:"box"`
	Visible bool   `json:"visible"`
	// Complete and NaturalWidth/Height are the DOM's: a broken image is
	// complete with a natural width of 0. An svg or canvas is complete,
	// and its natural size is its drawn size.
	Complete      bool `json:"complete"`
	NaturalWidth  int  `json:"natural_width"`
	NaturalHeight int  `json:"natural_height"`
}

// Element is what Open measured of an element by ID.
type Element struct {
	ID    string `json:"id"`
	Found bool   `json:"found"`
	Tag   string `json:"tag,omitempty"` // lower case, e.g. "figure"
	Box   Box    `json:"box"`
	// Visible is false for an element that is not rendered (display:none
	// on it or an ancestor), is invisible (visibility:hidden, opacity 0),
	// has an empty box or lies outside the page.
	Visible bool `json:"visible"`
	// Image is the element itself when it is an <img>, <svg> or <canvas>,
	// else its first <img> descendant, else its first <svg> or <canvas>;
	// nil when there is none.
	Image *Image `json:"image,omitempty"`
}

// ImageLoaded reports whether the element has an image that finished
// loading and decoded to a non-empty picture (naturalWidth > 0).
func (e Element) ImageLoaded() bool {
	return e.Image != nil && e.Image.Complete && e.Image.NaturalWidth > 0 && e.Image.NaturalHeight > 0
}

// Report is what a page did when opened.
type Report struct {
	URL            string             `json:"url"`
	Title          string             `json:"title"`
	Console        []ConsoleMessage   `json:"console"`
	Exceptions     []Exception        `json:"exceptions"`
	FailedRequests []FailedRequest    `json:"failed_requests"`
	Elements       map[string]Element `json:"elements"`
	// PageWidth and PageHeight are the document's scroll size in CSS
	// pixels; the screenshot has this size.
	PageWidth  int `json:"page_width"`
	PageHeight int `json:"page_height"`
	// Screenshot is a PNG of the whole page (beyond the viewport).
	Screenshot []byte `json:"-"`
}

// Problems lists, one line each, the console errors, the uncaught
// exceptions and the failed resource loads. A page a reader can use
// without a broken piece has none. Warnings are not problems.
func (r *Report) Problems() []string {
	var out []string
	for _, m := range r.Console {
		if m.Level == "error" {
			out = append(out, fmt.Sprintf("console error (%s): %s%s", m.Source, m.Text, where(m.URL, m.Line)))
		}
	}
	for _, e := range r.Exceptions {
		out = append(out, fmt.Sprintf("uncaught exception: %s%s", e.Text, where(e.URL, e.Line)))
	}
	for _, f := range r.FailedRequests {
		what := f.Error
		if f.Status != 0 {
			what = fmt.Sprintf("HTTP %d", f.Status)
		}
		out = append(out, fmt.Sprintf("failed to load %s %s: %s", strings.ToLower(f.Type), f.URL, what))
	}
	return out
}

// Err returns nil for a page without Problems, else an error listing them.
func (r *Report) Err() error {
	p := r.Problems()
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d problems:\n  %s", r.URL, len(p), strings.Join(p, "\n  "))
}

// Visible returns the element with the given ID, or an error saying why
// it is not a visible element with a loaded image: not found (or not
// measured: pass its ID to Open), not rendered, without an image, or an
// image that failed to load.
func (r *Report) Visible(id string) (Element, error) {
	e, ok := r.Elements[id]
	switch {
	case !ok:
		return e, fmt.Errorf("element #%s was not measured — pass %q to Open", id, id)
	case !e.Found:
		return e, fmt.Errorf("%s: no element #%s", r.URL, id)
	case !e.Visible:
		return e, fmt.Errorf("%s: #%s (%s) is not visible (box %+v: hidden, transparent, empty or off the page)", r.URL, id, e.Tag, e.Box)
	case e.Image == nil:
		return e, fmt.Errorf("%s: #%s (%s) is not and holds no <img>, <svg> or <canvas>", r.URL, id, e.Tag)
	case !e.ImageLoaded():
		return e, fmt.Errorf("%s: the image of #%s (%s) did not load (complete=%v, natural size %d×%d)",
			r.URL, id, e.Image.Src, e.Image.Complete, e.Image.NaturalWidth, e.Image.NaturalHeight)
	case !e.Image.Visible:
		return e, fmt.Errorf("%s: the image of #%s (%s) is not visible (box %+v)", r.URL, id, e.Image.Src, e.Image.Box)
	}
	return e, nil
}

func where(u string, line int64) string {
	if u == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", u, line+1)
}

// FileURL returns the file:// URL of a local path (made absolute).
func FileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Open loads target — a local file path or a URL (file://, http://,
// https://) — in a new tab, waits until it loaded, its images decoded and
// Settle passed, then measures the elements with the given IDs, takes a
// screenshot of the whole page and closes the tab. An error means the
// page could not be opened or inspected at all; what went wrong on the
// page itself is in the Report (see Err and Visible).
func (b *Browser) Open(ctx context.Context, target string, ids ...string) (*Report, error) {
	u := target
	if !strings.Contains(target, "://") {
		if _, err := os.Stat(target); err != nil {
			return nil, fmt.Errorf("browsercheck: %w", err)
		}
		var err error
		if u, err = FileURL(target); err != nil {
			return nil, err
		}
	}
	rep := &Report{URL: u, Console: []ConsoleMessage{}, Exceptions: []Exception{}, FailedRequests: []FailedRequest{}, Elements: map[string]Element{}}

	var mu sync.Mutex
	requests := map[network.RequestID]string{}
	marker := fmt.Sprintf("browsercheck-done-%d", time.Now().UnixNano())
	sawMarker := make(chan struct{})
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Request != nil {
				requests[ev.RequestID] = ev.Request.URL
			}
		case *network.EventResponseReceived:
			if r := ev.Response; r != nil && r.Status >= 400 && !autoFavicon(r.URL, ev.Type) {
				rep.FailedRequests = append(rep.FailedRequests, FailedRequest{URL: r.URL, Type: string(ev.Type), Status: int(r.Status)})
			}
		case *network.EventLoadingFailed:
			if !ev.Canceled && !autoFavicon(requests[ev.RequestID], ev.Type) {
				rep.FailedRequests = append(rep.FailedRequests, FailedRequest{URL: requests[ev.RequestID], Type: string(ev.Type), Error: ev.ErrorText})
			}
		}
	}

	tctx, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithListener(listen))
	defer cancelTab()
	tctx, cancel := context.WithTimeout(tctx, b.opts.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	// Subscribe to the console before navigating, so nothing is lost; the
	// messages arrive in order, and the marker logged last closes them.
	console := chromedp.Console(tctx)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			switch {
			case m.Type == chromedp.ConsoleDebug && m.Text == marker:
				close(sawMarker)
				mu.Unlock()
				return
			case m.IsException():
				rep.Exceptions = append(rep.Exceptions, Exception{Text: m.Text, URL: m.URL, Line: m.Line, Column: m.Column})
			case m.Source == "network" && autoFavicon(m.URL, network.ResourceTypeOther):
				// the browser's own favicon lookup, as above
			default:
				src := m.Source
				if src == "" {
					src = "console-api"
				}
				rep.Console = append(rep.Console, ConsoleMessage{Level: string(m.Type), Source: src, Text: m.Text, URL: m.URL, Line: m.Line})
			}
			mu.Unlock()
		}
	}()

	fail := func(what string, err error) (*Report, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("browsercheck: %s %s: %w", what, u, err)
	}
	if err := chromedp.Do(tctx,
		chromedp.EmulateViewport(int64(b.opts.Width), int64(b.opts.Height)),
		chromedp.Navigate(u),
	); err != nil {
		return fail("opening", err)
	}
	// Every image decoded (or failed), fonts ready, two frames drawn.
	const settled = `(async () => {
		await Promise.all(Array.from(document.images, (im) => im.decode().catch(() => {})));
		if (document.fonts) await document.fonts.ready;
		await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
		return document.readyState;
	})()`
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[string](settled, chromedp.EvalAwaitPromise)); err != nil {
		return fail("waiting for", err)
	}
	select {
	case <-time.After(b.opts.Settle):
	case <-tctx.Done():
		return fail("waiting for", tctx.Err())
	}

	if ids == nil {
		ids = []string{}
	}
	idsJSON, _ := json.Marshal(ids)
	var measured struct {
		Title    string             `json:"title"`
		Width    float64            `json:"width"`
		Height   float64            `json:"height"`
		Elements map[string]Element `json:"elements"`
	}
	js := strings.Replace(measureJS, "IDS", string(idsJSON), 1)
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		return fail("measuring", err)
	}
	if err := json.Unmarshal(raw, &measured); err != nil {
		return fail("measuring", err)
	}
	rep.Title = measured.Title
	rep.PageWidth, rep.PageHeight = int(measured.Width+0.5), int(measured.Height+0.5)
	for id, e := range measured.Elements {
		e.ID = id
		if e.Found && e.Visible {
			e.Visible = onPage(e.Box, measured.Width, measured.Height)
		}
		if e.Image != nil && e.Image.Visible {
			e.Image.Visible = onPage(e.Image.Box, measured.Width, measured.Height)
		}
		rep.Elements[id] = e
	}

	shot, err := chromedp.Run(tctx, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: ptr(true),
			FromSurface:           ptr(true),
			Clip:                  &page.Viewport{X: 0, Y: 0, Width: float64(rep.PageWidth), Height: float64(rep.PageHeight), Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	if err != nil {
		return fail("taking a screenshot of", err)
	}
	rep.Screenshot = shot

	// The marker: every console message before it has been collected.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](fmt.Sprintf("console.debug(%q), true", marker))); err != nil {
		return fail("closing the console of", err)
	}
	select {
	case <-sawMarker:
	case <-tctx.Done():
		return fail("reading the console of", tctx.Err())
	}
	<-collected
	mu.Lock()
	defer mu.Unlock()
	return rep, nil
}

// Check starts Chromium with opts, opens target (see Browser.Open) and
// stops the browser: one call for one page.
func Check(ctx context.Context, target string, opts Options, ids ...string) (*Report, error) {
	b, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Open(ctx, target, ids...)
}

// onPage reports whether box overlaps the page of size w×h by at least
// one pixel each way.
func onPage(b Box, w, h float64) bool {
	return b.Width > 0 && b.Height > 0 && b.X+b.Width >= 1 && b.Y+b.Height >= 1 && b.X <= w-1 && b.Y <= h-1
}

// autoFavicon reports whether a request is the browser's own look for
// /favicon.ico of an HTTP page that names no icon: no part of the page.
func autoFavicon(u string, typ network.ResourceType) bool {
	p, err := url.Parse(u)
	return err == nil && typ == network.ResourceTypeOther && p.Path == "/favicon.ico"
}

func ptr[T any](v T) *T { return &v }

// measureJS measures the page and the elements whose IDs replace IDS.
const measureJS = `(() => {
	const ids = IDS;
	const box = (e) => {
		const r = e.getBoundingClientRect();
		return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height};
	};
	const visible = (e) => {
		const r = e.getBoundingClientRect();
		if (r.width <= 0 || r.height <= 0) return false;
		if (e.checkVisibility) return e.checkVisibility({opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true});
		for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
			const s = getComputedStyle(n);
			if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false;
		}
		return true;
	};
	const d = document.documentElement;
	const out = {title: document.title,
		width: Math.max(d.scrollWidth, document.body ? document.body.scrollWidth : 0),
		height: Math.max(d.scrollHeight, document.body ? document.body.scrollHeight : 0),
		elements: {}};
	for (const id of ids) {
		const el = document.getElementById(id);
		if (!el) { out.elements[id] = {found: false, box: {x: 0, y: 0, width: 0, height: 0}, visible: false}; continue; }
		const tag = el.tagName.toLowerCase();
		const pic = ['img', 'svg', 'canvas'].includes(tag) ? el : (el.querySelector('img') || el.querySelector('svg, canvas'));
		let image = null;
		if (pic && pic.tagName.toLowerCase() === 'img') {
			image = {tag: 'img', src: pic.currentSrc || pic.src, box: box(pic), visible: visible(pic), complete: pic.complete,
				natural_width: pic.naturalWidth, natural_height: pic.naturalHeight};
		} else if (pic) {
			const b = box(pic);
			image = {tag: pic.tagName.toLowerCase(), src: '', box: b, visible: visible(pic), complete: true,
				natural_width: Math.round(b.width), natural_height: Math.round(b.height)};
		}
		out.elements[id] = {found: true, tag: tag, box: box(el), visible: visible(el), image: image};
	}
	return out;
})()`
