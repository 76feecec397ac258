package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Trial is one trial of a task.
type Trial struct {
	Condition int       // trial type, 0…Spec().Conditions−1
	T         int       // steps
	M, O      int       // inputs, outputs
	U         []float64 // T×M inputs; row t is u^t, t = 0…T−1
	Target    []float64 // T×O targets; row t−1 is y*^t, t = 1…T
	Mask      []float64 // T response weights; entry t−1 is m^t, t = 1…T
}

// NewTrial allocates a zeroed trial.
func NewTrial(cond, T, m, o int) Trial {
	return Trial{Condition: cond, T: T, M: m, O: o,
		U: make([]float64, T*m), Target: make([]float64, T*o), Mask: make([]float64, T)}
}

// Spec describes a task's shape.
type Spec struct {
	Inputs     int      // M, input channels
	Outputs    int      // O, output channels
	Steps      int      // T, steps per trial
	Conditions []string // names of the trial types, in condition order
}

// ConstantInput is a constant input ū under which fixed points are sought.
type ConstantInput struct {
	Name string
	U    []float64 // M values
}

// Task is a trial generator with a per-trial judgement.
type Task interface {
	// Name is the registry name, e.g. "dnms".
	Name() string
	// Spec returns the sizes and condition names under the current parameters.
	Spec() Spec
	// Trial draws one trial of condition cond; any trial noise comes from rng.
	Trial(cond int, rng *rand.Rand) Trial
	// Correct judges a trial from the outputs y (T×O, row t−1 is y^t).
	Correct(tr *Trial, y []float64) bool
	// FixedPointInputs lists the constant inputs for fixed-point analysis.
	FixedPointInputs() []ConstantInput
}

// Validator is implemented by tasks whose parameters can be out of range.
type Validator interface {
	Validate() error
}

var registry = map[string]func() Task{}

// Register makes a task constructor available by name. It is meant to be
// called from init functions; registering a name twice panics.
func Register(name string, ctor func() Task) {
	if _, dup := registry[name]; dup {
		panic("tasks: Register called twice for " + name)
	}
	registry[name] = ctor
}

// Names lists the registered tasks in alphabetical order.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New returns the named task with its literature defaults.
func New(name string) (Task, error) {
	ctor, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("tasks: unknown task %q: choose one of %s", name, strings.Join(Names(), ", "))
	}
	return ctor(), nil
}

// Configure overrides a task's parameters from a JSON object whose keys are
// the task struct's field names (or their json tags), then validates them.
// Unknown keys are an error.
func Configure(t Task, params []byte) error {
	if len(bytes.TrimSpace(params)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(params))
		dec.DisallowUnknownFields()
		if err := dec.Decode(t); err != nil {
			return fmt.Errorf("tasks: %s parameters: %w", t.Name(), err)
		}
	}
	return Validate(t)
}

// Validate checks a task's parameters and that its Spec is usable.
func Validate(t Task) error {
	if v, ok := t.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("tasks: %s: %w", t.Name(), err)
		}
	}
	s := t.Spec()
	if s.Steps <= 0 || s.Outputs <= 0 || s.Inputs < 0 || len(s.Conditions) == 0 {
		return fmt.Errorf("tasks: %s: spec has T=%d, O=%d, M=%d, %d conditions: need T, O, conditions ≥ 1",
			t.Name(), s.Steps, s.Outputs, s.Inputs, len(s.Conditions))
	}
	return nil
}

// MeanOutput returns the mask-weighted mean of output channel o over the trial.
func MeanOutput(tr *Trial, y []float64, o int) float64 {
	var s, w float64
	for t := 0; t < tr.T; t++ {
		s += tr.Mask[t] * y[t*tr.O+o]
		w += tr.Mask[t]
	}
	if w == 0 {
		return 0
	}
	return s / w
}

// MeanTarget returns the mask-weighted mean of target channel o.
func MeanTarget(tr *Trial, o int) float64 { return MeanOutput(tr, tr.Target, o) }

// SignCorrect judges a trial correct when, for every output channel, the
// mask-weighted mean output has the sign of the mask-weighted mean target.
func SignCorrect(tr *Trial, y []float64) bool {
	for o := 0; o < tr.O; o++ {
		if MeanOutput(tr, y, o)*MeanTarget(tr, o) <= 0 {
			return false
		}
	}
	return true
}
