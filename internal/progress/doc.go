// Package progress draws a one-line progress bar on a terminal: items done
// out of a total, percent, rate and estimated time left, redrawn in place
// with a carriage return.
//
// A Bar is safe for concurrent use, so parallel workers can report to one
// bar, and it redraws at most once per Interval so that reporting is cheap
// however often Add is called. It has no dependencies beyond the standard
// library; whether to draw at all (for example only when stderr is a
// terminal) is the caller's decision.
//
// Render formats one such line from a count and the time elapsed;
// RenderETA takes the time left from the caller instead (rulescape's
// campaign bars show the workflow's own estimate).
package progress
