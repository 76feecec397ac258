package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"rulescape/internal/devstack"
	"rulescape/internal/follow"
	"rulescape/internal/s3test"
	"rulescape/store"
	"rulescape/workflows"
)

// TestProgressAndUI runs testdata/campaign_progress.yaml (6 train units
// one at a time, a couple of seconds) on an embedded stack that serves the
// Temporal Web UI, and checks what scripts and people see while it runs:
// `run -o json` streams progress lines before its result, `status --watch
// -o json` follows a running rerun to its end, the text bars show the
// workflow's ETA, and every output carries the workflow's Web UI page —
// which the UI serves — or, for external services, TEMPORAL_UI_URL's.
func TestProgressAndUI(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	home := t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	t.Setenv(envTemporalUI, "")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{Home: home, UI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	file := filepath.Join("testdata", "campaign_progress.yaml")

	// run -o json: progress lines while it runs, then the result.
	code, out, errOut := runCLI(t, "run", "-o", "json", file)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var res runJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || res.Type != "result" || res.Status != "completed" {
		t.Fatalf("last line %q (%v); want the result of a completed campaign", lines[len(lines)-1], err)
	}
	wantUI := ""
	if st.UIAddress != "" { // not built with -tags nodevui
		wantUI = st.UIAddress + "/namespaces/" + st.Namespace + "/workflows/campaign-" + res.Campaign
	}
	if res.UIURL != wantUI {
		t.Errorf("result ui_url = %q, want %q", res.UIURL, wantUI)
	}
	progress := lines[:len(lines)-1]
	if len(progress) < 3 {
		t.Fatalf("run -o json streamed %d progress lines before its result, want at least 3 for a campaign of a couple of seconds:\n%s", len(progress), out)
	}
	t.Logf("run -o json: %d progress lines", len(progress))
	lastDone := -1
	for i, l := range progress {
		var p follow.Line
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("progress line %d %q: %v", i, l, err)
		}
		if p.Type != "progress" || p.Campaign != res.Campaign || p.Workflow != workflows.WorkflowID(res.Campaign) || p.UIURL != wantUI || p.Time.IsZero() {
			t.Errorf("progress line %d: %s", i, l)
		}
		var train *follow.Stage
		for j := range p.Stages {
			if p.Stages[j].Name == "train" {
				train = &p.Stages[j]
			}
		}
		if train == nil || train.Total != 6 || train.Done < lastDone {
			t.Fatalf("progress line %d: train stage %+v after %d done", i, train, lastDone)
		}
		lastDone = train.Done
		if i == 0 && train.Status == workflows.StatusCompleted {
			t.Errorf("the first progress line already shows train completed: %s", l)
		}
		if i == len(progress)-1 && (p.Status != workflows.StatusCompleted || train.Status != workflows.StatusCompleted || train.Done != 6 ||
			train.EtaSeconds == nil || *train.EtaSeconds != 0) {
			t.Errorf("the last progress line is not the completed state: %s", l)
		}
	}

	// The Web UI serves the workflow's page.
	if wantUI != "" {
		resp, err := http.Get(wantUI)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
			t.Errorf("GET %s: %s, %.100q", wantUI, resp.Status, page)
		}
	}

	// Text: the bars on stderr (all cache hits now), the link.
	code, _, errOut = runCLI(t, "run", "--progress", "always", file)
	if code != 0 || !strings.Contains(errOut, "train       [========================] 6/6 100.0%") || !strings.Contains(errOut, "ETA 0s  (6 cached)") ||
		(wantUI != "" && !strings.Contains(errOut, "Temporal Web UI: "+wantUI+"\n")) {
		t.Errorf("run --progress always: exit %d, stderr:\n%s", code, errOut)
	}

	// status --watch -o json follows a running rerun of the train stage.
	c := temporalClient(t, ctx, st.TemporalAddress, st.Namespace)
	before, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(res.Campaign), "")
	if err != nil {
		t.Fatal(err)
	}
	rerunDone := make(chan string, 1)
	go func() {
		code, _, errOut := runCLI(t, "rerun", "-o", "json", "--progress", "never", file, "--stage", "train")
		if code != 0 {
			rerunDone <- errOut
		}
		close(rerunDone)
	}()
	for {
		d, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(res.Campaign), "")
		if err == nil && d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != before.GetWorkflowExecutionInfo().GetExecution().GetRunId() &&
			d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
		select {
		case msg := <-rerunDone:
			t.Fatalf("the rerun ended before status could watch it: %s", msg)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// A text watcher alongside the JSON one.
	type result struct {
		code     int
		out, err string
	}
	textWatch := make(chan result, 1)
	go func() {
		code, out, errOut := runCLI(t, "status", "-w", res.Campaign)
		textWatch <- result{code, out, errOut}
	}()
	code, out, errOut = runCLI(t, "status", "--watch", "-o", "json", res.Campaign)
	tw := <-textWatch
	if tw.code != 0 || !strings.HasPrefix(tw.out, "campaign "+res.Campaign+" (campaign-"+res.Campaign+"): running\n") ||
		!strings.Contains(tw.out, "train       [========================] 6/6 100.0%") ||
		!strings.HasSuffix(tw.out, "campaign "+res.Campaign+" (campaign-"+res.Campaign+"): completed\n") {
		t.Errorf("status -w (text): exit %d, stdout:\n%s\nstderr: %s", tw.code, tw.out, tw.err)
	}
	if msg := <-rerunDone; msg != "" {
		t.Fatalf("rerun: %s", msg)
	}
	if code != 0 {
		t.Fatalf("status --watch: exit %d: %s", code, errOut)
	}
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var stat statusJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &stat); err != nil || stat.Type != "status" || stat.Status != "completed" || stat.UIURL != wantUI {
		t.Fatalf("status --watch ended with %q (%v); want the completed status", lines[len(lines)-1], err)
	}
	t.Logf("status --watch -o json: %d progress lines", len(lines)-1)
	if len(lines) < 3 {
		t.Errorf("status --watch printed %d progress lines, want at least 2 (while running and at the end):\n%s", len(lines)-1, out)
	}
	for _, l := range lines[:len(lines)-1] {
		var p follow.Line
		if err := json.Unmarshal([]byte(l), &p); err != nil || p.Type != "progress" || len(p.Stages) == 0 {
			t.Errorf("status --watch line %q (%v)", l, err)
		}
	}

	// Text status of the finished campaign: bars and the link.
	code, out, _ = runCLI(t, "status", file)
	if code != 0 || !strings.Contains(out, "  train       [========================] 6/6 100.0%") || (wantUI != "" && !strings.Contains(out, "Temporal Web UI: "+wantUI)) {
		t.Errorf("status (text): exit %d:\n%s", code, out)
	}

	// External services: the link comes from TEMPORAL_UI_URL.
	t.Setenv(devstack.EnvTemporalAddr, st.TemporalAddress)
	t.Setenv(store.EnvEndpoint, st.S3Endpoint)
	t.Setenv(store.EnvAccessKey, st.S3AccessKey)
	t.Setenv(store.EnvSecretKey, st.S3SecretKey)
	t.Setenv(envTemporalUI, "http://temporal-ui.example:8080/")
	code, out, errOut = runCLI(t, "status", "-o", "json", res.Campaign)
	if err := json.Unmarshal([]byte(out), &stat); code != 0 || err != nil ||
		stat.UIURL != "http://temporal-ui.example:8080/namespaces/default/workflows/campaign-"+res.Campaign {
		t.Errorf("status with TEMPORAL_UI_URL: exit %d, %s %s", code, out, errOut)
	}
	t.Setenv(envTemporalUI, "")
	if code, out, _ = runCLI(t, "status", "-o", "json", res.Campaign); code != 0 || strings.Contains(out, "ui_url") {
		t.Errorf("status against external Temporal without TEMPORAL_UI_URL: exit %d, %s; want no ui_url", code, out)
	}
}
