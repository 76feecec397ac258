package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

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
	DSAName         = "DSA"
	AtlasName       = "Atlas"
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
	// Pairs are the dsa_pairs and landscape_pairs datasets an atlas unit
	// reads (the outputs of its task's dsa and landscape units), in the
	// order of Unit.Inputs; empty for the other stages.
	Pairs []Dataset `json:"pairs,omitempty"`
	// Force recomputes the unit even when its datasets are committed, and
	// overwrites them (a forced rerun).
	Force bool `json:"force,omitempty"`

	keys    []string       // content keys from the plan's resolver (Unit)
	docs    []store.KeyDoc // their key documents, recorded in the commit markers
	version string         // the stage's engine version
}

// AnalysisOutput is what an analysis compute method returns: refs only.
type AnalysisOutput struct {
	Unit     string    `json:"unit"`
	Datasets []Dataset `json:"datasets"`
}

// analysisKeys returns the content keys of the unit's datasets of the
// given kinds, as Unit resolved them from the plan.
func (a *Activities) analysisKeys(in *AnalysisInput, kinds []schemas.Kind) ([]string, error) {
	if len(in.keys) != len(kinds) {
		return nil, fmt.Errorf("%d content keys given, want %d (run units through Unit)", len(in.keys), len(kinds))
	}
	return in.keys, nil
}

// loadReads bounds the datasets a per-task unit reads at once: each read
// is a round trip to the store, which dominates a unit over many small
// networks when done one after the other.
const loadReads = 8

// loadAll runs load(i) for i in [0, n), at most loadReads at once, and
// returns the error of the lowest i that failed.
func loadAll(ctx context.Context, n int, load func(ctx context.Context, i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, loadReads)
	var wg sync.WaitGroup
	for i := range n {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = load(ctx, i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// loadNetworks reads the final networks of every input, in order, at most
// loadReads at once.
func (a *Activities) loadNetworks(ctx context.Context, in *AnalysisInput) ([]*stages.Network, error) {
	nets := make([]*stages.Network, len(in.Networks))
	err := loadAll(ctx, len(nets), func(ctx context.Context, i int) error {
		var err error
		nets[i], err = a.loadNetwork(ctx, &in.Networks[i])
		return err
	})
	return nets, err
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
		Partitions: store.TaskRuleSeed(t.Unit.Task, t.Unit.Rule, t.Seed), ContentKey: key, Format: schemas.Parquet, KeyDoc: docAt(in.docs, 0)}
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
			Partitions: []store.Partition{{Name: "task", Value: in.Unit.Task}}, ContentKey: keys[i], Format: schemas.Parquet, KeyDoc: docAt(in.docs, i)}
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
