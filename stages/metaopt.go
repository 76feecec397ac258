package stages

import (
	"context"
	"errors"
	"fmt"
	"math"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// MetaoptProgress is what a metaopt job needs to continue bit-exactly
// after an interruption: the search scale (which auto-scaling computes
// before the first iteration), the optimizer state, and the records of the
// iterations so far (for the history rows).
type MetaoptProgress struct {
	Scale   []float64
	State   metaopt.State
	Records []metaopt.Record
}

// MetaoptResult is the outcome of a metaopt job.
type MetaoptResult struct {
	Theta    [][]float64 // final Θ, (K+1)×(L+1)
	Eta      float64     // meta-learned learning rate η; 0 unless the job's log_eta is set
	Iters    int
	HeldOutJ *float64 // held-out J of the final Θ, if evaluated
	// History is the metaopt_history dataset: one row per iteration, Θ and
	// the gradient in rule coordinates (unscaled).
	History []schemas.MetaoptRow
}

// Metaopt runs metaopt job j to its last iteration and returns its result,
// the rows labelled with campaign. workers bounds the learners an
// iteration runs in parallel (0 = all cores); the results do not depend
// on it.
//
// When resume is not nil the job continues from it (a progress passed to
// an earlier call's checkpoint); otherwise it starts from the job's rule,
// after auto-scaling unless the job's scale is "none". checkpoint, if not
// nil, is called after every iteration with the progress so far and the
// iteration's record, and once more with a nil record after the held-out
// evaluation; an error it returns stops the job. Errors of the job's
// settings (or of a resume that does not fit them), and too many diverged
// learners, are Invalid.
func Metaopt(ctx context.Context, campaign string, j *pipelines.MetaoptJob, workers int, resume *MetaoptProgress,
	checkpoint func(p MetaoptProgress, rec *metaopt.Record) error) (MetaoptResult, error) {
	obj, settings, err := j.Problem(workers)
	if err != nil {
		return MetaoptResult{}, invalid(err)
	}
	var opt *metaopt.Optimizer
	var p MetaoptProgress
	if resume != nil {
		obj.Scale = resume.Scale
		st := resume.State
		st.Settings.Workers = workers
		if opt, err = metaopt.Restore(obj, st); err != nil {
			return MetaoptResult{}, invalid(fmt.Errorf("resuming: %w", err))
		}
		p = MetaoptProgress{Scale: resume.Scale, Records: resume.Records}
	} else {
		if j.Settings.Scale != "none" {
			if err := obj.AutoScaleFor(ctx, settings); err != nil {
				return MetaoptResult{}, invalid(fmt.Errorf("auto scale: %w (set scale: none)", err))
			}
		}
		if opt, err = metaopt.New(obj, obj.Params(obj.Setup.Rule), settings); err != nil {
			return MetaoptResult{}, invalid(err)
		}
		p = MetaoptProgress{Scale: obj.Scale}
	}
	save := func(rec *metaopt.Record) error {
		if checkpoint == nil {
			return nil
		}
		p.State = opt.State()
		return checkpoint(p, rec)
	}
	for opt.State().Iter < settings.Iters {
		rec, err := opt.Step(ctx)
		if errors.Is(err, metaopt.ErrTooManyDiverged) {
			return MetaoptResult{}, invalid(fmt.Errorf("%w — lower lr or eta, or set clip_norm", err))
		}
		if err != nil {
			return MetaoptResult{}, err
		}
		p.Records = append(p.Records, rec)
		if err := save(&rec); err != nil {
			return MetaoptResult{}, err
		}
	}
	var out MetaoptResult
	if settings.HeldOut > 0 {
		h, err := opt.EvaluateHeldOut(ctx)
		if err != nil {
			return MetaoptResult{}, fmt.Errorf("held-out evaluation: %w", err)
		}
		out.HeldOutJ = &h.J
		if err := save(nil); err != nil {
			return MetaoptResult{}, err
		}
	}
	rule, eta, err := obj.Rule(opt.Params())
	if err != nil {
		return MetaoptResult{}, invalid(err)
	}
	out.Theta, out.Iters = rule.Matrix(), opt.State().Iter
	if obj.LogEta {
		out.Eta = eta
	}
	if out.History, err = historyRows(campaign, j, obj, opt.State().Settings, p.Records); err != nil {
		return MetaoptResult{}, invalid(err)
	}
	return out, nil
}

// historyRows converts the iteration records to metaopt_history rows, Θ and
// the gradient in rule coordinates (unscaled).
func historyRows(campaign string, j *pipelines.MetaoptJob, obj *meta.Learners, s metaopt.Settings, recs []metaopt.Record) ([]schemas.MetaoptRow, error) {
	est := obj.Estimator
	dirs := int32(est.Directions)
	if est.Kind == metaopt.EstimatorExact {
		dirs = int32(obj.Setup.Rule.P())
	}
	seed := int64(j.Settings.Seed)
	if seed < 0 {
		return nil, fmt.Errorf("%s: seed %d does not fit the int64 seed column", j.ID, j.Settings.Seed)
	}
	rows := make([]schemas.MetaoptRow, len(recs))
	for i, r := range recs {
		rule, eta, err := obj.Rule(r.Params)
		if err != nil {
			return nil, err
		}
		p := rule.P()
		grad := make([]float64, p)
		for k := 0; k < p && k < len(r.Grad); k++ {
			grad[k] = r.Grad[k]
			if obj.Scale != nil {
				grad[k] /= obj.Scale[k] // ∂J/∂θ = (∂J/∂θ̃)/scale for θ = scale·θ̃
			}
		}
		logEta, held := math.NaN(), math.NaN()
		if obj.LogEta {
			logEta = math.Log(eta)
		}
		if r.HeldOut != nil {
			held = r.HeldOut.J
		}
		rows[i] = schemas.MetaoptRow{Campaign: campaign, Task: j.Task, Estimator: est.String(), Directions: dirs,
			Seed: seed, Iter: int64(r.Iter), Theta: rule.Theta, LogEta: logEta, J: r.J, Grad: grad,
			GradNorm: r.GradNorm, HeldoutJ: held, LR: s.LR, WallSeconds: r.WallSeconds}
	}
	return rows, nil
}
