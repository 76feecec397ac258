package schemas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// readBatchRows is the number of rows decoded at a time from Parquet.
const readBatchRows = 8 << 10

// Reader reads rows of one dataset kind from a Parquet or Arrow IPC file.
// It holds one decoded batch at a time. A Reader is not safe for concurrent use.
type Reader[R Row[R]] struct {
	info   Info
	format Format
	rows   int64 // −1: unknown until read (Arrow IPC)
	cols   []column[R]
	next   func() (arrow.RecordBatch, error) // io.EOF at the end; the batch is released by the reader
	close  func() error
}

// NewReader opens the file of size bytes behind r, detects its format from
// its magic bytes, and checks that it holds kind R at the version this build
// reads. r may return io.EOF together with a full read at the end of the
// file (as minio-go objects do).
func NewReader[R Row[R]](r io.ReaderAt, size int64) (*Reader[R], error) {
	var zero R
	kind := zero.Kind()
	ra := io.NewSectionReader(fullReadAt{r}, 0, size)
	magic := make([]byte, 6)
	if _, err := ra.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("schemas: reading %s: file of %d bytes too short or unreadable: %w", kind, size, err)
	}
	rd := &Reader[R]{cols: zero.columns()}
	var err error
	switch {
	case string(magic[:4]) == "PAR1":
		rd.format = Parquet
		err = rd.openParquet(ra, kind)
	case string(magic) == "ARROW1":
		rd.format = ArrowIPC
		err = rd.openIPC(ra, kind)
	default:
		return nil, fmt.Errorf("schemas: reading %s: neither Parquet (PAR1) nor Arrow IPC (ARROW1) magic at the start of the file", kind)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func (rd *Reader[R]) openParquet(ra *io.SectionReader, kind Kind) error {
	mem := memory.DefaultAllocator
	pf, err := file.NewParquetReader(ra, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return fmt.Errorf("schemas: reading %s: not a valid Parquet file: %w", kind, err)
	}
	// The metadata is read from the Parquet footer's key/value pairs: the
	// table returned by pqarrow.ReadTable carries none.
	kv := pf.MetaData().KeyValueMetadata()
	info, err := infoFrom(func(key string) string {
		if v := kv.FindValue(key); v != nil {
			return *v
		}
		return ""
	}, kind)
	if err != nil {
		pf.Close()
		return err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, mem)
	if err != nil {
		pf.Close()
		return fmt.Errorf("schemas: reading %s: %w", kind, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		pf.Close()
		return fmt.Errorf("schemas: reading %s: %w", kind, err)
	}
	rd.info, rd.rows = info, pf.NumRows()
	rd.next = func() (arrow.RecordBatch, error) {
		if rr.Next() {
			return rr.RecordBatch(), nil
		}
		if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, io.EOF
	}
	rd.close = func() error {
		rr.Release()
		return pf.Close()
	}
	return nil
}

func (rd *Reader[R]) openIPC(ra *io.SectionReader, kind Kind) error {
	fr, err := ipc.NewFileReader(ra, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return fmt.Errorf("schemas: reading %s: not a valid Arrow IPC file: %w", kind, err)
	}
	md := fr.Schema().Metadata()
	info, err := infoFrom(func(key string) string {
		if i := md.FindKey(key); i >= 0 {
			return md.Values()[i]
		}
		return ""
	}, kind)
	if err != nil {
		fr.Close()
		return err
	}
	rd.info, rd.rows = info, -1
	var prev arrow.RecordBatch
	rd.next = func() (arrow.RecordBatch, error) {
		if prev != nil {
			prev.Release()
			prev = nil
		}
		rec, err := fr.Read()
		if err != nil {
			return nil, err
		}
		rec.Retain()
		prev = rec
		return rec, nil
	}
	rd.close = func() error {
		if prev != nil {
			prev.Release()
		}
		return fr.Close()
	}
	return nil
}

// Info returns the file's kind, version and provenance.
func (rd *Reader[R]) Info() Info { return rd.info }

// Format returns the file's format.
func (rd *Reader[R]) Format() Format { return rd.format }

// NumRows returns the number of rows in a Parquet file (from its footer), or
// −1 for Arrow IPC, whose footer does not record it.
func (rd *Reader[R]) NumRows() int64 { return rd.rows }

// All returns an iterator over the rows. It stops at the first error, which
// it yields with a zero row. All can be ranged over once.
func (rd *Reader[R]) All() iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var idx []int
		for {
			rec, err := rd.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var zero R
				yield(zero, fmt.Errorf("schemas: reading %s: %w", rd.info.Kind, err))
				return
			}
			if idx == nil {
				if idx, err = rd.match(rec.Schema()); err != nil {
					var zero R
					yield(zero, err)
					return
				}
			}
			arrays := make([]arrow.Array, len(idx))
			for j, k := range idx {
				arrays[j] = rec.Column(k)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				var r R
				for j, c := range rd.cols {
					c.get(arrays[j], i, &r)
				}
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// match finds each column of R in the file by name and checks its type.
// Extra columns in the file are ignored.
func (rd *Reader[R]) match(s *arrow.Schema) ([]int, error) {
	idx := make([]int, len(rd.cols))
	for j, c := range rd.cols {
		k := s.FieldIndices(c.name)
		if len(k) != 1 {
			return nil, fmt.Errorf("schemas: %s file has %d columns named %q, want 1", rd.info.Kind, len(k), c.name)
		}
		if t := s.Field(k[0]).Type; !c.accepts(t) {
			return nil, fmt.Errorf("schemas: %s file: column %s has type %s, want %s", rd.info.Kind, c.name, t, c.typ(1))
		}
		idx[j] = k[0]
	}
	return idx, nil
}

// Close releases the reader. It does not close the underlying io.ReaderAt.
func (rd *Reader[R]) Close() error { return rd.close() }

// ReadAll reads every row of the file of size bytes behind r.
func ReadAll[R Row[R]](r io.ReaderAt, size int64) ([]R, Info, error) {
	rd, err := NewReader[R](r, size)
	if err != nil {
		return nil, Info{}, err
	}
	defer rd.Close()
	var rows []R
	if n := rd.NumRows(); n > 0 {
		rows = make([]R, 0, n)
	}
	for row, err := range rd.All() {
		if err != nil {
			return nil, rd.Info(), err
		}
		rows = append(rows, row)
	}
	return rows, rd.Info(), nil
}

// fullReadAt treats io.EOF returned together with a full read as success.
// io.ReaderAt allows that, and minio-go objects do it at the exact end of
// the object, but the Arrow IPC footer reader rejects it.
type fullReadAt struct{ r io.ReaderAt }

func (f fullReadAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.r.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}
