package services

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// WorkerShutdownType is the application error type of a unit handed back
// by a stopping worker (activities.WorkerShutdownType; services does not
// import activities, and a test checks that the two agree).
const WorkerShutdownType = "WorkerShutdown"

// sdkHandler passes the Temporal SDK's log records on, with two
// exceptions:
//   - the SDK's "Activity error." record for a unit handed back by a
//     stopping worker is demoted from ERROR to INFO: a clean Ctrl-C or the
//     end of `rulescape run` is not an error, and the unit is scheduled
//     again at once;
//   - on an attached embedded stack (lost non-nil), a record whose error
//     says the server is unavailable is held for up to lostGrace and
//     dropped if the stack's owner turns out to have exited: the command
//     then says so in one line, and the SDK's poller warnings about the
//     vanished server would only bury it;
//   - a poller's or a heartbeat's warning whose error is a cancellation
//     is dropped: the poll was interrupted by the worker's own stop, the
//     heartbeat by the unit's cancellation (a cancelled campaign), neither
//     of which is actionable, and the warnings would sit above the
//     command's one-line result.
type sdkHandler struct {
	slog.Handler
	lost <-chan struct{} // closed when the attached stack's owner exits; nil otherwise
}

// lostGrace is how long an unavailable-server record waits for the
// owner watch (which polls every 300 ms) before it is logged.
const lostGrace = time.Second

func (h sdkHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && (r.Message == "Failed to poll for task." || r.Message == "RecordActivityHeartbeat with error" || r.Message == "Failed to send heartbeat") && canceled(r) {
		return nil
	}
	if h.lost != nil && unavailable(r) {
		t := time.NewTimer(lostGrace)
		defer t.Stop()
		select {
		case <-h.lost:
			return nil
		case <-t.C:
		}
	}
	if r.Level >= slog.LevelError && handedBack(r) {
		d := slog.NewRecord(r.Time, slog.LevelInfo, "activity handed back to the server by a stopping worker", r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "Error" {
				d.AddAttrs(a)
			}
			return true
		})
		if !h.Handler.Enabled(ctx, d.Level) {
			return nil
		}
		return h.Handler.Handle(ctx, d)
	}
	return h.Handler.Handle(ctx, r)
}

func (h sdkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return sdkHandler{h.Handler.WithAttrs(as), h.lost}
}

func (h sdkHandler) WithGroup(name string) slog.Handler {
	return sdkHandler{h.Handler.WithGroup(name), h.lost}
}

// unavailable reports whether r carries an error with gRPC status
// Unavailable (connection refused, reset or closed).
func unavailable(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && status.Code(err) == codes.Unavailable {
			found = true
			return false
		}
		return true
	})
	return found
}

// canceled reports whether r carries an error that is a cancellation
// (context.Canceled, or gRPC status Canceled).
func canceled(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		var sc *serviceerror.Canceled // the SDK's gRPC errors: no GRPCStatus method
		if err, ok := a.Value.Any().(error); ok && (errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled || errors.As(err, &sc)) {
			found = true
			return false
		}
		return true
	})
	return found
}

// handedBack reports whether r carries an error of WorkerShutdownType.
func handedBack(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		err, ok := a.Value.Any().(error)
		var app *temporal.ApplicationError
		if ok && errors.As(err, &app) && app.Type() == WorkerShutdownType {
			found = true
			return false
		}
		return true
	})
	return found
}

// sdkLogger is the slog logger given to the Temporal SDK; lost is the
// attached stack's Done channel, or nil.
func sdkLogger(l *slog.Logger, lost <-chan struct{}) *slog.Logger {
	return slog.New(sdkHandler{l.Handler(), lost})
}
