package pipelines

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FloatList is a list of numbers: "1,1,-1" on the command line ("" or
// "none" for an empty list), a YAML sequence or such a string in a file.
type FloatList []float64

// String formats the list as "1,1,-1", or "none" when empty.
func (f *FloatList) String() string {
	if len(*f) == 0 {
		return "none"
	}
	s := make([]string, len(*f))
	for i, v := range *f {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// Set implements pflag.Value.
func (f *FloatList) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		*f = FloatList{}
		return nil
	}
	var out FloatList
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number — give comma-separated numbers, e.g. 1,1,-1, or none", part)
		}
		out = append(out, v)
	}
	*f = out
	return nil
}

// Type implements pflag.Value.
func (f *FloatList) Type() string { return "floats" }

// UnmarshalYAML accepts a sequence of numbers or a comma-separated string.
func (f *FloatList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if err := f.Set(n.Value); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		return nil
	}
	var v []float64
	if err := n.Decode(&v); err != nil {
		return err
	}
	*f = FloatList(v)
	if *f == nil {
		*f = FloatList{}
	}
	return nil
}

// Matrix is the rule Θ as (K+1) rows of L+1 numbers; a JSON array of arrays
// on the command line, a YAML sequence of sequences in a file.
type Matrix [][]float64

// String formats the matrix as JSON, or "" when nil.
func (m *Matrix) String() string {
	if *m == nil {
		return ""
	}
	b, _ := json.Marshal(*m)
	return string(b)
}

// Set implements pflag.Value.
func (m *Matrix) Set(s string) error {
	var v [][]float64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("not a JSON matrix (%v) — give (K+1) rows of L+1 numbers, e.g. '[[0,0],[0,-1]]'", err)
	}
	if v == nil {
		v = [][]float64{}
	}
	*m = v
	return nil
}

// Type implements pflag.Value.
func (m *Matrix) Type() string { return "json" }

// JSONObject holds task parameters: a JSON object on the command line, a
// YAML mapping in a file. Decoding YAML onto a JSONObject merges the new
// keys into the ones it holds.
type JSONObject map[string]any

// String formats the object as JSON, or "" when empty.
func (o *JSONObject) String() string {
	if len(*o) == 0 {
		return ""
	}
	b, _ := json.Marshal(*o)
	return string(b)
}

// Set implements pflag.Value.
func (o *JSONObject) Set(s string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("not a JSON object (%v) — give task fields as JSON, e.g. '{\"Steps\":500}'", err)
	}
	*o = v
	return nil
}

// Type implements pflag.Value.
func (o *JSONObject) Type() string { return "json" }

// UnmarshalYAML accepts a mapping and merges it into o.
func (o *JSONObject) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: task_params is not a mapping — give the task's fields as key: value pairs, e.g. {Steps: 500}", n.Line)
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return err
	}
	*o = o.Merged(v)
	return nil
}

// Merged returns a copy of o with the keys of over replacing its own.
func (o JSONObject) Merged(over map[string]any) JSONObject {
	out := JSONObject{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
