//go:build !nodevstack

package devstack

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/server/common/log/tag"
)

// TestServerLogDropsBenignErrors checks that the embedded server's metrics
// trailer error, which a cancelled long poll causes and which needs no
// action, is not logged, while other errors and warnings are.
func TestServerLogDropsBenignErrors(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	l := slogTemporal{log: slog.New(slog.NewTextHandler(&buf, nil)), min: level}
	l.Error("unable to add metrics baggage to gRPC trailer", tag.Error(errors.New("transport: SendHeader called multiple times")))
	l.Error("persistence failed", tag.Error(errors.New("disk full")))
	l.Warn("shard moved")
	got := buf.String()
	if strings.Contains(got, "metrics baggage") {
		t.Errorf("the metrics-trailer error was logged:\n%s", got)
	}
	for _, want := range []string{"temporal: persistence failed", "disk full", "temporal: shard moved"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}
