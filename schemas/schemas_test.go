package schemas_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"rulescape/schemas"
	"rulescape/schemas/schemastest"
)

var testMeta = schemas.Meta{Campaign: "c0ffee", ParamsSHA256: strings.Repeat("ab", 32), EngineVersion: "test-1"}

// roundTrip writes rows in format f, reads them back and checks rows and
// metadata.
func roundTrip[R schemas.Row[R]](t *testing.T, f schemas.Format, rows []R) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := schemas.WriteAll(&buf, f, testMeta, rows)
	if err != nil {
		t.Fatalf("write %s: %v", f, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("wrote %d rows, want %d", n, len(rows))
	}
	got, info, err := schemas.ReadAll[R](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("read %s: %v", f, err)
	}
	var zero R
	want := schemas.Info{Kind: zero.Kind(), Version: zero.Kind().Version(), Meta: testMeta}
	if info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	if !schemastest.Equal(got, rows) {
		for i := range rows {
			if !schemastest.Equal(got[i], rows[i]) {
				t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], rows[i])
			}
		}
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []schemas.Format{schemas.Parquet, schemas.ArrowIPC} {
		t.Run(f.String(), func(t *testing.T) {
			t.Run("learning_curves", func(t *testing.T) { roundTrip(t, f, schemastest.LearningCurves(20000)) })
			t.Run("networks", func(t *testing.T) { roundTrip(t, f, schemastest.Networks(3, 7, 2, 1)) })
			t.Run("trajectories", func(t *testing.T) { roundTrip(t, f, schemastest.Trajectories()) })
			t.Run("metaopt_history", func(t *testing.T) { roundTrip(t, f, schemastest.MetaoptHistory()) })
			t.Run("fixed_points", func(t *testing.T) { roundTrip(t, f, schemastest.FixedPoints()) })
			t.Run("rdms", func(t *testing.T) { roundTrip(t, f, schemastest.RDMs()) })
			t.Run("rsa_pairs", func(t *testing.T) { roundTrip(t, f, schemastest.RSAPairs()) })
			t.Run("sensitivity", func(t *testing.T) { roundTrip(t, f, schemastest.Sensitivity()) })
			t.Run("landscape", func(t *testing.T) { roundTrip(t, f, schemastest.Landscape()) })
			t.Run("landscape_pairs", func(t *testing.T) { roundTrip(t, f, schemastest.LandscapePairs()) })
			t.Run("dsa_operators", func(t *testing.T) { roundTrip(t, f, schemastest.DSAOperators()) })
			t.Run("dsa_pairs", func(t *testing.T) { roundTrip(t, f, schemastest.DSAPairs()) })
			t.Run("atlas_networks", func(t *testing.T) { roundTrip(t, f, schemastest.AtlasNetworks()) })
			t.Run("atlas_families", func(t *testing.T) { roundTrip(t, f, schemastest.AtlasFamilies()) })
			t.Run("atlas_rules", func(t *testing.T) { roundTrip(t, f, schemastest.AtlasRules()) })
			t.Run("empty", func(t *testing.T) { roundTrip(t, f, []schemas.TrajectoryRow{}) })
			t.Run("zero-length vector", func(t *testing.T) {
				rows := schemastest.FixedPoints()
				for i := range rows {
					rows[i].U, rows[i].Response, rows[i].ResponseNorm = nil, nil, nil // a task with no inputs: M = 0
				}
				roundTrip(t, f, rows)
			})
		})
	}
}

// TestParquetLayout checks the file itself with the schemas.Parquet reader, not our
// row reader: the metadata keys are in the footer, vector columns are
// fixed_size_list with the first row's length and no nulls, optional floats
// are null, and every column chunk is zstd-compressed.
func TestParquetLayout(t *testing.T) {
	rows := schemastest.MetaoptHistory()
	var buf bytes.Buffer
	if _, err := schemas.WriteAll(&buf, schemas.Parquet, testMeta, rows); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	kv := pf.MetaData().KeyValueMetadata()
	for key, want := range map[string]string{schemas.MetaSchema: "metaopt_history", schemas.MetaSchemaVersion: "3",
		schemas.MetaCampaign: testMeta.Campaign, schemas.MetaParamsSHA256: testMeta.ParamsSHA256, schemas.MetaEngineVersion: testMeta.EngineVersion} {
		if v := kv.FindValue(key); v == nil || *v != want {
			t.Errorf("footer %s = %v, want %q", key, v, want)
		}
	}
	for rg := range pf.NumRowGroups() {
		md := pf.MetaData().RowGroup(rg)
		for c := range md.NumColumns() {
			cc, err := md.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Compression().String(); got != "ZSTD" {
				t.Errorf("column %s compression %s, want ZSTD", cc.PathInSchema(), got)
			}
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if i := s.Metadata().FindKey(schemas.MetaSchema); i < 0 || s.Metadata().Values()[i] != "metaopt_history" {
		t.Errorf("file reader schema metadata %v lacks %s", s.Metadata(), schemas.MetaSchema)
	}
	tbl, err := fr.ReadTable(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for _, name := range []string{"theta", "grad"} {
		col := tbl.Column(tbl.Schema().FieldIndices(name)[0])
		ft, ok := col.DataType().(*arrow.FixedSizeListType)
		if !ok || ft.Len() != 16 || ft.Elem().ID() != arrow.FLOAT64 {
			t.Fatalf("%s type %s, want fixed_size_list<float64>[16]", name, col.DataType())
		}
		// grad is null on the final row alone (its 16 child slots null too).
		wantNulls := map[string]int{"theta": 0, "grad": 1}[name]
		var values []float64
		nulls := 0
		for _, chunk := range col.Data().Chunks() {
			nulls += chunk.NullN()
			l := chunk.(interface {
				ValueOffsets(int) (int64, int64)
				ListValues() arrow.Array
			})
			if got := l.ListValues().NullN(); got != 16*chunk.NullN() {
				t.Errorf("%s has %d null values in %d null lists", name, got, chunk.NullN())
			}
			vals := l.ListValues().(interface{ Value(int) float64 })
			for i := range chunk.Len() {
				if chunk.IsNull(i) {
					continue
				}
				s, e := l.ValueOffsets(i)
				for j := s; j < e; j++ {
					values = append(values, vals.Value(int(j)))
				}
			}
		}
		if nulls != wantNulls {
			t.Errorf("%s has %d null lists, want %d", name, nulls, wantNulls)
		}
		var want []float64
		for _, r := range rows {
			if name == "theta" {
				want = append(want, r.Theta...)
			} else {
				want = append(want, r.Grad...)
			}
		}
		if !reflect.DeepEqual(values, want) {
			t.Errorf("%s values differ from the rows written", name)
		}
	}
	heldout := tbl.Column(tbl.Schema().FieldIndices("heldout_j")[0])
	if got := heldout.NullN(); got != 27 {
		t.Errorf("heldout_j has %d nulls, want 27 (NaN written as null)", got)
	}
}

func TestWriteErrors(t *testing.T) {
	bad := schemastest.Networks(2, 4, 2, 1)
	bad[1].WFinal = bad[1].WFinal[:15]
	traj := schemastest.Trajectories()[:2]
	traj[1].X = traj[1].X[:8]
	lc := schemastest.LearningCurves(1)
	lc[0].Seed = -1
	hist := schemastest.MetaoptHistory()
	nullFirst := []schemas.MetaoptRow{hist[len(hist)-1], hist[0]} // a null grad fixes no length
	for _, tc := range []struct {
		name, want string
		write      func() error
	}{
		{"wrong matrix size", "networks row 1: w_final has 15 values, want 16", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.Parquet, testMeta, bad)
			return err
		}},
		{"ragged fixed_size_list", "column x has 8 values, the dataset's first row had 9", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.ArrowIPC, testMeta, traj)
			return err
		}},
		{"fixed_size_list after a null first row", "column grad has 16 values, the dataset's first row had 0", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.Parquet, testMeta, nullFirst)
			return err
		}},
		{"negative seed", "seed = -1", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.Parquet, testMeta, lc)
			return err
		}},
		{"bad params digest", "params_sha256", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.Parquet, schemas.Meta{ParamsSHA256: "xyz"}, lc)
			return err
		}},
		{"bad format", "unknown format", func() error {
			_, err := schemas.WriteAll(&bytes.Buffer{}, schemas.Format(7), testMeta, schemastest.LearningCurves(1))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := schemas.WriteAll(&buf, schemas.Parquet, testMeta, schemastest.LearningCurves(10)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := schemas.ReadAll[schemas.NetworkRow](bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil ||
		!strings.Contains(err.Error(), "file holds learning_curves, want networks") {
		t.Errorf("reading the wrong kind: %v", err)
	}
	junk := []byte("this is not a dataset at all")
	if _, _, err := schemas.ReadAll[schemas.NetworkRow](bytes.NewReader(junk), int64(len(junk))); err == nil ||
		!strings.Contains(err.Error(), "neither Parquet") {
		t.Errorf("reading junk: %v", err)
	}
}
