package schemas

import "fmt"

// Format is a file format of a dataset.
type Format int

// The file formats.
const (
	// Parquet with zstd compression: the default, read by DuckDB, pandas,
	// polars, Spark and R.
	Parquet Format = iota
	// ArrowIPC is the Arrow IPC file format with LZ4-frame compressed
	// buffers, for zero-copy Arrow users.
	ArrowIPC
)

// String returns "parquet" or "arrow".
func (f Format) String() string {
	switch f {
	case Parquet:
		return "parquet"
	case ArrowIPC:
		return "arrow"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Ext returns the file name extension with its dot: ".parquet" or ".arrow".
func (f Format) Ext() string { return "." + f.String() }

// ContentType returns the media type of the format.
func (f Format) ContentType() string {
	switch f {
	case Parquet:
		return "application/vnd.apache.parquet"
	case ArrowIPC:
		return "application/vnd.apache.arrow.file"
	}
	return "application/octet-stream"
}

// ParseFormat parses "parquet" or "arrow" (also "ipc").
func ParseFormat(s string) (Format, error) {
	switch s {
	case "parquet":
		return Parquet, nil
	case "arrow", "ipc":
		return ArrowIPC, nil
	}
	return 0, fmt.Errorf("schemas: format %q: want parquet or arrow", s)
}

func (f Format) valid() bool { return f == Parquet || f == ArrowIPC }
