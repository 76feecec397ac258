package main

// Fault injection beside resilience_test.go: the S3 server frozen in the
// middle of a campaign. (Worker and server SIGKILLs are in
// resilience_test.go and crash_test.go, in-place corruption in
// activities' TestCorruptCacheHit; docs/CAMPAIGNS.md "What can go wrong"
// lists every fault with its test.)

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"rulescape/workflows"
)

// TestS3FreezeMidCampaign runs the resilience campaign on a `rulescape dev`
// stack and a worker subprocess, freezes the S3 gateway (SIGSTOP) for 20 s
// while some but not all train units are done — every upload, lookup and
// commit in that window hangs — then lets it go on (SIGCONT), and checks
// that the campaign completes with every dataset exactly once and intact.
func TestS3FreezeMidCampaign(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	home := t.TempDir()
	dev := startDev(t, home)
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	var info struct {
		GatewayPID int `json:"gateway_pid"`
	}
	if data, err := os.ReadFile(filepath.Join(home, "stack.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	if info.GatewayPID <= 0 {
		t.Fatal("stack.json has no gateway pid")
	}

	_, workerLog := startWorkerWith(t, svc.env)
	camp, plan, run := startCampaign(t, ctx, c, svc.s3, resilienceFile, nil, 5*time.Second)
	total := len(plan.Train)
	done := waitTrainDone(t, ctx, c, run, 2, total-3, workerLog.String)
	if err := syscall.Kill(info.GatewayPID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(info.GatewayPID, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	t.Logf("froze the S3 gateway (pid %d) with %d of %d train units done", info.GatewayPID, done, total)
	// Longer than the units' heartbeat timeout (5 s), so activities in
	// flight time out and are retried while S3 does not answer.
	time.Sleep(20 * time.Second)
	thaw()

	var res workflows.CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign after the S3 freeze: %v\nworker log:\n%s", err, workerLog.String())
	}
	if res.Status != workflows.StatusCompleted || trainStage(res.Progress).Done != total || res.Datasets != 2*total {
		t.Fatalf("campaign result %+v, %d datasets; want completed with %d train units and %d datasets", res.Progress, res.Datasets, total, 2*total)
	}
	checkDatasets(t, ctx, svc, camp.ID(), plan)
	select {
	case err := <-dev.done:
		t.Fatalf("rulescape dev exited during the freeze (%v); stderr:\n%s", err, dev.stderr)
	default:
	}
}
