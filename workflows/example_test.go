package workflows_test

import (
	"fmt"
	"time"

	"rulescape/workflows"
)

// A campaign's workflow ID is derived from its campaign ID, so starting the
// same campaign twice finds the same workflow.
func ExampleWorkflowID() {
	fmt.Println(workflows.WorkflowID("f849efe0b020f557"))
	// Output: campaign-f849efe0b020f557
}

// Seconds is a stage's wall time: to its end once finished, to now while
// it runs.
func ExampleStageProgress_Seconds() {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	p := workflows.StageProgress{Name: "train", Status: workflows.StatusRunning, StartedAt: &start}
	fmt.Println(p.Seconds(start.Add(30 * time.Second)))
	p.Status, p.FinishedAt = workflows.StatusCompleted, &end
	fmt.Println(p.Seconds(start.Add(time.Hour)))
	// Output:
	// 30
	// 90
}
