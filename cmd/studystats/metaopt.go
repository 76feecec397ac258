package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"

	"rulescape/schemas"
)

// metaoptJob is one meta-optimization job's history, in iteration order.
type metaoptJob struct {
	task, rule string
	rows       []schemas.MetaoptRow
}

// metaoptJobs groups history files into jobs, named by the rule=
// partition of their path (a metaopt_history file holds one job).
func metaoptJobs(files []kindFile[schemas.MetaoptRow]) []metaoptJob {
	var jobs []metaoptJob
	for _, f := range files {
		if len(f.rows) == 0 {
			continue
		}
		rule := "?"
		for _, seg := range strings.Split(path.Dir(f.path), "/") {
			if r, ok := strings.CutPrefix(seg, "rule="); ok {
				rule = r
			}
		}
		rows := slices.Clone(f.rows)
		slices.SortFunc(rows, func(a, b schemas.MetaoptRow) int { return cmp.Compare(a.Iter, b.Iter) })
		jobs = append(jobs, metaoptJob{rows[0].Task, rule, rows})
	}
	slices.SortFunc(jobs, func(a, b metaoptJob) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	return jobs
}

// consecutiveCosines returns the cosines between the gradient estimates
// of consecutive iterations, each coordinate divided by its root mean
// square over the run (the per-coordinate scale Adam's step divides by,
// which makes the cosine independent of how Θ is parametrised; a
// coordinate whose gradient is zero throughout is left out). An estimate
// that follows a persistent uphill direction gives cosines near 1; one
// dominated by noise independent between iterations gives cosines
// around 0; steps that overshoot across a ridge give negative ones.
func consecutiveCosines(grads [][]float64) []float64 {
	if len(grads) < 2 {
		return nil
	}
	p := len(grads[0])
	rms := make([]float64, p)
	for _, g := range grads {
		for q, x := range g {
			rms[q] += x * x
		}
	}
	for q := range rms {
		rms[q] = math.Sqrt(rms[q] / float64(len(grads)))
	}
	var out []float64
	for i := 0; i+1 < len(grads); i++ {
		var ab, aa, bb float64
		for q := range p {
			if rms[q] == 0 {
				continue
			}
			a, b := grads[i][q]/rms[q], grads[i+1][q]/rms[q]
			ab += a * b
			aa += a * a
			bb += b * b
		}
		if aa > 0 && bb > 0 {
			out = append(out, ab/math.Sqrt(aa*bb))
		}
	}
	return out
}

// meanSE returns the mean of xs and its standard error (NaN for fewer
// than two values).
func meanSE(xs []float64) (mean, se float64) {
	mean, sd := stat.MeanStdDev(xs, nil)
	return mean, sd / math.Sqrt(float64(len(xs)))
}

// metaoptTable prints, per meta-optimization job, J on its learners and
// on its held-out seeds over the run, and how persistent the direction
// of its gradient estimates was (consecutiveCosines), with every job's
// cosines pooled in a last row.
func metaoptTable(w io.Writer, files []kindFile[schemas.MetaoptRow]) {
	jobs := metaoptJobs(files)
	if len(jobs) == 0 {
		return
	}
	fmt.Fprintln(w, "\n| task | rule | P | iterations | J: first → last iteration | held-out J (every eval_every iterations, and of the final Θ): first → best → last | consecutive gradients: cosine, mean ± s.e. (pairs) |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | --- | --- | --- |")
	var pooled []float64
	for _, j := range jobs {
		var grads [][]float64
		var held []float64
		var iters []schemas.MetaoptRow // without the final row (final Θ only: no J, no gradient)
		for _, r := range j.rows {
			if r.Grad != nil {
				grads = append(grads, r.Grad)
				iters = append(iters, r)
			}
			if !math.IsNaN(r.HeldoutJ) {
				held = append(held, r.HeldoutJ)
			}
		}
		if len(iters) == 0 {
			continue
		}
		heldText := "—"
		if len(held) > 0 {
			heldText = fmt.Sprintf("%.1f → %.1f → %.1f", held[0], slices.Max(held), held[len(held)-1])
		}
		cs := consecutiveCosines(grads)
		pooled = append(pooled, cs...)
		m, se := meanSE(cs)
		first, last := iters[0], iters[len(iters)-1]
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.1f → %.1f | %s | %+.2f ± %.2f (%d) |\n", j.task, j.rule, len(first.Theta), len(iters),
			first.J, last.J, heldText, m, se, len(cs))
	}
	if len(jobs) > 1 {
		m, se := meanSE(pooled)
		fmt.Fprintf(w, "| all | %d jobs | | | | | %+.2f ± %.2f (%d) |\n", len(jobs), m, se, len(pooled))
	}
}
