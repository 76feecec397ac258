package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go.temporal.io/api/serviceerror"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"rulescape/activities"
)

// TestHandedBackIsNotAnError: the SDK's "Activity error." record of a
// unit handed back by a stopping worker is logged at INFO, every other
// error record unchanged.
func TestHandedBackIsNotAnError(t *testing.T) {
	if WorkerShutdownType != activities.WorkerShutdownType {
		t.Fatalf("WorkerShutdownType %q, activities says %q", WorkerShutdownType, activities.WorkerShutdownType)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"handed back", temporal.NewNonRetryableApplicationError("stopping", activities.WorkerShutdownType, nil), "level=INFO"},
		{"wrapped", errors.Join(errors.New("x"), temporal.NewNonRetryableApplicationError("stopping", activities.WorkerShutdownType, nil)), "level=INFO"},
		{"other application error", temporal.NewApplicationError("boom", "UnitFailed"), "level=ERROR"},
		{"plain error", errors.New("boom"), "level=ERROR"},
	} {
		var buf bytes.Buffer
		l := sdkLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), nil)
		l.ErrorContext(context.Background(), "Activity error.", "ActivityType", "Train", "Error", c.err)
		if !strings.Contains(buf.String(), c.want) || !strings.Contains(buf.String(), "ActivityType=Train") {
			t.Errorf("%s: logged %q, want %s", c.name, buf.String(), c.want)
		}
	}
}

// TestLostStackDropsUnavailable: on an attached stack, the SDK's warnings
// that the server is unavailable are dropped once the owner has exited,
// logged after the grace while it has not, and other records are never
// held.
func TestLostStackDropsUnavailable(t *testing.T) {
	unavail := status.Error(codes.Unavailable, "error reading from server: EOF")
	for _, c := range []struct {
		name   string
		err    error
		closed bool
		want   bool
	}{
		{"unavailable, owner gone", unavail, true, false},
		{"wrapped unavailable, owner gone", fmt.Errorf("poll: %w", unavail), true, false},
		{"unavailable, owner alive", unavail, false, true},
		{"other error, owner gone", errors.New("boom"), true, true},
	} {
		lost := make(chan struct{})
		if c.closed {
			close(lost)
		}
		var buf bytes.Buffer
		l := sdkLogger(slog.New(slog.NewTextHandler(&buf, nil)), lost)
		l.Warn("Failed to poll for task.", "Error", c.err)
		if got := buf.Len() > 0; got != c.want {
			t.Errorf("%s: logged %q, want logged=%v", c.name, buf.String(), c.want)
		}
	}
	var buf bytes.Buffer
	sdkLogger(slog.New(slog.NewTextHandler(&buf, nil)), nil).Warn("Failed to poll for task.", "Error", unavail)
	if buf.Len() == 0 {
		t.Error("without an attached stack, an unavailable warning was dropped")
	}
}

// TestCanceledPollIsDropped: a poller's warning whose error is a
// cancellation (the worker's own stop) is dropped, on any stack; other
// poll errors and other records with a cancellation are logged.
func TestCanceledPollIsDropped(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		err       error
		want      bool
	}{
		{"context canceled", "Failed to poll for task.", context.Canceled, false},
		{"wrapped", "Failed to poll for task.", fmt.Errorf("poll: %w", context.Canceled), false},
		{"gRPC canceled", "Failed to poll for task.", status.Error(codes.Canceled, "context canceled"), false},
		{"Temporal's canceled", "Failed to poll for task.", serviceerror.NewCanceled("context canceled"), false},
		{"other poll error", "Failed to poll for task.", errors.New("boom"), true},
		{"cancelled unit's heartbeat", "RecordActivityHeartbeat with error", context.Canceled, false},
		{"a stopping worker's heartbeat", "Failed to send heartbeat", context.Canceled, false},
		{"a heartbeat that failed otherwise", "Failed to send heartbeat", errors.New("boom"), true},
		{"other heartbeat error", "RecordActivityHeartbeat with error", errors.New("boom"), true},
		{"another record", "Activity error.", context.Canceled, true},
	} {
		var buf bytes.Buffer
		sdkLogger(slog.New(slog.NewTextHandler(&buf, nil)), nil).Warn(c.msg, "Error", c.err)
		if got := buf.Len() > 0; got != c.want {
			t.Errorf("%s: logged %q, want logged=%v", c.name, buf.String(), c.want)
		}
	}
}
