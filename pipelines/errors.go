package pipelines

import (
	"errors"
	"fmt"
	"strings"
)

// ParseError is an error in a campaign file: where it is, which field, what
// is wrong and how to fix it. It unwraps to the cause (a *ParamError for a
// bad setup parameter).
type ParseError struct {
	File   string // the name given to Parse
	Line   int    // 1-based line; 0 when unknown
	Column int    // 1-based column; 0 when unknown
	Field  string // field path, e.g. "rules[1].theta"; "" for the whole file
	Err    error  // what is wrong
	Fix    string // how to fix it ("" when Err says it)
}

// Error returns "file:line:column: field: problem — fix".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	msg := e.Err.Error()
	var pe *ParamError
	if errors.As(e.Err, &pe) && pe.Fix == e.Fix {
		msg = pe.Problem
	}
	if e.Field != "" && !strings.HasPrefix(msg, e.Field) {
		b.WriteString(clamp(e.Field, 120) + ": ")
	}
	b.WriteString(clamp(msg, 400))
	if e.Fix != "" {
		b.WriteString(" — " + e.Fix)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// clamp cuts s to at most n runes, saying how long it was: a field path or
// message built from what a user wrote (a key of a million characters)
// stays one readable line. Values are quoted shorter still (Excerpt).
func clamp(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + fmt.Sprintf("… (%d bytes)", len(s))
}
