package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"rulescape/core/stats"
	"rulescape/schemas"
)

// bootStream is the PCG stream of the bootstrap resamples.
const bootStream = 0x626f6f74 // "boot"

// netKey names one trained network.
type netKey struct {
	task, rule string
	seed       int64
}

// outcome is what one network reached: whether and when it met the
// criterion, and its mean error and accuracy over the last window trials.
type outcome struct {
	learned         bool
	trials          int64 // trials to criterion; −1 if never
	curve           int   // trials of its learning curve the means are over (0: none)
	error, accuracy float64
}

// outcomes pairs each network's criterion (networks) with its final error
// and accuracy (the last window trials of its learning curve).
func outcomes(curves []schemas.LearningCurveRow, nets []schemas.NetworkRow, window int) map[netKey]outcome {
	byNet := map[netKey][]schemas.LearningCurveRow{}
	for _, r := range curves {
		k := netKey{r.Task, r.Rule, r.Seed}
		byNet[k] = append(byNet[k], r)
	}
	out := map[netKey]outcome{}
	for _, n := range nets {
		k := netKey{n.Task, n.Rule, n.Seed}
		rows := byNet[k]
		slices.SortFunc(rows, func(a, b schemas.LearningCurveRow) int { return cmp.Compare(a.Trial, b.Trial) })
		last := rows[max(len(rows)-window, 0):]
		var e, c float64
		for _, r := range last {
			e += r.Error
			if r.Correct {
				c++
			}
		}
		o := outcome{learned: n.TrialsToCriterion >= 0, trials: n.TrialsToCriterion, curve: len(last), error: math.NaN(), accuracy: math.NaN()}
		if len(last) > 0 {
			o.error, o.accuracy = e/float64(len(last)), c/float64(len(last))
		}
		out[k] = o
	}
	return out
}

// wilson is the Wilson score 95% interval of a binomial proportion k/n.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	const z = 1.959963984540054
	p, fn := float64(k)/float64(n), float64(n)
	den := 1 + z*z/fn
	mid := (p + z*z/(2*fn)) / den
	half := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return max(mid-half, 0), min(mid+half, 1)
}

// mcnemar is the exact two-sided McNemar p-value for b and c discordant
// pairs: 2·P(Binomial(b+c, ½) ≤ min(b, c)), capped at 1.
func mcnemar(b, c int) float64 {
	n, k := b+c, min(b, c)
	if n == 0 {
		return 1
	}
	var tail float64
	for i := 0; i <= k; i++ {
		lg, _ := math.Lgamma(float64(n + 1))
		la, _ := math.Lgamma(float64(i + 1))
		lb, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lg - la - lb - float64(n)*math.Ln2)
	}
	return min(2*tail, 1)
}

// censoredMedian is the median trials to criterion with networks that
// never met it counted as +Inf (later than any that did); +Inf when half or
// more never met it.
func censoredMedian(ts []float64) float64 {
	if len(ts) == 0 {
		return math.NaN()
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return quantileInf(s, 0.5)
}

// bootCI is the percentile bootstrap 95% interval of stat over resamples of
// the indices 0…n−1 (with replacement), from a seeded PCG stream.
func bootCI(n, resamples int, seed uint64, stat func(idx []int) float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(seed, bootStream))
	vals := make([]float64, resamples)
	idx := make([]int, n)
	for r := range vals {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		vals[r] = stat(idx)
	}
	slices.Sort(vals)
	return quantileInf(vals, 0.025), quantileInf(vals, 0.975)
}

// quantileInf is stats.Quantile (type 7) of sorted xs that may hold +Inf
// ("never reached"): a quantile that falls at or next to +Inf is +Inf
// instead of the NaN that interpolating towards it would give.
func quantileInf(xs []float64, p float64) float64 {
	h := float64(len(xs)-1) * p
	lo, hi := int(math.Floor(h)), int(math.Ceil(h))
	if lo == hi {
		return xs[lo] // an order statistic, +Inf or not
	}
	if math.IsInf(xs[hi], 1) {
		return math.Inf(1)
	}
	return stats.Quantile(xs, p)
}

// fmtTrials prints a trial count, "never" for +Inf.
func fmtTrials(v float64) string {
	if math.IsInf(v, 1) {
		return "not reached"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// versus prints, per task, every rule's learning outcome with 95%
// intervals, and its paired comparison with the reference rule on the
// seeds both were trained on (same W⁰): McNemar's exact test of meeting the
// criterion and the mean paired difference of final accuracy.
func versus(w io.Writer, out map[netKey]outcome, ref string, window, resamples int, seed uint64) {
	type tr struct{ task, rule string }
	groups := map[tr][]int64{}
	for k, o := range out {
		if o.curve == 0 {
			continue // no learning curve (yet): no final accuracy to compare
		}
		groups[tr{k.task, k.rule}] = append(groups[tr{k.task, k.rule}], k.seed)
	}
	keys := make([]tr, 0, len(groups))
	for k := range groups {
		slices.Sort(groups[k])
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tr) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })

	fmt.Fprintf(w, "\n| task | rule | networks | met the criterion [95%% CI] | trials to criterion: median [95%% CI] | accuracy, last %d trials: mean [95%% CI] | vs %s: only this / only %s, McNemar p | accuracy − %s, same seeds: mean [95%% CI] |\n", window, ref, ref, ref)
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, k := range keys {
		seeds := groups[k]
		n := len(seeds)
		ts, acc := make([]float64, n), make([]float64, n)
		met := 0
		for i, s := range seeds {
			o := out[netKey{k.task, k.rule, s}]
			ts[i], acc[i] = math.Inf(1), o.accuracy
			if o.learned {
				met++
				ts[i] = float64(o.trials)
			}
		}
		lo, hi := wilson(met, n)
		med := censoredMedian(ts)
		mlo, mhi := bootCI(n, resamples, seed, func(idx []int) float64 {
			s := make([]float64, len(idx))
			for i, j := range idx {
				s[i] = ts[j]
			}
			return censoredMedian(s)
		})
		mean := meanOver(acc)
		alo, ahi := bootCI(n, resamples, seed, mean)
		paired, test := "—", "—"
		if k.rule != ref {
			var b, c int
			var diff []float64
			for i, s := range seeds {
				r, ok := out[netKey{k.task, ref, s}]
				if !ok || r.curve == 0 {
					continue
				}
				o := out[netKey{k.task, k.rule, s}]
				switch {
				case o.learned && !r.learned:
					b++
				case r.learned && !o.learned:
					c++
				}
				diff = append(diff, acc[i]-r.accuracy)
			}
			if len(diff) > 0 {
				test = fmt.Sprintf("%d / %d, p = %.3g", b, c, mcnemar(b, c))
				dm := meanOver(diff)
				dlo, dhi := bootCI(len(diff), resamples, seed, dm)
				paired = fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%] (%d seeds)", 100*dm(indices(len(diff))), 100*dlo, 100*dhi, len(diff))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d of %d [%.0f%%, %.0f%%] | %s [%s, %s] | %.1f%% [%.1f%%, %.1f%%] | %s | %s |\n",
			k.task, k.rule, n, met, n, 100*lo, 100*hi, fmtTrials(med), fmtTrials(mlo), fmtTrials(mhi),
			100*mean(indices(n)), 100*alo, 100*ahi, test, paired)
	}
}

// meanOver returns the statistic "mean of xs at the given indices" that
// bootCI resamples.
func meanOver(xs []float64) func(idx []int) float64 {
	return func(idx []int) float64 {
		var s float64
		for _, j := range idx {
			s += xs[j]
		}
		return s / float64(len(idx))
	}
}

// indices returns 0, 1, …, n−1: the sample itself, for a statistic of it.
func indices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
