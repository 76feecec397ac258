package store_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"rulescape/schemas"
	"rulescape/store"
)

// A unit's content key depends on what its parameters say, not on how they
// are spelled: field order does not matter.
func ExampleContentKey() {
	type unit struct {
		Task   string  `json:"task"`
		Rule   string  `json:"rule"`
		Seed   int     `json:"seed"`
		Trials int     `json:"trials"`
		Eta    float64 `json:"eta"`
	}
	a, _ := store.ContentKey(unit{"dnms", "miconi", 3, 10000, 0.003}, nil, "v0.1.0")
	b, _ := store.ContentKey(map[string]any{"eta": 0.003, "seed": 3, "trials": 10000, "rule": "miconi", "task": "dnms"}, nil, "v0.1.0")
	c, _ := store.ContentKey(unit{"dnms", "miconi", 4, 10000, 0.003}, nil, "v0.1.0")
	fmt.Println(a == b, a == c, len(a))
	// Output: true false 64
}

func ExampleDatasetPath_Key() {
	ck, _ := store.ContentKey(map[string]any{"seed": 3}, nil, "v0.1.0")
	key, err := store.DatasetPath{
		Campaign:   "3f2a9c",
		Stage:      "train",
		Dataset:    string(schemas.Networks),
		Partitions: store.TaskRuleSeed("dnms", "miconi/2017", 3),
		ContentKey: ck,
		Format:     schemas.Parquet,
	}.Key()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key[:68])
	// Output: campaigns/3f2a9c/train/networks/task=dnms/rule=miconi%2F2017/seed=3/
}

// The life of a dataset: look it up by content key, compute and commit it
// on a miss, share it.
func ExampleWriteRows() {
	ctx := context.Background()
	cfg, err := store.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	s, err := store.New(ctx, cfg) // fails at once, clearly, on a bad endpoint or keys
	if err != nil {
		log.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		log.Fatal(err)
	}
	params := map[string]any{"task": "dnms", "rule": "miconi", "seed": 3}
	ck, _ := store.ContentKey(params, nil, "v0.1.0")
	ref, ok, err := s.Lookup(ctx, ck)
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		rows := []schemas.LearningCurveRow{{Task: "dnms", Rule: "miconi", Seed: 3, Trial: 0, Error: 1, Reward: -1}}
		digest, _ := store.ParamsSHA256(params)
		p := store.DatasetPath{Campaign: "demo", Stage: "train", Dataset: string(schemas.LearningCurves),
			Partitions: store.TaskRuleSeed("dnms", "miconi", 3), ContentKey: ck}
		if ref, err = store.WriteRows(ctx, s, p, schemas.Meta{Campaign: "demo", ParamsSHA256: digest, EngineVersion: "v0.1.0"}, rows); err != nil {
			log.Fatal(err)
		}
	}
	url, err := s.Presign(ctx, ref.Key, 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ref.Rows, "rows at", url)
}
