package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// computeTrain trains the network of one train unit and commits its
// learning_curves (one row per trial) and networks (one row) datasets under
// campaigns/<id>/train/<kind>/task=…/rule=…/seed=…/. Unit has decided the
// unit is to be computed.
//
// The rows are stages.Train's: a network that diverges is a result, not
// an error (its curve ends with a row of error NaN for the trial where it
// diverged).
func (a *Activities) computeTrain(ctx context.Context, in TrainInput) (TrainOutput, error) {
	if err := a.check(); err != nil {
		return TrainOutput{}, err
	}
	u := &in.Unit
	out := TrainOutput{Unit: u.ID}
	var theta [][]float64
	if u.Metaopt != "" {
		if in.Metaopt == nil {
			return out, permanent(fmt.Errorf("activities: %s: %w %s", u.ID, errNoTheta, u.Metaopt))
		}
		theta = in.Metaopt.Theta
	}
	kinds := trainKinds
	keys := in.keys
	if len(keys) != len(kinds) {
		return out, permanent(fmt.Errorf("activities: %s: %d content keys given, want %d (run units through Unit)", u.ID, len(keys), len(kinds)))
	}
	var eta float64
	if in.Metaopt != nil {
		eta = in.Metaopt.Eta
	}
	a.log().Info("train", "unit", u.ID)
	setHB, stopHB := keepAlive(ctx, keepAliveEvery)
	rows, err := stages.Train(ctx, in.CampaignID, u, theta, eta, func(done int) {
		if done%heartbeatEvery == 0 {
			setHB(done)
		}
	})
	stopHB()
	if err != nil {
		return out, stageError(u.ID, err)
	}
	if rows.Diverged != nil {
		// Divergence is a result, not a failure: the network is recorded
		// up to its last finished trial, plus a row with error NaN.
		a.log().Warn("train: network diverged", "unit", u.ID, "err", rows.Diverged)
	}
	paramsSHA, err := store.ParamsSHA256(u.Key())
	if err != nil {
		return out, permanent(err)
	}
	meta := schemas.Meta{Campaign: in.CampaignID, ParamsSHA256: paramsSHA, EngineVersion: in.version}
	seed := int64(u.Seed)
	curves, nets := rows.Curve, []schemas.NetworkRow{rows.Network}

	path := func(i int) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(pipelines.StageTrain), Dataset: string(kinds[i]),
			Partitions: store.TaskRuleSeed(u.Task, u.Rule, seed), ContentKey: keys[i], Format: schemas.Parquet, KeyDoc: docAt(in.docs, i)}
	}
	// learning_curves first, networks last: the networks marker is what
	// makes the unit count as done.
	lc, err := store.WriteRows(ctx, a.Store, path(0), meta, curves)
	if err != nil {
		return out, err
	}
	nw, err := store.WriteRows(ctx, a.Store, path(1), meta, nets)
	if err != nil {
		return out, err
	}
	out.Datasets = []Dataset{
		{Unit: u.ID, Stage: string(pipelines.StageTrain), Kind: string(schemas.LearningCurves), ContentKey: keys[0], Ref: lc},
		{Unit: u.ID, Stage: string(pipelines.StageTrain), Kind: string(schemas.Networks), ContentKey: keys[1], Ref: nw},
	}
	return out, nil
}

// trainKinds are the datasets a train unit writes, in the order of
// trainKeys.
var trainKinds = []schemas.Kind{schemas.LearningCurves, schemas.Networks}
