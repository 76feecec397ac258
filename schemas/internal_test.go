package schemas

import (
	"io"
	"strings"
	"testing"
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
