package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"

	"rulescape/core/stats"
)

// Float is a float64 that encodes NaN and ±Inf as JSON null.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	if v := float64(f); math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// Summary is one seed's outcome as `rulescape train -o json` reports it:
// trials to criterion (nil when not reached), the final error and accuracy
// (over the last criterion window), the wall time, every trial's error, and
// the error of a seed that failed (with its partial results).
type Summary struct {
	Task              string  `json:"task"`
	Rule              string  `json:"rule"`
	Seed              uint64  `json:"seed"`
	Trials            int     `json:"trials"`
	TrialsToCriterion *int    `json:"trials_to_criterion"`
	FinalError        Float   `json:"final_error"`
	FinalAccuracy     Float   `json:"final_accuracy"`
	WallSeconds       float64 `json:"wall_seconds"`
	Errors            []Float `json:"errors"`
	Error             string  `json:"error,omitempty"`
}

// Summarize is the Summary of a seed's result res (nil when the seed never
// started) and error err, trained on task with the rule named rule.
func Summarize(task, rule string, seed uint64, res *Result, err error) Summary {
	s := Summary{Task: task, Rule: rule, Seed: seed, Errors: []Float{}}
	if res != nil {
		s.Trials = res.Trials
		if res.TrialsToCriterion >= 0 {
			v := res.TrialsToCriterion
			s.TrialsToCriterion = &v
		}
		s.FinalError, s.FinalAccuracy = Float(res.FinalError), Float(res.FinalAccuracy)
		s.WallSeconds = res.Wall.Seconds()
		s.Errors = make([]Float, len(res.Errors))
		for i, e := range res.Errors {
			s.Errors[i] = Float(e)
		}
	}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// Tally counts the seeds of a run as RunSeeds reports them.
type Tally struct {
	Seeds    int      // seeds reported
	Reached  []int    // trials to criterion of the seeds that met it, in report order
	Failed   []uint64 // seeds that failed
	Stopped  []uint64 // seeds stopped because ctx was cancelled
	FirstErr error    // the first failed seed's error
}

// Add counts one seed; ctx is the run's context, whose cancellation tells
// a stopped seed from a failed one.
func (t *Tally) Add(ctx context.Context, seed uint64, res *Result, err error) {
	t.Seeds++
	switch {
	case err == nil:
		if res != nil && res.TrialsToCriterion >= 0 {
			t.Reached = append(t.Reached, res.TrialsToCriterion)
		}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		t.Stopped = append(t.Stopped, seed)
	default:
		t.Failed = append(t.Failed, seed)
		if t.FirstErr == nil {
			t.FirstErr = err
		}
	}
}

// MedianToCriterion is the median trials to criterion of the seeds that
// met it (halfway between the middle two for an even count), NaN if none.
func (t *Tally) MedianToCriterion() float64 {
	v := make([]float64, len(t.Reached))
	for i, n := range t.Reached {
		v[i] = float64(n)
	}
	return stats.Quantile(v, 0.5)
}
