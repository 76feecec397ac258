package meta

import (
	"strconv"

	"rulescape/core/plasticity"
)

// decodeCaseFast decodes a well-formed case without reflection: the common
// input, a case as Write produces it, goes through this scanner in a tenth
// of the time encoding/json takes. It accepts only a strict subset of what
// ReadCase's encoding/json path accepts — plain ASCII strings without
// escapes, no null, no duplicate or unknown field, every required field
// present — and decodes that subset to the very same Case (numbers with
// strconv.ParseFloat(…, 64), as encoding/json does). On anything else it
// returns false and ReadCase decodes with encoding/json, so that every
// error message stays that of the general path.
func decodeCaseFast(data []byte) (*Case, bool) {
	s := &caseScanner{data: data}
	var c Case
	var seen uint64
	ok := s.object(func(key string) bool {
		idx, ok := caseFieldIndex[key]
		if !ok || seen&(1<<idx) != 0 {
			return false
		}
		seen |= 1 << idx
		switch key {
		case "dt":
			c.Dt, ok = s.float()
		case "tau":
			c.Tau, ok = s.float()
		case "alpha_x":
			c.AlphaX, ok = s.float()
		case "tau_e":
			c.TauE, ok = s.float()
		case "eta":
			c.Eta, ok = s.float()
		case "gamma":
			c.Gamma, ok = s.float()
		case "gain":
			var v string
			v, ok = s.str()
			c.Gain = plasticity.Gain(v)
		case "clip":
			c.Clip, ok = s.float()
		case "warmup_trials":
			c.WarmupTrials, ok = s.int()
		case "loss":
			var v string
			v, ok = s.str()
			c.Loss = plasticity.Loss(v)
		case "alpha_R":
			c.AlphaR, ok = s.float()
		case "n_conditions":
			c.Conditions, ok = s.int()
		case "K":
			c.K, ok = s.int()
		case "L":
			c.L, ok = s.int()
		case "theta":
			c.Theta, ok = s.matrix()
		case "W0":
			c.W0, ok = s.matrix()
		case "W_in":
			c.Win, ok = s.matrix()
		case "W_out":
			c.Wout, ok = s.matrix()
		case "b":
			c.B, ok = s.vector()
		case "clamp_index":
			c.ClampIndex, ok = s.ints()
		case "clamp_value":
			c.ClampValue, ok = s.vector()
		case "plastic_mask":
			c.PlasticMask, ok = s.matrix()
		case "trials":
			c.Trials, ok = s.trials()
		default:
			return false
		}
		return ok
	})
	if !ok || !s.end() || seen&caseRequired != caseRequired {
		return nil, false
	}
	return &c, true
}

// Field indices for the duplicate and presence checks of decodeCaseFast.
var (
	caseFieldIndex  = fieldIndex(caseFields, "plastic_mask")
	trialFieldIndex = fieldIndex(trialFields, "gate")
	caseRequired    = uint64(1)<<len(caseFields) - 1
	trialRequired   = uint64(1)<<len(trialFields) - 1
)

// fieldIndex numbers the required names 0, 1, … and the optional ones after.
func fieldIndex(required []string, optional ...string) map[string]uint {
	m := make(map[string]uint, len(required)+len(optional))
	for i, name := range required {
		m[name] = uint(i)
	}
	for i, name := range optional {
		m[name] = uint(len(required) + i)
	}
	return m
}

// caseScanner reads JSON values from data at i. Every method returns false
// on input outside the subset decodeCaseFast accepts.
type caseScanner struct {
	data    []byte
	i       int
	scratch []float64
}

func (s *caseScanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (s *caseScanner) end() bool {
	s.ws()
	return s.i == len(s.data)
}

// next skips white space and consumes c if it comes next.
func (s *caseScanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads an object, calling value for each key with the scanner at
// the start of its value.
func (s *caseScanner) object(value func(key string) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.next(':') {
			return false
		}
		s.ws()
		if !value(key) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// str reads a string of printable ASCII without escapes.
func (s *caseScanner) str() (string, bool) {
	if !s.next('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.data) {
		b := s.data[s.i]
		switch {
		case b == '"':
			v := string(s.data[start:s.i])
			s.i++
			return v, true
		case b < 0x20 || b > 0x7e || b == '\\':
			return "", false
		}
		s.i++
	}
	return "", false
}

// number consumes a number of the JSON grammar and returns its text and
// whether it is an integer (no fraction, no exponent).
func (s *caseScanner) number() (text []byte, integer, ok bool) {
	d := s.data
	start, i := s.i, s.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	integer = true
	if i < len(d) && d[i] == '.' {
		integer = false
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		integer = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return nil, false, false
		}
	}
	s.i = i
	return d[start:i], integer, true
}

func (s *caseScanner) float() (float64, bool) {
	text, _, ok := s.number()
	if !ok {
		return 0, false
	}
	if len(text) == 1 && text[0] == '0' {
		return 0, true
	}
	v, err := strconv.ParseFloat(string(text), 64)
	return v, err == nil
}

func (s *caseScanner) int() (int, bool) {
	text, integer, ok := s.number()
	if !ok || !integer {
		return 0, false
	}
	v, err := strconv.ParseInt(string(text), 10, strconv.IntSize)
	return int(v), err == nil
}

// array reads an array, calling elem with the scanner at each element.
func (s *caseScanner) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		s.ws()
		if !elem() {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next(']')
	}
}

// vector reads an array of numbers into a slice of its exact length (empty,
// not nil, for []).
func (s *caseScanner) vector() ([]float64, bool) {
	s.scratch = s.scratch[:0]
	ok := s.array(func() bool {
		v, ok := s.float()
		s.scratch = append(s.scratch, v)
		return ok
	})
	if !ok {
		return nil, false
	}
	return append(make([]float64, 0, len(s.scratch)), s.scratch...), true
}

func (s *caseScanner) matrix() ([][]float64, bool) {
	a := [][]float64{}
	ok := s.array(func() bool {
		row, ok := s.vector()
		a = append(a, row)
		return ok
	})
	return a, ok
}

func (s *caseScanner) ints() ([]int, bool) {
	v := []int{}
	ok := s.array(func() bool {
		x, ok := s.int()
		v = append(v, x)
		return ok
	})
	return v, ok
}

func (s *caseScanner) trials() ([]CaseTrial, bool) {
	trials := []CaseTrial{}
	ok := s.array(func() bool {
		var t CaseTrial
		var seen uint64
		ok := s.object(func(key string) bool {
			idx, ok := trialFieldIndex[key]
			if !ok || seen&(1<<idx) != 0 {
				return false
			}
			seen |= 1 << idx
			switch key {
			case "condition":
				t.Condition, ok = s.int()
			case "x0":
				t.X0, ok = s.vector()
			case "u":
				t.U, ok = s.matrix()
			case "xi":
				t.Xi, ok = s.matrix()
			case "target":
				t.Target, ok = s.matrix()
			case "mask":
				t.Mask, ok = s.vector()
			case "gate":
				t.Gate, ok = s.vector()
			default:
				return false
			}
			return ok
		})
		trials = append(trials, t)
		return ok && seen&trialRequired == trialRequired
	})
	return trials, ok
}
