package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
)

// analysisActivities are the analysis stages this version runs, with the
// activity of each. The report runs after the manifest (report.go).
var analysisActivities = map[pipelines.StageName]string{
	pipelines.StageFixedPoints: activities.FixedPointsName,
	pipelines.StageRSA:         activities.RSAName,
	pipelines.StageLandscape:   activities.LandscapeName,
	pipelines.StageSensitivity: activities.SensitivityName,
}

// analysisOptions are the options of the analysis activities.
var analysisOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 12 * time.Hour,
	HeartbeatTimeout:    DefaultHeartbeatTimeout,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: time.Minute, MaximumAttempts: 3, NonRetryableErrorTypes: []string{"BadUnit", "Config"}},
}

// runAnalysis runs the implemented analysis stages one after the other, in
// plan order (fixedpoints before landscape), each fanned out like train (at
// most MaxParallel units in flight). Each unit gets refs to the networks
// datasets of its train units (and the Θ of their metaopt jobs), never
// weights; a landscape unit also gets the fixed_points datasets the
// fixedpoints units returned for the same networks.
func (c *campaign) runAnalysis(ctx workflow.Context, results map[string]activities.MetaoptResult) error {
	train := map[string]*pipelines.TrainUnit{}
	for i := range c.plan.Train {
		train[c.plan.Train[i].ID] = &c.plan.Train[i]
	}
	fixed := map[string]activities.Dataset{} // train unit ID → fixed_points dataset
	actx := workflow.WithActivityOptions(ctx, c.options(analysisOptions))
	for _, s := range c.plan.Stages {
		name, ok := analysisActivities[s.Name]
		if !ok {
			continue
		}
		// Version 1 of campaign-landscape: the landscape stage runs.
		// Only campaigns with a landscape stage ask, so the histories of
		// the others are unchanged; those recorded before it replay with
		// DefaultVersion and leave the stage skipped.
		if s.Name == pipelines.StageLandscape && workflow.GetVersion(ctx, "campaign-landscape", workflow.DefaultVersion, 1) < 1 {
			continue
		}
		var units []*pipelines.AnalysisUnit
		for i := range c.plan.Analysis {
			if c.plan.Analysis[i].Stage == s.Name {
				units = append(units, &c.plan.Analysis[i])
			}
		}
		inputs := make([]activities.AnalysisInput, len(units))
		for i, u := range units {
			in := activities.AnalysisInput{CampaignID: c.in.CampaignID, Unit: *u, Force: c.force[s.Name]}
			for _, id := range u.Inputs {
				tu, nw := train[id], c.networks[id]
				if tu == nil || nw.Ref.SHA256 == "" {
					return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
						"%s failed: its input %s has no committed networks dataset", u.ID, id), "UnitFailed", nil)
				}
				n := activities.AnalysisNetwork{Unit: *tu, Networks: nw}
				if tu.Metaopt != "" {
					n.Theta = results[tu.Metaopt].Theta
				}
				in.Networks = append(in.Networks, n)
				if s.Name == pipelines.StageLandscape {
					fp, ok := fixed[id]
					if !ok || fp.Ref.SHA256 == "" {
						return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
							"%s failed: its input %s has no committed fixed_points dataset — enable the fixedpoints stage", u.ID, id), "UnitFailed", nil)
					}
					in.FixedPoints = append(in.FixedPoints, fp)
				}
			}
			inputs[i] = in
		}
		err := c.fanOut(ctx, s.Name, len(units), func(i int) workflow.Future {
			return workflow.ExecuteActivity(actx, name, inputs[i])
		}, func(i int, f workflow.Future) (bool, error) {
			var r activities.AnalysisOutput
			if err := f.Get(ctx, &r); err != nil {
				return false, unitError(units[i].ID, err)
			}
			if s.Name == pipelines.StageFixedPoints && len(units[i].Inputs) == 1 && len(r.Datasets) > 0 {
				fixed[units[i].Inputs[0]] = r.Datasets[0]
			}
			return r.CacheHit, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Implemented reports whether this version of the campaign workflow
// computes the units of a stage (the others are recorded as
// SkippedNotImplemented).
func Implemented(s pipelines.StageName) bool {
	if s == pipelines.StageMetaopt || s == pipelines.StageTrain || s == pipelines.StageReport {
		return true
	}
	_, ok := analysisActivities[s]
	return ok
}
