package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// computeAtlas groups the networks of one task into solution families
// from the pair distances of its dsa and landscape units
// (AnalysisInput.Pairs: dsa_pairs for the dsa and spectral distances,
// landscape_pairs for topology, as the stage's weights ask) and commits
// three datasets under campaigns/<id>/atlas/<kind>/task=…/: atlas_networks
// (one row per network: its family, whether it is the family's medoid, its
// silhouette width), atlas_families (one row per family: size, stability,
// prototype, within-family distance and the task's association summary)
// and atlas_rules (the rule × family counts). Unit has decided they are to
// be computed; stages.Atlas computes the rows.
func (a *Activities) computeAtlas(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if in.Unit.Stage != pipelines.StageAtlas {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: unit %s is of stage %s, not atlas", in.Unit.ID, in.Unit.Stage))
	}
	kinds := []schemas.Kind{schemas.AtlasNetworks, schemas.AtlasFamilies, schemas.AtlasRules}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	var st pipelines.AtlasStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	// Heartbeats cover the reads and writes too: a task of many networks
	// spends most of its time on them.
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	var dsaPairs []schemas.DSAPairRow
	var landPairs []schemas.LandscapePairRow
	for _, d := range in.Pairs {
		switch d.Kind {
		case string(schemas.DSAPairs):
			rows, _, err := store.ReadRows[schemas.DSAPairRow](ctx, a.Store, d.Ref)
			if err != nil {
				return AnalysisOutput{}, fmt.Errorf("activities: %s: reading the dsa_pairs of %s: %w", in.Unit.ID, d.Unit, err)
			}
			dsaPairs = append(dsaPairs, rows...)
		case string(schemas.LandscapePairs):
			rows, _, err := store.ReadRows[schemas.LandscapePairRow](ctx, a.Store, d.Ref)
			if err != nil {
				return AnalysisOutput{}, fmt.Errorf("activities: %s: reading the landscape_pairs of %s: %w", in.Unit.ID, d.Unit, err)
			}
			landPairs = append(landPairs, rows...)
		default:
			return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: input %s is a %s dataset, want dsa_pairs or landscape_pairs", in.Unit.ID, d.Unit, d.Kind))
		}
	}
	rows, err := stages.Atlas(ctx, in.CampaignID, in.Unit.Task, stages.AtlasMeasures(st, dsaPairs, landPairs), st)
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}
	meta, err := a.analysisMeta(&in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	path := func(i int) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(in.Unit.Stage), Dataset: string(kinds[i]),
			Partitions: []store.Partition{{Name: "task", Value: in.Unit.Task}}, ContentKey: keys[i], Format: schemas.Parquet, KeyDoc: docAt(in.docs, i)}
	}
	refs := make([]store.DatasetRef, len(kinds))
	if refs[0], err = store.WriteRows(ctx, a.Store, path(0), meta, rows.Networks); err != nil {
		return AnalysisOutput{}, err
	}
	if refs[1], err = store.WriteRows(ctx, a.Store, path(1), meta, rows.Families); err != nil {
		return AnalysisOutput{}, err
	}
	// atlas_rules last: its commit makes the unit count as done.
	if refs[2], err = store.WriteRows(ctx, a.Store, path(2), meta, rows.Rules); err != nil {
		return AnalysisOutput{}, err
	}
	out := AnalysisOutput{Unit: in.Unit.ID}
	for i, k := range kinds {
		out.Datasets = append(out.Datasets, Dataset{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(k), ContentKey: keys[i], Ref: refs[i]})
	}
	return out, nil
}
