package schemas

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// A batch (one Parquet row group, one IPC record batch) is flushed when it
// reaches batchRows rows or about batchBytes bytes, which bounds the memory
// a writer holds whatever the row size.
const (
	batchRows  = 64 << 10
	batchBytes = 32 << 20
)

// Writer streams rows of one dataset kind to an io.Writer in Parquet or
// Arrow IPC. It never seeks, so the destination can be a pipe into an S3
// upload. Rows are encoded as they are written (the writer keeps no
// reference to them). A Writer is not safe for concurrent use.
type Writer[R Row[R]] struct {
	out    io.Writer
	format Format
	meta   Meta
	kind   Kind
	cols   []column[R]

	sizes      []int // fixed_size_list lengths, from the first row
	rb         *array.RecordBuilder
	sink       sink
	rows       int64
	batchRows  int
	batchBytes int
	err        error // sticky
	closed     bool
}

// NewWriter returns a writer of rows of type R to w. The file is complete
// only after Close returns nil.
func NewWriter[R Row[R]](w io.Writer, format Format, meta Meta) (*Writer[R], error) {
	var zero R
	if !format.valid() {
		return nil, fmt.Errorf("schemas: unknown format %v: want Parquet or ArrowIPC", format)
	}
	if err := meta.Validate(); err != nil {
		return nil, err
	}
	return &Writer[R]{out: w, format: format, meta: meta, kind: zero.Kind(), cols: zero.columns()}, nil
}

// Write encodes rows. A row that fails validation (a matrix of the wrong
// size, a fixed-size vector whose length differs from the first row's) is
// an error naming the column, and the writer refuses further writes.
func (w *Writer[R]) Write(rows ...R) error {
	if w.closed {
		return fmt.Errorf("schemas: %s writer: Write after Close", w.kind)
	}
	if w.err != nil {
		return w.err
	}
	for i := range rows {
		r := &rows[i]
		if err := (*r).validate(); err != nil {
			return w.fail(fmt.Errorf("schemas: %s row %d: %w", w.kind, w.rows, err))
		}
		if w.rb == nil {
			w.start(r)
		}
		for j, c := range w.cols {
			if c.length != nil {
				if n := c.length(r); n >= 0 && n != w.sizes[j] { // -1: a null vector
					return w.fail(fmt.Errorf("schemas: %s row %d: column %s has %d values, the dataset's first row had %d (a fixed_size_list column has one length per dataset)",
						w.kind, w.rows, c.name, n, w.sizes[j]))
				}
			}
			c.put(w.rb.Field(j), r)
			w.batchBytes += c.bytes(r)
		}
		w.rows++
		w.batchRows++
		if w.batchRows >= batchRows || w.batchBytes >= batchBytes {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rows returns the number of rows written so far.
func (w *Writer[R]) Rows() int64 { return w.rows }

// Close flushes the last batch and writes the file footer. It does not close
// the underlying io.Writer. A dataset with no rows is a valid file whose
// fixed_size_list columns have length 0.
func (w *Writer[R]) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.rb == nil {
		w.start(nil)
	}
	if w.batchRows > 0 || w.sink == nil {
		if err := w.flush(); err != nil {
			return err
		}
	}
	defer w.rb.Release()
	if err := w.sink.close(); err != nil {
		return w.fail(fmt.Errorf("schemas: %s: finishing the %s file: %w", w.kind, w.format, err))
	}
	return nil
}

func (w *Writer[R]) fail(err error) error {
	w.err = err
	return err
}

// start fixes the schema from the first row (nil: an empty dataset).
func (w *Writer[R]) start(first *R) {
	w.sizes = make([]int, len(w.cols))
	fields := make([]arrow.Field, len(w.cols))
	for j, c := range w.cols {
		if c.length != nil && first != nil {
			w.sizes[j] = max(c.length(first), 0)
		}
		fields[j] = arrow.Field{Name: c.name, Type: c.typ(w.sizes[j]), Nullable: true}
	}
	md := w.meta.metadata(w.kind)
	w.rb = array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, &md))
}

func (w *Writer[R]) flush() error {
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.batchRows, w.batchBytes = 0, 0
	if w.sink == nil {
		s, err := newSink(w.out, w.format, w.rb.Schema())
		if err != nil {
			return w.fail(fmt.Errorf("schemas: %s: starting the %s file: %w", w.kind, w.format, err))
		}
		w.sink = s
	}
	if err := w.sink.write(rec); err != nil {
		return w.fail(fmt.Errorf("schemas: %s: writing %d rows: %w", w.kind, rec.NumRows(), err))
	}
	return nil
}

// WriteAll writes rows as one complete file and returns the number of rows.
func WriteAll[R Row[R]](w io.Writer, format Format, meta Meta, rows []R) (int64, error) {
	wr, err := NewWriter[R](w, format, meta)
	if err != nil {
		return 0, err
	}
	if err := wr.Write(rows...); err != nil {
		return 0, errors.Join(err, wr.Close())
	}
	if err := wr.Close(); err != nil {
		return 0, err
	}
	return wr.Rows(), nil
}

type sink interface {
	write(rec arrow.RecordBatch) error
	close() error
}

// writerOnly hides a Close method: the Parquet file writer closes its sink
// if it can, and the caller owns the io.Writer.
type writerOnly struct{ io.Writer }

func newSink(w io.Writer, format Format, schema *arrow.Schema) (sink, error) {
	w = writerOnly{w}
	if format == ArrowIPC {
		fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema), ipc.WithLZ4(), ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			return nil, err
		}
		return ipcSink{fw}, nil
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(batchRows),
		parquet.WithAllocator(memory.DefaultAllocator),
		// Dictionary encoding pays for repeated labels (task, rule, …),
		// not for floating-point data.
		parquet.WithDictionaryDefault(false),
	}
	for _, f := range schema.Fields() {
		if f.Type.ID() == arrow.STRING {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true))
		}
	}
	fw, err := pqarrow.NewFileWriter(schema, w, parquet.NewWriterProperties(opts...),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return parquetSink{fw}, nil
}

type parquetSink struct{ fw *pqarrow.FileWriter }

func (s parquetSink) write(rec arrow.RecordBatch) error { return s.fw.Write(rec) }
func (s parquetSink) close() error                      { return s.fw.Close() }

type ipcSink struct{ fw *ipc.FileWriter }

func (s ipcSink) write(rec arrow.RecordBatch) error { return s.fw.Write(rec) }
func (s ipcSink) close() error                      { return s.fw.Close() }
