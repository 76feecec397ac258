package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRender(t *testing.T) {
	tests := []struct {
		name        string
		label, unit string
		done, total int
		elapsed     time.Duration
		width       int
		want        string
	}{
		{"start", "", "trials", 0, 100, 0, 10,
			"[          ] 0/100   0.0%  -- trials/s  ETA --"},
		{"half", "dnms/miconi", "trials", 50, 100, 10 * time.Second, 10,
			"dnms/miconi [=====>    ] 50/100  50.0%  5.0 trials/s  ETA 10s"},
		{"quarter, long eta", "", "trials", 250, 1000, 150 * time.Second, 8,
			"[==>     ] 250/1000  25.0%  1.7 trials/s  ETA 7m30s"},
		{"done", "x", "items", 7, 7, 2 * time.Second, 4,
			"x [====] 7/7 100.0%  3.5 items/s  ETA 0s"},
		{"zero total", "", "items", 0, 0, time.Second, 4,
			"[====] 0/0 100.0%  -- items/s  ETA --"},
		{"hours", "", "trials", 1, 10000, 10 * time.Second, 2,
			"[> ] 1/10000   0.0%  0.1 trials/s  ETA 27h46m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Render(tc.label, tc.unit, tc.done, tc.total, tc.elapsed, tc.width)
			if got != tc.want {
				t.Errorf("Render =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestRenderETA(t *testing.T) {
	tests := []struct {
		name        string
		done, total int
		elapsed     time.Duration
		eta         time.Duration
		want        string
	}{
		{"given, not the rate's", 50, 100, 10 * time.Second, 90 * time.Second,
			"train [=====>    ] 50/100  50.0%  5.0 units/s  ETA 1m30s"},
		{"not known yet", 0, 4, 3 * time.Second, -1,
			"train [          ] 0/4   0.0%  -- units/s  ETA --"},
		{"known before any rate", 0, 4, 0, 20 * time.Second,
			"train [          ] 0/4   0.0%  -- units/s  ETA 20s"},
		{"finished", 4, 4, 2 * time.Second, 0,
			"train [==========] 4/4 100.0%  2.0 units/s  ETA 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RenderETA("train", "units", tc.done, tc.total, tc.elapsed, tc.eta, 10); got != tc.want {
				t.Errorf("RenderETA =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		1499 * time.Millisecond:         "1s",
		59 * time.Second:                "59s",
		61 * time.Second:                "1m01s",
		3*time.Hour + 7*time.Minute + 5: "3h07m",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// redraws splits the bar's output into the lines it drew.
func redraws(out string) []string {
	parts := strings.Split(out, "\r")
	return parts[1:] // output starts with \r
}

func TestBarThrottles(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var buf bytes.Buffer
	b := New(&buf, 100, Config{Unit: "trials", Width: 10, Interval: 100 * time.Millisecond, Now: clk.Now})
	if buf.Len() != 0 {
		t.Fatalf("New drew %q before any progress", buf.String())
	}
	b.Add(1) // first Add always draws
	for range 20 {
		clk.Advance(time.Millisecond)
		b.Add(1) // within the interval: no redraw
	}
	if n := len(redraws(buf.String())); n != 1 {
		t.Fatalf("after 21 Adds within 20 ms: %d redraws, want 1: %q", n, buf.String())
	}
	clk.Advance(80 * time.Millisecond) // 100 ms after the first draw
	b.Add(1)
	lines := redraws(buf.String())
	if len(lines) != 2 {
		t.Fatalf("after the interval: %d redraws, want 2: %q", len(lines), buf.String())
	}
	if !strings.Contains(lines[1], " 22/100 ") {
		t.Errorf("second redraw %q does not show 22/100", lines[1])
	}
	b.Add(78) // reaching the total always draws
	lines = redraws(buf.String())
	if len(lines) != 3 || !strings.Contains(lines[2], "100/100 100.0%") {
		t.Errorf("reaching the total: redraws %q", lines)
	}
	if b.Done() != 100 {
		t.Errorf("Done = %d, want 100", b.Done())
	}
	b.Finish()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("Finish did not end the line: %q", buf.String())
	}
	n := buf.Len()
	b.Add(5)
	b.Finish()
	if buf.Len() != n {
		t.Errorf("Add/Finish after Finish wrote %q", buf.String()[n:])
	}
}

func TestBarBlanksLeftovers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	b := New(&buf, 1000, Config{Width: 4, Now: clk.Now})
	clk.Advance(time.Second)
	b.Add(1) // rate 1.0/s, ETA 16m39s: a long line
	clk.Advance(time.Hour)
	b.Add(998) // rate 0.3/s, ETA 3s: shorter by the ETA text
	lines := redraws(buf.String())
	if len(lines) != 2 {
		t.Fatalf("redraws = %q, want 2", lines)
	}
	if len(lines[1]) != len(lines[0]) || !strings.HasSuffix(lines[1], " ") {
		t.Errorf("shorter line not padded to the previous length:\n%q\n%q", lines[0], lines[1])
	}
}

func TestBarConcurrent(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)} // never advances: draws only at first and at the total
	const workers, each = 8, 500
	b := New(&buf, workers*each, Config{Now: clk.Now})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				b.Add(1)
			}
		}()
	}
	wg.Wait()
	if b.Done() != workers*each {
		t.Errorf("Done = %d, want %d", b.Done(), workers*each)
	}
	lines := redraws(buf.String())
	if len(lines) != 2 || !strings.Contains(lines[1], fmt.Sprintf("%d/%d", workers*each, workers*each)) {
		t.Errorf("redraws = %q, want the first and the final state", lines)
	}
}

func TestBarPause(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	b := New(&buf, 10, Config{Width: 4, Now: clk.Now})
	b.Pause(func() { buf.WriteString("before any bar\n") }) // nothing drawn yet: no blanking, no redraw
	if got := buf.String(); got != "before any bar\n" {
		t.Fatalf("Pause before the first draw wrote %q", got)
	}
	buf.Reset()
	b.Add(3)
	bar := buf.String() // "\r" + line
	buf.Reset()
	b.Pause(func() { buf.WriteString("row\n") })
	blank := "\r" + strings.Repeat(" ", len(bar)-1) + "\r"
	if want := blank + "row\n" + bar; buf.String() != want {
		t.Errorf("Pause wrote\n%q\nwant\n%q", buf.String(), want)
	}
}
