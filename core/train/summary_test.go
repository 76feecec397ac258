package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSummaryAndTally(t *testing.T) {
	res := &Result{Trials: 2, TrialsToCriterion: -1, FinalError: math.NaN(), Errors: []float64{1, math.Inf(1)}}
	data, err := json.Marshal(Summarize("dnms", "miconi", 3, res, nil))
	if err != nil || !strings.Contains(string(data), `"trials_to_criterion":null,"final_error":null`) ||
		!strings.Contains(string(data), `"errors":[1,null]`) || strings.Contains(string(data), `"error"`) {
		t.Errorf("summary %s, %v", data, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var tl Tally
	for i, n := range []int{40, 10, 12, 11} {
		tl.Add(ctx, uint64(i), &Result{TrialsToCriterion: n}, nil)
	}
	tl.Add(ctx, 9, nil, errors.New("diverged"))
	cancel()
	tl.Add(ctx, 10, &Result{}, ctx.Err())
	if m := tl.MedianToCriterion(); m != 11.5 || tl.Seeds != 6 || len(tl.Failed) != 1 || len(tl.Stopped) != 1 || tl.FirstErr == nil {
		t.Errorf("median %v, tally %+v", m, tl)
	}
}
