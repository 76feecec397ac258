package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"rulescape/internal/duckdbcheck"
	"rulescape/schemas"
	"rulescape/schemas/schemastest"
	"rulescape/store"
)

// duckdb runs the independent DuckDB reader on target, or skips the test
// loudly (fails it when RULESCAPE_REQUIRE_DUCKDB=1) if node or the
// @duckdb/node-api package is missing.
func duckdb(t *testing.T, target string, args ...string) duckdbcheck.Result {
	t.Helper()
	res, ok := duckdbcheck.Run(t, target, args...)
	if !ok {
		t.SkipNow()
	}
	return res
}

func columnNames(r duckdbcheck.Result) []string { return r.Names() }

// TestDuckDBReadsParquetFromDisk: DuckDB reads a file written by schemas
// with the expected rows, columns, fixed_size_list values and metadata.
func TestDuckDBReadsParquetFromDisk(t *testing.T) {
	rows := schemastest.Trajectories()
	path := filepath.Join(t.TempDir(), "trajectories.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.WriteAll(f, schemas.Parquet, meta, rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := duckdb(t, path, "--vector", "x")
	if got.Rows != int64(len(rows)) {
		t.Errorf("DuckDB counts %d rows, want %d", got.Rows, len(rows))
	}
	wantCols := []string{"campaign", "task", "rule", "seed", "network", "condition", "t", "trials", "x", "y"}
	if names := columnNames(got); !slices.Equal(names, wantCols) {
		t.Errorf("DuckDB columns %v, want %v", names, wantCols)
	}
	types := map[string]string{}
	for _, c := range got.Columns {
		types[c.Name] = c.Type
	}
	for name, want := range map[string]string{"seed": "BIGINT", "condition": "INTEGER", "x": "FLOAT[]", "y": "FLOAT[]", "task": "VARCHAR"} {
		if types[name] != want {
			t.Errorf("DuckDB type of %s = %s, want %s", name, types[name], want)
		}
	}
	if len(got.Vector) != len(rows[0].X) {
		t.Fatalf("DuckDB x of the first row has %d values, want %d", len(got.Vector), len(rows[0].X))
	}
	for i, v := range got.Vector {
		if float32(v) != rows[0].X[i] {
			t.Errorf("DuckDB x[%d] = %v, want %v", i, v, rows[0].X[i])
		}
	}
	wantKV := map[string]string{schemas.MetaSchema: "trajectories", schemas.MetaSchemaVersion: "1",
		schemas.MetaCampaign: meta.Campaign, schemas.MetaParamsSHA256: meta.ParamsSHA256, schemas.MetaEngineVersion: meta.EngineVersion}
	if !reflect.DeepEqual(got.KV, wantKV) {
		t.Errorf("DuckDB key/value metadata %v, want %v", got.KV, wantKV)
	}
}

// TestDuckDBReadsStageGlob: datasets committed through the S3 API under the
// Hive layout are read by DuckDB with one glob over the gateway's backing
// directory, partition values (escaped ones included) decoded.
func TestDuckDBReadsStageGlob(t *testing.T) {
	s := newStore(t)
	all := schemastest.LearningCurves(400)
	var want []map[string]string
	for _, rule := range []string{"miconi", "a/b=c"} {
		for seed := int64(1); seed <= 2; seed++ {
			var rows []schemas.LearningCurveRow
			for _, r := range all[:100] {
				r.Rule, r.Seed = rule, seed
				rows = append(rows, r)
			}
			p := store.DatasetPath{Campaign: schemastest.Campaign, Stage: "train", Dataset: "learning_curves",
				Partitions: store.TaskRuleSeed("dnms", rule, seed), ContentKey: contentKey(t, fmt.Sprint(rule, seed)), Format: schemas.Parquet}
			if _, err := store.WriteRows(t.Context(), s, p, meta, rows); err != nil {
				t.Fatal(err)
			}
			want = append(want, map[string]string{"task": "dnms", "rule": rule, "seed": fmt.Sprint(seed)})
		}
	}
	slices.SortFunc(want, func(a, b map[string]string) int { // DuckDB's ORDER BY ALL
		return strings.Compare(a["rule"]+"\x00"+a["seed"], b["rule"]+"\x00"+b["seed"])
	})
	prefix, _ := store.StagePrefix(schemastest.Campaign, "train")
	glob := filepath.Join(gateway.Dir, s.Bucket(), prefix, "learning_curves", "*", "*", "*", "*.parquet")
	got := duckdb(t, glob, "--hive")
	if got.Rows != 400 {
		t.Errorf("DuckDB counts %d rows over the stage, want 400", got.Rows)
	}
	if !reflect.DeepEqual(got.Partitions, want) {
		t.Errorf("DuckDB partitions %v, want %v", got.Partitions, want)
	}
}

// TestDuckDBReadsFixedPoints: DuckDB reads every column of a fixed_points
// file (schema version 3) by the names docs/DATASETS.md lists, the list
// columns as lists, and the flattened M×N response row by row.
func TestDuckDBReadsFixedPoints(t *testing.T) {
	rows := schemastest.FixedPoints()
	path := filepath.Join(t.TempDir(), "fixed_points.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.WriteAll(f, schemas.Parquet, meta, rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := duckdb(t, path, "--vector", "response")
	cols, err := schemas.Columns(schemas.FixedPoints)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range cols {
		want = append(want, c.Name)
	}
	if names := columnNames(got); got.Rows != int64(len(rows)) || !slices.Equal(names, want) {
		t.Errorf("DuckDB reads %d rows with columns %v, want %d with %v", got.Rows, names, len(rows), want)
	}
	types := map[string]string{}
	for _, c := range got.Columns {
		types[c.Name] = c.Type
	}
	for name, prefix := range map[string]string{"henrici": "DOUBLE", "index_map": "INTEGER", "set_chao1": "DOUBLE",
		"response": "DOUBLE[", "readout_overlap": "DOUBLE[", "response_norm": "DOUBLE["} {
		if !strings.HasPrefix(types[name], prefix) {
			t.Errorf("DuckDB type of %s = %s, want %s…", name, types[name], prefix)
		}
	}
	if !slices.Equal(got.Vector, rows[0].Response) {
		t.Errorf("DuckDB response of the first row %v, want %v", got.Vector, rows[0].Response)
	}
	if got.KV[schemas.MetaSchemaVersion] != "3" {
		t.Errorf("DuckDB reads schema version %q, want 3", got.KV[schemas.MetaSchemaVersion])
	}
}
