package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Config sets up a Bar. The zero value works: a 30-cell bar counting
// "items", redrawn at most every 100 ms, timed by the wall clock.
type Config struct {
	Label    string           // printed before the bar, e.g. "dnms/miconi" (default none)
	Unit     string           // what is counted, plural, e.g. "trials" (default "items")
	Width    int              // cells of the bar itself (default 30)
	Interval time.Duration    // minimum time between redraws (default 100 ms)
	Now      func() time.Time // clock (default time.Now); tests pass a fake one
}

// Bar is a progress bar for a known total. Its methods are safe for
// concurrent use.
type Bar struct {
	w   io.Writer
	cfg Config

	mu       sync.Mutex
	total    int
	done     int
	start    time.Time
	last     time.Time // time of the last redraw
	drawn    bool      // something was drawn since the last Finish
	lastLen  int       // length of the last line, to blank its leftovers
	finished bool
}

// New returns a bar for total items that draws on w. Nothing is drawn until
// the first Add or Finish.
func New(w io.Writer, total int, cfg Config) *Bar {
	if cfg.Unit == "" {
		cfg.Unit = "items"
	}
	if cfg.Width <= 0 {
		cfg.Width = 30
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Bar{w: w, cfg: cfg, total: max(total, 0), start: cfg.Now()}
}

// Add records n more items done and redraws if Interval has passed since
// the last redraw or the total is reached.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.done += n
	now := b.cfg.Now()
	if !b.drawn || now.Sub(b.last) >= b.cfg.Interval || b.done >= b.total {
		b.draw(now)
	}
}

// Done returns the number of items recorded so far.
func (b *Bar) Done() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// Finish draws the final state and ends the line. Later calls to Add and
// Finish do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.draw(b.cfg.Now())
	fmt.Fprintln(b.w)
	b.finished = true
}

// Pause blanks the bar's line, calls f, which may write lines of its own
// to the same terminal, and redraws the bar below them. Add waits meanwhile.
func (b *Bar) Pause(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn && !b.finished {
		fmt.Fprint(b.w, "\r"+strings.Repeat(" ", b.lastLen)+"\r")
		b.lastLen = 0
	}
	f()
	if b.drawn && !b.finished {
		b.draw(b.cfg.Now())
	}
}

// draw writes the current line over the previous one; b.mu must be held.
func (b *Bar) draw(now time.Time) {
	line := Render(b.cfg.Label, b.cfg.Unit, b.done, b.total, now.Sub(b.start), b.cfg.Width)
	pad := ""
	if n := len([]rune(line)); n < b.lastLen {
		pad = strings.Repeat(" ", b.lastLen-n)
	}
	fmt.Fprint(b.w, "\r"+line+pad)
	b.lastLen = len([]rune(line))
	b.last = now
	b.drawn = true
}

// Render formats one progress line: label, bar, done/total, percent, the
// mean rate since the start and the time left at that rate, e.g.
//
//	dnms/miconi [=======>       ] 1200/2400  50.0%  40.0 trials/s  ETA 30s
//
// Rate and ETA are shown as "--" until some time has passed and some items
// are done. A total of zero counts as complete.
func Render(label, unit string, done, total int, elapsed time.Duration, width int) string {
	return render(label, unit, done, total, elapsed, -1, false, width)
}

// RenderETA is Render with the time left given by the caller — for example
// a workflow's own estimate — instead of extrapolated from the mean rate. A
// negative eta means not known yet and is shown as "--".
func RenderETA(label, unit string, done, total int, elapsed, eta time.Duration, width int) string {
	return render(label, unit, done, total, elapsed, eta, true, width)
}

func render(label, unit string, done, total int, elapsed, eta time.Duration, given bool, width int) string {
	frac := 1.0
	if total > 0 {
		frac = min(max(float64(done)/float64(total), 0), 1)
	}
	filled := int(frac * float64(width))
	var bar strings.Builder
	bar.WriteByte('[')
	for i := range width {
		switch {
		case i < filled:
			bar.WriteByte('=')
		case i == filled && filled < width && done > 0:
			bar.WriteByte('>')
		default:
			bar.WriteByte(' ')
		}
	}
	bar.WriteByte(']')

	rate, etaText := "--", "--"
	if s := elapsed.Seconds(); s > 0 && done > 0 {
		r := float64(done) / s
		rate = fmt.Sprintf("%.1f", r)
		if !given {
			eta = time.Duration(float64(max(total-done, 0)) / r * float64(time.Second))
		}
	}
	if eta >= 0 && (given || rate != "--") {
		etaText = FormatDuration(eta)
	}
	var sb strings.Builder
	if label != "" {
		sb.WriteString(label + " ")
	}
	fmt.Fprintf(&sb, "%s %d/%d %5.1f%%  %s %s/s  ETA %s", bar.String(), done, total, 100*frac, rate, unit, etaText)
	return sb.String()
}

// FormatDuration rounds d for humans: "45s", "12m05s", "3h07m".
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
