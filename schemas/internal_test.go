package schemas

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestFutureVersion(t *testing.T) {
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

func TestColumns(t *testing.T) {
	cols, err := Columns(MetaoptHistory)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Column{
		"theta":     {"theta", "fixed_size_list<float64>", false},
		"heldout_j": {"heldout_j", "float64", true},
		"estimator": {"estimator", "string", false},
		"iter":      {"iter", "int64", false},
	}
	for _, c := range cols {
		if w, ok := want[c.Name]; ok && c != w {
			t.Errorf("column %+v, want %+v", c, w)
		}
	}
	nets, _ := Columns(Networks)
	if nets[7] != (Column{"w0", "list<float64>", false}) {
		t.Errorf("networks column 7 = %+v, want w0 list<float64>", nets[7])
	}
	if _, err := Columns("nope"); err == nil {
		t.Error("Columns accepted an unknown kind")
	}
}

// The reader must honour slice offsets of fixed_size_list arrays, which
// FixedSizeList.ListValues alone ignores.
func TestReadSlicedFixedSizeList(t *testing.T) {
	b := array.NewFixedSizeListBuilder(memory.DefaultAllocator, 2, arrow.PrimitiveTypes.Float64)
	defer b.Release()
	vb := b.ValueBuilder().(*array.Float64Builder)
	for i := range 4 {
		b.Append(true)
		vb.AppendValues([]float64{float64(2 * i), float64(2*i + 1)}, nil)
	}
	arr := b.NewArray()
	defer arr.Release()
	sliced := array.NewSlice(arr, 2, 4)
	defer sliced.Release()
	col := float64Vec("theta", true, func(r *MetaoptRow) *[]float64 { return &r.Theta })
	for i, want := range [][]float64{{4, 5}, {6, 7}} {
		var r MetaoptRow
		col.get(sliced, i, &r)
		if !slices.Equal(r.Theta, want) {
			t.Errorf("row %d of the slice = %v, want %v", i, r.Theta, want)
		}
	}
}
