package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"rulescape/internal/devstack"
	"rulescape/workflows"
)

// TestWorkflowURL: TEMPORAL_UI_URL wins, then the embedded stack's UI;
// without either there is no link, and a malformed variable is ignored.
func TestWorkflowURL(t *testing.T) {
	var logged bytes.Buffer
	a := &app{log: slog.New(slog.NewTextHandler(&logged, nil))}
	withUI := &devstack.Stack{UIAddress: "http://127.0.0.1:8233"}
	tests := []struct {
		name  string
		env   string
		stack *devstack.Stack
		ns    string
		want  string
	}{
		{"external, env", "http://temporal.lab:8080/", nil, "lab", "http://temporal.lab:8080/namespaces/lab/workflows/campaign-0123456789abcdef"},
		{"external, path prefix", "https://lab.example/temporal", nil, "default", "https://lab.example/temporal/namespaces/default/workflows/campaign-0123456789abcdef"},
		{"external, no UI", "", nil, "default", ""},
		{"embedded with UI", "", withUI, "default", "http://127.0.0.1:8233/namespaces/default/workflows/campaign-0123456789abcdef"},
		{"embedded without UI", "", &devstack.Stack{}, "default", ""},
		{"env wins over the stack", "http://other:8080", withUI, "default", "http://other:8080/namespaces/default/workflows/campaign-0123456789abcdef"},
		{"namespace escaped", "http://ui", nil, "a b/c", "http://ui/namespaces/a%20b%2Fc/workflows/campaign-0123456789abcdef"},
		{"malformed env ignored", "temporal.lab:8080", withUI, "default", "http://127.0.0.1:8233/namespaces/default/workflows/campaign-0123456789abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envTemporalUI, tc.env)
			got := a.workflowURL(&services{Stack: tc.stack, Namespace: tc.ns}, workflows.WorkflowID("0123456789abcdef"))
			if got != tc.want {
				t.Errorf("workflowURL = %q, want %q", got, tc.want)
			}
		})
	}
	if !strings.Contains(logged.String(), "ignoring TEMPORAL_UI_URL") {
		t.Errorf("the malformed TEMPORAL_UI_URL was not reported: %q", logged.String())
	}
}

// TestCampaignProgress: -o json follows by default; text only on a terminal.
func TestCampaignProgress(t *testing.T) {
	for _, c := range []struct {
		output, mode string
		want         bool
	}{
		{"json", "auto", true}, {"json", "never", false}, {"json", "always", true},
		{"text", "auto", false}, {"text", "always", true}, {"text", "never", false},
	} {
		a := &app{output: c.output, stderr: io.Discard}
		if got, err := a.campaignProgress(c.mode); err != nil || got != c.want {
			t.Errorf("-o %s --progress %s: %v, %v; want %v", c.output, c.mode, got, err, c.want)
		}
	}
	if _, err := (&app{output: "json"}).campaignProgress("sometimes"); err == nil || !strings.Contains(err.Error(), "auto, always or never") {
		t.Errorf("--progress sometimes: %v", err)
	}
}
