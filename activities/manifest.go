package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"rulescape/internal/buildinfo"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

// ManifestInput is what the campaign's manifest records: the stored plan
// (which holds the campaign file) and each stage's outcome.
type ManifestInput struct {
	CampaignID string  `json:"campaign_id"`
	Plan       PlanRef `json:"plan"`
	// Stages is the per-stage outcome, e.g. "completed".
	Stages map[string]string `json:"stages"`
	// Run is the campaign workflow's run ID when its stages were resolved
	// in bulk: the datasets its ResolveUnits activities verified are taken
	// from their records (and the records removed) instead of being looked
	// up one by one. "": every dataset is looked up.
	Run string `json:"run,omitempty"`
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

// Manifest writes campaigns/<id>/manifest.json: every dataset of every
// unit of the stored plan but the report (which is written after it, from
// it), with its ref (key, schema, rows, digest), the parameters of the unit
// that wrote it, the stages' engine versions, the binary's revision and
// the campaign file. It finds the datasets by their content keys, as the
// units do (stages.Resolver); a dataset that is not committed is an error.
// A manifest that would list exactly what the stored one lists is not
// rewritten, so a run that computed nothing changes nothing.
func (a *Activities) Manifest(ctx context.Context, in ManifestInput) (ManifestOutput, error) {
	if err := a.check(); err != nil {
		return ManifestOutput{}, err
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery) // a crashed worker is noticed in seconds, not at the timeout
	defer stopHB()
	plan, err := a.LoadPlan(ctx, in.Plan)
	if err != nil {
		return ManifestOutput{}, err
	}
	versions := a.versions()
	// The lookup keeps each dataset's provenance from its commit marker;
	// it checks the objects against one listing of the campaign's prefix
	// rather than one request per object.
	var provs sync.Map // content key → *store.Provenance
	var recs runRecords
	if err := recs.load(ctx, a, in.CampaignID, in.Run); err != nil {
		return ManifestOutput{}, err
	}
	pl := a.Store.NewPrefixLookup(in.CampaignID)
	lookup := func(ctx context.Context, ck string) (store.DatasetRef, bool, error) {
		if e, ok := recs.get(ck); ok {
			if e.Provenance != nil {
				provs.Store(ck, e.Provenance)
			}
			return e.Ref, true, nil
		}
		ref, prov, ok, err := pl.Lookup(ctx, ck)
		if ok && prov != nil {
			provs.Store(ck, prov)
		}
		return ref, ok, err
	}
	r := stages.NewResolver(plan, versions, lookup)
	units, err := r.ResolveAll(ctx, ResolveParallel)
	if err != nil {
		return ManifestOutput{}, err
	}
	ref := in.Plan
	m := Manifest{Campaign: in.CampaignID, Name: plan.Name, File: plan.File, EngineVersion: a.EngineVersion, Revision: buildinfo.Revision(),
		Written: time.Now().UTC(), Stages: in.Stages, Spec: plan.Spec, Datasets: []ManifestEntry{}, Plan: &ref,
		StageVersions: map[string]string{}}
	for _, s := range plan.Stages {
		m.StageVersions[string(s.Name)] = versions[s.Name]
	}
	for _, u := range units {
		if u.Stage == pipelines.StageReport {
			continue
		}
		if !u.Done() {
			missing := u.Pending
			if missing == "" {
				missing = u.ID
			}
			return ManifestOutput{}, permanent(fmt.Errorf("activities: manifest: the datasets of %s are not committed (%s) — run the campaign again", u.ID, missing))
		}
		raw, err := stages.ParamsJSON(u)
		if err != nil {
			return ManifestOutput{}, permanent(fmt.Errorf("activities: manifest: %s: %w", u.ID, err))
		}
		sha, err := store.ParamsSHA256(raw)
		if err != nil {
			return ManifestOutput{}, permanent(err)
		}
		for _, d := range datasetsOf(u) {
			e := ManifestEntry{Dataset: d, URI: "s3://" + a.Store.Bucket() + "/" + d.Ref.Key, ParamsSHA256: sha, Params: raw}
			if p, ok := provs.Load(d.ContentKey); ok {
				e.SetProvenance(p.(*store.Provenance))
			}
			m.Datasets = append(m.Datasets, e)
		}
	}
	key, err := store.ManifestKey(in.CampaignID)
	if err != nil {
		return ManifestOutput{}, permanent(err)
	}
	out := ManifestOutput{Key: key, URI: "s3://" + a.Store.Bucket() + "/" + key, Datasets: len(m.Datasets)}
	if prev, err := manifest.Read(ctx, a.Store, in.CampaignID); err == nil {
		same := m
		same.Written, same.Version = prev.Written, manifest.CurrentVersion
		x, errA := manifest.Encode(same)
		y, errB := manifest.Encode(*prev)
		if errA == nil && errB == nil && string(x) == string(y) {
			a.removeResolved(ctx, in.CampaignID)
			return out, nil // nothing changed: keep the manifest (and its time) as it is
		}
	}
	if _, err := manifest.Write(ctx, a.Store, m); err != nil {
		return ManifestOutput{}, fmt.Errorf("activities: %w", err)
	}
	a.removeResolved(ctx, in.CampaignID)
	return out, nil
}
