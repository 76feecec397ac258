//go:build !nodevstack

package devstack

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"rulescape/internal/s3test"
)

// TestTemporalRestarts stops the in-process Temporal server behind the
// watchdog's back (as a server that died inside the process would be): the
// watchdog notices, starts it again on the same address and database — a
// workflow started before is found running — and Done stays open; Stop
// then stops the new server.
func TestTemporalRestarts(t *testing.T) {
	t.Parallel()
	requireGateway(t)
	logs := &lockedWriter{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Start(ctx, Options{Home: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	c, err := sdkclient.Dial(sdkclient.Options{HostPort: st.TemporalAddress, Namespace: st.Namespace, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: "kept", TaskQueue: "nobody"}, "NoSuchWorkflow"); err != nil {
		t.Fatal(err)
	}

	old := st.temporal.current()
	if err := old.srv.Stop(); err != nil { // dies without the watchdog's knowledge
		t.Fatal(err)
	}
	killed := time.Now()
	for {
		if st.temporal.current() != old && describeNamespace(ctx, st.TemporalAddress, st.Namespace, log) == nil {
			break
		}
		select {
		case <-st.Done():
			t.Fatalf("the stack gave up: %v", st.Err())
		case <-ctx.Done():
			t.Fatalf("Temporal not back on %s; log:\n%s", st.TemporalAddress, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Logf("Temporal back on the same address %s after %s", st.TemporalAddress, time.Since(killed).Round(time.Millisecond))
	if !strings.Contains(logs.String(), "restarting it on the same ports and database") || !strings.Contains(logs.String(), "the Temporal server is back") {
		t.Errorf("the restart was not logged:\n%s", logs.String())
	}
	desc, err := c.DescribeWorkflowExecution(ctx, "kept", "")
	if err != nil {
		t.Fatalf("the workflow started before the restart: %v", err)
	}
	if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("workflow status %v, want RUNNING", s)
	}
	_ = c.TerminateWorkflow(ctx, "kept", "", "test done")
	if err := st.Stop(); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
	defer scancel()
	if describeNamespace(sctx, st.TemporalAddress, st.Namespace, log) == nil {
		t.Error("the restarted server still answers after Stop")
	}
}

// lockedWriter is a strings.Builder safe for concurrent writes and reads.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requireGateway skips the test without a versitygw binary, or fails it
// when RULESCAPE_REQUIRE_S3=1 (CI).
func requireGateway(t *testing.T) {
	t.Helper()
	if _, err := FindVersitygw(); err != nil {
		s3test.SkipOrFail(t, err)
	}
}
