package metaopt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// CheckpointVersion is the Checkpoint format written by Marshal.
const CheckpointVersion = 1

// ErrOtherProblem is returned (wrapped) by UnmarshalCheckpoint for a
// checkpoint of another problem than the one asked for.
var ErrOtherProblem = errors.New("the checkpoint belongs to another problem")

// Checkpoint is a meta-optimization saved after an iteration: enough to
// continue bit-exactly (the optimizer state and the search scale, which
// auto-scaling computes before the first iteration and which Restore's
// objective must use again) and the records of the iterations so far (for a
// history of the whole run). ContentKey names the problem — objective,
// settings and initial Θ — the state belongs to: a campaign's content key,
// or SpecKey of a description of the problem.
//
// Marshal and UnmarshalCheckpoint are the only encoding; the JSON is
//
//	{"version": 1, "content_key": "…", "spec": {…}, "scale": […], "state": {…}, "records": […]}
type Checkpoint struct {
	Version    int             `json:"version"`
	ContentKey string          `json:"content_key"`
	Spec       json.RawMessage `json:"spec,omitempty"` // optional: the problem, for people (and SpecKey)
	Scale      []float64       `json:"scale"`          // meta.Learners.Scale; empty = unscaled
	State      State           `json:"state"`
	Records    []Record        `json:"records"` // Records[i] is iteration i; empty when not kept
}

// SpecKey is the content key of a problem described as JSON: the SHA-256 of
// its canonical form (object keys sorted, no spaces), so that equal
// descriptions get equal keys however they were formatted.
func SpecKey(spec []byte) (string, error) {
	var v any
	if err := json.Unmarshal(spec, &v); err != nil {
		return "", fmt.Errorf("metaopt: spec: %w", err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("metaopt: spec: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// Marshal encodes the checkpoint as JSON (Version set to CheckpointVersion),
// after checking it as UnmarshalCheckpoint would.
func (c *Checkpoint) Marshal() ([]byte, error) {
	c.Version = CheckpointVersion
	if err := c.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// UnmarshalCheckpoint decodes and checks a checkpoint of the problem key:
// its version, that it belongs to key (else an error wrapping
// ErrOtherProblem), the state as Restore checks it, the scale's length and
// values, and that the records are iterations 0, 1, … up to the state's.
// A checkpoint without content_key but with a spec (those `rulescape
// metaopt` wrote before this format) is keyed by SpecKey(spec).
func UnmarshalCheckpoint(data []byte, key string) (*Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("metaopt: checkpoint: %w", err)
	}
	if c.ContentKey == "" && len(c.Spec) > 0 {
		var err error
		if c.ContentKey, err = SpecKey(c.Spec); err != nil {
			return nil, fmt.Errorf("metaopt: checkpoint: %w", err)
		}
	}
	if c.ContentKey != key {
		return nil, fmt.Errorf("metaopt: checkpoint of %q, not %q: %w", c.ContentKey, key, ErrOtherProblem)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// validate checks everything but the key.
func (c *Checkpoint) validate() error {
	if c.Version != CheckpointVersion {
		return fmt.Errorf("metaopt: checkpoint version %d, this build reads version %d", c.Version, CheckpointVersion)
	}
	if c.ContentKey == "" {
		return errors.New("metaopt: checkpoint has no content_key")
	}
	if err := c.State.validate(); err != nil {
		return err
	}
	if n := len(c.Scale); n != 0 && n != len(c.State.Params) {
		return fmt.Errorf("metaopt: checkpoint scale has %d entries, the state %d parameters", n, len(c.State.Params))
	}
	for _, s := range c.Scale {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("metaopt: checkpoint scale holds %v; every entry must be positive and finite", s)
		}
	}
	if len(c.Records) == 0 {
		return nil
	}
	if len(c.Records) != c.State.Iter {
		return fmt.Errorf("metaopt: checkpoint has %d records for %d iterations", len(c.Records), c.State.Iter)
	}
	for i, r := range c.Records {
		if r.Iter != i {
			return fmt.Errorf("metaopt: checkpoint record %d is of iteration %d", i, r.Iter)
		}
	}
	return nil
}
