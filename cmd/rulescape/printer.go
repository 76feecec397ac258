package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"rulescape/internal/progress"
)

// outputFormats are the values of -o / --output.
var outputFormats = []string{"text", "json", "jsonl"}

// printer writes what a command produces in the format -o chose, so that
// commands never test the format themselves. A command builds a value (a
// struct with json tags) and a text renderer for it, and calls Print:
//
//	p := a.printer()
//	return p.Print(out, func(w io.Writer) { fmt.Fprintf(w, …); … })
//
// In text mode Print calls the renderer; in json and jsonl mode it writes
// the value as one compact JSON object on one line (-o json and -o jsonl
// differ only in name: a command that streams — one value per seed, per
// iteration, per progress change — calls Print once per value, and both
// give one object per line; a command with one result prints one line). A
// json.RawMessage is written as it is (e.g. a file the command also wrote).
// Text writes what only people need (headers, tables, summaries) with Text,
// which does nothing in json modes.
//
// Renderers ignore write errors: the printer keeps the first one (later
// writes are dropped), Print and Text return it, and Err reports it, so a
// loop may print and check once. With a
// progress bar set (Bar), output is written while the bar is paused, so
// lines never mix with it.
type printer struct {
	w    io.Writer
	json bool
	Bar  *progress.Bar // optional: paused around every write
	err  error
}

// printer returns a printer on the command's stdout in the chosen format.
func (a *app) printer() *printer {
	return &printer{w: a.stdout, json: a.output != "text"}
}

// JSON reports whether the output is JSON (-o json or -o jsonl).
func (p *printer) JSON() bool { return p.json }

// Print writes v as one JSON line, or in text mode calls text on the output.
// A nil text prints nothing in text mode.
func (p *printer) Print(v any, text func(w io.Writer)) error {
	if !p.json {
		return p.Text(text)
	}
	data, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return p.write(func(w io.Writer) { w.Write(append(data, '\n')) })
}

// Text calls text on the output in text mode; in json modes it does nothing.
func (p *printer) Text(text func(w io.Writer)) error {
	if p.json || text == nil {
		return p.err
	}
	return p.write(text)
}

// Textf is Text with one formatted string.
func (p *printer) Textf(format string, args ...any) error {
	return p.Text(func(w io.Writer) { fmt.Fprintf(w, format, args...) })
}

// Err returns the first write error.
func (p *printer) Err() error { return p.err }

func (p *printer) write(f func(io.Writer)) error {
	if p.err != nil {
		return p.err
	}
	if p.Bar != nil {
		p.Bar.Pause(func() { f(p) })
	} else {
		f(p)
	}
	return p.err
}

// Write implements io.Writer for the renderers: it keeps the first error
// and drops everything after it.
func (p *printer) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}

// jsonFloat encodes NaN and ±Inf as null, which JSON cannot represent.
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}
