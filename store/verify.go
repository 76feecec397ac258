package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// Problem names what is wrong with a committed object.
type Problem string

// The problems CheckObject and Check find.
const (
	// ProblemUncommitted: the commit marker of the content key is gone,
	// so no reader (and no cache lookup) finds the object.
	ProblemUncommitted Problem = "uncommitted"
	// ProblemMissing: the marker names an object the store does not have.
	ProblemMissing Problem = "missing"
	// ProblemSize: the object's size differs from the marker's.
	ProblemSize Problem = "size"
	// ProblemDigest: same size, but the bytes' SHA-256 differs from the
	// marker's (corrupted in place).
	ProblemDigest Problem = "digest"
)

// Fault is what CheckObject found wrong with an object: it is an error
// too, one line saying what differs.
type Fault struct {
	Key     string  `json:"key"`
	Problem Problem `json:"problem"`
	Want    int64   `json:"want_size"`            // size the ref records
	Got     int64   `json:"got_size"`             // size in the store (0 when missing)
	WantSHA string  `json:"want_sha256"`          // digest the ref records
	GotSHA  string  `json:"got_sha256,omitempty"` // digest of the bytes read (ProblemDigest only)
}

// Error says what differs, e.g. "…: has 1200 bytes, its commit marker says 1204".
func (f *Fault) Error() string {
	switch f.Problem {
	case ProblemUncommitted:
		return fmt.Sprintf("%s: its commit marker is missing", f.Key)
	case ProblemMissing:
		return fmt.Sprintf("%s: the object is missing", f.Key)
	case ProblemSize:
		return fmt.Sprintf("%s: has %d bytes, its commit marker says %d", f.Key, f.Got, f.Want)
	}
	return fmt.Sprintf("%s: SHA-256 %s, its commit marker says %s (%d bytes, corrupted in place)", f.Key, f.GotSHA, f.WantSHA, f.Want)
}

// Marker returns the ref recorded in the commit marker of contentKey as it
// is, without looking at the object (Lookup also checks the object's size
// and ETag); ok is false when there is no marker.
func (s *Store) Marker(ctx context.Context, contentKey string) (ref DatasetRef, ok bool, err error) {
	if !isDigest(contentKey) {
		return DatasetRef{}, false, fmt.Errorf("store: marker: content key %q: want 64 lowercase hex digits", contentKey)
	}
	m, ok, err := s.readMarker(ctx, contentKey)
	return m.DatasetRef, ok, err
}

// CheckObject reads ref's object in full and compares its size and
// SHA-256 with the ref's. It returns the bytes read, and a *Fault when the
// object is missing or differs (nil when it is good); err is for failures
// to read it at all (a network error), which say nothing about the object.
func (s *Store) CheckObject(ctx context.Context, ref DatasetRef) (read int64, fault *Fault, err error) {
	obj, err := s.Open(ctx, ref.Key)
	if IsNotFound(err) {
		return 0, &Fault{Key: ref.Key, Problem: ProblemMissing, Want: ref.Size, WantSHA: ref.SHA256}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	defer obj.Close()
	if obj.Size() != ref.Size {
		return 0, &Fault{Key: ref.Key, Problem: ProblemSize, Want: ref.Size, Got: obj.Size(), WantSHA: ref.SHA256}, nil
	}
	return CheckReader(obj, ref)
}

// CheckReader hashes r to its end and compares size and SHA-256 with
// ref's, as CheckObject does for an object already open (or a download
// being written: wrap its writer in an io.TeeReader).
func CheckReader(r io.Reader, ref DatasetRef) (read int64, fault *Fault, err error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return n, nil, fmt.Errorf("store: reading %s: %w", ref.Key, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	switch {
	case n != ref.Size:
		return n, &Fault{Key: ref.Key, Problem: ProblemSize, Want: ref.Size, Got: n, WantSHA: ref.SHA256}, nil
	case got != ref.SHA256:
		return n, &Fault{Key: ref.Key, Problem: ProblemDigest, Want: ref.Size, Got: n, WantSHA: ref.SHA256, GotSHA: got}, nil
	}
	return n, nil, nil
}
