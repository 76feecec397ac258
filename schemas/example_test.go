package schemas_test

import (
	"bytes"
	"fmt"

	"rulescape/schemas"
)

// Write rows of a dataset kind to Parquet and read them back.
func ExampleWriteAll() {
	rows := []schemas.TrajectoryRow{
		{Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Condition: 0, T: 0, Trials: 20, X: []float32{0.1, -0.2, 0.3}, Y: []float32{0}},
		{Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Condition: 0, T: 1, Trials: 20, X: []float32{0.2, -0.1, 0.4}, Y: []float32{0.5}},
	}
	meta := schemas.Meta{Campaign: "demo", EngineVersion: "v0.1.0"}
	var buf bytes.Buffer // any io.Writer: a file, a pipe into an S3 upload
	if _, err := schemas.WriteAll(&buf, schemas.Parquet, meta, rows); err != nil {
		fmt.Println(err)
		return
	}
	back, info, err := schemas.ReadAll[schemas.TrajectoryRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Kind, info.Version, info.Campaign)
	for _, r := range back {
		fmt.Println(r.T, r.X, r.Y)
	}
	// Output:
	// trajectories 1 demo
	// 0 [0.1 -0.2 0.3] [0]
	// 1 [0.2 -0.1 0.4] [0.5]
}

// Stream rows in batches with a Writer; the file is complete after Close.
func ExampleNewWriter() {
	var buf bytes.Buffer
	w, err := schemas.NewWriter[schemas.LearningCurveRow](&buf, schemas.Parquet, schemas.Meta{Campaign: "demo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for h := range 1000 {
		e := 1 / float64(h+1)
		if err := w.Write(schemas.LearningCurveRow{Task: "dnms", Rule: "miconi", Trial: int64(h), Error: e, Reward: -e, Correct: e < 0.5}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	rd, err := schemas.NewReader[schemas.LearningCurveRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rd.Close()
	correct := 0
	for r, err := range rd.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		if r.Correct {
			correct++
		}
	}
	fmt.Println(rd.NumRows(), "rows,", correct, "correct")
	// Output: 1000 rows, 998 correct
}
