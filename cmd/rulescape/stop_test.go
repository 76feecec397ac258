package main

// Tests of stopping: a `rulescape run` interrupted with Ctrl-C hands its
// unit back without using up an attempt, `run --no-worker` follows while a
// separate worker computes, a run that finishes first keeps the stack it
// owns up for another run attached to it, and a run whose stack is lost
// says so in one line. All run the CLI as subprocesses on a fresh home.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/pipelines"
	"rulescape/workflows"
)

// cliProc is a rulescape subprocess.
type cliProc struct {
	cmd      *exec.Cmd
	out      *lockedBuffer // stdout and stderr
	done     chan struct{}
	err      error // set when done is closed
	exitedAt time.Time
}

// startCLI runs rulescape with args on home (the embedded stack of home,
// whatever the test's environment says).
func startCLI(t *testing.T, home string, args ...string) *cliProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), execEnv+"=1", devstack.EnvHome+"="+home, devstack.EnvTemporalAddr+"=", "TEMPORAL_PROFILE=")
	p := &cliProc{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit and returns its error.
func (p *cliProc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(within):
		t.Fatalf("%s still running %s later; output:\n%s", strings.Join(p.cmd.Args[1:], " "), within, p.out)
		return nil
	}
}

// running reports whether the process has not exited.
func (p *cliProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// campaignOf returns the plan of a campaign file.
func campaignOf(t *testing.T, file string) *pipelines.Plan {
	t.Helper()
	camp, _, err := readCampaign(file)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// unitAttempts summarises the unit activities of a workflow's history.
type unitAttempts struct {
	handedBack int   // failures of type WorkerShutdown
	firstBack  int64 // unix nanos of the first of them
	otherFails int   // any other failure or timeout
	maxAttempt int32
	completed  int
}

func unitHistory(t *testing.T, ctx context.Context, c client.Client, wid string) unitAttempts {
	t.Helper()
	var h unitAttempts
	it := c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			h.maxAttempt = max(h.maxAttempt, a.GetAttempt())
		}
		if e.GetActivityTaskCompletedEventAttributes() != nil {
			h.completed++
		}
		if e.GetActivityTaskTimedOutEventAttributes() != nil {
			h.otherFails++
		}
		if a := e.GetActivityTaskFailedEventAttributes(); a != nil {
			if a.GetFailure().GetApplicationFailureInfo().GetType() == activities.WorkerShutdownType {
				if h.handedBack == 0 {
					h.firstBack = e.GetEventTime().AsTime().UnixNano()
				}
				h.handedBack++
			} else {
				h.otherFails++
			}
		}
	}
	return h
}

// TestRunInterruptHandsBackUnits runs a campaign with `rulescape run`
// attached to a `rulescape dev` stack, sends it SIGINT while a train unit
// runs, then finishes the campaign with `rulescape run --no-worker` and a
// separate `rulescape worker`. The interrupted unit must be handed back at
// the interrupt (a WorkerShutdown failure within seconds, not a heartbeat
// timeout 30 s later) and run again as attempt 1: no attempt is used up.
func TestRunInterruptHandsBackUnits(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	home := t.TempDir()
	dev := startDev(t, home)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	plan := campaignOf(t, resilienceFile)
	wid := workflows.WorkflowID(plan.CampaignID)

	first := startCLI(t, home, "run", resilienceFile, "--progress", "never", "--log-level", "info")
	// Wait for the workflow, then for a Train activity running on the run's worker.
	for {
		if _, err := c.DescribeWorkflowExecution(ctx, wid, ""); err == nil {
			break
		}
		if !first.running() || ctx.Err() != nil {
			t.Fatalf("the campaign never started; run output:\n%s", first.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitTrainStarted(t, ctx, c, c.GetWorkflow(ctx, wid, ""), first.out.String)
	sigint := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := first.wait(t, 30*time.Second)
	t.Logf("the interrupted run exited after %s: %v", first.exitedAt.Sub(sigint).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(first.out.String(), "interrupted; campaign "+plan.CampaignID+" continues") {
		t.Fatalf("interrupted run: %v; output:\n%s", err, first.out)
	}
	h := unitHistory(t, ctx, c, wid)
	if h.handedBack == 0 {
		t.Fatalf("no unit was handed back at the interrupt: %+v; run output:\n%s", h, first.out)
	}
	if d := time.Duration(h.firstBack - sigint.UnixNano()); d > 10*time.Second {
		t.Errorf("the unit was handed back %s after SIGINT, want at once (its heartbeat timeout is %s)", d, workflows.DefaultHeartbeatTimeout)
	}

	// Finish: a worker of its own, and a run that only follows.
	worker := startCLI(t, home, "worker", "--log-level", "info")
	follow := startCLI(t, home, "run", resilienceFile, "--no-worker", "--progress", "never", "--log-level", "info")
	if err := follow.wait(t, 3*time.Minute); err != nil {
		t.Fatalf("run --no-worker: %v; output:\n%s\nworker:\n%s", err, follow.out, worker.out)
	}
	if !strings.Contains(follow.out.String(), "no worker in this process (--no-worker)") ||
		!strings.Contains(follow.out.String(), "completed") {
		t.Errorf("run --no-worker output:\n%s", follow.out)
	}
	if n := len(computedUnits(follow.out.String())); n != 0 {
		t.Errorf("run --no-worker computed %d units itself", n)
	}
	if n := len(computedUnits(worker.out.String())); n == 0 {
		t.Errorf("the worker computed no unit; its log:\n%s", worker.out)
	}
	h = unitHistory(t, ctx, c, wid)
	t.Logf("history: %+v", h)
	if h.maxAttempt != 1 || h.otherFails != 0 {
		t.Errorf("unit activities ran up to attempt %d with %d other failures or timeouts; want attempt 1 only (the interrupt used up no retry)",
			h.maxAttempt, h.otherFails)
	}
	// The worker hands back nothing and exits 0 on SIGTERM.
	if err := worker.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := worker.wait(t, 30*time.Second); err != nil {
		t.Errorf("worker after SIGTERM: %v; output:\n%s", err, worker.out)
	}
}

// smallCampaign writes a 2-unit variant of resilience.yaml and returns its path.
func smallCampaign(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(resilienceFile)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(strings.Replace(string(b), "name: resilience", "name: small", 1), "seeds: 1-10", "seeds: 1-2", 1)
	if s == string(b) {
		t.Fatal("resilience.yaml changed: cannot derive the small campaign")
	}
	p := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitOwner waits until stack.json names pid as the owner of home's stack.
func waitOwner(t *testing.T, home string, p *cliProc) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; {
		var info struct {
			PID int `json:"pid"`
		}
		if b, err := os.ReadFile(filepath.Join(home, "stack.json")); err == nil && json.Unmarshal(b, &info) == nil && info.PID == p.cmd.Process.Pid {
			return
		}
		if !p.running() || time.Now().After(deadline) {
			t.Fatalf("%v never owned the stack; output:\n%s", p.cmd.Args, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFirstRunKeepsStackForSecond: run A owns the stack (started first,
// --no-worker, a 2-unit campaign), run B attaches with a 10-unit campaign
// and its worker computes both. A's campaign completes first; A must wait
// for B — saying so in one line — and B must complete, not die with A.
func TestFirstRunKeepsStackForSecond(t *testing.T) {
	requireS3(t)
	home := t.TempDir()
	a := startCLI(t, home, "run", smallCampaign(t), "--no-worker", "--progress", "never")
	waitOwner(t, home, a)
	b := startCLI(t, home, "run", resilienceFile, "--progress", "never")
	if err := b.wait(t, 4*time.Minute); err != nil {
		t.Fatalf("the second run: %v; output:\n%s\nfirst run:\n%s", err, b.out, a.out)
	}
	if err := a.wait(t, 30*time.Second); err != nil {
		t.Fatalf("the first run: %v; output:\n%s", err, a.out)
	}
	t.Logf("the first run's output:\n%s", a.out)
	want := "waiting for 1 other rulescape process using the stack at " + home + " (Ctrl-C stops it now)"
	if !strings.Contains(a.out.String(), want) {
		t.Errorf("the first run did not say %q:\n%s", want, a.out)
	}
	if !strings.Contains(a.out.String(), "campaign small (") || !strings.Contains(b.out.String(), "campaign resilience (") {
		t.Errorf("summaries missing; first:\n%s\nsecond:\n%s", a.out, b.out)
	}
	if a.exitedAt.Before(b.exitedAt) {
		t.Errorf("the owner exited at %s, before its user at %s", a.exitedAt, b.exitedAt)
	}
}

// TestOwnerServesWhileWaiting: run A owns the stack and has the only
// worker; run B attaches with --no-worker and a 10-unit campaign. When A's
// 2-unit campaign is done, A waits for B — and its worker goes on
// computing B's units meanwhile, so B completes (with A's worker stopped
// at the end of A's campaign, B would wait for a worker for ever).
func TestOwnerServesWhileWaiting(t *testing.T) {
	requireS3(t)
	home := t.TempDir()
	a := startCLI(t, home, "run", smallCampaign(t), "--progress", "never")
	waitOwner(t, home, a)
	b := startCLI(t, home, "run", resilienceFile, "--no-worker", "--progress", "never")
	if err := b.wait(t, 4*time.Minute); err != nil {
		t.Fatalf("the second run (no worker of its own): %v; output:\n%s\nfirst run:\n%s", err, b.out, a.out)
	}
	if err := a.wait(t, 30*time.Second); err != nil {
		t.Fatalf("the first run: %v; output:\n%s", err, a.out)
	}
	if !strings.Contains(a.out.String(), "waiting for 1 other rulescape process") {
		t.Errorf("the first run never waited for the second, so this test showed nothing; its output:\n%s", a.out)
	}
	if !strings.Contains(b.out.String(), "campaign resilience (") || !strings.Contains(b.out.String(), "completed") {
		t.Errorf("the second run's summary is missing:\n%s", b.out)
	}
}

// TestLostStackIsOneLine SIGKILLs the `rulescape dev` that owns the stack
// under a running `rulescape run`: the run exits 1 within seconds with one
// line naming the home and the owner, not "campaign … failed".
func TestLostStackIsOneLine(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	dev := startDev(t, home)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	wid := workflows.WorkflowID(campaignOf(t, resilienceFile).CampaignID)
	r := startCLI(t, home, "run", resilienceFile, "--progress", "never")
	for {
		if _, err := c.DescribeWorkflowExecution(ctx, wid, ""); err == nil {
			break
		}
		if !r.running() || ctx.Err() != nil {
			t.Fatalf("the campaign never started; output:\n%s", r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	killed := time.Now()
	if err := dev.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := r.wait(t, 40*time.Second)
	out := r.out.String()
	t.Logf("the run exited %s after the kill: %v", r.exitedAt.Sub(killed).Round(time.Millisecond), err)
	want := "rulescape: the embedded stack at " + home + " stopped (its owner, pid " + strconv.Itoa(dev.cmd.Process.Pid) + ", exited): run the command again\n"
	if err == nil || !strings.HasSuffix(out, want) {
		t.Errorf("run after its stack was killed: %v; output ends %q, want %q", err, tail(out, 300), want)
	}
	// The SDK's own log lines (time=…) may say its polls failed as the
	// server went; what must not appear is the run reporting the campaign
	// as failed.
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "time=") && strings.Contains(line, "failed") {
			t.Errorf("the run reported a failure: %q\nin:\n%s", line, out)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestCampaignAcrossGatewayRestart SIGKILLs the S3 gateway of a
// `rulescape dev` stack while a `rulescape run` attached to it is in its
// train stage: dev restarts the gateway on the same port (and says so),
// and the campaign completes with every dataset committed once.
func TestCampaignAcrossGatewayRestart(t *testing.T) {
	requireS3(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	dev := startDev(t, home)
	svc := servicesOfDev(dev.rec)
	c := dialTemporal(t, dev.rec)
	defer c.Close()
	plan := campaignOf(t, resilienceFile)
	wid := workflows.WorkflowID(plan.CampaignID)
	r := startCLI(t, home, "run", resilienceFile, "--progress", "never")
	for {
		if _, err := c.DescribeWorkflowExecution(ctx, wid, ""); err == nil {
			break
		}
		if !r.running() || ctx.Err() != nil {
			t.Fatalf("the campaign never started; output:\n%s", r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitTrainDone(t, ctx, c, c.GetWorkflow(ctx, wid, ""), 2, len(plan.Train)-3, r.out.String)
	var info struct {
		GatewayPID int `json:"gateway_pid"`
	}
	b, err := os.ReadFile(filepath.Join(home, "stack.json"))
	if err != nil || json.Unmarshal(b, &info) != nil || info.GatewayPID <= 0 {
		t.Fatalf("stack.json: %s, %v", b, err)
	}
	if err := syscall.Kill(info.GatewayPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := r.wait(t, 150*time.Second); err != nil {
		t.Fatalf("the run across the gateway's restart: %v; output:\n%s\ndev:\n%s", err, r.out, dev.stderr)
	}
	if !strings.Contains(dev.stderr.String(), "restarting it on the same port") || !strings.Contains(dev.stderr.String(), "the S3 gateway is back") {
		t.Errorf("dev did not log the restart:\n%s", dev.stderr)
	}
	if !dev.running() {
		t.Fatalf("dev exited after the gateway was killed:\n%s", dev.stderr)
	}
	checkDatasets(t, ctx, svc, plan.CampaignID, plan)
}

// running reports whether the dev process has not exited.
func (p *devProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}
