package schemas_test

import (
	"bytes"
	"io"
	"testing"

	"rulescape/schemas"
	"rulescape/schemas/schemastest"
)

// BenchmarkWriteLearningCurves writes 100k learning-curve rows to Parquet in memory.
func BenchmarkWriteLearningCurves(b *testing.B) {
	rows := schemastest.LearningCurves(100_000)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := schemas.WriteAll(&buf, schemas.Parquet, testMeta, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/file")
}

// BenchmarkReadLearningCurves reads the 100k rows back.
func BenchmarkReadLearningCurves(b *testing.B) {
	var buf bytes.Buffer
	if _, err := schemas.WriteAll(&buf, schemas.Parquet, testMeta, schemastest.LearningCurves(100_000)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := schemas.ReadAll[schemas.LearningCurveRow](bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteNetworks builds the networks dataset of 8 networks of
// N = 200 units (Miconi's DNMS sizes: M = 4 inputs, O = 1 output).
func BenchmarkWriteNetworks(b *testing.B) {
	rows := schemastest.Networks(8, 200, 4, 1)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		cw := &countWriter{}
		if _, err := schemas.WriteAll(cw, schemas.Parquet, testMeta, rows); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.ReportMetric(float64(n), "bytes/file")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
