package activities

import (
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// TestUnitHandsBackOnWorkerStop: a unit whose worker is stopping returns a
// non-retryable WorkerShutdown error naming the unit, commits nothing, and
// IsWorkerShutdown recognises it; the same unit on a running worker
// computes as usual.
func TestUnitHandsBackOnWorkerStop(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	a := &Activities{Store: st, EngineVersion: "test"}
	unit := plan.Train[0]
	in := unitInput(t, plan, storePlan(t, st, plan), unit.ID)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	Register(env, a)
	stop := make(chan struct{})
	close(stop) // the worker is stopping
	env.SetWorkerStopChannel(stop)
	_, err := env.ExecuteActivity(TrainName, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != WorkerShutdownType || !app.NonRetryable() {
		t.Fatalf("unit on a stopping worker: %v; want a non-retryable %s application error", err, WorkerShutdownType)
	}
	if !IsWorkerShutdown(err) || !strings.Contains(app.Message(), "its worker stopped") {
		t.Errorf("error %q: IsWorkerShutdown %v", app.Message(), IsWorkerShutdown(err))
	}
	if IsWorkerShutdown(errors.New("a plain failure")) || IsWorkerShutdown(temporal.NewApplicationError("x", "UnitError")) {
		t.Error("IsWorkerShutdown accepts other errors")
	}

	env = ts.NewTestActivityEnvironment()
	Register(env, a)
	env.SetWorkerStopChannel(make(chan struct{}))
	val, err := env.ExecuteActivity(TrainName, in)
	if err != nil {
		t.Fatal(err)
	}
	var out UnitOutput
	if err := val.Get(&out); err != nil {
		t.Fatal(err)
	}
	if out.CacheHit || len(out.Datasets) != 2 {
		t.Errorf("after the hand-back: %+v; want the unit computed now (nothing was committed before)", out)
	}
}
