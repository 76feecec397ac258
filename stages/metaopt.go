package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/internal/atomicfile"
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
	// the gradient in rule coordinates (unscaled), then the final row
	// (finalRow: the final Θ and its held-out J).
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
//
// Metaopt is StartMetaopt and then Run.
func Metaopt(ctx context.Context, campaign string, j *pipelines.MetaoptJob, workers int, resume *MetaoptProgress,
	checkpoint func(p MetaoptProgress, rec *metaopt.Record) error) (MetaoptResult, error) {
	run, err := StartMetaopt(ctx, j, workers, resume)
	if err != nil {
		return MetaoptResult{}, err
	}
	return run.Run(ctx, campaign, checkpoint)
}

// MetaoptRun is a metaopt job ready to run (StartMetaopt): its objective,
// with the search scale, and its optimizer, at the start or at the state
// it resumes from. `rulescape metaopt` and the campaign activity run a job
// through it, so that both run one loop.
type MetaoptRun struct {
	Job *pipelines.MetaoptJob
	Obj *meta.Learners
	Opt *metaopt.Optimizer
	p   MetaoptProgress
}

// StartMetaopt prepares job j as Metaopt describes: it restores resume
// (whose Settings.Iters is raised to the job's, so that a larger iters
// extends a run) or auto-scales and starts from the job's rule.
func StartMetaopt(ctx context.Context, j *pipelines.MetaoptJob, workers int, resume *MetaoptProgress) (*MetaoptRun, error) {
	obj, settings, err := j.Problem(workers)
	if err != nil {
		return nil, invalid(err)
	}
	r := &MetaoptRun{Job: j, Obj: obj}
	if resume != nil {
		obj.Scale = resume.Scale
		st := resume.State
		st.Settings.Workers = workers
		st.Settings.Iters = max(st.Settings.Iters, settings.Iters)
		if r.Opt, err = metaopt.Restore(obj, st); err != nil {
			return nil, invalid(fmt.Errorf("resuming: %w", err))
		}
		r.p = MetaoptProgress{Scale: resume.Scale, Records: resume.Records}
		return r, nil
	}
	if j.Settings.Scale != "none" {
		if err := obj.AutoScaleFor(ctx, settings); err != nil {
			return nil, invalid(fmt.Errorf("auto scale: %w (set scale: none)", err))
		}
	}
	if r.Opt, err = metaopt.New(obj, obj.Params(obj.Setup.Rule), settings); err != nil {
		return nil, invalid(err)
	}
	r.p = MetaoptProgress{Scale: obj.Scale}
	return r, nil
}

// Run runs the job to its last iteration (see Metaopt).
func (r *MetaoptRun) Run(ctx context.Context, campaign string, checkpoint func(p MetaoptProgress, rec *metaopt.Record) error) (MetaoptResult, error) {
	opt := r.Opt
	save := func(rec *metaopt.Record) error {
		if checkpoint == nil {
			return nil
		}
		r.p.State = opt.State()
		return checkpoint(r.p, rec)
	}
	for opt.State().Iter < opt.State().Settings.Iters {
		rec, err := opt.Step(ctx)
		if errors.Is(err, metaopt.ErrTooManyDiverged) {
			return MetaoptResult{}, invalid(fmt.Errorf("%w — lower lr or eta, or set clip_norm", err))
		}
		if err != nil {
			return MetaoptResult{}, err
		}
		r.p.Records = append(r.p.Records, rec)
		if err := save(&rec); err != nil {
			return MetaoptResult{}, err
		}
	}
	if opt.State().Settings.HeldOut > 0 {
		if _, err := opt.EvaluateHeldOut(ctx); err != nil {
			return MetaoptResult{}, fmt.Errorf("held-out evaluation: %w", err)
		}
		if err := save(nil); err != nil {
			return MetaoptResult{}, err
		}
	}
	return r.Result(campaign)
}

// Ask returns the run's next learner-runs without changing it: those of
// the next iteration, or, once every iteration is done, those of the
// held-out evaluation of the final Θ (when the job has held-out seeds and
// it is not done yet). ok is false when nothing is left: Result then.
// Run is Ask, metaopt.Evaluate and Tell until ok is false, then Result;
// the campaign's MetaoptJob workflow runs the three in separate
// activities, on any workers, with the progress checkpointed between
// them.
func (r *MetaoptRun) Ask() (b metaopt.Batch, ok bool, err error) {
	st := r.Opt.State()
	switch {
	case st.Iter < st.Settings.Iters:
		b, err = r.Opt.Ask()
	case r.Opt.HeldOutDue():
		b, err = r.Opt.AskHeldOut()
	default:
		return metaopt.Batch{}, false, nil
	}
	if err != nil {
		return metaopt.Batch{}, false, invalid(err)
	}
	return b, true, nil
}

// Tell applies the outcomes of the batch Ask returned and keeps the
// iteration's record, with wall as its wall time (which enters no
// dataset). For the final held-out evaluation it returns the record
// metaopt.Optimizer.Tell returns but keeps none. Too many diverged
// learners are Invalid, as in Run.
func (r *MetaoptRun) Tell(b metaopt.Batch, res []metaopt.Outcome, wall float64) (metaopt.Record, error) {
	rec, err := r.Opt.Tell(b, res)
	if errors.Is(err, metaopt.ErrTooManyDiverged) {
		return metaopt.Record{}, invalid(fmt.Errorf("%w — lower lr or eta, or set clip_norm", err))
	}
	if err != nil {
		return metaopt.Record{}, err
	}
	rec.WallSeconds = wall
	if !b.HeldOutOnly {
		r.p.Records = append(r.p.Records, rec)
	}
	return rec, nil
}

// Progress returns what a checkpoint of the run holds now.
func (r *MetaoptRun) Progress() MetaoptProgress {
	p := r.p
	p.State = r.Opt.State()
	return p
}

// Result is the outcome of a run whose iterations (and final held-out
// evaluation) are done: Θ in rule coordinates and the history rows,
// labelled with campaign.
func (r *MetaoptRun) Result(campaign string) (MetaoptResult, error) {
	obj, opt := r.Obj, r.Opt
	var out MetaoptResult
	if h := opt.Result().HeldOut; h != nil {
		out.HeldOutJ = &h.J
	}
	rule, eta, err := obj.Rule(opt.Params())
	if err != nil {
		return MetaoptResult{}, invalid(err)
	}
	out.Theta, out.Iters = rule.Matrix(), opt.State().Iter
	if obj.LogEta {
		out.Eta = eta
	}
	if out.History, err = historyRows(campaign, r.Job, obj, opt.State().Settings, r.p.Records); err != nil {
		return MetaoptResult{}, invalid(err)
	}
	final, err := finalRow(campaign, r.Job, obj, opt.Params(), out.Iters, out.HeldOutJ)
	if err != nil {
		return MetaoptResult{}, invalid(err)
	}
	out.History = append(out.History, final)
	return out, nil
}

// MetaoptObjective returns job j's objective with the search scale of a
// run (MetaoptProgress.Scale), running up to workers learners at once
// (0 = all cores): what evaluates a part of a batch that a run elsewhere
// asked (metaopt.Evaluate).
func MetaoptObjective(j *pipelines.MetaoptJob, workers int, scale []float64) (*meta.Learners, error) {
	obj, _, err := j.Problem(workers)
	if err != nil {
		return nil, invalid(err)
	}
	if len(scale) != 0 && len(scale) != obj.Dim() {
		return nil, invalid(fmt.Errorf("%s: search scale of %d entries for %d parameters", j.ID, len(scale), obj.Dim()))
	}
	obj.Scale = scale
	return obj, nil
}

// MetaoptIteration is an iteration's record with Θ in rule coordinates:
// one line of `rulescape metaopt -o json`.
type MetaoptIteration struct {
	Iter       int                  `json:"iter"`
	J          float64              `json:"j"`
	JSE        float64              `json:"j_se"`
	GradNorm   float64              `json:"grad_norm"`
	Theta      [][]float64          `json:"theta"`
	Eta        float64              `json:"eta"`
	HeldOutJ   *float64             `json:"held_out_j"`
	HeldOutSE  *float64             `json:"held_out_j_se"`
	Diverged   []metaopt.Divergence `json:"diverged"`
	Cost       float64              `json:"cost"`
	BudgetCost float64              `json:"budget_cost"`
	Wall       float64              `json:"wall_seconds"`
}

// Iteration is rec (a record of this run) in rule coordinates.
func (r *MetaoptRun) Iteration(rec metaopt.Record) MetaoptIteration {
	rule, eta, _ := r.Obj.Rule(rec.Params)
	out := MetaoptIteration{Iter: rec.Iter, J: rec.J, JSE: rec.JSE, GradNorm: rec.GradNorm, Theta: rule.Matrix(), Eta: eta,
		Diverged: rec.Diverged, Cost: rec.Cost, BudgetCost: rec.Budget.Cost + rec.Budget.HeldOutCost, Wall: rec.WallSeconds}
	if out.Diverged == nil {
		out.Diverged = []metaopt.Divergence{}
	}
	if rec.HeldOut != nil {
		out.HeldOutJ, out.HeldOutSE = &rec.HeldOut.J, &rec.HeldOut.JSE
	}
	return out
}

// MetaoptFinal is the outcome of a run in rule coordinates: the last line
// of `rulescape metaopt -o json` (Final is true).
type MetaoptFinal struct {
	Final     bool           `json:"final"`
	Iters     int            `json:"iters"`
	Theta     [][]float64    `json:"theta"`
	Eta       float64        `json:"eta"`
	HeldOutJ  *float64       `json:"held_out_j"`
	HeldOutSE *float64       `json:"held_out_j_se"`
	BestIter  *int           `json:"best_iter"`
	BestJ     *float64       `json:"best_j"`
	BestTheta [][]float64    `json:"best_theta"`
	Budget    metaopt.Budget `json:"budget"`
}

// Final is the run's outcome so far.
func (r *MetaoptRun) Final() MetaoptFinal {
	res := r.Opt.Result()
	rule, eta, _ := r.Obj.Rule(res.Params)
	out := MetaoptFinal{Final: true, Iters: res.Iter, Theta: rule.Matrix(), Eta: eta, Budget: res.Budget}
	if res.HeldOut != nil {
		out.HeldOutJ, out.HeldOutSE = &res.HeldOut.J, &res.HeldOut.JSE
	}
	if res.Best != nil {
		br, _, _ := r.Obj.Rule(res.Best.Params)
		out.BestIter, out.BestJ, out.BestTheta = &res.Best.Iter, &res.Best.J, br.Matrix()
	}
	return out
}

// historyRows converts the iteration records to metaopt_history rows, Θ and
// the gradient in rule coordinates (unscaled).
func historyRows(campaign string, j *pipelines.MetaoptJob, obj *meta.Learners, s metaopt.Settings, recs []metaopt.Record) ([]schemas.MetaoptRow, error) {
	est := obj.Estimator
	dirs := int32(est.Directions)
	if est.Kind == metaopt.EstimatorExact || est.Kind == metaopt.EstimatorAdjoint {
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
			GradNorm: r.GradNorm, HeldoutJ: held, LR: s.LR}
	}
	return rows, nil
}

// finalRow is the last metaopt_history row of a job: its final Θ (params
// in the optimizer's coordinates) after iters iterations, the rule the
// campaign trains with, and its held-out J when evaluated. Nothing was
// estimated at the final Θ, so J, the gradient, its norm and the step size
// are absent (NaN and nil: null in the file).
func finalRow(campaign string, j *pipelines.MetaoptJob, obj *meta.Learners, params []float64, iters int, heldOut *float64) (schemas.MetaoptRow, error) {
	rows, err := historyRows(campaign, j, obj, metaopt.Settings{}, []metaopt.Record{{Iter: iters, Params: params}})
	if err != nil {
		return schemas.MetaoptRow{}, err
	}
	r := rows[0]
	r.J, r.Grad, r.GradNorm, r.LR = math.NaN(), nil, math.NaN(), math.NaN()
	if heldOut != nil {
		r.HeldoutJ = *heldOut
	}
	return r, nil
}

// MetaoptFile is the checkpoint file of a metaopt run outside a campaign
// (`rulescape metaopt --checkpoint`): a core/metaopt.Checkpoint, the format
// campaign checkpoints use, of the problem Key, written atomically after
// every iteration by Save (a checkpoint function for Run; without a Path
// it writes nothing).
type MetaoptFile struct {
	Path string
	Key  string          // the problem's content key
	Spec json.RawMessage // the problem, for people (optional)
}

// Load returns the progress the file holds, or nil when it does not exist.
// A file of another problem is an error wrapping metaopt.ErrOtherProblem.
func (f *MetaoptFile) Load() (*MetaoptProgress, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp, err := metaopt.UnmarshalCheckpoint(data, f.Key)
	if err != nil {
		return nil, err
	}
	return &MetaoptProgress{Scale: cp.Scale, State: cp.State, Records: cp.Records}, nil
}

// Save writes p to the file (temporary file, then rename). The records are
// kept when they cover every iteration (not after resuming from a file
// without them).
func (f *MetaoptFile) Save(p MetaoptProgress, _ *metaopt.Record) error {
	if f.Path == "" {
		return nil
	}
	cp := metaopt.Checkpoint{ContentKey: f.Key, Spec: f.Spec, Scale: p.Scale, State: p.State, Records: p.Records}
	if len(cp.Records) != cp.State.Iter {
		cp.Records = nil
	}
	data, err := cp.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(f.Path, append(data, '\n'))
}

// MetaoptFileError is an error of a checkpoint file OpenMetaoptFile could
// not resume from.
type MetaoptFileError struct {
	Path string
	Err  error
}

func (e *MetaoptFileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *MetaoptFileError) Unwrap() error { return e.Err }

// OpenMetaoptFile starts job j (StartMetaopt) with the checkpoint file at
// path ("" for none): when the file holds a progress of the same problem
// the run resumes from it. The problem's key is metaopt.SpecKey of the
// JSON of spec(scale), a description of the problem given the search
// scale of a fresh start. A file it cannot resume from is a
// *MetaoptFileError, wrapping metaopt.ErrOtherProblem for another
// problem's.
func OpenMetaoptFile(ctx context.Context, j *pipelines.MetaoptJob, workers int, path string, spec func(scale []float64) any) (*MetaoptRun, *MetaoptFile, error) {
	run, err := StartMetaopt(ctx, j, workers, nil)
	if err != nil {
		return nil, nil, err
	}
	f := &MetaoptFile{Path: path}
	if f.Spec, err = json.Marshal(spec(run.Obj.Scale)); err != nil {
		return nil, nil, err
	}
	if f.Key, err = metaopt.SpecKey(f.Spec); err != nil {
		return nil, nil, err
	}
	if path == "" {
		return run, f, nil
	}
	p, err := f.Load()
	if err != nil || p == nil {
		return run, f, wrapFileError(path, err)
	}
	p.Scale = run.Obj.Scale // the key covers it; files of earlier versions have none
	run, err = StartMetaopt(ctx, j, workers, p)
	return run, f, wrapFileError(path, err)
}

func wrapFileError(path string, err error) error {
	if err == nil {
		return nil
	}
	return &MetaoptFileError{Path: path, Err: err}
}
