package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// ManifestInput is what the campaign's manifest records.
type ManifestInput struct {
	CampaignID string `json:"campaign_id"`
	File       string `json:"file"` // the campaign file's name, as given to `rulescape run`
	YAML       []byte `json:"yaml"` // its contents
	// Stages is the per-stage outcome, e.g. "completed" or
	// "skipped: not implemented yet (analysis issue)".
	Stages map[string]string `json:"stages"`
}

// Manifest and ManifestEntry are the manifest's types, now in package
// manifest; the aliases keep code that names them here compiling while it
// moves over.
type (
	Manifest      = manifest.Manifest
	ManifestEntry = manifest.Entry
)

// ManifestOutput says where the manifest is.
type ManifestOutput struct {
	Key      string `json:"key"`
	URI      string `json:"uri"`
	Datasets int    `json:"datasets"` // datasets listed
}

// Manifest writes campaigns/<id>/manifest.json: every dataset of the
// campaign's metaopt and train units, and of the units of every analysis
// stage whose status in Stages is "completed", with its ref (key, schema, rows,
// digest), the parameters of the unit that wrote it, the engine version,
// the binary's revision and the campaign file. It finds the datasets by
// their content keys, as the units do; a dataset that is not committed is
// an error.
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
	m := Manifest{Campaign: in.CampaignID, Name: plan.Name, File: in.File, EngineVersion: a.EngineVersion, Revision: revision(),
		Written: time.Now().UTC(), Stages: in.Stages, Spec: string(in.YAML), Datasets: []ManifestEntry{}}
	// The refs are found by content key, as the units found them, so the
	// workflow passes no refs (its payloads stay small at any size).
	digests := map[string]string{}
	for i := range plan.Metaopt {
		j := &plan.Metaopt[i]
		ck, err := a.metaoptKey(j)
		if err != nil {
			return ManifestOutput{}, permanent(err)
		}
		es, err := a.entries(ctx, j.ID, pipelines.StageMetaopt, j.Key(), []schemas.Kind{schemas.MetaoptHistory}, []string{ck})
		if err != nil {
			return ManifestOutput{}, err
		}
		digests[j.ID] = es[0].Ref.SHA256
		m.Datasets = append(m.Datasets, es...)
	}
	found := make([][]ManifestEntry, len(plan.Train))
	errs := make([]error, len(plan.Train))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range plan.Train {
		u := &plan.Train[i]
		var inputs []string
		if u.Metaopt != "" {
			inputs = []string{digests[u.Metaopt]}
		}
		keys, err := a.trainKeys(u, inputs)
		if err != nil {
			return ManifestOutput{}, permanent(fmt.Errorf("activities: %s: %w", u.ID, err))
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found[i], errs[i] = a.entries(ctx, u.ID, pipelines.StageTrain, u.Key(), trainKinds, keys)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return ManifestOutput{}, err
	}
	networks := map[string]Dataset{} // train unit ID → its networks dataset
	for i, es := range found {
		m.Datasets = append(m.Datasets, es...)
		for _, e := range es {
			if e.Kind == string(schemas.Networks) {
				networks[plan.Train[i].ID] = e.Dataset
			}
		}
	}
	es, err := a.analysisEntries(ctx, plan, in.Stages, networks)
	if err != nil {
		return ManifestOutput{}, err
	}
	m.Datasets = append(m.Datasets, es...)
	key, err := store.ManifestKey(in.CampaignID)
	if err != nil {
		return ManifestOutput{}, permanent(err)
	}
	if err := a.Store.Put(ctx, key, marshal(m), "application/json"); err != nil {
		return ManifestOutput{}, fmt.Errorf("activities: writing the manifest: %w", err)
	}
	return ManifestOutput{Key: key, URI: "s3://" + a.Store.Bucket() + "/" + key, Datasets: len(m.Datasets)}, nil
}

// entries looks up the committed datasets of one unit and returns their
// manifest entries.
func (a *Activities) entries(ctx context.Context, unit string, stage pipelines.StageName, params any, kinds []schemas.Kind, keys []string) ([]ManifestEntry, error) {
	sha, err := store.ParamsSHA256(params)
	if err != nil {
		return nil, permanent(err)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, permanent(err)
	}
	out := make([]ManifestEntry, len(keys))
	for i, ck := range keys {
		ref, ok, err := a.Store.Lookup(ctx, ck)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, permanent(fmt.Errorf("activities: manifest: the %s dataset of %s (content key %s) is not committed — run the campaign again", kinds[i], unit, ck))
		}
		out[i] = ManifestEntry{Dataset: Dataset{Unit: unit, Stage: string(stage), Kind: string(kinds[i]), ContentKey: ck, Ref: ref},
			URI: "s3://" + a.Store.Bucket() + "/" + ref.Key, ParamsSHA256: sha, Params: raw}
	}
	return out, nil
}

// revision returns the VCS revision stamped into the binary or, when the
// binary has none (`go run`, or a build with -buildvcs=false), that of the
// rulescape checkout the process runs in, if any — a "+dirty" suffix marks
// uncommitted changes. "" when neither is known.
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
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
		if rev != "" {
			return rev + dirty
		}
	}
	return checkoutRevision()
}

// checkoutRevision asks git for the commit of the working directory's
// checkout when it is this module's (its go.mod declares module
// rulescape): what `go run ./cmd/rulescape` was built from.
func checkoutRevision() string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	git := func(args ...string) (string, bool) {
		out, err := exec.CommandContext(ctx, "git", args...).Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	top, ok := git("rev-parse", "--show-toplevel")
	if !ok {
		return ""
	}
	mod, err := os.ReadFile(filepath.Join(top, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module rulescape\n") {
		return ""
	}
	rev, ok := git("rev-parse", "HEAD")
	if !ok || rev == "" {
		return ""
	}
	if st, ok := git("status", "--porcelain", "--untracked-files=no"); ok && st != "" {
		rev += "+dirty"
	}
	return rev
}
