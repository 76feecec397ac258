package metaopt

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCheckpointRoundTrip checks that a checkpoint taken mid-run restores
// an optimizer that ends where an uninterrupted run ends, and that
// UnmarshalCheckpoint rejects another problem's or a damaged checkpoint.
func TestCheckpointRoundTrip(t *testing.T) {
	obj := quadratic{opt: target, jNoise: 0.3, gNoise: 0.5}
	start := []float64{0.3, 0.1, -0.2, 0.5}
	s := Settings{Method: MethodAdam, Iters: 6, Learners: 3, Seed: 7, LR: 0.05}
	straight := mustNew(t, obj, start, s)
	if _, err := straight.Run(context.Background(), &History{}); err != nil {
		t.Fatal(err)
	}

	opt := mustNew(t, obj, start, s)
	cp := &Checkpoint{ContentKey: "k1", Scale: []float64{1, 2, 3, 4}}
	for range 3 {
		r, err := opt.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cp.Records = append(cp.Records, r)
	}
	cp.State = opt.State()
	data, err := cp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalCheckpoint(data, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 3 || !slices.Equal(got.Scale, cp.Scale) {
		t.Fatalf("decoded %d records, scale %v", len(got.Records), got.Scale)
	}
	resumed, err := Restore(obj, got.State)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Run(context.Background(), &History{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resumed.Params(), straight.Params()) {
		t.Errorf("resumed Θ %v, uninterrupted %v", resumed.Params(), straight.Params())
	}

	if _, err := UnmarshalCheckpoint(data, "k2"); !errors.Is(err, ErrOtherProblem) {
		t.Errorf("another key: %v, want ErrOtherProblem", err)
	}
	for name, mutate := range map[string]func(*Checkpoint){
		"records short":  func(c *Checkpoint) { c.Records = c.Records[:2] },
		"records order":  func(c *Checkpoint) { c.Records[0], c.Records[1] = c.Records[1], c.Records[0] },
		"scale length":   func(c *Checkpoint) { c.Scale = c.Scale[:2] },
		"scale negative": func(c *Checkpoint) { c.Scale[0] = -1 },
		"state":          func(c *Checkpoint) { c.State.AdamM = nil },
	} {
		c := *got
		c.Records, c.Scale = slices.Clone(got.Records), slices.Clone(got.Scale)
		mutate(&c)
		if _, err := c.Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted it", name)
		}
		raw, _ := json.Marshal(c)
		if _, err := UnmarshalCheckpoint(raw, "k1"); err == nil {
			t.Errorf("%s: UnmarshalCheckpoint accepted it", name)
		}
	}
	if _, err := UnmarshalCheckpoint([]byte("{not json"), "k1"); err == nil {
		t.Error("garbage accepted")
	}
}

// TestCheckpointSpecKey checks that a checkpoint that gives only its
// problem's spec (rulescape metaopt's files before this format) is keyed
// by SpecKey, whatever the spec's formatting.
func TestCheckpointSpecKey(t *testing.T) {
	opt := mustNew(t, quadratic{opt: target}, []float64{0, 0, 0, 0}, Settings{Iters: 2, Learners: 2, LR: 0.1})
	if _, err := opt.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := json.Marshal(opt.State())
	old := `{"version": 1, "spec": {"b": [1, 2], "a": "x"}, "state": ` + string(st) + `}`
	key, err := SpecKey([]byte(`{"a":"x","b":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := UnmarshalCheckpoint([]byte(old), key)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Iter != 1 || len(c.Records) != 0 || c.ContentKey != key {
		t.Errorf("decoded %+v", c)
	}
	if _, err := UnmarshalCheckpoint([]byte(strings.Replace(old, `"x"`, `"y"`, 1)), key); !errors.Is(err, ErrOtherProblem) {
		t.Errorf("another spec: %v", err)
	}
}
