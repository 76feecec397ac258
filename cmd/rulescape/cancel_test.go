package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rulescape/workflows"
)

// TestCancelCommand cancels a running campaign (10 train units of about a
// second, 2 in flight, on a worker process) once a unit is done: cancel
// says canceled, the campaign's status is canceled with the train stage
// stopped short of its 10 units, and a second cancel is an error naming
// the campaign, as is a negative --wait.
func TestCancelCommand(t *testing.T) {
	ctx, _, st, _ := embeddedStack(t, 3*time.Minute)
	svc := servicesOfStack(st)
	c := temporalClient(t, ctx, svc.temporal, svc.namespace)
	_, log := startWorkerWith(t, svc.env)
	camp, _, run := startCampaign(t, ctx, c, svc.s3, filepath.Join("testdata", "resilience.yaml"), nil, 5*time.Second)
	id := camp.ID()
	for {
		p, err := workflows.QueryProgress(ctx, c, run.GetID(), run.GetRunID())
		if err == nil && trainDone(p.Stages) >= 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no unit finished: %v\nworker:\n%s", err, log)
		case <-time.After(200 * time.Millisecond):
		}
	}

	code, stdout, stderr := runCLI(t, "cancel", "-o", "json", id)
	if code != 0 {
		t.Fatalf("cancel: exit %d\n%s%s", code, stdout, stderr)
	}
	var got cancelJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Status != "canceled" || got.Campaign != id {
		t.Fatalf("cancel -o json printed %q (%v), want status canceled for campaign %s", stdout, err, id)
	}
	var s statusJSON
	code, stdout, stderr = runCLI(t, "status", "-o", "json", id)
	if err := json.Unmarshal([]byte(stdout), &s); code != 0 || err != nil || s.Status != "canceled" {
		t.Fatalf("status after cancel: exit %d, %q%s (%v), want canceled", code, stdout, stderr, err)
	}
	if n := trainDone(s.Stages); n >= 10 {
		t.Errorf("%d of 10 train units done: the cancellation stopped nothing", n)
	}

	code, _, stderr = runCLI(t, "cancel", id)
	if code == 0 || !strings.Contains(stderr, "campaign "+id+" is not running (canceled)") {
		t.Errorf("a second cancel: exit %d, stderr %q; want an error saying it is not running", code, stderr)
	}
	code, _, stderr = runCLI(t, "cancel", "--wait", "-1s", id)
	if code == 0 || !strings.Contains(stderr, "--wait -1s") {
		t.Errorf("cancel --wait -1s: exit %d, stderr %q; want an error naming --wait", code, stderr)
	}
}

// trainDone returns the units done of the train stage.
func trainDone(stages []workflows.StageProgress) int {
	for _, sp := range stages {
		if sp.Name == "train" {
			return sp.Done
		}
	}
	return 0
}
