package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// The activity names of the analysis stages.
const (
	FixedPointsName = "FixedPoints"
	SensitivityName = "Sensitivity"
	RSAName         = "RSA"
	LandscapeName   = "Landscape"
)

// AnalysisNetwork is one trained network an analysis unit reads: its train
// unit (for the task and dynamics), the Θ of its metaopt job when the unit
// trained a discovered rule, and the ref of its committed networks dataset.
type AnalysisNetwork struct {
	Unit     pipelines.TrainUnit `json:"unit"`
	Theta    [][]float64         `json:"theta,omitempty"` // the job's Θ when Unit.Metaopt is set
	Networks Dataset             `json:"networks"`        // the train unit's networks dataset
}

// AnalysisInput is one unit of an analysis stage: refs to the networks it
// reads, never their weights.
type AnalysisInput struct {
	CampaignID string                 `json:"campaign_id"`
	Unit       pipelines.AnalysisUnit `json:"unit"`
	// Networks are the unit's input networks, in the order of Unit.Inputs.
	Networks []AnalysisNetwork `json:"networks"`
	// FixedPoints are the fixed_points datasets of the input networks (the
	// outputs of their fixedpoints units), in the order of Unit.Inputs: set
	// for landscape units, empty for the others. Their digests enter the
	// unit's content keys.
	FixedPoints []Dataset `json:"fixed_points,omitempty"`
	// Force recomputes the unit even when its datasets are committed, and
	// overwrites them (a forced rerun).
	Force bool `json:"force,omitempty"`

	keys    []string // content keys from the plan's resolver (Unit)
	version string   // the stage's engine version
}

// AnalysisOutput is what an analysis activity returns: refs only.
type AnalysisOutput struct {
	Unit     string    `json:"unit"`
	Datasets []Dataset `json:"datasets"`
	CacheHit bool      `json:"cache_hit"`
}

// methodVersion is the version of an analysis stage's method. It enters
// the stage's content keys, so that when a stage's results change for the
// same settings and inputs (a new statistic, a fixed bug) its cached
// datasets are recomputed, while train and metaopt results, which did not
// change, stay cached (the engine version would invalidate everything).
// Raise a stage's number with such a change.
func methodVersion(stage pipelines.StageName) int {
	switch stage {
	case pipelines.StageRSA:
		return 2 // 2: the seed-stratified permutation test and same-seed summaries
	default:
		return 1
	}
}

// analysisKeys returns the content keys of the unit's datasets of the given
// kinds: the unit's key (stage and settings) with the digests of its input
// networks datasets, then those of its fixed_points datasets (landscape).
// The networks rows name their campaign, task, rule and seed, so the
// digests pin those labels too.
func (a *Activities) analysisKeys(in *AnalysisInput, kinds []schemas.Kind) ([]string, error) {
	if in.keys != nil {
		return in.keys, nil
	}
	if len(in.Networks) != len(in.Unit.Inputs) {
		return nil, fmt.Errorf("%d networks given for %d inputs: pass the networks dataset of every input unit", len(in.Networks), len(in.Unit.Inputs))
	}
	inputs := make([]string, len(in.Networks))
	for i, n := range in.Networks {
		if n.Unit.ID != in.Unit.Inputs[i] {
			return nil, fmt.Errorf("network %d is of unit %s, want input %s", i, n.Unit.ID, in.Unit.Inputs[i])
		}
		if n.Networks.Ref.SHA256 == "" {
			return nil, fmt.Errorf("input %s has no networks dataset digest: run its train unit first", n.Unit.ID)
		}
		inputs[i] = n.Networks.Ref.SHA256
	}
	if len(in.FixedPoints) > 0 {
		if len(in.FixedPoints) != len(in.Networks) {
			return nil, fmt.Errorf("%d fixed_points datasets given for %d networks: pass the one of every input's fixedpoints unit", len(in.FixedPoints), len(in.Networks))
		}
		for i, d := range in.FixedPoints {
			if d.Ref.SHA256 == "" {
				return nil, fmt.Errorf("input %s has no fixed_points dataset digest: run its fixedpoints unit first", in.Unit.Inputs[i])
			}
			inputs = append(inputs, d.Ref.SHA256)
		}
	}
	unitKey := struct {
		Unit   any `json:"unit"`
		Method int `json:"method"`
	}{in.Unit.Key(), methodVersion(in.Unit.Stage)}
	keys := make([]string, len(kinds))
	for i, k := range kinds {
		ck, err := a.contentKey(unitKey, k, inputs)
		if err != nil {
			return nil, err
		}
		keys[i] = ck
	}
	return keys, nil
}

// cached returns the output of a unit whose datasets are all committed, or
// ok = false (always with Force).
func (a *Activities) cached(ctx context.Context, in *AnalysisInput, kinds []schemas.Kind, keys []string) (AnalysisOutput, bool, error) {
	out := AnalysisOutput{Unit: in.Unit.ID}
	if in.Force {
		a.log().Info("analysis: forced recomputation", "unit", in.Unit.ID)
		return out, false, nil
	}
	refs, ok, err := a.lookupAll(ctx, keys)
	if err != nil || !ok {
		return out, false, err
	}
	out.CacheHit = true
	for i, k := range kinds {
		out.Datasets = append(out.Datasets, Dataset{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(k), ContentKey: keys[i], Ref: refs[i]})
	}
	return out, true, nil
}

// loadNetwork reads the final network of one input.
func (a *Activities) loadNetwork(ctx context.Context, n *AnalysisNetwork) (*stages.Network, error) {
	u := &n.Unit
	rows, _, err := store.ReadRows[schemas.NetworkRow](ctx, a.Store, n.Networks.Ref)
	if err != nil {
		return nil, fmt.Errorf("activities: reading the network of %s: %w", u.ID, err)
	}
	if len(rows) != 1 {
		return nil, permanent(fmt.Errorf("activities: networks dataset of %s has %d rows, want 1", u.ID, len(rows)))
	}
	t, err := stages.LoadNetwork(u, n.Theta, rows[0], stages.Final)
	if err != nil {
		return nil, permanent(fmt.Errorf("activities: %w", err))
	}
	return t, nil
}

// decodeSettings decodes the unit's stage settings into v.
func decodeSettings(u *pipelines.AnalysisUnit, v any) error {
	if err := json.Unmarshal(u.Settings, v); err != nil {
		return permanent(fmt.Errorf("activities: %s: settings: %w", u.ID, err))
	}
	return nil
}

// analysisMeta is the metadata of an analysis unit's datasets.
func (a *Activities) analysisMeta(in *AnalysisInput) (schemas.Meta, error) {
	sha, err := store.ParamsSHA256(in.Unit.Key())
	if err != nil {
		return schemas.Meta{}, permanent(err)
	}
	return schemas.Meta{Campaign: in.CampaignID, ParamsSHA256: sha, EngineVersion: in.version}, nil
}

// perNetwork checks that a per-network unit has exactly one input.
func perNetwork(in *AnalysisInput, stage pipelines.StageName) error {
	if in.Unit.Stage != stage {
		return permanent(fmt.Errorf("activities: unit %s is of stage %s, not %s", in.Unit.ID, in.Unit.Stage, stage))
	}
	if len(in.Networks) != 1 {
		return permanent(fmt.Errorf("activities: %s: %d networks given, want the one of its train unit", in.Unit.ID, len(in.Networks)))
	}
	return nil
}

// networkPath is the path of a per-network analysis dataset.
func networkPath(in *AnalysisInput, t *stages.Network, kind schemas.Kind, key string) store.DatasetPath {
	return store.DatasetPath{Campaign: in.CampaignID, Stage: string(in.Unit.Stage), Dataset: string(kind),
		Partitions: store.TaskRuleSeed(t.Unit.Task, t.Unit.Rule, t.Seed), ContentKey: key, Format: schemas.Parquet}
}

// analysisKinds are the datasets each implemented analysis stage writes.
var analysisKinds = map[pipelines.StageName][]schemas.Kind{
	pipelines.StageFixedPoints: {schemas.FixedPoints},
	pipelines.StageSensitivity: {schemas.Sensitivity},
	pipelines.StageRSA:         {schemas.RDMs, schemas.RSAPairs},
	pipelines.StageLandscape:   {schemas.Landscape, schemas.LandscapePairs},
}

// analysisEntries returns the manifest entries of the analysis units of
// the stages whose status is "completed"; networks maps each train unit ID
// to its networks dataset.
func (a *Activities) analysisEntries(ctx context.Context, plan *pipelines.Plan, stages map[string]string, networks map[string]Dataset) ([]ManifestEntry, error) {
	var out []ManifestEntry
	fixed := map[string]Dataset{} // train unit ID → its fixed_points dataset
	for i := range plan.Analysis {
		u := &plan.Analysis[i]
		kinds, ok := analysisKinds[u.Stage]
		if !ok || stages[string(u.Stage)] != "completed" {
			continue
		}
		in := AnalysisInput{Unit: *u}
		for _, id := range u.Inputs {
			in.Networks = append(in.Networks, AnalysisNetwork{Unit: pipelines.TrainUnit{ID: id}, Networks: networks[id]})
			if u.Stage == pipelines.StageLandscape {
				// fixedpoints precedes landscape in plan order, and
				// landscape completed only after it.
				in.FixedPoints = append(in.FixedPoints, fixed[id])
			}
		}
		keys, err := a.analysisKeys(&in, kinds)
		if err != nil {
			return nil, permanent(fmt.Errorf("activities: manifest: %s: %w", u.ID, err))
		}
		es, err := a.entries(ctx, u.ID, u.Stage, u.Key(), kinds, keys)
		if err != nil {
			return nil, err
		}
		if u.Stage == pipelines.StageFixedPoints && len(u.Inputs) == 1 {
			fixed[u.Inputs[0]] = es[0].Dataset
		}
		out = append(out, es...)
	}
	return out, nil
}

// writeTaskPair commits a per-task unit's two datasets (partition task=…),
// first then second, and returns them as the unit's output: the second is
// written last, and a cache hit needs both committed.
func writeTaskPair[A schemas.Row[A], B schemas.Row[B]](ctx context.Context, a *Activities, in *AnalysisInput, keys []string, first []A, second []B) (AnalysisOutput, error) {
	meta, err := a.analysisMeta(in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	var ka A
	var kb B
	kinds := []schemas.Kind{ka.Kind(), kb.Kind()}
	path := func(i int) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(in.Unit.Stage), Dataset: string(kinds[i]),
			Partitions: []store.Partition{{Name: "task", Value: in.Unit.Task}}, ContentKey: keys[i], Format: schemas.Parquet}
	}
	r1, err := store.WriteRows(ctx, a.Store, path(0), meta, first)
	if err != nil {
		return AnalysisOutput{}, err
	}
	r2, err := store.WriteRows(ctx, a.Store, path(1), meta, second)
	if err != nil {
		return AnalysisOutput{}, err
	}
	return AnalysisOutput{Unit: in.Unit.ID, Datasets: []Dataset{
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(kinds[0]), ContentKey: keys[0], Ref: r1},
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(kinds[1]), ContentKey: keys[1], Ref: r2},
	}}, nil
}
