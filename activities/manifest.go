package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"rulescape/pipelines"
	"rulescape/store"
)

// ManifestInput is what the campaign's manifest records.
type ManifestInput struct {
	CampaignID string    `json:"campaign_id"`
	File       string    `json:"file"` // the campaign file's name, as given to `rulescape run`
	YAML       []byte    `json:"yaml"` // its contents
	Datasets   []Dataset `json:"datasets"`
	// Stages is the per-stage outcome, e.g. "completed" or
	// "skipped: not implemented yet (analysis issue)".
	Stages map[string]string `json:"stages"`
}

// Manifest is campaigns/<id>/manifest.json.
type Manifest struct {
	Campaign      string `json:"campaign"`
	Name          string `json:"name"`
	File          string `json:"file"`
	EngineVersion string `json:"engine_version"`
	// Revision is the VCS revision the writing binary was built from
	// ("+dirty" when modified; empty when unknown, e.g. under go test).
	Revision string            `json:"vcs_revision,omitempty"`
	Written  time.Time         `json:"written"`
	Stages   map[string]string `json:"stages"`
	Datasets []ManifestEntry   `json:"datasets"`
	Spec     string            `json:"spec"` // the campaign file as run
}

// ManifestEntry is one dataset of the manifest.
type ManifestEntry struct {
	Dataset
	URI          string          `json:"uri"`           // s3://bucket/key
	ParamsSHA256 string          `json:"params_sha256"` // of the unit's parameters (its Key)
	Params       json.RawMessage `json:"params"`        // the unit's canonical parameters
}

// ManifestOutput says where the manifest is.
type ManifestOutput struct {
	Key string `json:"key"`
	URI string `json:"uri"`
}

// Manifest writes campaigns/<id>/manifest.json: every dataset with its ref
// (key, schema, rows, digest), the parameters of the unit that wrote it,
// the engine version and the campaign file.
func (a *Activities) Manifest(ctx context.Context, in ManifestInput) (ManifestOutput, error) {
	if err := a.check(); err != nil {
		return ManifestOutput{}, err
	}
	c, err := pipelines.Parse(in.File, in.YAML)
	if err != nil {
		return ManifestOutput{}, permanent(err)
	}
	plan, err := c.Plan()
	if err != nil {
		return ManifestOutput{}, permanent(err)
	}
	params := map[string]any{}
	for i := range plan.Metaopt {
		params[plan.Metaopt[i].ID] = plan.Metaopt[i].Key()
	}
	for i := range plan.Train {
		params[plan.Train[i].ID] = plan.Train[i].Key()
	}
	m := Manifest{Campaign: in.CampaignID, Name: plan.Name, File: in.File, EngineVersion: a.EngineVersion, Revision: revision(),
		Written: time.Now().UTC(), Stages: in.Stages, Spec: string(in.YAML), Datasets: []ManifestEntry{}}
	for _, d := range in.Datasets {
		e := ManifestEntry{Dataset: d, URI: "s3://" + a.Store.Bucket() + "/" + d.Ref.Key}
		if p, ok := params[d.Unit]; ok {
			if e.ParamsSHA256, err = store.ParamsSHA256(p); err != nil {
				return ManifestOutput{}, permanent(err)
			}
			if e.Params, err = json.Marshal(p); err != nil {
				return ManifestOutput{}, permanent(err)
			}
		}
		m.Datasets = append(m.Datasets, e)
	}
	key, err := store.ManifestKey(in.CampaignID)
	if err != nil {
		return ManifestOutput{}, permanent(err)
	}
	if err := a.Store.Put(ctx, key, marshal(m), "application/json"); err != nil {
		return ManifestOutput{}, fmt.Errorf("activities: writing the manifest: %w", err)
	}
	return ManifestOutput{Key: key, URI: "s3://" + a.Store.Bucket() + "/" + key}, nil
}

// revision returns the VCS revision stamped into the binary.
func revision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
