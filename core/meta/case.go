package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Case is the case file of docs/MODEL.md §7: one learner with every random number
// fixed, written out so that any implementation can recompute J and ∇J.
// Matrices are row-major nested arrays; field names are those of the
// specification.
type Case struct {
	Dt           float64         `json:"dt"`                     // time step, ms
	Tau          float64         `json:"tau"`                    // membrane time constant, ms
	AlphaX       float64         `json:"alpha_x"`                // filter coefficient of x̄
	TauE         float64         `json:"tau_e"`                  // eligibility decay, ms; 0 = none
	Eta          float64         `json:"eta"`                    // learning rate η
	Gamma        float64         `json:"gamma"`                  // discount γ of J
	Gain         plasticity.Gain `json:"gain"`                   // plain or baseline
	Clip         float64         `json:"clip"`                   // c_max; 0 = none
	WarmupTrials int             `json:"warmup_trials"`          // trials h < warmup_trials change no weight
	Loss         plasticity.Loss `json:"loss"`                   // abs or mse
	AlphaR       float64         `json:"alpha_R"`                // baseline smoothing α_R
	Conditions   int             `json:"n_conditions"`           // number of conditions
	K            int             `json:"K"`                      // highest pre-synaptic power
	L            int             `json:"L"`                      // highest post-synaptic power
	Theta        [][]float64     `json:"theta"`                  // (K+1)×(L+1), theta[k][l] = θ_kl
	W0           [][]float64     `json:"W0"`                     // N×N initial recurrent weights
	Win          [][]float64     `json:"W_in"`                   // N×M
	Wout         [][]float64     `json:"W_out"`                  // O×N
	B            []float64       `json:"b"`                      // N
	ClampIndex   []int           `json:"clamp_index"`            // clamped units
	ClampValue   []float64       `json:"clamp_value"`            // their values
	PlasticMask  [][]float64     `json:"plastic_mask,omitempty"` // N×N; nil = ones except clamped rows
	Trials       []CaseTrial     `json:"trials"`                 // trials 0…H−1 of the learner
}

// CaseTrial is one trial of a case.
type CaseTrial struct {
	Condition int         `json:"condition"`      // 0…n_conditions−1
	X0        []float64   `json:"x0"`             // N, initial state
	U         [][]float64 `json:"u"`              // T×M, row t = u^t; its rows define T
	Xi        [][]float64 `json:"xi"`             // T×N, row t = ξ^t
	Target    [][]float64 `json:"target"`         // T×O, row t−1 = y*^t
	Mask      []float64   `json:"mask"`           // T, entry t−1 = m^t
	Gate      []float64   `json:"gate,omitempty"` // T, entry t = g^t; nil = all 1
}

// Required fields, checked by name so that a missing one is reported as
// missing rather than read as zero.
var (
	caseFields = []string{"dt", "tau", "alpha_x", "tau_e", "eta", "gamma", "gain", "clip",
		"warmup_trials", "loss", "alpha_R", "n_conditions", "K", "L", "theta", "W0", "W_in",
		"W_out", "b", "clamp_index", "clamp_value", "trials"}
	trialFields = []string{"condition", "x0", "u", "xi", "target", "mask"}
)

// ReadCase reads and validates one case. Errors name the field and what
// was expected, e.g. `case: trials[3].xi: has 19 rows, want T=20`.
func ReadCase(r io.Reader) (*Case, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("case: reading: %w", err)
	}
	if c, ok := decodeCaseFast(data); ok {
		if err := c.Validate(); err != nil {
			return nil, err
		}
		return c, nil
	}
	return readCaseJSON(data)
}

// readCaseJSON is ReadCase's general path: encoding/json, with an error
// naming the field or the line and column for any input.
func readCaseJSON(data []byte) (*Case, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(data, err)
	}
	if top == nil {
		return nil, errors.New("case: want a JSON object, got null")
	}
	if err := requireFields("", top, caseFields, "plastic_mask"); err != nil {
		return nil, err
	}
	var trials []map[string]json.RawMessage
	if err := json.Unmarshal(top["trials"], &trials); err != nil {
		return nil, fmt.Errorf("case: trials: want an array of objects: %v", err)
	}
	for h, t := range trials {
		if t == nil {
			return nil, fmt.Errorf("case: trials[%d]: want an object, got null", h)
		}
		if err := requireFields(fmt.Sprintf("trials[%d].", h), t, trialFields, "gate"); err != nil {
			return nil, err
		}
	}
	var c Case
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, jsonError(data, err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// requireFields checks that obj has every required field, no null, and no
// field outside required and optional. Names are case-sensitive (the JSON
// decoder alone would accept "alpha_r" for "alpha_R").
func requireFields(prefix string, obj map[string]json.RawMessage, required []string, optional ...string) error {
	known := map[string]bool{}
	for _, name := range append(required, optional...) {
		known[name] = true
	}
	var unknown []string
	for name := range obj {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("case: %s%s: unknown field (names are case-sensitive; see docs/MODEL.md §7)", prefix, unknown[0])
	}
	for _, name := range required {
		v, ok := obj[name]
		if !ok {
			return fmt.Errorf("case: %s%s: missing (required by docs/MODEL.md §7)", prefix, name)
		}
		if string(bytes.TrimSpace(v)) == "null" {
			return fmt.Errorf("case: %s%s: is null, want a value", prefix, name)
		}
	}
	return nil
}

// jsonError turns a decoding error into one line naming the field or the
// position.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		hint := ""
		if syn.Offset > 0 && syn.Offset <= int64(len(data)) {
			switch data[syn.Offset-1] {
			case 'N', 'I', 'n', 'i':
				hint = " (NaN and Infinity are not JSON numbers: every value must be finite)"
			}
		}
		return fmt.Errorf("case: invalid JSON at line %d, column %d: %v%s", line, col, syn, hint)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("case: %s: cannot read a JSON %s as %v", field, typ.Value, typ.Type)
	}
	return fmt.Errorf("case: %v", err)
}

func position(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Validate checks every value and every shape against the sizes N (rows of
// W0), M (columns of W_in), O (rows of W_out) and, per trial, T (rows of u).
func (c *Case) Validate() error {
	bad := func(field string, format string, args ...any) error {
		return fmt.Errorf("case: %s: "+format, append([]any{field}, args...)...)
	}
	fin := func(field string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad(field, "is %v, want a finite number", v)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"dt", c.Dt}, {"tau", c.Tau}, {"alpha_x", c.AlphaX}, {"tau_e", c.TauE}, {"eta", c.Eta},
		{"gamma", c.Gamma}, {"clip", c.Clip}, {"alpha_R", c.AlphaR}} {
		if err := fin(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case !(c.Dt > 0):
		return bad("dt", "is %v, want > 0", c.Dt)
	case !(c.Tau >= c.Dt):
		return bad("tau", "is %v, want ≥ dt = %v", c.Tau, c.Dt)
	case !(c.AlphaX >= 0 && c.AlphaX <= 1):
		return bad("alpha_x", "is %v, want a value in [0, 1]", c.AlphaX)
	case !(c.TauE >= 0):
		return bad("tau_e", "is %v, want ≥ 0 (0 = no decay)", c.TauE)
	case !(c.Eta >= 0):
		return bad("eta", "is %v, want ≥ 0", c.Eta)
	case !(c.Gamma > 0 && c.Gamma <= 1):
		return bad("gamma", "is %v, want a value in (0, 1]", c.Gamma)
	case c.Gain != plasticity.GainPlain && c.Gain != plasticity.GainBaseline:
		return bad("gain", "is %q, want \"plain\" or \"baseline\"", c.Gain)
	case !(c.Clip >= 0):
		return bad("clip", "is %v, want ≥ 0 (0 = no clipping)", c.Clip)
	case c.WarmupTrials < 0:
		return bad("warmup_trials", "is %d, want ≥ 0", c.WarmupTrials)
	case c.Loss != plasticity.LossAbs && c.Loss != plasticity.LossMSE:
		return bad("loss", "is %q, want \"abs\" or \"mse\"", c.Loss)
	case !(c.AlphaR >= 0 && c.AlphaR <= 1):
		return bad("alpha_R", "is %v, want a value in [0, 1]", c.AlphaR)
	case c.Conditions < 1:
		return bad("n_conditions", "is %d, want ≥ 1", c.Conditions)
	case c.K < 0 || c.K > plasticity.MaxOrder:
		return bad("K", "is %d, want an integer in [0, %d]", c.K, plasticity.MaxOrder)
	case c.L < 0 || c.L > plasticity.MaxOrder:
		return bad("L", "is %d, want an integer in [0, %d]", c.L, plasticity.MaxOrder)
	}
	if err := checkMatrix("theta", c.Theta, c.K+1, c.L+1, "K+1", "L+1"); err != nil {
		return err
	}
	n := len(c.W0)
	if n == 0 {
		return bad("W0", "is empty, want an N×N matrix with N ≥ 1")
	}
	if err := checkMatrix("W0", c.W0, n, n, "N", "N"); err != nil {
		return err
	}
	if len(c.Win) != n {
		return bad("W_in", "has %d rows, want N=%d", len(c.Win), n)
	}
	m := len(c.Win[0])
	if err := checkMatrix("W_in", c.Win, n, m, "N", "M"); err != nil {
		return err
	}
	o := len(c.Wout)
	if o == 0 {
		return bad("W_out", "is empty, want an O×N matrix with O ≥ 1")
	}
	if err := checkMatrix("W_out", c.Wout, o, n, "O", "N"); err != nil {
		return err
	}
	if err := checkVector("b", c.B, n, "N"); err != nil {
		return err
	}
	if len(c.ClampValue) != len(c.ClampIndex) {
		return bad("clamp_value", "has %d values, want one per clamp_index entry (%d)", len(c.ClampValue), len(c.ClampIndex))
	}
	seen := map[int]bool{}
	for k, i := range c.ClampIndex {
		if i < 0 || i >= n {
			return bad(fmt.Sprintf("clamp_index[%d]", k), "is %d, want a unit in [0, N=%d)", i, n)
		}
		if seen[i] {
			return bad(fmt.Sprintf("clamp_index[%d]", k), "unit %d is listed twice", i)
		}
		seen[i] = true
	}
	if err := checkVector("clamp_value", c.ClampValue, len(c.ClampIndex), "len(clamp_index)"); err != nil {
		return err
	}
	if c.PlasticMask != nil {
		if err := checkMatrix("plastic_mask", c.PlasticMask, n, n, "N", "N"); err != nil {
			return err
		}
	}
	if len(c.Trials) == 0 {
		return bad("trials", "is empty, want H ≥ 1 trials")
	}
	for h := range c.Trials {
		tr := &c.Trials[h]
		f := func(name string) string { return fmt.Sprintf("trials[%d].%s", h, name) }
		if tr.Condition < 0 || tr.Condition >= c.Conditions {
			return bad(f("condition"), "is %d, want an integer in [0, n_conditions=%d)", tr.Condition, c.Conditions)
		}
		if err := checkVector(f("x0"), tr.X0, n, "N"); err != nil {
			return err
		}
		T := len(tr.U)
		if T == 0 {
			return bad(f("u"), "has no rows, want T ≥ 1 rows of M=%d values", m)
		}
		tName := fmt.Sprintf("T=%d (the rows of %s)", T, f("u"))
		if err := checkMatrix(f("u"), tr.U, T, m, "T", "M"); err != nil {
			return err
		}
		if len(tr.Xi) != T {
			return bad(f("xi"), "has %d rows, want %s", len(tr.Xi), tName)
		}
		if err := checkMatrix(f("xi"), tr.Xi, T, n, "T", "N"); err != nil {
			return err
		}
		if len(tr.Target) != T {
			return bad(f("target"), "has %d rows, want %s", len(tr.Target), tName)
		}
		if err := checkMatrix(f("target"), tr.Target, T, o, "T", "O"); err != nil {
			return err
		}
		if len(tr.Mask) != T {
			return bad(f("mask"), "has %d values, want %s", len(tr.Mask), tName)
		}
		if err := checkVector(f("mask"), tr.Mask, T, "T"); err != nil {
			return err
		}
		for t, v := range tr.Mask {
			if v < 0 {
				return bad(fmt.Sprintf("%s[%d]", f("mask"), t), "is %v, want ≥ 0", v)
			}
		}
		if tr.Gate != nil {
			if len(tr.Gate) != T {
				return bad(f("gate"), "has %d values, want %s", len(tr.Gate), tName)
			}
			if err := checkVector(f("gate"), tr.Gate, T, "T"); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkVector(name string, v []float64, want int, wantName string) error {
	if len(v) != want {
		return fmt.Errorf("case: %s: has %d values, want %s=%d", name, len(v), wantName, want)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("case: %s[%d]: is %v, want a finite number", name, i, x)
		}
	}
	return nil
}

func checkMatrix(name string, a [][]float64, rows, cols int, rowName, colName string) error {
	if len(a) != rows {
		return fmt.Errorf("case: %s: has %d rows, want %s=%d", name, len(a), rowName, rows)
	}
	for i, row := range a {
		if len(row) != cols {
			return fmt.Errorf("case: %s[%d]: has %d values, want %s=%d", name, i, len(row), colName, cols)
		}
		for j, x := range row {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("case: %s[%d][%d]: is %v, want a finite number", name, i, j, x)
			}
		}
	}
	return nil
}

// Write validates the case and writes it as JSON (one object, fields in the
// order of docs/MODEL.md §7, float64 values that read back bit for bit).
func (c *Case) Write(w io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("case: writing: %w", err)
	}
	return nil
}

// Rule returns the case's rule Θ.
func (c *Case) Rule() (plasticity.Rule, error) {
	r, err := plasticity.FromMatrix(c.Theta)
	if err != nil {
		return plasticity.Rule{}, fmt.Errorf("case: theta: %w", err)
	}
	return r, nil
}

func flatten(a [][]float64, cols int) []float64 {
	out := make([]float64, 0, len(a)*cols)
	for _, row := range a {
		out = append(out, row...)
	}
	return out
}

func unflatten(v []float64, rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for i := range out {
		out[i] = append(make([]float64, 0, cols), v[i*cols:(i+1)*cols]...)
	}
	return out
}

// FromCase validates c and returns its problem (S = 1, H = len(trials)) and
// its rule. The divergence threshold is plasticity.DefaultMaxWeight.
func FromCase(c *Case) (*Problem, plasticity.Rule, error) {
	if err := c.Validate(); err != nil {
		return nil, plasticity.Rule{}, err
	}
	rule, err := c.Rule()
	if err != nil {
		return nil, plasticity.Rule{}, err
	}
	n, m, o := len(c.W0), len(c.Win[0]), len(c.Wout)
	net := &rnn.Network{N: n, M: m, O: o,
		W: flatten(c.W0, n), Win: flatten(c.Win, m), Wout: flatten(c.Wout, n),
		B:          append([]float64(nil), c.B...),
		ClampIndex: append([]int(nil), c.ClampIndex...), ClampValue: append([]float64(nil), c.ClampValue...)}
	p := &Problem{
		Net: net, Dyn: rnn.Dynamics{Dt: c.Dt, Tau: c.Tau},
		Cfg: plasticity.Config{Eta: c.Eta, Gain: c.Gain, Clip: c.Clip, WarmupTrials: c.WarmupTrials,
			AlphaR: c.AlphaR, Loss: c.Loss, AlphaX: c.AlphaX, TauE: c.TauE},
		Conditions: c.Conditions, Gamma: c.Gamma, H: len(c.Trials),
	}
	if c.PlasticMask != nil {
		p.Mask = flatten(c.PlasticMask, n)
	} else {
		p.Mask = plasticity.DefaultMask(net)
	}
	eps := make([]Episode, len(c.Trials))
	for h, ct := range c.Trials {
		T := len(ct.U)
		tr := tasks.Trial{Condition: ct.Condition, T: T, M: m, O: o,
			U: flatten(ct.U, m), Target: flatten(ct.Target, o), Mask: append([]float64(nil), ct.Mask...)}
		eps[h] = Episode{Trial: tr, X0: append([]float64(nil), ct.X0...), Xi: flatten(ct.Xi, n)}
		if ct.Gate != nil {
			eps[h].Gate = append([]float64(nil), ct.Gate...)
		}
	}
	p.Episodes = func(yield func(int, *Episode) bool) {
		for h := range eps {
			ep := eps[h] // a copy: the slices are only read
			if !yield(h, &ep) {
				return
			}
		}
	}
	if err := p.Validate(); err != nil {
		return nil, plasticity.Rule{}, err
	}
	return p, rule, nil
}

// NewCase writes out problem p with rule as a case: every episode is drawn
// and stored, the gates made explicit. Mind the size: H trials of T×N noise.
func NewCase(p *Problem, rule plasticity.Rule) (*Case, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	net := p.Net
	n := net.N
	cfg := p.Cfg
	gain, loss := cfg.Gain, cfg.Loss
	if gain == "" {
		gain = plasticity.GainPlain
	}
	if loss == "" {
		loss = plasticity.LossAbs
	}
	c := &Case{
		Dt: p.Dyn.Dt, Tau: p.Dyn.Tau, AlphaX: cfg.AlphaX, TauE: cfg.TauE, Eta: cfg.Eta, Gamma: p.Gamma,
		Gain: gain, Clip: cfg.Clip, WarmupTrials: cfg.WarmupTrials, Loss: loss, AlphaR: cfg.AlphaR,
		Conditions: p.Conditions, K: rule.K, L: rule.L, Theta: rule.Matrix(),
		W0: unflatten(net.W, n, n), Win: unflatten(net.Win, n, net.M), Wout: unflatten(net.Wout, net.O, n),
		B: append([]float64(nil), net.B...), ClampIndex: append([]int{}, net.ClampIndex...),
		ClampValue: append([]float64{}, net.ClampValue...),
	}
	mask := p.Mask
	if mask == nil {
		mask = plasticity.DefaultMask(net)
	}
	c.PlasticMask = unflatten(mask, n, n)
	var iterErr error
	p.Episodes(func(h int, ep *Episode) bool {
		if err := p.checkEpisode(h, ep); err != nil {
			iterErr = err
			return false
		}
		tr := &ep.Trial
		T := tr.T
		xi := ep.Xi
		if xi == nil {
			xi = make([]float64, T*n)
		}
		gate := ep.Gate
		if gate == nil {
			gate = make([]float64, T)
			for t := range gate {
				if t >= cfg.GateStart {
					gate[t] = 1
				}
			}
		}
		c.Trials = append(c.Trials, CaseTrial{
			Condition: tr.Condition, X0: append([]float64(nil), ep.X0...),
			U: unflatten(tr.U, T, tr.M), Xi: unflatten(xi, T, n), Target: unflatten(tr.Target, T, tr.O),
			Mask: append([]float64(nil), tr.Mask...), Gate: append([]float64(nil), gate...),
		})
		return len(c.Trials) < p.H
	})
	if iterErr != nil {
		return nil, iterErr
	}
	if len(c.Trials) < p.H {
		return nil, fmt.Errorf("meta: episode generator stopped after %d episodes, want H=%d", len(c.Trials), p.H)
	}
	return c, c.Validate()
}
