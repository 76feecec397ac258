package activities_test

import (
	"fmt"

	"go.temporal.io/sdk/activity"

	"rulescape/activities"
)

// names records the activity names a worker would register.
type names []string

func (n *names) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	*n = append(*n, o.Name)
}

// Activities are one value whose fields are their dependencies. Register
// puts its Unit method on a worker (a worker.Worker from worker.New) under
// every stage's activity name (the hidden loadtest stages included), plus
// Manifest, Prune, ResolveUnits and the MetaoptJob workflow's MetaoptStart,
// Ask, Eval, Tell and Finish; workflows call them by these names
// (activities.TrainName, …, activities.StageActivity).
func Example() {
	acts := &activities.Activities{EngineVersion: "0.1.0"} // and Store: from store.New
	var w names                                            // a worker.Worker in a real process; see cmd/rulescape/worker.go
	activities.Register(&w, acts)
	fmt.Println(w)
	// Output: [Metaopt Train FixedPoints Sensitivity RSA Landscape DSA Atlas Report Loadtest LoadtestAnalysis Manifest Prune MetaoptStart MetaoptAsk MetaoptEval MetaoptTell MetaoptFinish ResolveUnits]
}
