package services

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

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
		l := sdkLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
		l.ErrorContext(context.Background(), "Activity error.", "ActivityType", "Train", "Error", c.err)
		if !strings.Contains(buf.String(), c.want) || !strings.Contains(buf.String(), "ActivityType=Train") {
			t.Errorf("%s: logged %q, want %s", c.name, buf.String(), c.want)
		}
	}
}
