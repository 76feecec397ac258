package schemas

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// column maps one field of a row struct R onto one Arrow column. Columns are
// built from accessor functions returning a pointer to the field, so the same
// accessor serves writing and reading and no reflection is involved.
type column[R any] struct {
	name string
	// typ returns the column's Arrow type; size is the list length of a
	// fixed_size_list column and ignored otherwise.
	typ func(size int) arrow.DataType
	// length returns the length of a fixed_size_list row value; nil for other columns.
	length func(r *R) int
	// put appends the row's value to the column's builder.
	put func(b array.Builder, r *R)
	// get sets the row's field from element i of an array accepted by accepts.
	get func(a arrow.Array, i int, r *R)
	// accepts reports whether an array of type t can be read into the field.
	accepts func(t arrow.DataType) bool
	// bytes estimates the row value's size, for batching.
	bytes func(r *R) int
	// nullable is set for columns that hold nulls (NaN in Go).
	nullable bool
}

func scalarType(t arrow.DataType) func(int) arrow.DataType {
	return func(int) arrow.DataType { return t }
}

func isType(id arrow.Type) func(arrow.DataType) bool {
	return func(t arrow.DataType) bool { return t.ID() == id }
}

func eightBytes[R any](*R) int { return 8 }

func int64Col[R any](name string, f func(*R) *int64) column[R] {
	return column[R]{name: name, typ: scalarType(arrow.PrimitiveTypes.Int64), accepts: isType(arrow.INT64), bytes: eightBytes[R],
		put: func(b array.Builder, r *R) { b.(*array.Int64Builder).Append(*f(r)) },
		get: func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Int64).Value(i) }}
}

func int32Col[R any](name string, f func(*R) *int32) column[R] {
	return column[R]{name: name, typ: scalarType(arrow.PrimitiveTypes.Int32), accepts: isType(arrow.INT32), bytes: eightBytes[R],
		put: func(b array.Builder, r *R) { b.(*array.Int32Builder).Append(*f(r)) },
		get: func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Int32).Value(i) }}
}

func float64Col[R any](name string, f func(*R) *float64) column[R] {
	return column[R]{name: name, typ: scalarType(arrow.PrimitiveTypes.Float64), accepts: isType(arrow.FLOAT64), bytes: eightBytes[R],
		put: func(b array.Builder, r *R) { b.(*array.Float64Builder).Append(*f(r)) },
		get: func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Float64).Value(i) }}
}

// optFloat64Col is a nullable float64 column: NaN in Go is null in the file
// and null reads back as NaN. Use it for values that may be absent (a
// held-out objective not evaluated this iteration), never for values that
// can be NaN for a reason (a diverged error).
func optFloat64Col[R any](name string, f func(*R) *float64) column[R] {
	c := float64Col(name, f)
	c.nullable = true
	c.put = func(b array.Builder, r *R) {
		if v := *f(r); math.IsNaN(v) {
			b.AppendNull()
		} else {
			b.(*array.Float64Builder).Append(v)
		}
	}
	c.get = func(a arrow.Array, i int, r *R) {
		if a.IsNull(i) {
			*f(r) = math.NaN()
		} else {
			*f(r) = a.(*array.Float64).Value(i)
		}
	}
	return c
}

func stringCol[R any](name string, f func(*R) *string) column[R] {
	return column[R]{name: name, typ: scalarType(arrow.BinaryTypes.String), accepts: isType(arrow.STRING),
		bytes: func(r *R) int { return len(*f(r)) + 4 },
		put:   func(b array.Builder, r *R) { b.(*array.StringBuilder).Append(*f(r)) },
		get:   func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.String).Value(i) }}
}

func boolCol[R any](name string, f func(*R) *bool) column[R] {
	return column[R]{name: name, typ: scalarType(arrow.FixedWidthTypes.Boolean), accepts: isType(arrow.BOOL),
		bytes: func(*R) int { return 1 },
		put:   func(b array.Builder, r *R) { b.(*array.BooleanBuilder).Append(*f(r)) },
		get:   func(a arrow.Array, i int, r *R) { *f(r) = a.(*array.Boolean).Value(i) }}
}

// listLike is satisfied by List, LargeList and FixedSizeList arrays. Their
// ValueOffsets account for the array's slice offset (ListValues alone does
// not, for FixedSizeList), so reading through it is correct for sliced arrays.
type listLike interface {
	arrow.Array
	ValueOffsets(i int) (start, end int64)
	ListValues() arrow.Array
}

// listOf reports whether t is a list, large list or fixed-size list of elem.
func listOf(elem arrow.Type) func(arrow.DataType) bool {
	return func(t arrow.DataType) bool {
		l, ok := t.(arrow.ListLikeType)
		return ok && l.Elem().ID() == elem
	}
}

// vectorCol builds a list column of element type E. fixed selects
// fixed_size_list (one length per dataset) over list (any length per row).
func vectorCol[R any, E any](name string, fixed bool, elem arrow.DataType, f func(*R) *[]E,
	appendValues func(b array.Builder, v []E), values func(a arrow.Array, start, end int64) []E) column[R] {
	c := column[R]{name: name, accepts: listOf(elem.ID()),
		bytes: func(r *R) int { return 8*len(*f(r)) + 8 },
		get: func(a arrow.Array, i int, r *R) {
			l := a.(listLike)
			start, end := l.ValueOffsets(i)
			if l.IsNull(i) || start == end {
				*f(r) = nil
				return
			}
			*f(r) = values(l.ListValues(), start, end)
		}}
	c.typ = scalarType(arrow.ListOf(elem))
	if fixed {
		// Arrow has no fixed_size_list of length 0: a vector that is empty in
		// the first row (M = 0 inputs) or in an empty dataset is a list.
		c.typ = func(size int) arrow.DataType {
			if size == 0 {
				return arrow.ListOf(elem)
			}
			return arrow.FixedSizeListOf(int32(size), elem)
		}
		c.length = func(r *R) int { return len(*f(r)) }
	}
	c.put = func(b array.Builder, r *R) {
		switch lb := b.(type) {
		case *array.FixedSizeListBuilder:
			lb.Append(true)
			appendValues(lb.ValueBuilder(), *f(r))
		case *array.ListBuilder:
			lb.Append(true)
			appendValues(lb.ValueBuilder(), *f(r))
		}
	}
	return c
}

// optFloat64Vec is float64Vec whose value may be absent: a nil vector is a
// null in the file and reads back as nil (a gradient not estimated at the
// row's Θ). A fixed-size column takes its length from the first row, as
// float64Vec's does; when that row is null the column is a list, and a
// later non-null row is an error.
func optFloat64Vec[R any](name string, fixed bool, f func(*R) *[]float64) column[R] {
	c := float64Vec(name, fixed, f)
	c.nullable = true
	if c.length != nil {
		c.length = func(r *R) int {
			if *f(r) == nil {
				return -1
			}
			return len(*f(r))
		}
	}
	put := c.put
	c.put = func(b array.Builder, r *R) {
		if *f(r) == nil {
			b.AppendNull()
			return
		}
		put(b, r)
	}
	return c
}

func float64Vec[R any](name string, fixed bool, f func(*R) *[]float64) column[R] {
	return vectorCol(name, fixed, arrow.PrimitiveTypes.Float64, f,
		func(b array.Builder, v []float64) { b.(*array.Float64Builder).AppendValues(v, nil) },
		func(a arrow.Array, s, e int64) []float64 {
			return append([]float64(nil), a.(*array.Float64).Float64Values()[s:e]...)
		})
}

func float32Vec[R any](name string, fixed bool, f func(*R) *[]float32) column[R] {
	c := vectorCol(name, fixed, arrow.PrimitiveTypes.Float32, f,
		func(b array.Builder, v []float32) { b.(*array.Float32Builder).AppendValues(v, nil) },
		func(a arrow.Array, s, e int64) []float32 {
			return append([]float32(nil), a.(*array.Float32).Float32Values()[s:e]...)
		})
	c.bytes = func(r *R) int { return 4*len(*f(r)) + 8 }
	return c
}

func int32Vec[R any](name string, fixed bool, f func(*R) *[]int32) column[R] {
	c := vectorCol(name, fixed, arrow.PrimitiveTypes.Int32, f,
		func(b array.Builder, v []int32) { b.(*array.Int32Builder).AppendValues(v, nil) },
		func(a arrow.Array, s, e int64) []int32 {
			return append([]int32(nil), a.(*array.Int32).Int32Values()[s:e]...)
		})
	c.bytes = func(r *R) int { return 4*len(*f(r)) + 8 }
	return c
}

func stringVec[R any](name string, f func(*R) *[]string) column[R] {
	c := vectorCol(name, false, arrow.BinaryTypes.String, f,
		func(b array.Builder, v []string) { b.(*array.StringBuilder).AppendValues(v, nil) },
		func(a arrow.Array, s, e int64) []string {
			sa := a.(*array.String)
			out := make([]string, 0, e-s)
			for j := s; j < e; j++ {
				out = append(out, sa.Value(int(j)))
			}
			return out
		})
	c.bytes = func(r *R) int {
		n := 8
		for _, s := range *f(r) {
			n += len(s) + 4
		}
		return n
	}
	return c
}
