package report

import (
	"strings"
	"testing"
)

// TestCriterionFigure checks the caption's counts and medians against the
// networks: rule a met the criterion in 2 of 3 seeds (100 and 300 trials:
// median 200), rule b in none.
func TestCriterionFigure(t *testing.T) {
	d := &Data{Networks: []Network{
		{Task: "t", Rule: "a", Seed: 1, Trials: 500, TrialsToCriterion: 300},
		{Task: "t", Rule: "a", Seed: 2, Trials: 500, TrialsToCriterion: -1},
		{Task: "t", Rule: "a", Seed: 3, Trials: 500, TrialsToCriterion: 100},
		{Task: "t", Rule: "b", Seed: 1, Trials: 500, TrialsToCriterion: -1},
	}}
	figs, err := criterionFigure(d, rulePalette{})
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1 || figs[0].ID != "fig-criterion" {
		t.Fatalf("figures %+v, want one fig-criterion", figs)
	}
	for _, want := range []string{"t/a: 2 of 3 met the criterion, median 200 trials", "t/b: none of 1 met the criterion"} {
		if !strings.Contains(figs[0].Caption, want) {
			t.Errorf("caption %q lacks %q", figs[0].Caption, want)
		}
	}
	if figs, err := criterionFigure(&Data{}, rulePalette{}); err != nil || len(figs) != 0 {
		t.Errorf("no networks: %v, %v; want no figure", figs, err)
	}
}
