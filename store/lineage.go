package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Lineage is the last computed version of one dataset of a unit under a
// campaign name: where `rulescape explain` finds the earlier version of a
// unit whose content key changed, to say which inputs of its key changed.
// It is a pointer, overwritten by every later computation of the same unit
// (last writer wins), stored at LineageKey(name, unit, kind).
type Lineage struct {
	Name       string    `json:"name"`        // campaign name
	Unit       string    `json:"unit"`        // unit ID, e.g. "train/gonogo/miconi/seed=1"
	Kind       string    `json:"kind"`        // dataset kind
	Campaign   string    `json:"campaign"`    // campaign ID that computed it
	ContentKey string    `json:"content_key"` // its content key
	Doc        KeyDoc    `json:"key_doc"`     // what the content key is the digest of
	Written    time.Time `json:"written"`
	// Provenance is where and how this version was computed (absent in
	// records written before it existed).
	Provenance *Provenance `json:"provenance,omitempty"`
}

// LineageKey returns "lineage/<h(name)>/<h(unit, kind)>.json", h being the
// first 16 hex digits of a SHA-256 (names and unit IDs have characters
// object keys should not carry).
func LineageKey(name, unit, kind string) string {
	h := func(parts ...string) string {
		s := sha256.New()
		for _, p := range parts {
			s.Write([]byte(p))
			s.Write([]byte{0})
		}
		return hex.EncodeToString(s.Sum(nil))[:16]
	}
	return "lineage/" + h(name) + "/" + h(unit, kind) + ".json"
}

// PutLineage records l as the latest version of its unit's dataset.
func (s *Store) PutLineage(ctx context.Context, l Lineage) error {
	if !isDigest(l.ContentKey) {
		return fmt.Errorf("store: lineage of %s: content key %q: want 64 lowercase hex digits", l.Unit, l.ContentKey)
	}
	if l.Written.IsZero() {
		l.Written = time.Now().UTC()
	}
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("store: lineage of %s: %w", l.Unit, err)
	}
	return s.Put(ctx, LineageKey(l.Name, l.Unit, l.Kind), data, "application/json")
}

// GetLineage returns the latest recorded version of a unit's dataset under
// a campaign name; ok is false when none was recorded.
func (s *Store) GetLineage(ctx context.Context, name, unit, kind string) (l Lineage, ok bool, err error) {
	key := LineageKey(name, unit, kind)
	data, err := s.Get(ctx, key)
	if IsNotFound(err) {
		return Lineage{}, false, nil
	}
	if err != nil {
		return Lineage{}, false, err
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return Lineage{}, false, fmt.Errorf("store: lineage %s is not valid JSON: %w", key, err)
	}
	return l, true, nil
}
