package metaopt

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// roundTrip encodes v as JSON and decodes it into a new value, as an
// object stored between processes would be.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	var out T
	if err := json.Unmarshal([]byte(mustJSON(t, v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAskTellEqualsStep runs every method straight with Run, and again as
// another process group would: per iteration the state restored from JSON,
// Ask, the batch through JSON, its requests evaluated one at a time in a
// shuffled order, the outcomes through JSON, and Tell; then the final
// held-out evaluation the same way. Records (but wall time), final states
// and Θ must be bit-identical, diverged learners included.
func TestAskTellEqualsStep(t *testing.T) {
	base := quadratic{opt: target, jNoise: 0.3, gNoise: 0.5}
	for _, m := range []Method{MethodAdam, MethodES, MethodCMAES} {
		for _, diverging := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/diverging=%v", m, diverging), func(t *testing.T) {
				s := Settings{Method: m, Iters: 7, Learners: 5, Workers: 2, Seed: 9, LR: 0.05, MinValidFraction: 0.2,
					HeldOut: 3, EvalEvery: 3, ES: ESSettings{Pairs: 3}, CMA: CMASettings{Population: 6}}
				var obj Objective = base
				bad := map[uint64]bool{}
				if diverging { // one training seed of every iteration (CMA-ES: all candidates share it), and a held-out one
					for i := range s.Iters {
						if m != MethodCMAES {
							bad[s.LearnerSeed(i, 1)] = true
						}
					}
					bad[s.HeldOutSeed(2)] = true
					obj = flaky{quadratic: base, bad: bad, mode: "error"}
				}
				start := []float64{0.3, 0.1, -0.2, 0.5}
				straight := mustNew(t, obj, start, s)
				var want History
				if _, err := straight.Run(context.Background(), &want); err != nil {
					t.Fatal(err)
				}

				st := mustNew(t, obj, start, s).State()
				var got []Record
				rng := rand.New(rand.NewPCG(1, 2))
				for {
					opt, err := Restore(obj, roundTrip(t, st))
					if err != nil {
						t.Fatal(err)
					}
					var b Batch
					switch {
					case opt.State().Iter < s.Iters:
						b, err = opt.Ask()
					case opt.HeldOutDue():
						b, err = opt.AskHeldOut()
					default:
						b.Iter = -1
					}
					if err != nil {
						t.Fatal(err)
					}
					if b.Iter < 0 {
						break
					}
					again, _ := opt.Ask()
					if b.HeldOutOnly {
						again, _ = opt.AskHeldOut()
					}
					if mustJSON(t, again) != mustJSON(t, b) {
						t.Fatalf("iteration %d: asking twice gave two batches", b.Iter)
					}
					b = roundTrip(t, b)
					res := make([]Outcome, len(b.Requests))
					for _, k := range rng.Perm(len(b.Requests)) {
						req := roundTrip(t, b.Requests[k])
						ev, err := obj.Eval(context.Background(), req)
						o, err := Classify(req, len(st.Params), ev, err)
						if err != nil {
							t.Fatal(err)
						}
						res[k] = roundTrip(t, o)
					}
					rec, err := opt.Tell(b, res)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := opt.Tell(b, res); err == nil || !strings.Contains(err.Error(), "told") {
						t.Fatalf("iteration %d: a second Tell of the same batch: %v, want an error", b.Iter, err)
					}
					if !b.HeldOutOnly {
						got = append(got, rec)
					} else if rec.HeldOut == nil {
						t.Fatal("held-out Tell returned no evaluation")
					}
					st = opt.State()
				}
				if a, b := mustJSON(t, stripWall(want.Records)), mustJSON(t, got); a != b {
					t.Errorf("records differ:\nStep     %s\nAsk/Tell %s", a, b)
				}
				if a, b := mustJSON(t, straight.State()), mustJSON(t, st); a != b {
					t.Errorf("final states differ:\nStep     %s\nAsk/Tell %s", a, b)
				}
				if diverging && !strings.Contains(mustJSON(t, got), "diverged") {
					t.Error("no diverged learner recorded: the test does not exercise divergence")
				}
			})
		}
	}
}

// TestTellRejectsMismatchedBatch checks the errors of batches that do not
// fit the state or their outcomes.
func TestTellRejectsMismatchedBatch(t *testing.T) {
	obj := quadratic{opt: target}
	s := Settings{Method: MethodES, Iters: 3, Learners: 2, Seed: 1, ES: ESSettings{Pairs: 2}}
	o := mustNew(t, obj, []float64{0, 0, 0, 0}, s)
	b, err := o.Ask()
	if err != nil {
		t.Fatal(err)
	}
	ok := make([]Outcome, len(b.Requests))
	for _, tc := range []struct {
		name string
		b    Batch
		res  []Outcome
		want string
	}{
		{"other iteration", Batch{Iter: 1, Requests: b.Requests, Train: b.Train, Eps: b.Eps, RNG: b.RNG}, ok, "batch of iteration 1"},
		{"short outcomes", b, ok[1:], "outcomes for"},
		{"missing perturbation", Batch{Requests: b.Requests, Train: b.Train, Eps: b.Eps[1:], RNG: b.RNG}, ok, "perturbations"},
		{"bad rng", Batch{Requests: b.Requests, Train: b.Train, Eps: b.Eps, RNG: []byte("x")}, ok, "rng"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := o.Tell(tc.b, tc.res); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Tell: %v, want an error containing %q", err, tc.want)
			}
			if o.State().Iter != 0 {
				t.Errorf("state moved to iteration %d", o.State().Iter)
			}
		})
	}
}
