package activities

import (
	"context"
	"errors"
	"fmt"
	"math"

	"rulescape/core/plasticity"
	"rulescape/core/train"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// Train trains the network of one train unit and commits its
// learning_curves (one row per trial) and networks (one row) datasets under
// campaigns/<id>/train/<kind>/task=…/rule=…/seed=…/. When both are already
// committed under the unit's content keys it returns them with CacheHit.
//
// A network that diverges is a result, not an error: its curve holds the
// trials it finished and one more row, for the trial where it diverged,
// with error and reward NaN and condition −1; its networks row holds the
// weights at that point (trials = the trials it finished,
// trials_to_criterion = −1 unless it had met the criterion before).
func (a *Activities) Train(ctx context.Context, in TrainInput) (TrainOutput, error) {
	if err := a.check(); err != nil {
		return TrainOutput{}, err
	}
	u := &in.Unit
	out := TrainOutput{Unit: u.ID}
	var theta [][]float64
	var inputs []string
	if u.Metaopt != "" {
		if in.Metaopt == nil {
			return out, permanent(fmt.Errorf("activities: %s: %w %s", u.ID, errNoTheta, u.Metaopt))
		}
		theta = in.Metaopt.Theta
		inputs = []string{in.Metaopt.Dataset.Ref.SHA256}
	}
	kinds := trainKinds
	keys, err := in.keys, error(nil)
	if keys == nil {
		keys, err = a.trainKeys(u, inputs)
	}
	if err != nil {
		return out, permanent(fmt.Errorf("activities: %s: %w", u.ID, err))
	}
	if in.Force {
		a.log().Info("train: forced recomputation", "unit", u.ID)
	} else if refs, ok, err := a.lookupAll(ctx, keys); err != nil {
		return out, err
	} else if ok {
		out.CacheHit = true
		for i, k := range kinds {
			out.Datasets = append(out.Datasets, Dataset{Unit: u.ID, Stage: string(pipelines.StageTrain), Kind: string(k), ContentKey: keys[i], Ref: refs[i]})
		}
		return out, nil
	}

	setup, err := u.Setup(theta)
	if err != nil {
		return out, permanent(err)
	}
	if in.Metaopt != nil && in.Metaopt.Eta > 0 {
		setup.Learner.Eta = in.Metaopt.Eta
	}
	a.log().Info("train", "unit", u.ID, "trials", setup.Trials)
	setHB, stopHB := keepAlive(ctx, keepAliveEvery)
	res, err := train.Run(ctx, setup, u.Seed, func(_ uint64, done int) {
		if done%heartbeatEvery == 0 {
			setHB(done)
		}
	})
	stopHB()
	diverged := errors.Is(err, plasticity.ErrDiverged) && res != nil && res.Final != nil
	if err != nil && !diverged {
		return out, fmt.Errorf("activities: %s: %w", u.ID, err)
	}
	if diverged {
		// Divergence is a result, not a failure: the network is recorded
		// up to its last finished trial, plus a row with error NaN.
		a.log().Warn("train: network diverged", "unit", u.ID, "err", err)
	}

	paramsSHA, err := store.ParamsSHA256(u.Key())
	if err != nil {
		return out, permanent(err)
	}
	meta := schemas.Meta{Campaign: in.CampaignID, ParamsSHA256: paramsSHA, EngineVersion: in.version}
	seed := int64(u.Seed)
	if seed < 0 {
		return out, permanent(fmt.Errorf("activities: %s: seed %d does not fit the int64 seed column", u.ID, u.Seed))
	}
	curves := make([]schemas.LearningCurveRow, res.Trials)
	for h := range curves {
		curves[h] = schemas.LearningCurveRow{Campaign: in.CampaignID, Task: u.Task, Rule: u.Rule, Seed: seed,
			Trial: int64(h), Condition: int32(res.Conditions[h]), Error: res.Errors[h], Reward: -res.Errors[h], Correct: res.Correct[h]}
	}
	if diverged {
		curves = append(curves, schemas.LearningCurveRow{Campaign: in.CampaignID, Task: u.Task, Rule: u.Rule, Seed: seed,
			Trial: int64(res.Trials), Condition: -1, Error: math.NaN(), Reward: math.NaN()})
	}
	nets := []schemas.NetworkRow{networkRow(in.CampaignID, u, seed, res)}

	path := func(k schemas.Kind, ck string) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(pipelines.StageTrain), Dataset: string(k),
			Partitions: store.TaskRuleSeed(u.Task, u.Rule, seed), ContentKey: ck, Format: schemas.Parquet}
	}
	// learning_curves first, networks last: the networks marker is what
	// makes the unit count as done.
	lc, err := store.WriteRows(ctx, a.Store, path(schemas.LearningCurves, keys[0]), meta, curves)
	if err != nil {
		return out, err
	}
	nw, err := store.WriteRows(ctx, a.Store, path(schemas.Networks, keys[1]), meta, nets)
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

// trainKeys returns the content keys of a train unit's datasets; inputs
// holds the digest of its metaopt job's history when its rule is
// discovered.
func (a *Activities) trainKeys(u *pipelines.TrainUnit, inputs []string) ([]string, error) {
	keys := make([]string, len(trainKinds))
	for i, k := range trainKinds {
		ck, err := a.contentKey(u.Key(), k, inputs)
		if err != nil {
			return nil, err
		}
		keys[i] = ck
	}
	return keys, nil
}

// networkRow records the initial and final weights of a trained network.
func networkRow(campaign string, u *pipelines.TrainUnit, seed int64, res *train.Result) schemas.NetworkRow {
	ini, fin := res.Initial, res.Final
	clamp := make([]int32, len(fin.ClampIndex))
	for i, c := range fin.ClampIndex {
		clamp[i] = int32(c)
	}
	return schemas.NetworkRow{Campaign: campaign, Task: u.Task, Rule: u.Rule, Seed: seed,
		N: int32(fin.N), M: int32(fin.M), O: int32(fin.O),
		W0: clone(ini.W), WFinal: clone(fin.W), WIn: clone(fin.Win), WOut: clone(fin.Wout), B: clone(fin.B),
		ClampIndex: clamp, ClampValue: clone(fin.ClampValue),
		Trials: int64(res.Trials), TrialsToCriterion: int64(res.TrialsToCriterion)}
}

func clone(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return append([]float64(nil), v...)
}
