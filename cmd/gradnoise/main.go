// Command gradnoise measures how much the meta-gradient of a campaign's
// metaopt job varies from learner to learner, at the job's starting rule:
// it computes each of L learners' gradients (the job's estimator, in its
// automatic search coordinates, on the seeds of its first iteration and
// after) and reports, for group sizes S, the cosine between the mean
// gradients of two disjoint groups of S learners — what two consecutive
// iterations with S learners each would agree on if Θ did not move — with
// the moment prediction ‖μ‖² / (‖μ‖² + tr Σ / S) beside it, raw and with
// each coordinate scaled by its RMS over the learners (Adam's view); see
// docs/STUDY.md, "Measured directly".
//
//	go run ./cmd/gradnoise --job metaopt/discovered-dnms --learners 24 pipelines/rules-vs-solutions-full.yaml
//
// It prints Markdown (or JSON with -o json). Learners run --workers at a time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"

	"rulescape/core/metaopt"
	"rulescape/pipelines"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gradnoise:", err)
		os.Exit(1)
	}
}

// report is the command's output.
type report struct {
	Job      string      `json:"job"`
	Learners int         `json:"learners"`
	Seeds    []uint64    `json:"seeds"`
	J        []float64   `json:"j"`
	Grads    [][]float64 `json:"grads"` // per learner, in the search coordinates
	Mean     float64     `json:"mean_norm"`
	TraceCov float64     `json:"trace_cov"` // tr Σ, the per-learner variance summed over coordinates
	Splits   []splitStat `json:"splits"`
	// AdamSplits are the same after dividing each coordinate by its root
	// mean square over the learners: every coordinate weighs alike, as in
	// Adam's step.
	AdamSplits []splitStat `json:"adam_splits"`
}

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("gradnoise", flag.ContinueOnError)
	job := fs.String("job", "", "metaopt job ID of the campaign file, e.g. metaopt/discovered-dnms")
	learners := fs.Int("learners", 24, "learners L (seeds of iterations 0, 1, … of the job, in order)")
	workers := fs.Int("workers", 0, "learners run at once (0 = all cores)")
	splits := fs.Int("splits", 500, "random disjoint splits averaged per group size")
	out := fs.String("o", "text", "output: text (Markdown) or json")
	thetaFlag := fs.String("theta", "", "evaluate at this rule, a JSON (K+1)×(L+1) matrix θ[k][l], instead of the job's starting rule")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *job == "" || *learners < 2 || *splits < 1 || (*out != "text" && *out != "json") {
		return fmt.Errorf("usage: gradnoise --job ID [--learners L ≥ 2] [--splits R ≥ 1] [-o text|json] FILE")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := pipelines.Parse(fs.Arg(0), data)
	if err != nil {
		return err
	}
	plan, err := c.Plan()
	if err != nil {
		return err
	}
	var j *pipelines.MetaoptJob
	for i := range plan.Metaopt {
		if plan.Metaopt[i].ID == *job {
			j = &plan.Metaopt[i]
		}
	}
	if j == nil {
		return fmt.Errorf("--job %q: the file has no such metaopt job", *job)
	}
	obj, settings, err := j.Problem(*workers)
	if err != nil {
		return err
	}
	if j.Settings.Scale != "none" {
		if err := obj.AutoScaleFor(ctx, settings); err != nil {
			return err
		}
	}
	rule := obj.Setup.Rule
	if *thetaFlag != "" {
		var m [][]float64
		if err := json.Unmarshal([]byte(*thetaFlag), &m); err != nil {
			return fmt.Errorf("--theta: %v: give a JSON matrix such as [[0,0],[0,-1]]", err)
		}
		if len(m) != rule.K+1 {
			return fmt.Errorf("--theta: %d rows, the job's rule has K+1 = %d", len(m), rule.K+1)
		}
		rule.Theta = make([]float64, 0, (rule.K+1)*(rule.L+1))
		for k, row := range m {
			if len(row) != rule.L+1 {
				return fmt.Errorf("--theta: row %d has %d values, the job's rule has L+1 = %d", k, len(row), rule.L+1)
			}
			rule.Theta = append(rule.Theta, row...)
		}
	}
	theta := obj.Params(rule)
	r := report{Job: j.ID, Learners: *learners, Seeds: make([]uint64, *learners), J: make([]float64, *learners), Grads: make([][]float64, *learners)}
	per := max(settings.Learners, 1)
	for i := range r.Seeds {
		r.Seeds[i] = settings.LearnerSeed(i/per, i%per)
	}
	nw := *workers
	if nw <= 0 {
		nw = settings.Workers
	}
	errs := make([]error, *learners)
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(nw, 1) {
		wg.Go(func() {
			for i := range next {
				ev, err := obj.Eval(ctx, metaopt.Request{Params: slices.Clone(theta), Seed: r.Seeds[i], WantGrad: true})
				r.J[i], r.Grads[i], errs[i] = ev.J, ev.Grad, err
			}
		})
	}
	for i := range *learners {
		next <- i
	}
	close(next)
	wg.Wait()
	var grads [][]float64
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(os.Stderr, "gradnoise: learner seed %d left out: %v\n", r.Seeds[i], err)
			continue
		}
		grads = append(grads, r.Grads[i])
	}
	if len(grads) < 2 {
		return fmt.Errorf("fewer than 2 learners gave a gradient")
	}
	var sizes []int
	for _, s := range []int{1, 2, 4, 8, 12, 16} {
		if 2*s <= len(grads) {
			sizes = append(sizes, s)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(grads)), 0x6e6f697365))
	r.Mean, r.TraceCov, r.Splits = splitCosines(grads, sizes, *splits, rng)
	_, _, r.AdamSplits = splitCosines(rmsScaled(grads), sizes, *splits, rng)
	if *out == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	at := "the job's starting rule"
	if *thetaFlag != "" {
		at = "Θ = " + *thetaFlag
	}
	fmt.Fprintf(w, "%s: %d learners with a gradient at %s; ‖mean‖ = %.4g, tr Σ = %.4g (per learner)\n\n", r.Job, len(grads), at, r.Mean, r.TraceCov)
	fmt.Fprintln(w, "| learners per group S | cosine of two groups' means (mean ± s.e. over splits) | predicted ‖μ‖²/(‖μ‖² + tr Σ/S) | the same, coordinates scaled by their RMS (Adam's view) | its prediction |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: |")
	for i, s := range r.Splits {
		a := r.AdamSplits[i]
		fmt.Fprintf(w, "| %d | %.3f ± %.3f | %.3f | %.3f ± %.3f | %.3f |\n", s.Size, s.Cosine, s.SE, s.Predicted, a.Cosine, a.SE, a.Predicted)
	}
	return nil
}

// splitStat is the agreement of two disjoint groups of Size learners.
type splitStat struct {
	Size      int     `json:"size"`
	Cosine    float64 `json:"cosine"`    // mean over the splits
	SE        float64 `json:"se"`        // its standard error over the splits (they share learners: a rough guide)
	Predicted float64 `json:"predicted"` // ‖μ‖² / (‖μ‖² + tr Σ / S)
}

// splitCosines returns ‖mean‖ of the gradients, tr Σ of their sample
// covariance, and for each group size S the mean cosine between the means
// of two disjoint random groups of S gradients over R splits, with the
// prediction from the moments: ‖μ‖² is estimated without bias as
// ‖mean‖² − tr Σ/n (clipped at 0).
func splitCosines(grads [][]float64, sizes []int, R int, rng *rand.Rand) (meanNorm, trCov float64, out []splitStat) {
	n, p := len(grads), len(grads[0])
	mean := make([]float64, p)
	for _, g := range grads {
		for k, v := range g {
			mean[k] += v / float64(n)
		}
	}
	for _, g := range grads {
		for k, v := range g {
			trCov += (v - mean[k]) * (v - mean[k]) / float64(n-1)
		}
	}
	m2 := 0.0
	for _, v := range mean {
		m2 += v * v
	}
	meanNorm = math.Sqrt(m2)
	mu2 := max(m2-trCov/float64(n), 0)
	idx := make([]int, n)
	for _, s := range sizes {
		var sum, sum2 float64
		for range R {
			for i := range idx {
				idx[i] = i
			}
			rng.Shuffle(n, func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			c := cosine(groupMean(grads, idx[:s]), groupMean(grads, idx[s:2*s]))
			sum += c
			sum2 += c * c
		}
		m := sum / float64(R)
		sd := math.Sqrt(max(sum2/float64(R)-m*m, 0))
		out = append(out, splitStat{Size: s, Cosine: m, SE: sd / math.Sqrt(float64(R)),
			Predicted: mu2 / (mu2 + trCov/float64(s))})
	}
	return meanNorm, trCov, out
}

// rmsScaled returns the gradients with each coordinate divided by its
// root mean square over them (a coordinate that is 0 throughout stays 0).
func rmsScaled(grads [][]float64) [][]float64 {
	p := len(grads[0])
	rms := make([]float64, p)
	for _, g := range grads {
		for k, v := range g {
			rms[k] += v * v / float64(len(grads))
		}
	}
	out := make([][]float64, len(grads))
	for i, g := range grads {
		out[i] = make([]float64, p)
		for k, v := range g {
			if rms[k] > 0 {
				out[i][k] = v / math.Sqrt(rms[k])
			}
		}
	}
	return out
}

func groupMean(grads [][]float64, idx []int) []float64 {
	m := make([]float64, len(grads[0]))
	for _, i := range idx {
		for k, v := range grads[i] {
			m[k] += v / float64(len(idx))
		}
	}
	return m
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for k := range a {
		ab += a[k] * b[k]
		aa += a[k] * a[k]
		bb += b[k] * b[k]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
