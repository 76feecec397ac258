package stages

import (
	"context"
	"errors"
	"fmt"
	"math"

	"rulescape/core/plasticity"
	"rulescape/core/train"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// TrainRows are the rows of one train unit.
type TrainRows struct {
	// Curve is the learning_curves dataset: one row per trial.
	Curve []schemas.LearningCurveRow
	// Network is the networks dataset's one row.
	Network schemas.NetworkRow
	// Diverged is the divergence error (it wraps plasticity.ErrDiverged)
	// when the network diverged, nil otherwise; the rows record it.
	Diverged error
}

// Train trains the network of train unit u and returns its rows, labelled
// with campaign. theta is the Θ of the unit's metaopt job when u.Metaopt
// is set (nil otherwise); eta > 0 replaces the learning rate (a
// meta-learned η). progress, if not nil, is called after every trial with
// the trials done. Errors of the unit's settings are Invalid.
//
// A network that diverges is a result, not an error: its curve holds the
// trials it finished and one more row, for the trial where it diverged,
// with error and reward NaN and condition −1; its networks row holds the
// weights at that point (trials = the trials it finished,
// trials_to_criterion = −1 unless it had met the criterion before), and
// Diverged is set.
func Train(ctx context.Context, campaign string, u *pipelines.TrainUnit, theta [][]float64, eta float64, progress func(done int)) (TrainRows, error) {
	if u.Metaopt != "" && theta == nil {
		return TrainRows{}, invalid(fmt.Errorf("%s: a unit trained with a discovered rule needs the Θ of %s", u.ID, u.Metaopt))
	}
	seed := int64(u.Seed)
	if seed < 0 {
		return TrainRows{}, invalid(fmt.Errorf("%s: seed %d does not fit the int64 seed column", u.ID, u.Seed))
	}
	setup, err := u.Setup(theta)
	if err != nil {
		return TrainRows{}, invalid(err)
	}
	// The worker's guard: a unit too big for this worker fails, for good,
	// before it allocates (rather than the worker running out of memory on
	// every retry).
	lim, err := pipelines.LimitsFromEnv()
	if err == nil {
		err = u.CheckMemory(setup, lim)
	}
	if err != nil {
		return TrainRows{}, invalid(err)
	}
	if eta > 0 {
		setup.Learner.Eta = eta
	}
	var each func(uint64, int)
	if progress != nil {
		each = func(_ uint64, done int) { progress(done) }
	}
	res, err := train.Run(ctx, setup, u.Seed, each)
	var out TrainRows
	if errors.Is(err, plasticity.ErrDiverged) && res != nil && res.Final != nil {
		out.Diverged = err
	} else if err != nil {
		return TrainRows{}, err
	}
	out.Curve = make([]schemas.LearningCurveRow, res.Trials, res.Trials+1)
	for h := range out.Curve {
		out.Curve[h] = schemas.LearningCurveRow{Campaign: campaign, Task: u.Task, Rule: u.Rule, Seed: seed,
			Trial: int64(h), Condition: int32(res.Conditions[h]), Error: res.Errors[h], Reward: -res.Errors[h], Correct: res.Correct[h]}
	}
	if out.Diverged != nil {
		out.Curve = append(out.Curve, schemas.LearningCurveRow{Campaign: campaign, Task: u.Task, Rule: u.Rule, Seed: seed,
			Trial: int64(res.Trials), Condition: -1, Error: math.NaN(), Reward: math.NaN()})
	}
	out.Network = networkRow(campaign, u, seed, res)
	return out, nil
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
