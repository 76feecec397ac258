package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// ReportKind is the dataset kind of the report unit: its index.html,
// committed under the report's content key like a dataset.
const ReportKind = "report"

// Kinds returns the datasets a unit of stage writes, in the order their
// content keys are listed (the last is the one whose commit makes the unit
// count as done).
func Kinds(stage pipelines.StageName) []string {
	switch stage {
	case pipelines.StageMetaopt:
		return []string{string(schemas.MetaoptHistory)}
	case pipelines.StageTrain:
		return []string{string(schemas.LearningCurves), string(schemas.Networks)}
	case pipelines.StageFixedPoints:
		return []string{string(schemas.FixedPoints)}
	case pipelines.StageSensitivity:
		return []string{string(schemas.Sensitivity)}
	case pipelines.StageRSA:
		return []string{string(schemas.RDMs), string(schemas.RSAPairs)}
	case pipelines.StageLandscape:
		return []string{string(schemas.Landscape), string(schemas.LandscapePairs)}
	case pipelines.StageDSA:
		return []string{string(schemas.DSAOperators), string(schemas.DSAPairs)}
	case pipelines.StageAtlas:
		return []string{string(schemas.AtlasNetworks), string(schemas.AtlasFamilies), string(schemas.AtlasRules)}
	case pipelines.StageReport:
		return []string{ReportKind}
	case StageLoadtest, StageLoadtestAnalysis:
		return []string{LoadtestKind}
	}
	return nil
}

// Lookup finds the dataset committed under a content key (store.Store's
// Lookup); ok is false when there is none.
type Lookup func(ctx context.Context, contentKey string) (ref store.DatasetRef, ok bool, err error)

// Input names one input dataset of a unit: the unit that wrote it and its
// kind. A unit's key document lists the digests of its inputs in this
// order.
type Input struct {
	Unit string `json:"unit"`
	Kind string `json:"kind"`
}

// Dataset is one dataset of a resolved unit.
type Dataset struct {
	Kind string `json:"kind"`
	// Doc is the key document; its Inputs are empty while the unit is
	// Pending (the digests of its inputs are not known yet).
	Doc        store.KeyDoc `json:"key_doc"`
	ContentKey string       `json:"content_key"` // "" while Pending
	// Ref is the committed dataset, nil when none is committed under the
	// content key.
	Ref *store.DatasetRef `json:"ref,omitempty"`
}

// Unit is a unit of a plan with the content keys of its datasets.
type Unit struct {
	ID     string              `json:"id"`
	Stage  pipelines.StageName `json:"stage"`
	Params any                 `json:"-"` // the unit's parameters as they enter its keys
	Inputs []Input             `json:"inputs"`
	// Pending names an input unit whose datasets are not committed: the
	// unit's content keys cannot be known until it has run.
	Pending  string    `json:"pending,omitempty"`
	Datasets []Dataset `json:"datasets"`
}

// Done reports whether every dataset of the unit is committed.
func (u *Unit) Done() bool {
	if u.Pending != "" {
		return false
	}
	for _, d := range u.Datasets {
		if d.Ref == nil {
			return false
		}
	}
	return true
}

// Dataset returns the unit's dataset of a kind, or nil.
func (u *Unit) Dataset(kind string) *Dataset {
	for i := range u.Datasets {
		if u.Datasets[i].Kind == kind {
			return &u.Datasets[i]
		}
	}
	return nil
}

// Resolver computes the content keys of a plan's units — from each unit's
// resolved parameters, its stage's engine version and the digests of the
// datasets it reads — and finds the datasets committed under them. The
// activities use it to find a unit's inputs and its cache entry, the
// manifest to list every dataset, and `rulescape explain` to say what a
// run would compute and why. It memoizes units and is safe for concurrent
// use.
type Resolver struct {
	plan     *pipelines.Plan
	versions Versions
	lookup   Lookup

	mu       sync.Mutex
	units    map[string]*Unit
	train    map[string]*pipelines.TrainUnit
	metaopt  map[string]*pipelines.MetaoptJob
	analysis map[string]*pipelines.AnalysisUnit
}

// NewResolver returns a resolver of plan's units with the given stage
// versions, looking datasets up with lookup.
func NewResolver(plan *pipelines.Plan, versions Versions, lookup Lookup) *Resolver {
	r := &Resolver{plan: plan, versions: versions, lookup: lookup, units: map[string]*Unit{},
		train: map[string]*pipelines.TrainUnit{}, metaopt: map[string]*pipelines.MetaoptJob{}, analysis: map[string]*pipelines.AnalysisUnit{}}
	for i := range plan.Metaopt {
		r.metaopt[plan.Metaopt[i].ID] = &plan.Metaopt[i]
	}
	for i := range plan.Train {
		r.train[plan.Train[i].ID] = &plan.Train[i]
	}
	for i := range plan.Analysis {
		r.analysis[plan.Analysis[i].ID] = &plan.Analysis[i]
	}
	return r
}

// Plan returns the resolver's plan.
func (r *Resolver) Plan() *pipelines.Plan { return r.plan }

// Versions returns the resolver's stage versions.
func (r *Resolver) Versions() Versions { return r.versions }

// UnitVersion returns the engine version that enters the keys of the unit
// id of a stage: the stage's, followed by "+" TrainF32 for a train unit
// with precision f32.
func (r *Resolver) UnitVersion(id string, stage pipelines.StageName) (string, error) {
	v, err := r.versions.Of(stage)
	if err != nil {
		return "", err
	}
	if u := r.train[id]; u != nil && u.Params.Precision == "f32" {
		v += "+" + TrainF32
	}
	return v, nil
}

// TrainUnit returns the train unit of an ID, or nil.
func (r *Resolver) TrainUnit(id string) *pipelines.TrainUnit { return r.train[id] }

// MetaoptJob returns the metaopt job of an ID, or nil.
func (r *Resolver) MetaoptJob(id string) *pipelines.MetaoptJob { return r.metaopt[id] }

// AnalysisUnit returns the analysis (or report) unit of an ID, or nil.
func (r *Resolver) AnalysisUnit(id string) *pipelines.AnalysisUnit { return r.analysis[id] }

// UnitAt returns the ID of the index-th unit of a stage of the plan.
func (r *Resolver) UnitAt(stage pipelines.StageName, index int) (string, error) {
	s := r.plan.Stage(stage)
	if s == nil {
		return "", fmt.Errorf("stages: plan of %s has no stage %s", r.plan.CampaignID, stage)
	}
	if index < 0 || index >= len(s.Units) {
		return "", fmt.Errorf("stages: stage %s of %s has %d units, not unit %d", stage, r.plan.CampaignID, len(s.Units), index)
	}
	return s.Units[index], nil
}

// Forget drops the memoized resolution of a unit (after it was computed,
// or to look it up again).
func (r *Resolver) Forget(id string) {
	r.mu.Lock()
	delete(r.units, id)
	r.mu.Unlock()
}

// inputs returns the units a unit reads and the kinds of their datasets
// whose digests enter its keys, in order.
func (r *Resolver) inputs(id string) (pipelines.StageName, any, []Input, error) {
	if j := r.metaopt[id]; j != nil {
		return pipelines.StageMetaopt, j.Key(), nil, nil
	}
	if u := r.train[id]; u != nil {
		var in []Input
		if u.Metaopt != "" {
			in = []Input{{Unit: u.Metaopt, Kind: string(schemas.MetaoptHistory)}}
		}
		return pipelines.StageTrain, u.Key(), in, nil
	}
	a := r.analysis[id]
	if a == nil {
		return "", nil, nil, fmt.Errorf("stages: plan of %s has no unit %s", r.plan.CampaignID, id)
	}
	var in []Input
	switch a.Stage {
	case pipelines.StageReport:
		// Every dataset of every unit the report reads, in plan order;
		// the campaign ID is part of its key, as the report lives under
		// the campaign's prefix.
		for _, uid := range a.Inputs {
			st, _, _, err := r.inputs(uid)
			if err != nil {
				return "", nil, nil, err
			}
			for _, k := range Kinds(st) {
				in = append(in, Input{Unit: uid, Kind: k})
			}
		}
		return a.Stage, struct {
			Unit     any    `json:"unit"`
			Campaign string `json:"campaign"`
		}{a.Key(), r.plan.CampaignID}, in, nil
	case pipelines.StageLandscape:
		for _, uid := range a.Inputs {
			in = append(in, Input{Unit: uid, Kind: string(schemas.Networks)})
		}
		// Then the fixed points of the same networks, from the
		// fixedpoints units (fixedpoints/<task>/<rule>/seed=<s>).
		for _, uid := range a.Inputs {
			fp := string(pipelines.StageFixedPoints) + "/" + strings.TrimPrefix(uid, string(pipelines.StageTrain)+"/")
			if r.analysis[fp] == nil {
				return "", nil, nil, fmt.Errorf("stages: %s reads the fixed points of %s, but the plan has no unit %s — enable the fixedpoints stage", id, uid, fp)
			}
			in = append(in, Input{Unit: fp, Kind: string(schemas.FixedPoints)})
		}
		return a.Stage, a.Key(), in, nil
	case pipelines.StageAtlas:
		// The pair distances of the task's dsa and landscape units.
		for _, uid := range a.Inputs {
			var kind schemas.Kind
			switch up := r.analysis[uid]; {
			case up != nil && up.Stage == pipelines.StageDSA:
				kind = schemas.DSAPairs
			case up != nil && up.Stage == pipelines.StageLandscape:
				kind = schemas.LandscapePairs
			default:
				return "", nil, nil, fmt.Errorf("stages: %s reads %s, which is not a dsa or landscape unit of the plan", id, uid)
			}
			in = append(in, Input{Unit: uid, Kind: string(kind)})
		}
		return a.Stage, a.Key(), in, nil
	case StageLoadtestAnalysis:
		for _, uid := range a.Inputs {
			in = append(in, Input{Unit: uid, Kind: LoadtestKind})
		}
		return a.Stage, a.Key(), in, nil
	default:
		for _, uid := range a.Inputs {
			in = append(in, Input{Unit: uid, Kind: string(schemas.Networks)})
		}
		return a.Stage, a.Key(), in, nil
	}
}

// Resolve returns the unit id with its content keys and committed
// datasets, resolving (and looking up) the units it reads first.
func (r *Resolver) Resolve(ctx context.Context, id string) (*Unit, error) {
	r.mu.Lock()
	u, ok := r.units[id]
	r.mu.Unlock()
	if ok {
		return u, nil
	}
	stage, params, inputs, err := r.inputs(id)
	if err != nil {
		return nil, err
	}
	version, err := r.UnitVersion(id, stage)
	if err != nil {
		return nil, err
	}
	u = &Unit{ID: id, Stage: stage, Params: params, Inputs: inputs}
	digests := make([]string, 0, len(inputs))
	for _, in := range inputs {
		up, err := r.Resolve(ctx, in.Unit)
		if err != nil {
			return nil, err
		}
		d := up.Dataset(in.Kind)
		if up.Pending != "" || d == nil || d.Ref == nil {
			u.Pending = in.Unit
			break
		}
		digests = append(digests, d.Ref.SHA256)
	}
	for _, kind := range Kinds(stage) {
		p := struct {
			Dataset string `json:"dataset"`
			Unit    any    `json:"unit"`
		}{kind, params}
		var doc store.KeyDoc
		if u.Pending != "" {
			doc, err = store.NewKeyDoc(p, nil, version)
			doc.Inputs = nil
		} else {
			doc, err = store.NewKeyDoc(p, digests, version)
		}
		if err != nil {
			return nil, fmt.Errorf("stages: %s: %w", id, err)
		}
		d := Dataset{Kind: kind, Doc: doc}
		if u.Pending == "" {
			d.ContentKey = doc.ContentKey()
			ref, ok, err := r.lookup(ctx, d.ContentKey)
			if err != nil {
				return nil, fmt.Errorf("stages: looking up the %s dataset of %s: %w", kind, id, err)
			}
			if ok {
				d.Ref = &ref
			}
		}
		u.Datasets = append(u.Datasets, d)
	}
	r.mu.Lock()
	if prev, ok := r.units[id]; ok {
		u = prev // resolved concurrently: keep one
	} else {
		r.units[id] = u
	}
	r.mu.Unlock()
	return u, nil
}

// InputRefs returns the committed datasets a resolved unit reads, in the
// order of its Inputs, or an error naming the first input that is not
// committed.
func (r *Resolver) InputRefs(ctx context.Context, u *Unit) ([]store.DatasetRef, error) {
	refs := make([]store.DatasetRef, len(u.Inputs))
	for i, in := range u.Inputs {
		up, err := r.Resolve(ctx, in.Unit)
		if err != nil {
			return nil, err
		}
		d := up.Dataset(in.Kind)
		if d == nil || d.Ref == nil {
			return nil, fmt.Errorf("stages: %s reads the %s dataset of %s, which is not committed: run its stage first", u.ID, in.Kind, in.Unit)
		}
		refs[i] = *d.Ref
	}
	return refs, nil
}

// ResolveAll resolves every unit of the plan, in stage order, looking up
// the units of one stage concurrently (at most workers at once; 0 = 8).
func (r *Resolver) ResolveAll(ctx context.Context, workers int) ([]*Unit, error) {
	if workers <= 0 {
		workers = 8
	}
	var out []*Unit
	for _, s := range r.plan.Stages {
		units := make([]*Unit, len(s.Units))
		errs := make([]error, len(s.Units))
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i, id := range s.Units {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				units[i], errs[i] = r.Resolve(ctx, id)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		out = append(out, units...)
	}
	return out, nil
}

// ParamsJSON returns a unit's parameters as canonical JSON (sorted keys),
// as they enter its keys.
func ParamsJSON(u *Unit) (json.RawMessage, error) {
	if len(u.Datasets) == 0 {
		return json.Marshal(u.Params)
	}
	var p struct {
		Unit json.RawMessage `json:"unit"`
	}
	if err := json.Unmarshal(u.Datasets[0].Doc.Params, &p); err != nil {
		return nil, err
	}
	return p.Unit, nil
}
