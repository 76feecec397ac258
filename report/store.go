package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"rulescape/internal/atomicfile"
	"rulescape/manifest"
	"rulescape/schemas"
	"rulescape/store"
)

// Load reads the manifest of campaign id and every dataset it lists, and
// the stage timings of the last report written (StagesFile), if any. A
// dataset of a kind the report does not draw is only cited. Every dataset
// read is checked against the size and SHA-256 the manifest records; when
// any is missing or differs, Load builds nothing and returns a
// *manifest.BadObjectsError naming every such dataset and the command that
// repairs them.
func Load(ctx context.Context, st *store.Store, id string) (*Data, error) {
	m, err := manifest.Read(ctx, st, id)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return LoadManifest(ctx, st, m)
}

// LoadManifest is Load for a manifest already read (manifest.Read).
func LoadManifest(ctx context.Context, st *store.Store, m *manifest.Manifest) (*Data, error) {
	d := &Data{Manifest: *m}
	id := m.Campaign
	if skey, err := store.ReportKey(id, StagesFile); err == nil {
		data, err := st.Get(ctx, skey)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &d.Stages); err != nil {
				return nil, fmt.Errorf("report: s3://%s/%s is not valid JSON: %w", st.Bucket(), skey, err)
			}
		case !store.IsNotFound(err):
			return nil, err
		}
	}

	// Each dataset is read into its own slot and the slots are joined in
	// manifest order, so the rows' order (and every sum over them) does
	// not depend on which read finished first.
	slots := make([]Data, len(d.Manifest.Datasets))
	errs := make([]error, len(d.Manifest.Datasets))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, e := range d.Manifest.Datasets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = loadEntry(ctx, st, e, &slots[i])
		}()
	}
	wg.Wait()
	if err := badOrJoined(m, errs); err != nil {
		return nil, err
	}
	for _, s := range slots {
		d.LearningCurves = append(d.LearningCurves, s.LearningCurves...)
		d.Networks = append(d.Networks, s.Networks...)
		d.Metaopt = append(d.Metaopt, s.Metaopt...)
		d.Trajectories = append(d.Trajectories, s.Trajectories...)
		d.FixedPoints = append(d.FixedPoints, s.FixedPoints...)
		d.RDMs = append(d.RDMs, s.RDMs...)
		d.RSAPairs = append(d.RSAPairs, s.RSAPairs...)
		d.Sensitivity = append(d.Sensitivity, s.Sensitivity...)
		d.Landscape = append(d.Landscape, s.Landscape...)
		d.LandscapePairs = append(d.LandscapePairs, s.LandscapePairs...)
		d.DSAOperators = append(d.DSAOperators, s.DSAOperators...)
		d.DSAPairs = append(d.DSAPairs, s.DSAPairs...)
		d.AtlasNetworks = append(d.AtlasNetworks, s.AtlasNetworks...)
		d.AtlasFamilies = append(d.AtlasFamilies, s.AtlasFamilies...)
		d.AtlasRules = append(d.AtlasRules, s.AtlasRules...)
	}
	return d, nil
}

// loadEntry reads the dataset of e into the matching field of slot.
func loadEntry(ctx context.Context, st *store.Store, e manifest.Entry, slot *Data) error {
	var err error
	switch schemas.Kind(e.Kind) {
	case schemas.LearningCurves:
		slot.LearningCurves, err = read[schemas.LearningCurveRow](ctx, st, e)
	case schemas.Trajectories:
		slot.Trajectories, err = read[schemas.TrajectoryRow](ctx, st, e)
	case schemas.FixedPoints:
		slot.FixedPoints, err = read[schemas.FixedPointRow](ctx, st, e)
	case schemas.RDMs:
		slot.RDMs, err = read[schemas.RDMRow](ctx, st, e)
	case schemas.RSAPairs:
		slot.RSAPairs, err = read[schemas.RSAPairRow](ctx, st, e)
	case schemas.Sensitivity:
		slot.Sensitivity, err = read[schemas.SensitivityRow](ctx, st, e)
	case schemas.Landscape:
		slot.Landscape, err = read[schemas.LandscapeRow](ctx, st, e)
	case schemas.LandscapePairs:
		slot.LandscapePairs, err = read[schemas.LandscapePairRow](ctx, st, e)
	case schemas.DSAOperators:
		slot.DSAOperators, err = read[schemas.DSAOperatorRow](ctx, st, e)
	case schemas.DSAPairs:
		slot.DSAPairs, err = read[schemas.DSAPairRow](ctx, st, e)
	case schemas.AtlasNetworks:
		slot.AtlasNetworks, err = read[schemas.AtlasNetworkRow](ctx, st, e)
	case schemas.AtlasFamilies:
		slot.AtlasFamilies, err = read[schemas.AtlasFamilyRow](ctx, st, e)
	case schemas.AtlasRules:
		slot.AtlasRules, err = read[schemas.AtlasRuleRow](ctx, st, e)
	case schemas.Networks:
		rows, rerr := read[schemas.NetworkRow](ctx, st, e)
		for _, r := range rows {
			slot.Networks = append(slot.Networks, Network{Task: r.Task, Rule: r.Rule, Seed: r.Seed, N: int(r.N),
				Trials: r.Trials, TrialsToCriterion: r.TrialsToCriterion})
		}
		err = rerr
	case schemas.MetaoptHistory:
		run := MetaoptRun{Unit: e.Unit, Rule: strings.TrimPrefix(e.Unit, "metaopt/")}
		var p struct {
			Params struct {
				K int `json:"k"`
				L int `json:"l"`
			} `json:"params"`
		}
		if err := json.Unmarshal(e.Params, &p); err != nil {
			return fmt.Errorf("report: the parameters of %s in the manifest: %w", e.Unit, err)
		}
		run.K, run.L = p.Params.K, p.Params.L
		if run.Rows, err = read[schemas.MetaoptRow](ctx, st, e); err == nil {
			slot.Metaopt = []MetaoptRun{run}
		}
	}
	return err
}

// read reads the rows of the dataset of e, checking its bytes against the
// manifest's size and digest first; a dataset that is missing or differs
// is a *badDataset.
func read[R schemas.Row[R]](ctx context.Context, st *store.Store, e manifest.Entry) ([]R, error) {
	// A dataset recomputed under another campaign's prefix since the
	// manifest was written (`rulescape verify --repair` of a campaign
	// that shares it) is read where its commit marker says.
	if ref, ok, err := st.Marker(ctx, e.ContentKey); err == nil && ok && ref.Key != e.Ref.Key {
		e.Ref = ref
	}
	_, f, err := st.CheckObject(ctx, e.Ref)
	if err != nil {
		return nil, fmt.Errorf("report: the %s dataset of %s: %w", e.Kind, e.Unit, err)
	}
	if f != nil {
		return nil, &badDataset{manifest.Bad{Unit: e.Unit, Kind: e.Kind, ContentKey: e.ContentKey, Fault: *f}}
	}
	rows, _, err := store.ReadRows[R](ctx, st, e.Ref)
	if err != nil {
		return nil, fmt.Errorf("report: the %s dataset of %s: %w", e.Kind, e.Unit, err)
	}
	return rows, nil
}

// badDataset is read's error for a dataset that failed verification.
type badDataset struct{ bad manifest.Bad }

func (e *badDataset) Error() string { return "report: " + e.bad.Line() }

// badOrJoined returns the errors of loading m's datasets as one: a
// *manifest.BadObjectsError naming every bad dataset when those are the
// only failures (the report is not built from part of its data: a figure
// missing some seeds would look complete), else the other errors joined.
func badOrJoined(m *manifest.Manifest, errs []error) error {
	var bad []manifest.Bad
	var other []error
	for _, err := range errs {
		var b *badDataset
		switch {
		case errors.As(err, &b):
			bad = append(bad, b.bad)
		case err != nil:
			other = append(other, err)
		}
	}
	if len(other) > 0 {
		return errors.Join(other...)
	}
	if len(bad) > 0 {
		return &manifest.BadObjectsError{Campaign: m.Campaign, Bad: bad, Of: len(m.Datasets)}
	}
	return nil
}

// Write puts the report's files under campaigns/<id>/report/, index.html
// last: index.html is the commit point, written only once every file it
// references is in place. It returns the key of index.html.
func Write(ctx context.Context, st *store.Store, id string, files []File) (string, error) {
	if err := checkOrder(files); err != nil {
		return "", err
	}
	var index string
	for _, f := range files {
		key, err := store.ReportKey(id, f.Name)
		if err != nil {
			return "", err
		}
		if err := st.Put(ctx, key, f.Data, f.ContentType); err != nil {
			return "", fmt.Errorf("report: writing %s: %w", key, err)
		}
		index = key
	}
	return index, nil
}

// WriteDir writes the report's files under dir (created if missing), each
// through a temporary file and a rename, index.html last. It returns the
// path of index.html.
func WriteDir(dir string, files []File) (string, error) {
	if err := checkOrder(files); err != nil {
		return "", err
	}
	var index string
	for _, f := range files {
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := atomicfile.WriteBytes(name, f.Data); err != nil {
			return "", fmt.Errorf("report: %w", err)
		}
		index = name
	}
	return index, nil
}

// checkOrder insists that index.html comes last.
func checkOrder(files []File) error {
	if len(files) == 0 || files[len(files)-1].Name != Index {
		return fmt.Errorf("report: the files must end with %s (the commit point); use Build's Files", Index)
	}
	return nil
}
