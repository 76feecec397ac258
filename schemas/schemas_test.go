package schemas

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var testMeta = Meta{Campaign: "c0ffee", ParamsSHA256: strings.Repeat("ab", 32), EngineVersion: "test-1"}

func floats(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func floats32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func learningCurveRows(n int) []LearningCurveRow {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]LearningCurveRow, n)
	for i := range rows {
		e := rng.Float64()
		rows[i] = LearningCurveRow{Campaign: "c0ffee", Task: "dnms", Rule: []string{"miconi", "node_perturbation"}[i%2],
			Seed: int64(i % 7), Trial: int64(i), Condition: int32(i % 4), Error: e, Reward: -e, Correct: e < 0.5}
	}
	if n > 3 {
		rows[3].Error, rows[3].Reward = math.NaN(), math.NaN() // a diverged trial stays NaN, not null
	}
	return rows
}

func networkRows(count, n, m, o int) []NetworkRow {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([]NetworkRow, count)
	for i := range rows {
		rows[i] = NetworkRow{Campaign: "c0ffee", Task: "dnms", Rule: "miconi", Seed: int64(i),
			N: int32(n), M: int32(m), O: int32(o),
			W0: floats(rng, n*n), WFinal: floats(rng, n*n), WIn: floats(rng, n*m), WOut: floats(rng, o*n), B: floats(rng, n),
			ClampIndex: []int32{0, 1, 2}, ClampValue: []float64{1, 1, -1}, Trials: 1000, TrialsToCriterion: int64(i) - 1}
	}
	return rows
}

func trajectoryRows() []TrajectoryRow {
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []TrajectoryRow
	for c := range 4 {
		for t := range 25 {
			rows = append(rows, TrajectoryRow{Campaign: "c0ffee", Task: "dnms", Rule: "miconi", Seed: 3, Network: "final",
				Condition: int32(c), T: int32(t), Trials: 50, X: floats32(rng, 9), Y: floats32(rng, 1)})
		}
	}
	return rows
}

func metaoptRows() []MetaoptRow {
	rng := rand.New(rand.NewPCG(7, 8))
	rows := make([]MetaoptRow, 30)
	for i := range rows {
		g := floats(rng, 16)
		rows[i] = MetaoptRow{Campaign: "c0ffee", Task: "dnms", Estimator: "projection", Directions: 4, Seed: 9, Iter: int64(i),
			Theta: floats(rng, 16), LogEta: math.NaN(), J: -rng.Float64(), Grad: g, GradNorm: math.Sqrt(dot(g, g)),
			HeldoutJ: math.NaN(), LR: 0.01, WallSeconds: 1.5}
		if i%10 == 0 {
			rows[i].HeldoutJ = -0.25
			rows[i].LogEta = math.Log(0.003)
		}
	}
	return rows
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func fixedPointRows() []FixedPointRow {
	rng := rand.New(rand.NewPCG(9, 10))
	rows := make([]FixedPointRow, 12)
	for i := range rows {
		rows[i] = FixedPointRow{Campaign: "c0ffee", Task: "flipflop", Rule: "miconi", Seed: 1, Network: "final",
			Input: fmt.Sprintf("cond=%d", i%3), U: floats(rng, 3), X: floats(rng, 6), Q: 1e-9 * rng.Float64(), Slow: i%5 == 0,
			EigRe: floats(rng, 6), EigIm: floats(rng, 6), Index: int32(i % 3), Type: []string{"stable", "saddle", "saddle"}[i%3]}
	}
	return rows
}

func rdmRows() []RDMRow {
	rng := rand.New(rand.NewPCG(11, 12))
	rows := make([]RDMRow, 3)
	for i := range rows {
		rows[i] = RDMRow{Campaign: "c0ffee", Task: "dnms", Rule: "miconi", Seed: int64(i), Network: "final", Space: "x",
			Epoch: "delay", Metric: "correlation", K: 4, Labels: []string{"AA", "AB", "BA", "BB"}, D: floats(rng, 16)}
	}
	return rows
}

func rsaPairRows() []RSAPairRow {
	return []RSAPairRow{
		{Campaign: "c0ffee", Task: "dnms", Space: "x", Epoch: "delay", Method: "spearman", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "node_perturbation", BSeed: 2, BNetwork: "final", Value: 0.75, PValue: 0.01, Permutations: 1000},
		{Campaign: "c0ffee", Task: "dnms", Space: "r", Epoch: "all", Method: "cka", ARule: "miconi", ASeed: 1, ANetwork: "final",
			BRule: "miconi", BSeed: 3, BNetwork: "initial", Value: 0.5, PValue: math.NaN()},
	}
}

func sensitivityRows() []SensitivityRow {
	rng := rand.New(rand.NewPCG(13, 14))
	rows := make([]SensitivityRow, 2)
	for i := range rows {
		rows[i] = SensitivityRow{Campaign: "c0ffee", Task: "dnms", Rule: "miconi", Seed: int64(i), Network: "final",
			Score: rng.Float64(), GradNorm: rng.Float64(), SingularValues: floats(rng, 10), AlignmentDW: 0.3,
			Epsilon: 1e-3, ShiftTop: 0.2, ShiftRandom: 0.01}
	}
	return rows
}

// equalRows compares rows field by field, treating NaN as equal to NaN.
func equalRows(a, b any) bool {
	return reflect.DeepEqual(nanToSentinel(a), nanToSentinel(b))
}

// nanToSentinel returns a copy in which every float NaN is replaced by a
// sentinel, so that reflect.DeepEqual can compare rows that contain NaN.
func nanToSentinel(x any) any {
	v := reflect.ValueOf(x)
	out := reflect.New(v.Type()).Elem()
	copyNaN(out, v)
	return out.Interface()
}

func copyNaN(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Float64, reflect.Float32:
		f := src.Float()
		if math.IsNaN(f) {
			f = -12345.678
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			copyNaN(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		for i := range src.NumField() {
			copyNaN(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

// roundTrip writes rows in format f, reads them back and checks rows and
// metadata.
func roundTrip[R Row[R]](t *testing.T, f Format, rows []R) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := WriteAll(&buf, f, testMeta, rows)
	if err != nil {
		t.Fatalf("write %s: %v", f, err)
	}
	if n != int64(len(rows)) {
		t.Fatalf("wrote %d rows, want %d", n, len(rows))
	}
	got, info, err := ReadAll[R](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("read %s: %v", f, err)
	}
	var zero R
	want := Info{Kind: zero.Kind(), Version: zero.Kind().Version(), Meta: testMeta}
	if info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	if !equalRows(got, rows) {
		for i := range rows {
			if !equalRows(got[i], rows[i]) {
				t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], rows[i])
			}
		}
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{Parquet, ArrowIPC} {
		t.Run(f.String(), func(t *testing.T) {
			t.Run("learning_curves", func(t *testing.T) { roundTrip(t, f, learningCurveRows(20000)) })
			t.Run("networks", func(t *testing.T) { roundTrip(t, f, networkRows(3, 7, 2, 1)) })
			t.Run("trajectories", func(t *testing.T) { roundTrip(t, f, trajectoryRows()) })
			t.Run("metaopt_history", func(t *testing.T) { roundTrip(t, f, metaoptRows()) })
			t.Run("fixed_points", func(t *testing.T) { roundTrip(t, f, fixedPointRows()) })
			t.Run("rdms", func(t *testing.T) { roundTrip(t, f, rdmRows()) })
			t.Run("rsa_pairs", func(t *testing.T) { roundTrip(t, f, rsaPairRows()) })
			t.Run("sensitivity", func(t *testing.T) { roundTrip(t, f, sensitivityRows()) })
			t.Run("empty", func(t *testing.T) { roundTrip(t, f, []TrajectoryRow{}) })
			t.Run("zero-length vector", func(t *testing.T) {
				rows := fixedPointRows()
				for i := range rows {
					rows[i].U = nil // a task with no inputs: M = 0
				}
				roundTrip(t, f, rows)
			})
		})
	}
}

// TestParquetLayout checks the file itself with the Parquet reader, not our
// row reader: the metadata keys are in the footer, vector columns are
// fixed_size_list with the first row's length and no nulls, optional floats
// are null, and every column chunk is zstd-compressed.
func TestParquetLayout(t *testing.T) {
	rows := metaoptRows()
	var buf bytes.Buffer
	if _, err := WriteAll(&buf, Parquet, testMeta, rows); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	kv := pf.MetaData().KeyValueMetadata()
	for key, want := range map[string]string{MetaSchema: "metaopt_history", MetaSchemaVersion: "1",
		MetaCampaign: testMeta.Campaign, MetaParamsSHA256: testMeta.ParamsSHA256, MetaEngineVersion: testMeta.EngineVersion} {
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
	if i := s.Metadata().FindKey(MetaSchema); i < 0 || s.Metadata().Values()[i] != "metaopt_history" {
		t.Errorf("file reader schema metadata %v lacks %s", s.Metadata(), MetaSchema)
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
		var values []float64
		for _, chunk := range col.Data().Chunks() {
			if chunk.NullN() != 0 {
				t.Errorf("%s has %d null lists", name, chunk.NullN())
			}
			l := chunk.(listLike)
			if l.ListValues().NullN() != 0 {
				t.Errorf("%s has %d null values", name, l.ListValues().NullN())
			}
			vals := l.ListValues().(interface{ Value(int) float64 })
			for i := range chunk.Len() {
				s, e := l.ValueOffsets(i)
				for j := s; j < e; j++ {
					values = append(values, vals.Value(int(j)))
				}
			}
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
	bad := networkRows(2, 4, 2, 1)
	bad[1].WFinal = bad[1].WFinal[:15]
	traj := trajectoryRows()[:2]
	traj[1].X = traj[1].X[:8]
	lc := learningCurveRows(1)
	lc[0].Seed = -1
	for _, tc := range []struct {
		name, want string
		write      func() error
	}{
		{"wrong matrix size", "networks row 1: w_final has 15 values, want 16", func() error {
			_, err := WriteAll(&bytes.Buffer{}, Parquet, testMeta, bad)
			return err
		}},
		{"ragged fixed_size_list", "column x has 8 values, the dataset's first row had 9", func() error {
			_, err := WriteAll(&bytes.Buffer{}, ArrowIPC, testMeta, traj)
			return err
		}},
		{"negative seed", "seed = -1", func() error {
			_, err := WriteAll(&bytes.Buffer{}, Parquet, testMeta, lc)
			return err
		}},
		{"bad params digest", "params_sha256", func() error {
			_, err := WriteAll(&bytes.Buffer{}, Parquet, Meta{ParamsSHA256: "xyz"}, lc)
			return err
		}},
		{"bad format", "unknown format", func() error {
			_, err := WriteAll(&bytes.Buffer{}, Format(7), testMeta, learningCurveRows(1))
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
	if _, err := WriteAll(&buf, Parquet, testMeta, learningCurveRows(10)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadAll[NetworkRow](bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil ||
		!strings.Contains(err.Error(), "file holds learning_curves, want networks") {
		t.Errorf("reading the wrong kind: %v", err)
	}
	junk := []byte("this is not a dataset at all")
	if _, _, err := ReadAll[NetworkRow](bytes.NewReader(junk), int64(len(junk))); err == nil ||
		!strings.Contains(err.Error(), "neither Parquet") {
		t.Errorf("reading junk: %v", err)
	}
	future := func(key string) string {
		if key == MetaSchemaVersion {
			return "99"
		}
		if key == MetaSchema {
			return "networks"
		}
		return ""
	}
	if _, err := infoFrom(future, Networks); err == nil || !strings.Contains(err.Error(), "schema version 99, this build reads version 1") {
		t.Errorf("future version: %v", err)
	}
}

// fullReadAt must turn minio-go's (n == len(p), io.EOF) at the end of an
// object into success, and leave short reads alone.
func TestFullReadAt(t *testing.T) {
	data := []byte("0123456789")
	r := fullReadAt{eofAtEnd{data}}
	p := make([]byte, 4)
	if n, err := r.ReadAt(p, 6); n != 4 || err != nil {
		t.Errorf("full read at the end: n=%d err=%v, want 4, nil", n, err)
	}
	if n, err := r.ReadAt(p, 8); n != 2 || err == nil {
		t.Errorf("short read: n=%d err=%v, want 2 and io.EOF", n, err)
	}
}

type eofAtEnd struct{ b []byte }

func (e eofAtEnd) ReadAt(p []byte, off int64) (int, error) {
	n := copy(p, e.b[off:])
	if off+int64(n) == int64(len(e.b)) {
		return n, io.EOF
	}
	return n, nil
}
