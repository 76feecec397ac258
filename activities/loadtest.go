package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// The activity names of the synthetic stages of `rulescape loadtest`
// (stages.StageLoadtest and stages.StageLoadtestAnalysis).
const (
	LoadtestName         = "Loadtest"
	LoadtestAnalysisName = "LoadtestAnalysis"
)

// computeLoadtest runs a unit of a synthetic stage: it checks that its
// inputs are committed (the analysis-like stage), sleeps for the unit's
// SleepMS (heartbeating, and returning early when ctx ends) and commits
// one tiny dataset — a one-row Parquet file of learning_curves schema,
// whose bytes depend only on the unit — through the store's commit path.
func (a *Activities) computeLoadtest(ctx context.Context, campaign string, r *stages.Resolver, u *stages.Unit, keys []string, docs []store.KeyDoc, version string) ([]Dataset, error) {
	au := r.AnalysisUnit(u.ID)
	if au == nil || len(keys) != 1 {
		return nil, permanent(fmt.Errorf("activities: %s: not a synthetic unit of the plan", u.ID))
	}
	var set stages.LoadtestSettings
	if err := json.Unmarshal(au.Settings, &set); err != nil {
		return nil, permanent(fmt.Errorf("activities: %s: settings: %w", u.ID, err))
	}
	if _, err := r.InputRefs(ctx, u); err != nil {
		return nil, err
	}
	if set.SleepMS > 0 {
		_, stop := keepAlive(ctx, keepAliveEvery)
		t := time.NewTimer(time.Duration(set.SleepMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			stop()
			return nil, ctx.Err()
		}
		stop()
	}
	paramsSHA, err := store.ParamsSHA256(au.Key())
	if err != nil {
		return nil, permanent(err)
	}
	p := store.DatasetPath{Campaign: campaign, Stage: string(u.Stage), Dataset: stages.LoadtestKind,
		Partitions: []store.Partition{{Name: "unit", Value: strconv.Itoa(set.Index)}},
		ContentKey: keys[0], Format: schemas.Parquet, KeyDoc: docAt(docs, 0)}
	row := schemas.LearningCurveRow{Campaign: campaign, Task: stages.LoadtestKind, Rule: string(u.Stage), Trial: int64(set.Index),
		Error: float64(set.SleepMS) / 1000}
	ref, err := store.WriteRows(ctx, a.Store, p, schemas.Meta{Campaign: campaign, ParamsSHA256: paramsSHA, EngineVersion: version},
		[]schemas.LearningCurveRow{row})
	if err != nil {
		return nil, err
	}
	return []Dataset{{Unit: u.ID, Stage: string(u.Stage), Kind: stages.LoadtestKind, ContentKey: keys[0], Ref: ref}}, nil
}
