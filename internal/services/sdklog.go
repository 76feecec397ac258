package services

import (
	"context"
	"errors"
	"log/slog"

	"go.temporal.io/sdk/temporal"
)

// WorkerShutdownType is the application error type of a unit handed back
// by a stopping worker (activities.WorkerShutdownType; services does not
// import activities, and a test checks that the two agree).
const WorkerShutdownType = "WorkerShutdown"

// sdkHandler passes the Temporal SDK's log records on, except that the
// SDK's "Activity error." record for a unit handed back by a stopping
// worker is demoted from ERROR to INFO: a clean Ctrl-C or the end of
// `rulescape run` is not an error, and the unit is scheduled again at once.
type sdkHandler struct{ slog.Handler }

func (h sdkHandler) Handle(ctx context.Context, r slog.Record) error {
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
	return sdkHandler{h.Handler.WithAttrs(as)}
}

func (h sdkHandler) WithGroup(name string) slog.Handler { return sdkHandler{h.Handler.WithGroup(name)} }

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

// sdkLogger is the slog logger given to the Temporal SDK.
func sdkLogger(l *slog.Logger) *slog.Logger { return slog.New(sdkHandler{l.Handler()}) }
