package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
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

// MaxSteps is the longest trial any task may have (1000 s at 1 ms steps). It
// keeps a mistyped parameter from allocating gigabytes.
const MaxSteps = 1_000_000

// MaxConditions is the largest number of trial types a task may have: the
// learner keeps one reward baseline per condition, so conditions are meant to
// be a small finite set.
const MaxConditions = 4096

// Configure overrides a task's parameters from a JSON object, then validates
// them. Keys name the task struct's exported fields: their json tag (e.g.
// "stim1_start") or Go name ("Stim1Start"), matched ignoring case, underscores
// and hyphens. Keys that are not given keep their current values; a key that
// is given replaces the whole value (a list is replaced, not merged). Unknown
// keys, values of the wrong type and values that fail validation are errors
// that name the parameter; on any error the task is left unchanged.
func Configure(t Task, params []byte) error {
	if len(bytes.TrimSpace(params)) == 0 {
		return Validate(t)
	}
	pv := reflect.ValueOf(t)
	if pv.Kind() != reflect.Pointer || pv.IsNil() || pv.Elem().Kind() != reflect.Struct {
		// Not a pointer to a struct: let encoding/json handle it as it can.
		if err := decodeStrict(params, t); err != nil {
			return fmt.Errorf("tasks: %s parameters: %w", t.Name(), err)
		}
		return Validate(t)
	}
	fields := paramFields(pv.Elem().Type())
	var raw map[string]json.RawMessage
	if err := decodeStrict(params, &raw); err != nil || raw == nil {
		if err == nil {
			err = errors.New("null")
		}
		return fmt.Errorf("tasks: %s parameters must be a JSON object like {\"steps\": 500}: %w", t.Name(), err)
	}
	// Work on a copy so that a failure leaves t as it was.
	cp := reflect.New(pv.Elem().Type())
	cp.Elem().Set(pv.Elem())
	canon := make(map[string]json.RawMessage, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[normKey(k)]
		if !ok {
			return fmt.Errorf("tasks: %s: unknown parameter %q: valid parameters are %s", t.Name(), k, strings.Join(paramNames(fields), ", "))
		}
		if _, dup := canon[f.key]; dup {
			return fmt.Errorf("tasks: %s: parameter %q given twice (as %q and another spelling)", t.Name(), f.key, k)
		}
		canon[f.key] = raw[k]
		// A given value replaces the field: start from its zero value so that
		// decoding a list does not write into the default list's storage.
		fv := cp.Elem().FieldByIndex(f.index)
		fv.Set(reflect.Zero(fv.Type()))
	}
	buf, err := json.Marshal(canon)
	if err != nil {
		return fmt.Errorf("tasks: %s parameters: %w", t.Name(), err)
	}
	if err := decodeStrict(buf, cp.Interface()); err != nil {
		return fmt.Errorf("tasks: %s parameters: %w", t.Name(), err)
	}
	ct, ok := cp.Interface().(Task)
	if !ok { // unreachable: cp has t's type
		return fmt.Errorf("tasks: %s: cannot copy parameters", t.Name())
	}
	if err := Validate(ct); err != nil {
		return err
	}
	pv.Elem().Set(cp.Elem())
	return nil
}

// decodeStrict decodes exactly one JSON value, rejecting unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

type paramField struct {
	key   string // canonical JSON key
	index []int
}

// paramFields maps the normalised spelling of each settable parameter of a
// struct type (json tag and Go name) to its canonical key.
func paramFields(typ reflect.Type) map[string]paramField {
	fields := map[string]paramField{}
	for _, sf := range reflect.VisibleFields(typ) {
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		if key == "" {
			key = sf.Name
		}
		f := paramField{key: key, index: sf.Index}
		fields[normKey(key)] = f
		if _, taken := fields[normKey(sf.Name)]; !taken {
			fields[normKey(sf.Name)] = f
		}
	}
	return fields
}

func paramNames(fields map[string]paramField) []string {
	seen := map[string]bool{}
	var names []string
	for _, f := range fields {
		if !seen[f.key] {
			seen[f.key] = true
			names = append(names, f.key)
		}
	}
	sort.Strings(names)
	return names
}

func normKey(k string) string {
	k = strings.ToLower(k)
	return strings.NewReplacer("_", "", "-", "").Replace(k)
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
	if s.Steps > MaxSteps {
		return fmt.Errorf("tasks: %s: T = %d steps: at most %d", t.Name(), s.Steps, MaxSteps)
	}
	if len(s.Conditions) > MaxConditions {
		return fmt.Errorf("tasks: %s: %d conditions: at most %d", t.Name(), len(s.Conditions), MaxConditions)
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

// SegmentSignCorrect judges a trial with piecewise-constant targets (e.g. the
// flip-flop): the masked steps are split into segments, a new segment starting
// wherever the mask is zero or any target channel changes value; the trial is
// correct when, in every segment and for every output channel, the mean output
// has the sign of the (constant) target. Segments whose target is zero on a
// channel do not judge that channel.
func SegmentSignCorrect(tr *Trial, y []float64) bool {
	o := tr.O
	sum := make([]float64, o)
	n := 0
	flush := func(row int) bool {
		if n == 0 {
			return true
		}
		for k := 0; k < o; k++ {
			if target := tr.Target[row*o+k]; target != 0 && sum[k]*target <= 0 {
				return false
			}
		}
		clear(sum)
		n = 0
		return true
	}
	last := -1 // row of the segment's first step
	for t := 0; t < tr.T; t++ {
		if tr.Mask[t] == 0 {
			if !flush(last) {
				return false
			}
			continue
		}
		if n > 0 && !equalRows(tr.Target[last*o:(last+1)*o], tr.Target[t*o:(t+1)*o]) {
			if !flush(last) {
				return false
			}
		}
		if n == 0 {
			last = t
		}
		for k := 0; k < o; k++ {
			sum[k] += y[t*o+k]
		}
		n++
	}
	return flush(last)
}

func equalRows(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// finite reports whether every value is a finite number.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// setInput sets channel ch of the inputs u^t, from ≤ t < to, to v.
func setInput(tr *Trial, ch, from, to int, v float64) {
	for t := from; t < to; t++ {
		tr.U[t*tr.M+ch] = v
	}
}

// setResponse sets the targets y*^{t+1} of channel ch, from ≤ t < to, to v and
// their mask to 1.
func setResponse(tr *Trial, ch, from, to int, v float64) {
	for t := from; t < to; t++ {
		tr.Target[t*tr.O+ch] = v
		tr.Mask[t] = 1
	}
}

// checkCond panics with a clear message when cond is not a condition of t:
// asking for a trial type that does not exist is a programming error.
func checkCond(t Task, cond int) {
	if n := len(t.Spec().Conditions); cond < 0 || cond >= n {
		panic(fmt.Sprintf("tasks: %s: condition %d out of range [0, %d)", t.Name(), cond, n))
	}
}
