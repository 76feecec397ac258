package main

// Temporal on PostgreSQL, as in the cluster deployment (docker-compose.yml):
// `rulescape dev --postgres` runs the embedded server on databases of the
// test server named by $RULESCAPE_TEST_POSTGRES (.ci/postgres), with the
// schema set up by the same code as the deployment's temporal-sql-tool.
// Skipped without that server unless RULESCAPE_REQUIRE_POSTGRES=1 (CI).

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"rulescape/internal/pgtest"
	"rulescape/workflows"
)

// startPostgresDev runs `rulescape dev` with Temporal's state in fresh
// databases on the test server.
func startPostgresDev(t *testing.T) (*devProc, string) {
	t.Helper()
	requireS3(t)
	pg := pgtest.Database(t) // dropped after the stack is killed
	home := t.TempDir()
	dev := startDev(t, home, "--postgres", pg)
	if _, err := os.Stat(filepath.Join(home, "temporal.db")); err == nil {
		t.Errorf("rulescape dev --postgres created a SQLite database in its home")
	}
	return dev, home
}

// TestQuickstartOnPostgres runs the quickstart campaign on one worker
// against a Temporal server whose state is in PostgreSQL, checks that it
// completes with every dataset of its manifest intact, and that the
// server's visibility store (the second PostgreSQL database) lists it.
func TestQuickstartOnPostgres(t *testing.T) {
	dev, _ := startPostgresDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	_, log := startWorkerWith(t, svc.env)
	camp, plan, run := startCampaign(t, ctx, c, svc.s3, quickstartFile, nil, 0)
	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign: %v\nworker:\n%s", err, log)
	}
	if res.Status != workflows.StatusCompleted || trainStage(res.Progress).Done != len(plan.Train) {
		t.Fatalf("campaign result %+v; want completed with %d train units", res.Progress, len(plan.Train))
	}
	o := outcomeOf(t, ctx, svc.s3, camp.ID())
	if n := len(o.datasets) + len(o.metaopt); n != res.Datasets || len(o.metaopt) == 0 {
		t.Errorf("the manifest has %d datasets (%d metaopt histories), the result says %d", n, len(o.metaopt), res.Datasets)
	}
	// Visibility records are written asynchronously: poll.
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowId = '" + run.GetID() + "' AND ExecutionStatus = 'Completed'",
		})
		if err == nil && len(resp.GetExecutions()) == 1 &&
			resp.GetExecutions()[0].GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the visibility store never listed %s as completed: %v, %v", run.GetID(), resp, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestWorkerCrashOnPostgres is TestWorkerCrashMidTrain's scenario on a
// PostgreSQL-backed server: the worker is SIGKILLed while some but not all
// train units are done, a second worker finishes the campaign, and every
// dataset exists exactly once, committed, with one completion per unit.
func TestWorkerCrashOnPostgres(t *testing.T) {
	dev, _ := startPostgresDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()

	first, firstLog := startWorkerWith(t, svc.env)
	camp, plan, run := startCampaign(t, ctx, c, svc.s3, resilienceFile, nil, 5*time.Second)
	total := len(plan.Train)
	done := waitTrainDone(t, ctx, c, run, 2, total-3, firstLog.String)
	waitTrainStarted(t, ctx, c, run, firstLog.String)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	t.Logf("killed the worker with %d of %d train units done", done, total)

	_, secondLog := startWorkerWith(t, svc.env)
	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign after the crash: %v\nsecond worker:\n%s", err, secondLog)
	}
	if res.Status != workflows.StatusCompleted || trainStage(res.Progress).Done != total || res.Datasets != 2*total {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d train units and %d datasets", res.Progress, res.Datasets, total, 2*total)
	}
	if len(computedUnits(secondLog.String())) == 0 {
		t.Errorf("the second worker computed no unit:\n%s", secondLog)
	}
	checkDatasets(t, ctx, svc, camp.ID(), plan)
	h := trainHistory(t, ctx, c, run)
	if h.scheduled != total || h.completed != total {
		t.Errorf("history: %d Train activities scheduled, %d completed; want %d each", h.scheduled, h.completed, total)
	}
	if h.maxAttempt < 2 {
		t.Errorf("no Train activity ran a second attempt: the kill interrupted nothing")
	}
}
