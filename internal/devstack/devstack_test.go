//go:build !nodevstack

package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/internal/devstack"
)

// needGateway skips the test loudly when versitygw is not installed, or
// fails it when RULESCAPE_REQUIRE_S3=1 (CI).
//
// Tests that need it run in parallel: each has its own home and ports, and
// most of a test's time is waiting (start-up, workflow round trips, Stop).
func needGateway(t *testing.T) {
	t.Helper()
	t.Parallel()
	if _, err := devstack.FindVersitygw(); err != nil {
		if os.Getenv("RULESCAPE_REQUIRE_S3") == "1" {
			t.Fatalf("RULESCAPE_REQUIRE_S3=1 but %v", err)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %v ***\n\n", t.Name(), err)
		t.Skip(err)
	}
}

// testLogger sends the stack's warnings to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func start(t *testing.T, home string) *devstack.Stack {
	t.Helper()
	return startOpts(t, devstack.Options{Home: home})
}

func startOpts(t *testing.T, opts devstack.Options) *devstack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	opts.Logger = testLogger(t)
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("stack up in %s: temporal %s, s3 %s", time.Since(t0).Round(time.Millisecond), st.TemporalAddress, st.S3Endpoint)
	t.Cleanup(func() { _ = st.Stop() })
	return st
}

func temporalClient(t *testing.T, st *devstack.Stack) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  st.TemporalAddress,
		Namespace: st.Namespace,
		Logger:    sdklog.NewStructuredLogger(testLogger(t)),
	})
	if err != nil {
		t.Fatalf("dial Temporal %s: %v", st.TemporalAddress, err)
	}
	t.Cleanup(c.Close)
	return c
}

func s3Client(t *testing.T, st *devstack.Stack) *minio.Client {
	t.Helper()
	mc, err := minio.New(st.S3Endpoint, &minio.Options{Creds: credentials.NewStaticV4(st.S3AccessKey, st.S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// shout is the test activity.
func shout(_ context.Context, s string) (string, error) { return strings.ToUpper(s) + "!", nil }

// greet is the test workflow: one activity.
func greet(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, shout, "hello "+name).Get(ctx, &out)
	return out, err
}

const taskQueue = "devstack-test"

func runGreet(t *testing.T, c client.Client, id string) string {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{StickyScheduleToStartTimeout: time.Second})
	w.RegisterWorkflow(greet)
	w.RegisterActivity(shout)
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, greet, "rulescape")
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		t.Fatalf("workflow result: %v", err)
	}
	return out
}

// TestStackWorkflowObjectAndRestart runs a workflow and stores an object,
// stops the stack, starts it again on the same home and finds both.
func TestStackWorkflowObjectAndRestart(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	st := start(t, home)
	if st.Attached || st.Namespace != "default" || st.S3Bucket != "rulescape" || st.Home != home {
		t.Fatalf("stack = %+v, want owned, namespace default, bucket rulescape, home %s", st, home)
	}

	c := temporalClient(t, st)
	if got, want := runGreet(t, c, "greet-1"), "HELLO RULESCAPE!"; got != want {
		t.Fatalf("workflow result %q, want %q", got, want)
	}

	mc := s3Client(t, st)
	ctx := context.Background()
	body := bytes.Repeat([]byte("rulescape devstack object\n"), 1000)
	if _, err := mc.PutObject(ctx, st.S3Bucket, "campaigns/x/obj.txt", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put object: %v", err)
	}
	if got := getObject(t, mc, st.S3Bucket, "campaigns/x/obj.txt"); !bytes.Equal(got, body) {
		t.Fatalf("object read back differs: %d bytes, want %d", len(got), len(body))
	}
	if _, err := os.Stat(filepath.Join(home, "objects", "rulescape", "campaigns", "x", "obj.txt")); err != nil {
		t.Errorf("object is not under $RULESCAPE_HOME/objects: %v", err)
	}
	first := *st
	c.Close()
	if err := st.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	st2 := start(t, home)
	if st2.TemporalAddress != first.TemporalAddress || st2.S3Endpoint != first.S3Endpoint {
		t.Errorf("restart moved the stack: %s %s, before %s %s (the previous ports should be reused when free)",
			st2.TemporalAddress, st2.S3Endpoint, first.TemporalAddress, first.S3Endpoint)
	}
	if st2.S3AccessKey != first.S3AccessKey || st2.S3SecretKey != first.S3SecretKey {
		t.Errorf("restart changed the S3 keys")
	}
	c2 := temporalClient(t, st2)
	desc, err := c2.DescribeWorkflowExecution(ctx, "greet-1", "")
	if err != nil {
		t.Fatalf("describe the workflow after restart: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("workflow status after restart %v, want COMPLETED", s)
	}
	var out string
	if err := c2.GetWorkflow(ctx, "greet-1", "").Get(ctx, &out); err != nil || out != "HELLO RULESCAPE!" {
		t.Errorf("workflow result after restart %q, %v", out, err)
	}
	if got := getObject(t, s3Client(t, st2), st2.S3Bucket, "campaigns/x/obj.txt"); !bytes.Equal(got, body) {
		t.Errorf("object after restart: %d bytes, want %d", len(got), len(body))
	}
	// The restarted server runs new workflows too.
	if got := runGreet(t, c2, "greet-2"); got != "HELLO RULESCAPE!" {
		t.Errorf("second workflow result %q", got)
	}
}

func getObject(t *testing.T, mc *minio.Client, bucket, key string) []byte {
	t.Helper()
	obj, err := mc.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// TestSecondStartAttaches starts twice on one home: the second start
// attaches to the first stack (Web UI included), and its Stop leaves that
// stack running.
func TestSecondStartAttaches(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	owner := startOpts(t, devstack.Options{Home: home, UI: true})
	other := start(t, home)
	if !other.Attached || owner.Attached {
		t.Fatalf("attached: owner %v, second %v; want false, true", owner.Attached, other.Attached)
	}
	if !strings.HasPrefix(owner.UIAddress, "http://127.0.0.1:") {
		t.Fatalf("UIAddress = %q, want http://127.0.0.1:port", owner.UIAddress)
	}
	resp, err := http.Get(owner.UIAddress + "/")
	if err != nil {
		t.Fatalf("Web UI: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(bytes.ToLower(page), []byte("<html")) {
		t.Errorf("Web UI / answered %s with %.80q", resp.Status, page)
	}
	if other.TemporalAddress != owner.TemporalAddress || other.S3Endpoint != owner.S3Endpoint || other.UIAddress != owner.UIAddress ||
		other.S3AccessKey != owner.S3AccessKey || other.OwnerPID != os.Getpid() {
		t.Fatalf("attached stack %+v differs from owner %+v", other, owner)
	}
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	c := temporalClient(t, owner)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatalf("owner's Temporal after the attached Stop: %v", err)
	}
	if _, err := s3Client(t, owner).BucketExists(ctx, owner.S3Bucket); err != nil {
		t.Fatalf("owner's S3 after the attached Stop: %v", err)
	}

	// stack.json names the owner while it runs, and no one after Stop.
	var info struct {
		PID             int    `json:"pid"`
		TemporalAddress string `json:"temporal_address"`
	}
	readJSON(t, filepath.Join(home, "stack.json"), &info)
	if info.PID != os.Getpid() || info.TemporalAddress != owner.TemporalAddress {
		t.Errorf("stack.json while running: %+v", info)
	}
	if err := owner.Stop(); err != nil {
		t.Fatal(err)
	}
	readJSON(t, filepath.Join(home, "stack.json"), &info)
	if info.PID != 0 {
		t.Errorf("stack.json after Stop names pid %d, want 0", info.PID)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// gatewayPID reads the gateway's pid from stack.json.
func gatewayPID(t *testing.T, home string) int {
	t.Helper()
	var info struct {
		GatewayPID int `json:"gateway_pid"`
	}
	readJSON(t, filepath.Join(home, "stack.json"), &info)
	if info.GatewayPID <= 0 {
		t.Fatalf("stack.json has no gateway pid")
	}
	return info.GatewayPID
}

// TestGatewayRestarts SIGKILLs the gateway under a running stack: it comes
// back on the same port with the same keys, the objects written before
// are readable, stack.json names the new process, and Done stays open.
func TestGatewayRestarts(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	st := start(t, home)
	mc := s3Client(t, st)
	ctx := context.Background()
	body := []byte("written before the gateway died\n")
	if _, err := mc.PutObject(ctx, st.S3Bucket, "before/kill", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	old := gatewayPID(t, home)
	for round := 1; round <= 2; round++ { // twice: the supervisor keeps watching the new gateway
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			pid := gatewayPID(t, home)
			if pid != old {
				if _, err := mc.BucketExists(ctx, st.S3Bucket); err == nil {
					old = pid
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the gateway did not come back on %s within 20 s", round, st.S3Endpoint)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := getObject(t, mc, st.S3Bucket, "before/kill"); !bytes.Equal(got, body) {
			t.Fatalf("round %d: object after the restart %q, want %q", round, got, body)
		}
	}
	select {
	case <-st.Done():
		t.Fatalf("Done closed after a restart that worked: %v", st.Err())
	default:
	}
}

// TestGatewayGivesUp kills the gateway and holds its port, so that every
// restart fails: after repeated quick failures the stack gives up, Done
// closes and Err says what failed in one line.
func TestGatewayGivesUp(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	st := start(t, home)
	pid := gatewayPID(t, home)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	for deadline := time.Now().Add(5 * time.Second); l == nil; {
		var err error
		if l, err = net.Listen("tcp", st.S3Endpoint); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("could not take the dead gateway's port %s: %v", st.S3Endpoint, err)
			}
			l = nil
			time.Sleep(5 * time.Millisecond)
		}
	}
	defer l.Close()
	select {
	case <-st.Done():
	case <-time.After(40 * time.Second):
		t.Fatal("Done not closed 40 s after the gateway's port was taken")
	}
	err := st.Err()
	if err == nil || !strings.Contains(err.Error(), "S3 gateway failed") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Err = %v, want one line saying the S3 gateway failed", err)
	}
}

// TestOwnerWaitsForUsers: the owner's StopWhenUnused waits while another
// Start on the home is attached (and says how many), stops once it
// detaches; a lease left by a dead process does not count. Cancelling the
// wait stops at once, and the attached stack's Done then closes with one
// line naming the home and the owner.
func TestOwnerWaitsForUsers(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	owner := start(t, home)
	// A dead user's lease: a file nobody holds locked.
	if err := os.MkdirAll(filepath.Join(home, "users"), 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(home, "users", "999999-dead")
	if err := os.WriteFile(stale, []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	user := start(t, home)
	if !user.Attached {
		t.Fatal("second start did not attach")
	}
	if n, err := owner.Users(); n != 1 || err != nil {
		t.Fatalf("Users = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead user's lease is still there: %v", err)
	}
	told := make(chan int, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- owner.StopWhenUnused(context.Background(), func(n int) { told <- n }) }()
	select {
	case n := <-told:
		if n != 1 {
			t.Errorf("waiting for %d users, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("StopWhenUnused did not say it waits")
	}
	select {
	case err := <-stopped:
		t.Fatalf("the owner stopped (%v) while a user was attached", err)
	case <-time.After(time.Second):
	}
	if _, err := s3Client(t, user).BucketExists(context.Background(), user.S3Bucket); err != nil {
		t.Fatalf("the stack stopped under its user: %v", err)
	}
	if err := user.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the owner still waits 15 s after its last user left")
	}

	// Stop now: the wait is cancelled, the user learns its stack is gone.
	owner2 := start(t, home)
	user2 := start(t, home)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := owner2.StopWhenUnused(ctx, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-user2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the attached stack's Done did not close after its owner stopped")
	}
	want := fmt.Sprintf("the embedded stack at %s stopped (its owner, pid %d, exited): run the command again", home, os.Getpid())
	if err := user2.Err(); err == nil || err.Error() != want {
		t.Errorf("Err = %v, want %q", err, want)
	}
}

// TestMissingVersitygw checks the one clear error with the install command,
// and that nothing is left holding the home.
func TestMissingVersitygw(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("RULESCAPE_VERSITYGW", "")
	t.Setenv("PATH", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("GOBIN", "")
	_, err := devstack.FindVersitygw()
	if !errors.Is(err, devstack.ErrVersitygwMissing) {
		t.Fatalf("FindVersitygw = %v, want ErrVersitygwMissing", err)
	}
	home := t.TempDir()
	_, err = devstack.Start(context.Background(), devstack.Options{Home: home})
	if !errors.Is(err, devstack.ErrVersitygwMissing) || !strings.Contains(err.Error(), "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0") {
		t.Fatalf("Start without versitygw: %v", err)
	}
	// The lock was released: a start with a (bogus) explicit binary gets
	// past the lock and fails on the binary instead.
	_, err = devstack.Start(context.Background(), devstack.Options{Home: home, Versitygw: filepath.Join(empty, "nope"), AttachWait: time.Second})
	if err == nil || !strings.Contains(err.Error(), "start "+filepath.Join(empty, "nope")) {
		t.Fatalf("Start with a missing explicit binary: %v", err)
	}
}

func TestVersitygwEnvOverride(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "versitygw")
	t.Setenv("RULESCAPE_VERSITYGW", bogus)
	if _, err := devstack.FindVersitygw(); err == nil || !strings.Contains(err.Error(), "RULESCAPE_VERSITYGW="+bogus) {
		t.Fatalf("missing $RULESCAPE_VERSITYGW: %v", err)
	}
	if err := os.WriteFile(bogus, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := devstack.FindVersitygw(); err != nil || p != bogus {
		t.Fatalf("FindVersitygw = %q, %v; want %q", p, err, bogus)
	}
}

func TestDefaultHome(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, env, home, want string
	}{
		{"from RULESCAPE_HOME", dir, "/ignored", dir},
		{"default under the user's home", "", dir, filepath.Join(dir, ".rulescape")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RULESCAPE_HOME", tc.env)
			t.Setenv("HOME", tc.home)
			got, err := devstack.DefaultHome()
			if err != nil || got != tc.want {
				t.Fatalf("DefaultHome = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNotBuiltInErrorNamesTheFix(t *testing.T) {
	for _, want := range []string{"-tags nodevstack", "TEMPORAL_ADDRESS", "RULESCAPE_S3_ENDPOINT"} {
		if !strings.Contains(devstack.ErrNotBuiltIn.Error(), want) {
			t.Errorf("ErrNotBuiltIn lacks %q", want)
		}
	}
}

// TestRestartOnNewPorts holds the previous run's ports so the restart must
// move: Temporal (whose cluster metadata stores the old address) and the
// gateway come up elsewhere and work.
func TestRestartOnNewPorts(t *testing.T) {
	needGateway(t)
	home := t.TempDir()
	st := start(t, home)
	old := *st
	if err := st.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{old.TemporalAddress, old.S3Endpoint} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("hold %s: %v", addr, err)
		}
		defer l.Close()
	}
	st2 := start(t, home)
	if st2.TemporalAddress == old.TemporalAddress || st2.S3Endpoint == old.S3Endpoint {
		t.Fatalf("restart reused held ports: %s %s", st2.TemporalAddress, st2.S3Endpoint)
	}
	if got := runGreet(t, temporalClient(t, st2), "moved"); got != "HELLO RULESCAPE!" {
		t.Errorf("workflow on the moved server: %q", got)
	}
	if ok, err := s3Client(t, st2).BucketExists(context.Background(), st2.S3Bucket); !ok || err != nil {
		t.Errorf("bucket on the moved gateway: %v, %v", ok, err)
	}
}

// TestOrphanGatewayIsKilled leaves a versitygw serving the home's object
// root under the pid recorded in stack.json, as a crashed owner could on a
// system without Pdeathsig; the next Start kills it.
func TestOrphanGatewayIsKilled(t *testing.T) {
	needGateway(t)
	bin, _ := devstack.FindVersitygw()
	home := t.TempDir()
	root := filepath.Join(home, "objects")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	orphan := exec.Command(bin, "--port", addr, "--quiet", "posix", root)
	orphan.Env = []string{"ROOT_ACCESS_KEY_ID=orphanorphan", "ROOT_SECRET_ACCESS_KEY=orphanorphanorphan"}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = orphan.Wait(); close(exited) }()
	t.Cleanup(func() { _ = orphan.Process.Kill(); <-exited })
	info := fmt.Sprintf(`{"pid": 0, "s3_endpoint": %q, "gateway_pid": %d}`, addr, orphan.Process.Pid)
	if err := os.WriteFile(filepath.Join(home, "stack.json"), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let it exec, so /proc shows versitygw
	st := start(t, home)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the orphaned versitygw is still running after Start")
	}
	if st.S3Endpoint == "" {
		t.Fatal("no S3 endpoint")
	}
}
