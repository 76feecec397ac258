package main

import (
	"io"
	"net/url"
	"os"
	"strings"

	"rulescape/internal/follow"
)

// envTemporalUI is the base URL of the Temporal Web UI of an external
// Temporal server, e.g. http://temporal.lab:8080. With the embedded stack
// the UI `rulescape dev` serves is used unless this is set.
const envTemporalUI = "TEMPORAL_UI_URL"

const progressFlagUsage = "progress: auto (text: bars on stderr when it is a terminal; -o json: JSON lines on stdout), always or never"

// campaignProgress decides whether run and rerun follow the campaign's
// progress: with -o json "auto" streams JSON lines (scripts read them from
// stdout before the final object), in text "auto" draws bars when stderr
// is a terminal.
func (a *app) campaignProgress(mode string) (bool, error) {
	if a.printer().JSON() && mode == "auto" {
		return true, nil
	}
	return wantProgress(mode, a.stderr)
}

// workflowURL returns the Temporal Web UI page of a workflow — from
// TEMPORAL_UI_URL, else the embedded stack's UI when `rulescape dev` serves
// one — or "" when no UI is known.
func (a *app) workflowURL(s *services, workflowID string) string {
	base := strings.TrimRight(os.Getenv(envTemporalUI), "/")
	if base != "" {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			a.log.Warn("ignoring "+envTemporalUI+": not an http(s) URL such as http://temporal.lab:8080", "value", base)
			base = ""
		}
	}
	if base == "" && s.Stack != nil {
		base = strings.TrimRight(s.Stack.UIAddress, "/")
	}
	if base == "" {
		return ""
	}
	return base + "/namespaces/" + url.PathEscape(s.Namespace) + "/workflows/" + url.PathEscape(workflowID)
}

// follower follows run rid of workflow wid: with -o json progress lines
// on stdout, else bars on text (stderr for run, stdout for status --watch).
func (a *app) follower(s *services, campaign, wid, rid, ui string, text io.Writer) *follow.Follower {
	f := follow.New(s.Client, wid, rid)
	f.Campaign, f.UI, f.JSON, f.Out = campaign, ui, a.printer().JSON(), text
	if f.JSON {
		f.Out = a.stdout
	}
	return f
}

// note writes a line for people to stderr; with -o json it does nothing.
func (a *app) note(format string, args ...any) {
	(&printer{w: a.stderr, json: a.printer().JSON()}).Textf(format, args...)
}
