// Package browsercheck opens a local HTML file in headless Chromium and
// reports what a reader's browser would show: the console messages with
// their levels, uncaught JavaScript exceptions, resources that failed to
// load, a PNG screenshot of the whole page, and for chosen element IDs
// their box on the page, whether they are visible and whether their image
// loaded. It is the acceptance check of the campaign report (issue #6: the
// report opens without console errors and its learning-curve figure is
// visible).
//
// It drives the system's Chromium (Debian's chromium package) through the
// DevTools protocol with github.com/chromedp/chromedp: the binary is
// $RULESCAPE_CHROMIUM, else chromium, chromium-browser, google-chrome or
// google-chrome-stable on PATH. Chromium runs with --headless, --no-sandbox
// (CI runs as root), --disable-gpu, --disable-dev-shm-usage,
// --disable-background-networking, a fresh profile in a temporary directory,
// the sRGB colour profile and a device scale factor of 1, so one CSS pixel
// is one screenshot pixel.
//
// Report.Err fails on any console error, exception or failed resource;
// Report.CheckFigure fails unless an element's image is visible, loaded and
// really drawn in the screenshot: the screenshot's pixels inside the image's
// box are compared with the image file itself, scaled to the box, and must
// show the image's ink (its non-background pixels) and its dominant
// colours. A blank, broken, hidden, covered or missing image fails.
//
// Tests that need Chromium call Require, which skips them loudly when no
// browser is found — or fails them when RULESCAPE_REQUIRE_CHROMIUM=1, as CI
// sets it.
package browsercheck
