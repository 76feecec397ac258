package tasks_test

import (
	"fmt"
	"math/rand/v2"

	"rulescape/core/tasks"
)

// Hold is a minimal user-defined task: a cue of sign ±1 on the first 10
// steps; the output must report the sign during the last 10 steps.
type Hold struct {
	Steps int `json:"steps"` // trial length (default 30)
}

// Name, Spec, Trial, Correct and FixedPointInputs implement tasks.Task.
func (h *Hold) Name() string { return "hold" }

func (h *Hold) Spec() tasks.Spec {
	return tasks.Spec{Inputs: 1, Outputs: 1, Steps: h.Steps, Conditions: []string{"+", "-"}}
}

func (h *Hold) Trial(cond int, _ *rand.Rand) tasks.Trial {
	tr := tasks.NewTrial(cond, h.Steps, 1, 1)
	sign := 1.0
	if cond == 1 {
		sign = -1
	}
	for t := 0; t < 10; t++ {
		tr.U[t] = sign // u^0 … u^9
	}
	for t := h.Steps - 10; t < h.Steps; t++ {
		tr.Target[t] = sign // y*^{T−9} … y*^T
		tr.Mask[t] = 1
	}
	return tr
}

func (h *Hold) Correct(tr *tasks.Trial, y []float64) bool { return tasks.SignCorrect(tr, y) }

func (h *Hold) FixedPointInputs() []tasks.ConstantInput {
	return []tasks.ConstantInput{{Name: "none", U: []float64{0}}, {Name: "+", U: []float64{1}}, {Name: "-", U: []float64{-1}}}
}

// Validate (optional) is called by tasks.Configure and tasks.Validate.
func (h *Hold) Validate() error {
	if h.Steps < 20 {
		return fmt.Errorf("Steps = %d: must be ≥ 20 (10 cue steps and 10 response steps)", h.Steps)
	}
	return nil
}

// Register in an init function; the constructor sets the defaults.
func init() { tasks.Register("hold", func() tasks.Task { return &Hold{Steps: 30} }) }

// A new task implements tasks.Task (and optionally Validate) and registers
// itself by name; it can then be configured from JSON and trained like the
// built-in ones.
func Example_addTask() {
	task, err := tasks.New("hold")
	if err != nil {
		panic(err)
	}
	if err := tasks.Configure(task, []byte(`{"steps": 40}`)); err != nil {
		panic(err)
	}
	fmt.Println(tasks.Configure(task, []byte(`{"steps": 5}`)))
	fmt.Println(tasks.Configure(task, []byte(`{"delay": 5}`)))

	s := task.Spec()
	tr := task.Trial(1, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(s.Steps, "steps, conditions", s.Conditions)
	fmt.Println("u^9 =", tr.U[9], " u^10 =", tr.U[10])
	fmt.Println("m^30 =", tr.Mask[29], " m^31 =", tr.Mask[30], " y*^40 =", tr.Target[39])
	fmt.Println("target judged correct:", task.Correct(&tr, tr.Target))
	// Output:
	// tasks: hold: Steps = 5: must be ≥ 20 (10 cue steps and 10 response steps)
	// tasks: hold: unknown parameter "delay": valid parameters are steps
	// 40 steps, conditions [+ -]
	// u^9 = -1  u^10 = 0
	// m^30 = 0  m^31 = 1  y*^40 = -1
	// target judged correct: true
}
