package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"rulescape/internal/devstack"
)

// execEnv makes the test binary behave as the rulescape binary, so tests
// can run `rulescape dev` as a subprocess (and kill it) without building
// the 150 MB binary a second time.
const execEnv = "RULESCAPE_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// devProc is a `rulescape dev` subprocess.
type devProc struct {
	cmd    *exec.Cmd
	rec    devRecord
	stderr *bytes.Buffer
	done   chan error
}

// startDev runs `rulescape dev -o json` on home and reads its JSON line.
func startDev(t *testing.T, home string, extra ...string) *devProc {
	t.Helper()
	args := append([]string{"dev", "-o", "json", "--ui=false", "--home", home}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), execEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &devProc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
		close(p.done)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			err := <-p.done
			t.Fatalf("rulescape dev exited (%v) without a JSON line; stderr:\n%s", err, p.stderr)
		}
		if err := json.Unmarshal([]byte(line), &p.rec); err != nil {
			t.Fatalf("rulescape dev printed %q: %v", line, err)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("rulescape dev printed nothing in 90 s; stderr:\n%s", p.stderr)
	}
	t.Logf("rulescape dev ready in %s: %+v", time.Since(t0).Round(time.Millisecond), p.rec)
	return p
}

// wait waits for the process to exit and returns its error.
func (p *devProc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(within):
		t.Fatalf("rulescape dev still running %s later; stderr:\n%s", within, p.stderr)
		return nil
	}
}

// TestDevSurvivesKill9 runs `rulescape dev` in a subprocess, writes a
// workflow and an object, checks that a second `dev` attaches, SIGKILLs the
// first, starts a third on the same home and finds both again; SIGTERM then
// stops it cleanly.
func TestDevSurvivesKill9(t *testing.T) {
	if _, err := devstack.FindVersitygw(); err != nil {
		if os.Getenv("RULESCAPE_REQUIRE_S3") == "1" {
			t.Fatalf("RULESCAPE_REQUIRE_S3=1 but %v", err)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %v ***\n\n", t.Name(), err)
		t.Skip(err)
	}
	home := t.TempDir()
	p1 := startDev(t, home)
	r := p1.rec
	if r.Attached || r.OwnerPID != p1.cmd.Process.Pid || r.Home != home || r.Namespace != "default" || r.S3Bucket != "rulescape" ||
		r.Env["TEMPORAL_ADDRESS"] != r.TemporalAddress || r.Env["RULESCAPE_S3_ENDPOINT"] != r.S3Endpoint || r.Env["RULESCAPE_S3_SECRET_KEY"] == "" {
		t.Fatalf("dev record %+v", r)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dialTemporal(t, r)
	// No worker: the workflow stays running, which is what must survive.
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "survivor", TaskQueue: "nobody"}, "NoSuchWorkflow"); err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	c.Close()
	mc := dialS3(t, r)
	body := []byte("kept across kill -9\n")
	if _, err := mc.PutObject(ctx, r.S3Bucket, "k9/obj", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put object: %v", err)
	}

	// A second dev on the same home attaches and exits at once.
	p2 := startDev(t, home)
	if !p2.rec.Attached || p2.rec.OwnerPID != p1.cmd.Process.Pid || p2.rec.TemporalAddress != r.TemporalAddress || p2.rec.S3Endpoint != r.S3Endpoint {
		t.Fatalf("second dev %+v, want attached to %+v", p2.rec, r)
	}
	if err := p2.wait(t, 10*time.Second); err != nil {
		t.Fatalf("attached dev exited with %v; stderr:\n%s", err, p2.stderr)
	}

	var info struct {
		GatewayPID int `json:"gateway_pid"`
	}
	b, err := os.ReadFile(filepath.Join(home, "stack.json"))
	if err != nil || json.Unmarshal(b, &info) != nil || info.GatewayPID <= 0 {
		t.Fatalf("stack.json: %s, %v", b, err)
	}
	if err := p1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p1.wait(t, 10*time.Second)
	// The kernel takes the gateway down with its owner.
	for i := 0; syscall.Kill(info.GatewayPID, 0) == nil; i++ {
		if i == 100 {
			t.Fatalf("versitygw (pid %d) outlived its killed owner", info.GatewayPID)
		}
		time.Sleep(20 * time.Millisecond)
	}

	p3 := startDev(t, home)
	if p3.rec.Attached {
		t.Fatalf("dev after kill -9 attached to a dead stack: %+v", p3.rec)
	}
	if p3.rec.TemporalAddress != r.TemporalAddress || p3.rec.S3Endpoint != r.S3Endpoint {
		t.Errorf("restart moved the stack to %s %s from %s %s; exported addresses would go stale",
			p3.rec.TemporalAddress, p3.rec.S3Endpoint, r.TemporalAddress, r.S3Endpoint)
	}
	if p3.rec.Env["RULESCAPE_S3_SECRET_KEY"] != r.Env["RULESCAPE_S3_SECRET_KEY"] {
		t.Error("S3 keys changed across the restart")
	}
	c3 := dialTemporal(t, p3.rec)
	desc, err := c3.DescribeWorkflowExecution(ctx, "survivor", "")
	if err != nil {
		t.Fatalf("describe the workflow after kill -9 and restart: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("workflow status %v, want RUNNING", s)
	}
	_ = c3.TerminateWorkflow(ctx, "survivor", "", "test done")
	c3.Close()
	obj, err := dialS3(t, p3.rec).GetObject(ctx, r.S3Bucket, "k9/obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("object after restart %q, %v; want %q", got, err, body)
	}

	if err := p3.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p3.wait(t, 30*time.Second); err != nil {
		t.Fatalf("dev after SIGTERM exited with %v; stderr:\n%s", err, p3.stderr)
	}
}

func dialTemporal(t *testing.T, r devRecord) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: r.TemporalAddress, Namespace: r.Namespace, Logger: quietSDKLogger{}})
	if err != nil {
		t.Fatalf("dial %s: %v", r.TemporalAddress, err)
	}
	return c
}

func dialS3(t *testing.T, r devRecord) *minio.Client {
	t.Helper()
	mc, err := minio.New(r.S3Endpoint, &minio.Options{Creds: credentials.NewStaticV4(r.Env["RULESCAPE_S3_ACCESS_KEY"], r.Env["RULESCAPE_S3_SECRET_KEY"], "")})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// quietSDKLogger drops the SDK client's log.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}

func TestPrintStack(t *testing.T) {
	st := &devstack.Stack{
		TemporalAddress: "127.0.0.1:7233", Namespace: "default", UIAddress: "http://127.0.0.1:8233",
		S3Endpoint: "127.0.0.1:7070", S3AccessKey: "ak", S3SecretKey: "s k'", S3Bucket: "rulescape",
		Home: "/h", OwnerPID: 7,
	}
	tests := []struct {
		name     string
		attached bool
		want     []string
		not      []string
	}{
		{"owner", false, []string{"Embedded stack up in 1.5s (state in /h).", "Temporal  127.0.0.1:7233  namespace default",
			"Web UI    http://127.0.0.1:8233", "S3        http://127.0.0.1:7070  bucket rulescape",
			"export TEMPORAL_ADDRESS=127.0.0.1:7233", `export RULESCAPE_S3_SECRET_KEY='s k'\''`, "Ctrl-C stops the stack."}, nil},
		{"attached", true, []string{"Attached to the stack of process 7 (state in /h)", "export RULESCAPE_S3_BUCKET=rulescape"},
			[]string{"Ctrl-C"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := *st
			s.Attached = tc.attached
			var b strings.Builder
			if err := printStack(&printer{w: &b}, &s, 1500*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("text lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("text has %q:\n%s", w, b.String())
				}
			}
		})
	}

	var b strings.Builder
	if err := printStack(&printer{w: &b, json: true}, st, 0); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("json output %q: %v", b.String(), err)
	}
	for k, v := range map[string]any{"temporal_address": "127.0.0.1:7233", "namespace": "default", "ui": "http://127.0.0.1:8233",
		"s3_endpoint": "127.0.0.1:7070", "s3_bucket": "rulescape", "home": "/h", "attached": false} {
		if got[k] != v {
			t.Errorf("json %s = %v, want %v", k, got[k], v)
		}
	}
	if env, _ := got["env"].(map[string]any); env["RULESCAPE_S3_ACCESS_KEY"] != "ak" {
		t.Errorf("json env = %v", got["env"])
	}
}
