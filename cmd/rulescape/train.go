package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rulescape/core/plasticity"
	"rulescape/core/train"
	"rulescape/internal/progress"
	"rulescape/pipelines"
)

func init() { register(newTrainCmd) }

var trainLong = help("train.long")

var trainExample = help("train.example")

// trainFlags holds the parsed flags of `rulescape train`.
type trainFlags struct {
	setupFlags
	run runParams
}

// newTrainCmd builds `rulescape train`.
func newTrainCmd(a *app) *cobra.Command {
	cmd, _ := newTrainCommand(a)
	return cmd
}

// newTrainCommand builds `rulescape train` and returns its flags too.
func newTrainCommand(a *app) (*cobra.Command, *trainFlags) {
	tf := &trainFlags{run: runParams{Seeds: "1"}}
	cmd := &cobra.Command{
		Use:     "train",
		Short:   "Train RNNs with a plasticity rule on a task, one learner per seed",
		Long:    trainLong,
		Example: trainExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, b, seeds, err := tf.build(cmd.Flags())
			if err != nil {
				return err
			}
			showBar, err := wantProgress(tf.progressMode, a.stderr)
			if err != nil {
				return err
			}
			return a.train(cmd.Context(), r, b, seeds, tf.run.Workers, showBar)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if strings.Contains(err.Error(), " — ") {
			return err
		}
		return fmt.Errorf("%w — see `rulescape train --help` for the flags and their values", err)
	})
	f := cmd.Flags()
	tf.addFlags(f, true)
	f.StringVar(&tf.run.Seeds, "seeds", tf.run.Seeds, `seeds, e.g. "1-8", "1,3,5" or "1-4,10"`)
	f.IntVar(&tf.run.Workers, "workers", 0, "seeds trained in parallel (0 = all cores)")
	f.SortFlags = false
	return cmd, tf
}

// build resolves and validates the setup and the seeds.
func (tf *trainFlags) build(fs *pflag.FlagSet) (*pipelines.ResolvedSetup, *pipelines.Built, []uint64, error) {
	r, err := tf.resolve(fs, &tf.run)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := r.Build()
	if err != nil {
		return nil, nil, nil, err
	}
	if tf.run.Workers < 0 {
		return nil, nil, nil, fmt.Errorf("%s = %d is negative — use 0 for all cores or a positive number", r.Ref("workers"), tf.run.Workers)
	}
	seeds, err := pipelines.ParseSeeds(tf.run.Seeds)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s = %q: %w", r.Ref("seeds"), tf.run.Seeds, err)
	}
	if err := checkTrainLimits(r, b, len(seeds), tf.run.Workers); err != nil {
		return nil, nil, nil, err
	}
	return r, b, seeds, nil
}

// checkTrainLimits checks the setup's sizes against the limits of this
// machine, and the memory of the seeds trained at once (workers, at most
// seeds) against its memory budget, before anything is allocated.
func checkTrainLimits(r *pipelines.ResolvedSetup, b *pipelines.Built, seeds, workers int) error {
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	if err := lim.CheckParams(&r.Params, r); err != nil {
		return err
	}
	if err := lim.Exceeds("parallel", "workers", r.Ref("workers"), int64(workers)); err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	at := min(workers, seeds)
	e := pipelines.TrainBytes(pipelines.ShapeOf(b.Setup), r.Trials).Times(at)
	fix := map[string]string{"n": "lower --n", "trials": "lower --trials", "task_params": "shorten the trials (--task-params steps) or lower --n"}[e.Key]
	if at > 1 {
		fix += " or --workers"
	}
	return lim.CheckMemory(fmt.Sprintf("training %d seed(s) at once", at), e, fix)
}

// train runs every seed and writes the report as seeds finish, in seed order.
func (a *app) train(ctx context.Context, r *pipelines.ResolvedSetup, b *pipelines.Built, seeds []uint64, workers int, showBar bool) error {
	s := b.Setup
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(seeds))
	a.log.Info("train", "task", s.Task.Name(), "rule", b.RuleName, "seeds", len(seeds),
		"trials", s.Trials, "workers", workers, "preset", r.Preset, "config", r.File)

	out := a.printer()
	out.Text(func(w io.Writer) { writeHeader(w, r, b, len(seeds), workers) })
	onTrial := train.Progress(nil)
	if showBar {
		out.Bar = progress.New(a.stderr, s.Trials*len(seeds), progress.Config{
			Label: s.Task.Name() + "/" + b.RuleName, Unit: "trials"})
		onTrial = func(uint64, int) { out.Bar.Add(1) }
	}
	var t train.Tally
	err := train.RunSeeds(ctx, s, seeds, workers, onTrial, func(seed uint64, res *train.Result, err error) {
		t.Add(ctx, seed, res, err)
		out.Print(train.Summarize(s.Task.Name(), b.RuleName, seed, res, err), func(w io.Writer) { writeSeedRow(w, seed, res, err) })
	})
	if out.Bar != nil {
		out.Bar.Finish()
	}
	if len(t.Failed)+len(t.Stopped) == 0 && err != nil { // the setup itself
		return err
	}
	out.Text(func(w io.Writer) {
		c := s.Criterion
		if len(t.Reached) == 0 {
			fmt.Fprintf(w, "\n0 of %d seeds reached the criterion (error < %g in ≥ %g%% of %d trials)\n",
				t.Seeds, c.Threshold, 100*c.Fraction, c.Window)
			return
		}
		fmt.Fprintf(w, "\n%d of %d seeds reached the criterion; median %s trials to criterion (over those %d)\n",
			len(t.Reached), t.Seeds, strconv.FormatFloat(t.MedianToCriterion(), 'f', -1, 64), len(t.Reached))
	})
	switch {
	case out.Err() != nil:
		return fmt.Errorf("writing the report: %w — check that stdout is writable", out.Err())
	case len(t.Stopped) > 0:
		return fmt.Errorf("interrupted: %d of %d seeds did not finish (%s) — run them again with --seeds %s",
			len(t.Stopped), len(seeds), seedList(t.Stopped), seedList(t.Stopped))
	case len(t.Failed) > 0:
		fix := "see the seed lines above"
		if errors.Is(t.FirstErr, plasticity.ErrDiverged) {
			fix = "lower --eta, set --clip, or check the rule"
		}
		return fmt.Errorf("%d of %d seeds failed (%s); first: %v — %s",
			len(t.Failed), len(seeds), seedList(t.Failed), t.FirstErr, fix)
	}
	return nil
}

// writeHeader prints the setup the seeds are trained with.
func writeHeader(w io.Writer, r *pipelines.ResolvedSetup, b *pipelines.Built, seeds, workers int) {
	s := b.Setup
	spec := s.Task.Spec()
	source := "preset " + r.Preset
	if r.File != "" {
		source += ", config " + r.File
	}
	fmt.Fprintf(w, "train %s (T=%d steps, %d conditions) with rule %s, %d seed(s) × %d trials, %d worker(s)\n",
		s.Task.Name(), spec.Steps, len(spec.Conditions), b.RuleName, seeds, s.Trials, workers)
	fmt.Fprintf(w, "  from       %s\n  %s\n\n", source, strings.Join(s.Describe(), "\n  "))
	fmt.Fprintf(w, "%6s  %7s  %13s  %11s  %14s  %8s\n", "seed", "trials", "to criterion", "final error", "final accuracy", "wall")
}

// writeSeedRow prints one seed's row, and its error on the next line.
func writeSeedRow(w io.Writer, seed uint64, res *train.Result, err error) {
	trials, toCrit, ferr, facc, wall := "-", "not reached", "-", "-", "-"
	if res != nil {
		trials = strconv.Itoa(res.Trials)
		if res.TrialsToCriterion >= 0 {
			toCrit = strconv.Itoa(res.TrialsToCriterion)
		}
		if res.Trials > 0 {
			ferr = fmt.Sprintf("%.4f", res.FinalError)
			facc = fmt.Sprintf("%.1f%%", 100*res.FinalAccuracy)
		}
		wall = fmt.Sprintf("%.1fs", res.Wall.Seconds())
	}
	if err != nil {
		toCrit = "failed"
	}
	fmt.Fprintf(w, "%6d  %7s  %13s  %11s  %14s  %8s\n", seed, trials, toCrit, ferr, facc, wall)
	if err != nil {
		fmt.Fprintf(w, "        seed %d: %v\n", seed, err)
	}
}

// seedList formats seeds as "1,3,5", the syntax of --seeds.
func seedList(seeds []uint64) string {
	s := make([]string, len(seeds))
	for i, v := range seeds {
		s[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(s, ",")
}
