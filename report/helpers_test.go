package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"rulescape/manifest"
	"rulescape/report/reporttest"
	"rulescape/schemas"
	"rulescape/store"
)

// synthetic returns the data of a made-up campaign with every stage: two
// rules × three seeds of one task, a metaopt job with K = L = 3, and
// analysis rows of plausible shape. It is deterministic.
func synthetic() *Data {
	rng := rand.New(rand.NewPCG(1, 2))
	const task, trials, n, k = "gonogo", 200, 8, 6
	rules := []string{"discovered", "miconi"}
	d := &Data{Manifest: manifest.Manifest{Campaign: "0123456789abcdef", Name: "synthetic", File: "synthetic.yaml", EngineVersion: "test",
		Written: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Spec: "name: synthetic\n",
		Stages: map[string]string{"metaopt": "completed", "train": "completed", "fixedpoints": "completed", "rsa": "completed",
			"sensitivity": "completed", "landscape": "completed", "report": "running"}}}
	add := func(stage, kind, unit string, parts string) {
		key := fmt.Sprintf("campaigns/%s/%s/%s/%spart-%064d.parquet", d.Manifest.Campaign, stage, kind, parts, len(d.Manifest.Datasets))
		d.Manifest.Datasets = append(d.Manifest.Datasets, manifest.Entry{Dataset: manifest.Dataset{Unit: unit, Stage: stage, Kind: kind,
			Ref: store.DatasetRef{Key: key, SHA256: fmt.Sprintf("%064x", len(d.Manifest.Datasets)), Rows: 1}}})
	}
	var theta []float64
	for range 16 {
		theta = append(theta, rng.NormFloat64()*0.3)
	}
	run := MetaoptRun{Unit: "metaopt/discovered", Rule: "discovered", K: 3, L: 3}
	for it := range 6 {
		row := schemas.MetaoptRow{Task: task, Estimator: "projection", Iter: int64(it), Theta: theta, Grad: theta,
			J: 1 / float64(it+1), GradNorm: 0.5 / float64(it+1), HeldoutJ: math.NaN(), LogEta: math.NaN()}
		if it%2 == 0 {
			row.HeldoutJ = 1.1 / float64(it+1)
		}
		run.Rows = append(run.Rows, row)
	}
	// the final row: the final Θ and its held-out J, nothing estimated at it
	run.Rows = append(run.Rows, schemas.MetaoptRow{Task: task, Estimator: "projection", Iter: 6, Theta: theta,
		J: math.NaN(), GradNorm: math.NaN(), LR: math.NaN(), HeldoutJ: 0.2, LogEta: math.NaN()})
	d.Metaopt = []MetaoptRun{run}
	add("metaopt", "metaopt_history", "metaopt/discovered", "")
	var nets []int64
	for ri, rule := range rules {
		for seed := int64(1); seed <= 3; seed++ {
			parts := fmt.Sprintf("task=%s/rule=%s/seed=%d/", task, rule, seed)
			unit := fmt.Sprintf("train/%s/%s/seed=%d", task, rule, seed)
			add("train", "learning_curves", unit, parts)
			add("train", "networks", unit, parts)
			ttc := int64(-1)
			for h := range int64(trials) {
				e := math.Exp(-float64(h)/float64(40+20*ri)) + 0.1*rng.Float64()
				d.LearningCurves = append(d.LearningCurves, schemas.LearningCurveRow{Task: task, Rule: rule, Seed: seed, Trial: h, Error: e, Reward: -e})
				if ttc < 0 && e < 0.3 {
					ttc = h + 1
				}
			}
			d.Networks = append(d.Networks, Network{Task: task, Rule: rule, Seed: seed, N: n, Trials: trials, TrialsToCriterion: ttc})
			nets = append(nets, seed)
			add("fixedpoints", "fixed_points", "fixedpoints/"+unit[6:], parts)
			// Points 0–3 alternate between two inputs; the discovered
			// rule's seed 2 has a fifth, stable, point. The saddle (point 1
			// of cond=0) connects to the attractor point 0 of cond=0.
			types := []string{"stable", "stable", "saddle", "unstable"}
			if ri == 0 && seed == 2 {
				types = append(types, "stable")
			}
			for i, typ := range types {
				x := make([]float64, n)
				for j := range x {
					x[j] = rng.NormFloat64()
				}
				index := int32(i / 2)
				if i == 4 {
					index = 0
				}
				input := fmt.Sprintf("cond=%d", i%2)
				d.FixedPoints = append(d.FixedPoints, schemas.FixedPointRow{Task: task, Rule: rule, Seed: seed, Network: "final",
					Input: input, X: x, Type: typ, Slow: i == 3, Index: index})
				lr := schemas.LandscapeRow{Task: task, Rule: rule, Seed: seed, Network: "final", Input: input, Point: int32(i / 2),
					Index: index, Type: typ, Slow: i == 3, PC: []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()},
					Explained: []float64{0.6, 0.2, 0.1}}
				if i == 2 {
					lr.Connects = []int32{0, -1}
				}
				d.Landscape = append(d.Landscape, lr)
			}
			if ri == 0 {
				for c := range int32(2) {
					for t := range int32(20) {
						x := make([]float32, n)
						for j := range x {
							x[j] = float32(math.Sin(float64(t)/5+float64(j)+float64(c)) * float64(t) / 10)
						}
						d.Trajectories = append(d.Trajectories, schemas.TrajectoryRow{Task: task, Rule: rule, Seed: seed, Network: "final",
							Condition: c, T: t, X: x})
					}
				}
			}
			labels := make([]string, k)
			dm := make([]float64, k*k)
			for i := range k {
				labels[i] = fmt.Sprintf("%d@%d", i/3, i%3)
				for j := range i {
					v := rng.Float64()
					dm[i*k+j], dm[j*k+i] = v, v
				}
			}
			d.RDMs = append(d.RDMs, schemas.RDMRow{Task: task, Rule: rule, Seed: seed, Network: "final", Metric: "correlation", K: k, Labels: labels, D: dm})
			sv := make([]float64, n)
			for i := range sv {
				sv[i] = math.Pow(0.5, float64(i)) * (1 + 0.1*rng.Float64())
			}
			d.Sensitivity = append(d.Sensitivity, schemas.SensitivityRow{Task: task, Rule: rule, Seed: seed, Network: "final", SingularValues: sv})
			add("sensitivity", "sensitivity", "sensitivity/"+unit[6:], parts)
		}
	}
	add("rsa", "rdms", "rsa/"+task, "task="+task+"/")
	add("rsa", "rsa_pairs", "rsa/"+task, "task="+task+"/")
	for i := range 6 {
		for j := i + 1; j < 6; j++ {
			v := 0.2 + 0.1*rng.Float64()
			if i/3 == j/3 {
				v += 0.5
			}
			d.RSAPairs = append(d.RSAPairs, schemas.RSAPairRow{Task: task, Method: "spearman", ARule: rules[i/3], ASeed: int64(i%3 + 1),
				BRule: rules[j/3], BSeed: int64(j%3 + 1), ANetwork: "final", BNetwork: "final", Value: v, PValue: math.NaN()})
		}
	}
	d.RSAPairs = append(d.RSAPairs, schemas.RSAPairRow{Task: task, Method: "within_vs_between:spearman", ARule: "*", BRule: "*",
		ANetwork: "final", BNetwork: "final", Value: 0.5, PValue: 0.01, Permutations: 100})
	add("landscape", "landscape", "landscape/"+task, "task="+task+"/")
	add("landscape", "landscape_pairs", "landscape/"+task, "task="+task+"/")
	for i := range 6 {
		for j := i + 1; j < 6; j++ {
			v := float64(rng.IntN(3))
			d.LandscapePairs = append(d.LandscapePairs, schemas.LandscapePairRow{Task: task, Method: "topology", ARule: rules[i/3], ASeed: int64(i%3 + 1),
				BRule: rules[j/3], BSeed: int64(j%3 + 1), ANetwork: "final", BNetwork: "final", Value: v, PValue: math.NaN()})
		}
	}
	d.LandscapePairs = append(d.LandscapePairs,
		schemas.LandscapePairRow{Task: task, Method: "within_vs_between:topology", ARule: "*", BRule: "*", ANetwork: "final", BNetwork: "final",
			Value: 0.25, PValue: 0.5, Permutations: 100},
		schemas.LandscapePairRow{Task: task, Method: "same_seed_between:topology", ARule: "*", BRule: "*", ANetwork: "final", BNetwork: "final",
			Value: 0.75, PValue: math.NaN()})
	d.Stages = []Stage{{Name: "metaopt", Status: "completed", Done: 1, Total: 1, Seconds: 3.5}, {Name: "train", Status: "completed", Done: 6, Total: 6, CacheHits: 2, Seconds: 10}}
	return d
}

// checkPNG checks a PNG figure with reporttest.PNG.
func checkPNG(t *testing.T, name string, data []byte, minColors int) {
	t.Helper()
	if err := reporttest.PNG(data, minColors); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// checkSVG checks an SVG figure with reporttest.SVG.
func checkSVG(t *testing.T, name string, data []byte, minPaths int) {
	t.Helper()
	if err := reporttest.SVG(data, minPaths); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}
