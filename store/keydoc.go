package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// KeyDoc is the document a content key is the SHA-256 of: what a unit's
// dataset depends on. It is recorded in the dataset's commit marker, so
// that `rulescape explain` can say which of these inputs changed between
// two versions of a unit.
type KeyDoc struct {
	Engine string          `json:"engine"` // the stage's engine version
	Inputs []string        `json:"inputs"` // digests of the input datasets, in the order the unit uses them
	Params json.RawMessage `json:"params"` // the unit's parameters, canonical JSON (sorted keys)
	V      int             `json:"v"`      // format of this document (1)
}

// NewKeyDoc returns the key document of a unit of work: its parameters
// (any JSON-marshalable value, re-encoded with object keys sorted at every
// level, so the order of struct fields or map entries does not matter),
// the SHA-256 digests of its input datasets and the engine version.
func NewKeyDoc(params any, inputs []string, engineVersion string) (KeyDoc, error) {
	if engineVersion == "" {
		return KeyDoc{}, fmt.Errorf("store: content key: empty engine version: a cache that ignores the engine would serve stale results")
	}
	for i, d := range inputs {
		if !isDigest(d) {
			return KeyDoc{}, fmt.Errorf("store: content key: input %d digest %q: want 64 lowercase hex digits (a DatasetRef.SHA256)", i, d)
		}
	}
	canon, err := canonicalJSON(params)
	if err != nil {
		return KeyDoc{}, fmt.Errorf("store: content key: params: %w", err)
	}
	if inputs == nil {
		inputs = []string{}
	}
	return KeyDoc{Engine: engineVersion, Inputs: append([]string(nil), inputs...), Params: canon, V: 1}, nil
}

// ContentKey returns the hex SHA-256 of the document's JSON encoding
// {"engine", "inputs", "params", "v"} (keys in that order).
func (d KeyDoc) ContentKey() string {
	doc, _ := json.Marshal(d) // strings, a string slice and valid JSON: cannot fail
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// KeyDocOf returns the key document recorded in the commit marker of a
// content key; ok is false when there is no marker or the marker predates
// key documents.
func (s *Store) KeyDocOf(ctx context.Context, contentKey string) (doc KeyDoc, ok bool, err error) {
	if !isDigest(contentKey) {
		return KeyDoc{}, false, fmt.Errorf("store: key document: content key %q: want 64 lowercase hex digits", contentKey)
	}
	m, ok, err := s.readMarker(ctx, contentKey)
	if err != nil || !ok || m.Doc == nil {
		return KeyDoc{}, false, err
	}
	return *m.Doc, true, nil
}

// Mark commits an object written by other means (the report's index.html,
// written last of its files) under a content key: it records the object's
// size and ETag as the store has them now, with the given digest, schema
// and key document, so that Lookup finds it as it finds a dataset.
func (s *Store) Mark(ctx context.Context, contentKey, key, sha256Hex, schema string, doc *KeyDoc) (DatasetRef, error) {
	if !isDigest(contentKey) || !isDigest(sha256Hex) {
		return DatasetRef{}, fmt.Errorf("store: mark %s: content key and digest must be 64 lowercase hex digits", key)
	}
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return DatasetRef{}, fmt.Errorf("store: mark %s: %w", key, err)
	}
	m := marker{DatasetRef: DatasetRef{Key: key, SHA256: sha256Hex, Rows: 1, Schema: schema, Size: st.Size},
		ContentKey: contentKey, ETag: st.ETag, Committed: time.Now().UTC(), Doc: doc}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return DatasetRef{}, fmt.Errorf("store: mark %s: %w", key, err)
	}
	if err := s.Put(ctx, commitKey(contentKey), data, "application/json"); err != nil {
		return DatasetRef{}, fmt.Errorf("store: committing %s: %w", key, err)
	}
	return m.DatasetRef, nil
}

// PlanRef names a campaign's stored plan: its object key (PlanKey) and
// the SHA-256 of its bytes. A workflow's history records it, so every
// activity of a run reads the same plan.
type PlanRef struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// PlanKey returns "plans/<sha256>.json", where a campaign's plan with that
// digest is stored (content-addressed: the same plan is the same object).
func PlanKey(sha256Hex string) (string, error) {
	if !isDigest(sha256Hex) {
		return "", fmt.Errorf("store: plan digest %q: want 64 lowercase hex digits", sha256Hex)
	}
	return "plans/" + sha256Hex + ".json", nil
}
