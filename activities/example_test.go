package activities_test

import (
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"rulescape/activities"
	"rulescape/store"
)

// Activities are registered on a worker as one value whose fields are their
// dependencies; workflows call them by name (activities.TrainName, …).
func Example() {
	var (
		c  client.Client // from client.Dial
		st *store.Store  // from store.New
	)
	if c == nil || st == nil {
		return // connect first; see cmd/rulescape/worker.go
	}
	w := worker.New(c, "rulescape", worker.Options{})
	w.RegisterActivity(&activities.Activities{Store: st, EngineVersion: "0.1.0", Logger: slog.Default()})
}
