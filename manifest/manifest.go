package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"rulescape/store"
)

// CurrentVersion is the format version Write records. Manifests without a
// version (0) were written before the field existed and read as version 1.
const CurrentVersion = 1

// Manifest is campaigns/<id>/manifest.json.
type Manifest struct {
	// Version is the format version (CurrentVersion when written by Write;
	// 0 in manifests older than the field).
	Version       int    `json:"version,omitempty"`
	Campaign      string `json:"campaign"`
	Name          string `json:"name"`
	File          string `json:"file"` // the campaign file's name, as given to `rulescape run`
	EngineVersion string `json:"engine_version"`
	// Revision is the VCS revision the writing binary was built from
	// ("+dirty" when modified; empty when unknown, e.g. under go test).
	Revision string    `json:"vcs_revision,omitempty"`
	Written  time.Time `json:"written"`
	// Stages is the per-stage outcome, e.g. "completed" or
	// "skipped: not implemented yet (analysis issue)".
	Stages   map[string]string `json:"stages"`
	Datasets []Entry           `json:"datasets"`
	Spec     string            `json:"spec"` // the campaign file as run
	// Plan is the stored plan the campaign ran (campaigns of ID v2;
	// absent in those of ID v1, which stored no plan).
	Plan *store.PlanRef `json:"plan,omitempty"`
	// StageVersions are the engine versions of the stages that computed
	// the datasets (campaigns of ID v2).
	StageVersions map[string]string `json:"stage_versions,omitempty"`
}

// Dataset is one committed dataset of a unit: what a unit's activity
// returns and what a manifest entry records.
type Dataset struct {
	Unit       string           `json:"unit"`        // unit ID, e.g. "train/gonogo/miconi/seed=1"
	Stage      string           `json:"stage"`       // e.g. "metaopt", "train", "fixedpoints"
	Kind       string           `json:"kind"`        // schema kind, e.g. "learning_curves"
	ContentKey string           `json:"content_key"` // the dataset's content key
	Ref        store.DatasetRef `json:"ref"`
}

// Entry is one dataset of the manifest.
type Entry struct {
	Dataset
	URI          string          `json:"uri"`           // s3://bucket/key
	ParamsSHA256 string          `json:"params_sha256"` // of the unit's parameters (its Key)
	Params       json.RawMessage `json:"params"`        // the unit's canonical parameters
	// Where and how the dataset was computed (store.Provenance, from its
	// commit marker): the worker that ran its unit, the activity's
	// attempt, the unit's wall time up to the commit and the commit time.
	// A cache hit keeps the provenance of the computation that produced
	// it. Absent for datasets committed before markers recorded it.
	Worker      string     `json:"worker,omitempty"`
	Attempt     int        `json:"attempt,omitempty"`
	WallSeconds float64    `json:"wall_seconds,omitempty"`
	ComputedAt  *time.Time `json:"computed_at,omitempty"`
}

// SetProvenance records p (nil: nothing) in the entry.
func (e *Entry) SetProvenance(p *store.Provenance) {
	if p == nil {
		return
	}
	at := p.ComputedAt
	e.Worker, e.Attempt, e.WallSeconds, e.ComputedAt = p.Worker, p.Attempt, p.WallSeconds, &at
}

// ErrNotFound is matched (errors.Is) by the error of Read for a campaign
// that has no manifest.
var ErrNotFound = errors.New("manifest: no manifest")

// Encode returns the manifest as it is stored: indented JSON. It does not
// touch Version, so re-encoding a manifest read from an older file gives
// that file's bytes back.
func Encode(m Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: encoding the manifest of campaign %s: %w", m.Campaign, err)
	}
	return data, nil
}

// Write stores m at store.ManifestKey(m.Campaign), recording
// CurrentVersion, and returns the key. The object is written in one PUT,
// so a reader sees either the previous manifest or this one, never a mix.
func Write(ctx context.Context, st *store.Store, m Manifest) (string, error) {
	key, err := store.ManifestKey(m.Campaign)
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	m.Version = CurrentVersion
	data, err := Encode(m)
	if err != nil {
		return "", err
	}
	if err := st.Put(ctx, key, data, "application/json"); err != nil {
		return "", fmt.Errorf("manifest: writing the manifest of campaign %s: %w", m.Campaign, err)
	}
	return key, nil
}

// Read returns the manifest of campaign from the store. A campaign without
// one (unknown, or no run of it has finished) gives an error matching
// ErrNotFound that says so.
func Read(ctx context.Context, st *store.Store, campaign string) (*Manifest, error) {
	key, err := store.ManifestKey(campaign)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	uri := URI(st, key)
	data, err := st.Get(ctx, key)
	if store.IsNotFound(err) {
		return nil, notFoundError{fmt.Sprintf("campaign %s has no manifest (%s): no campaign has this ID, or no run of it has finished yet — `rulescape status %s` shows a running one; run it with `rulescape run FILE`",
			campaign, uri, campaign)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of campaign %s: %w", campaign, err)
	}
	return decode(data, "manifest "+uri, campaign)
}

// ReadFile returns a manifest from a local file, e.g. one `rulescape
// datasets get` downloaded.
func ReadFile(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // names the path
	}
	return decode(data, "manifest "+path, "")
}

// Decode parses a manifest's bytes; where names them in errors (e.g. the
// file or object they came from).
func Decode(data []byte, where string) (*Manifest, error) {
	return decode(data, where, "")
}

func decode(data []byte, where, campaign string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s is not a valid manifest (malformed JSON): %w", where, err)
	}
	if m.Version > CurrentVersion {
		return nil, fmt.Errorf("%s has format version %d, newer than this rulescape reads (up to %d): upgrade rulescape to read it", where, m.Version, CurrentVersion)
	}
	if m.Version < 0 {
		return nil, fmt.Errorf("%s has format version %d: the manifest is damaged", where, m.Version)
	}
	if campaign != "" && m.Campaign != campaign {
		return nil, fmt.Errorf("%s is of campaign %q, want %s: the manifest is damaged or misplaced", where, m.Campaign, campaign)
	}
	return &m, nil
}

// notFoundError is Read's error for a missing manifest.
type notFoundError struct{ msg string }

func (e notFoundError) Error() string        { return e.msg }
func (e notFoundError) Is(target error) bool { return target == ErrNotFound }
