package main

// Temporal on PostgreSQL, as in the cluster deployment (docker-compose.yml):
// `rulescape dev --postgres` runs the embedded server on databases of the
// test server named by $RULESCAPE_TEST_POSTGRES (.ci/postgres), with the
// schema set up by the same code as the deployment's temporal-sql-tool.
// Skipped without that server unless RULESCAPE_REQUIRE_POSTGRES=1 (CI).

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"rulescape/internal/pgtest"
	manifestpkg "rulescape/manifest"
	"rulescape/schemas"
	"rulescape/store"
	"rulescape/workflows"
)

// MinIO for the PostgreSQL quickstart test, the deployment's S3 server:
// $RULESCAPE_MINIO, else minio on PATH, else ~/go/bin/minio (what `go install
// github.com/minio/minio@…` gives). Without it the test uses the stack's
// versitygw and says so, unless RULESCAPE_REQUIRE_MINIO=1 (CI).
const (
	envMinIO        = "RULESCAPE_MINIO"
	envRequireMinIO = "RULESCAPE_REQUIRE_MINIO"
)

// findMinIO returns the MinIO server binary, or why there is none.
func findMinIO() (string, error) {
	if b := os.Getenv(envMinIO); b != "" {
		return b, nil
	}
	if b, err := exec.LookPath("minio"); err == nil {
		return b, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		if b := filepath.Join(home, "go", "bin", "minio"); fileExists(b) {
			return b, nil
		}
	}
	return "", errors.New("no minio binary ($" + envMinIO + ", PATH, ~/go/bin); install it with `go install github.com/minio/minio@" + minioVersion + "`")
}

// minioVersion is the MinIO module version .ci/run installs: MinIO's
// release tags are not semantic versions, so the module proxy serves its
// commits as pseudo-versions only.
const minioVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// startMinIO runs `minio server` on a temporary directory and a free port
// of 127.0.0.1, waits until it is ready and creates the bucket. ok is
// false (after a loud log line) when there is no binary and MinIO is not
// required.
func startMinIO(t *testing.T, ctx context.Context) (cfg store.Config, ok bool) {
	t.Helper()
	bin, err := findMinIO()
	if err != nil {
		if os.Getenv(envRequireMinIO) == "1" {
			t.Fatalf("%s=1 but %v", envRequireMinIO, err)
		}
		t.Logf("!!! S3 is the embedded stack's versitygw, not MinIO: %v (%s=1 fails instead)", err, envRequireMinIO)
		return store.Config{}, false
	}
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port()))
	cfg = store.Config{Endpoint: addr, AccessKey: "rulescape", SecretKey: "rulescape-secret", Bucket: "rulescape"}
	cmd := exec.Command(bin, "server", t.TempDir(), "--address", addr, "--console-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(port())), "--quiet")
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+cfg.AccessKey, "MINIO_ROOT_PASSWORD="+cfg.SecretKey, "MINIO_BROWSER=off")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for {
		resp, err := http.Get("http://" + addr + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("MinIO on %s never ready (%v); its output:\n%s", addr, err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	// /minio/health/ready can answer before the object layer is up
	// ("Server not initialized yet, please try again"): retry until the
	// bucket exists.
	for {
		st, err := store.New(ctx, cfg)
		if err == nil {
			err = st.EnsureBucket(ctx)
		}
		if err == nil {
			return cfg, true
		}
		select {
		case <-ctx.Done():
			t.Fatalf("MinIO on %s: %v; its output:\n%s", addr, err, out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// withS3 points service variables at another S3 server (the worker
// processes take the last of duplicate variables).
func withS3(svc rsServices, cfg store.Config) rsServices {
	svc.s3 = cfg
	svc.env = append(append([]string(nil), svc.env...),
		store.EnvEndpoint+"="+cfg.Endpoint, store.EnvAccessKey+"="+cfg.AccessKey, store.EnvSecretKey+"="+cfg.SecretKey,
		store.EnvBucket+"="+cfg.Bucket, store.EnvSecure+"=false")
	return svc
}

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
// against the deployment's back ends without Docker — a Temporal server
// whose state is in PostgreSQL, and MinIO for the datasets (when
// installed; else versitygw) — and checks that it completes with every
// dataset of its manifest intact, in MinIO, and that the server's
// visibility store (the second PostgreSQL database) lists it.
func TestQuickstartOnPostgres(t *testing.T) {
	dev, _ := startPostgresDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	svc := servicesOfDev(dev.rec)
	if cfg, ok := startMinIO(t, ctx); ok {
		svc = withS3(svc, cfg)
		t.Logf("S3: MinIO on %s", cfg.Endpoint)
	}
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
	checkQuickstartLearns(t, ctx, svc.s3, camp.ID())
	histories := 0
	for id := range o.datasets {
		if strings.HasSuffix(id, " "+string(schemas.MetaoptHistory)) {
			histories++
		}
	}
	if n := len(o.datasets); n != res.Datasets || histories == 0 {
		t.Errorf("the manifest has %d datasets (%d metaopt histories), the result says %d", n, histories, res.Datasets)
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

// TestLoadtestOnPostgres runs `rulescape loadtest` against the
// deployment's back ends (Temporal on PostgreSQL; MinIO when installed,
// else versitygw), scaled down: 400 train-like units in chunks of 200 and
// 40 analysis-like units on 8 workers, then the same campaign again, all
// cache hits. The rates it logs are this machine's; docs/SCALING.md has
// the full-size figures.
func TestLoadtestOnPostgres(t *testing.T) {
	dev, _ := startPostgresDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	svc := servicesOfDev(dev.rec)
	if cfg, ok := startMinIO(t, ctx); ok {
		svc = withS3(svc, cfg)
		t.Logf("S3: MinIO on %s", cfg.Endpoint)
	}
	for _, kv := range svc.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, out, errOut := runCLI(t, "loadtest", "--workers", "8", "--units", "400", "--analysis-units", "40", "--unit-seconds", "0",
		"--chunk", "200", "--repeat", "2", "--tag", "pg", "-o", "json")
	if code != 0 {
		t.Fatalf("loadtest: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var rows []loadtestRow
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r loadtestRow
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[0].CacheHits != 0 || rows[0].Units != 440 || rows[1].CacheHits != 440 {
		t.Fatalf("rows %+v, want 440 units computed, then 440 cache hits", rows)
	}
	// The campaign and 2 chunks; cache hits cost no events of their own.
	if rows[0].Workflows != 3 || rows[0].MaxHistoryEvents > 5*200 || rows[1].MaxHistoryEvents > 100 {
		t.Errorf("rows %+v: want 3 workflows, ≤ 1 000 events computing and ≤ 100 cached", rows)
	}
	m, err := func() (*manifestpkg.Manifest, error) {
		s, err := store.New(ctx, svc.s3)
		if err != nil {
			return nil, err
		}
		return manifestpkg.Read(ctx, s, rows[0].Campaign)
	}()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Datasets) != 440 {
		t.Errorf("the manifest lists %d datasets, want 440", len(m.Datasets))
	}
	for _, r := range rows {
		t.Logf("run %d: %d units in %.2f s (%.1f units/s), %d cache hits", r.Run, r.Units, r.Seconds, r.UnitsPerSecond, r.CacheHits)
	}
}
