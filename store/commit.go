package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"rulescape/schemas"
)

// DatasetRef identifies a committed dataset. It is small and
// JSON-serializable: it is what travels through Temporal.
type DatasetRef struct {
	Key    string `json:"key"`    // object key of the data
	SHA256 string `json:"sha256"` // hex SHA-256 of the object's bytes
	Rows   int64  `json:"rows"`
	Schema string `json:"schema"` // schema kind and version, e.g. "learning_curves@1"
	Size   int64  `json:"size"`   // bytes
}

// marker is the commit marker stored at commits/<content key>.json.
type marker struct {
	DatasetRef
	ContentKey string    `json:"content_key"`
	ETag       string    `json:"etag"`
	Committed  time.Time `json:"committed"`
	Doc        *KeyDoc   `json:"key_doc,omitempty"` // what the content key is the digest of (DatasetPath.KeyDoc)
	// Provenance is where and how the dataset was computed (the Runner of
	// the commit's context); absent in markers written before it existed.
	Provenance *Provenance `json:"provenance,omitempty"`
}

// WriteFunc writes a dataset's bytes to w and returns its number of rows.
type WriteFunc func(w io.Writer) (rows int64, err error)

// Commit uploads the output of write to the object at p.Key() and then, if
// and only if the upload completed, creates the commit marker. Output up to
// 8 MiB is buffered and uploaded in one request; beyond that it streams
// through a pipe into a multipart upload (no temporary file; memory bounded
// by the buffer and one 16 MiB part). schema is recorded in the ref (schemas.Kind.ID()).
//
// The marker is created with a conditional write (If-None-Match: *), so a
// concurrent writer of the same content key — another campaign computing
// a unit they share — never overwrites it: the first writer wins. A
// writer that finds an intact marker (its object present with the size
// and ETag it recorded, as Lookup checks) removes the object it has just
// uploaded, if that lies at another key, and returns the winner's ref: a
// caller must use the returned ref, not p.Key(). A stale marker (object
// missing or changed) is replaced by compare-and-swap (If-Match on the
// marker's ETag), retried a bounded number of times. To replace an intact
// dataset (a forced recomputation), Invalidate its content key first.
//
// If write fails, ctx is cancelled or the upload fails, Commit returns an
// error and leaves no marker: the dataset does not exist for Lookup and
// List, and calling Commit again overwrites whatever was left.
func (s *Store) Commit(ctx context.Context, p DatasetPath, schema string, write WriteFunc) (DatasetRef, error) {
	key, err := p.Key()
	if err != nil {
		return DatasetRef{}, err
	}
	opts := minio.PutObjectOptions{PartSize: partSize, ContentType: p.Format.ContentType()}
	// The first smallUpload bytes are buffered. A dataset that fits (most
	// do) is uploaded in one PUT of known length; a larger one spills: the
	// buffer and the rest of the output stream through a pipe into a
	// multipart upload, started at the spill.
	type uploaded struct {
		info minio.UploadInfo
		err  error
	}
	var (
		pr     *io.PipeReader
		result chan uploaded
	)
	sw := &spillWriter{max: smallUpload, spill: func(buffered []byte) io.Writer {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		result = make(chan uploaded, 1)
		go func() {
			info, err := s.client.PutObject(ctx, s.cfg.Bucket, key, io.MultiReader(bytes.NewReader(buffered), pr), -1, opts)
			if err != nil {
				pr.CloseWithError(fmt.Errorf("upload of %s failed: %w", key, err)) // unblock the writer
			}
			result <- uploaded{info, err}
		}()
		return pw
	}}
	cw := &countingWriter{w: sw, h: sha256.New()}
	rows, werr := write(cw)
	var (
		info minio.UploadInfo
		perr error
	)
	switch {
	case sw.w != nil:
		sw.w.(*io.PipeWriter).CloseWithError(werr) // nil: the reader sees io.EOF
		r := <-result
		info, perr = r.info, r.err
	case werr == nil:
		info, perr = s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(sw.buf.Bytes()), int64(sw.buf.Len()), opts)
	}
	switch {
	case werr != nil:
		return DatasetRef{}, fmt.Errorf("store: writing %s: %w", key, werr)
	case perr != nil:
		return DatasetRef{}, fmt.Errorf("store: uploading %s: %w", key, perr)
	case info.Size != cw.n:
		return DatasetRef{}, fmt.Errorf("store: uploading %s: store has %d bytes, %d were written", key, info.Size, cw.n)
	}
	now := time.Now().UTC()
	m := marker{
		DatasetRef: DatasetRef{Key: key, SHA256: hex.EncodeToString(cw.h.Sum(nil)), Rows: rows, Schema: schema, Size: cw.n},
		ContentKey: p.ContentKey, ETag: info.ETag, Committed: now, Doc: p.KeyDoc, Provenance: provenanceAt(ctx, now),
	}
	return s.publish(ctx, m)
}

// maxMarkerRounds bounds the rounds of publish: each round is a create, or
// a compare-and-swap of a stale marker, that a concurrent writer made fail.
const maxMarkerRounds = 6

// publish makes m the commit marker of its content key unless an intact
// marker is there: it creates the marker if there is none (If-None-Match:
// *), keeps an intact one (and removes m's object, which lost), and
// replaces a stale one only if it is still the one it read (If-Match).
func (s *Store) publish(ctx context.Context, m marker) (DatasetRef, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return DatasetRef{}, fmt.Errorf("store: commit marker of %s: %w", m.Key, err)
	}
	mkey := commitKey(m.ContentKey)
	for range maxMarkerRounds {
		err := s.putMarker(ctx, mkey, data, "")
		if err == nil {
			return m.DatasetRef, nil
		}
		if !isConflict(err) {
			return DatasetRef{}, fmt.Errorf("store: committing %s: %w", m.Key, err)
		}
		cur, etag, found, err := s.readMarkerETag(ctx, m.ContentKey)
		if isConflict(err) {
			// The marker changed between the reader's requests (minio-go
			// reads on with If-Match of the first response): read again.
			continue
		}
		if err != nil {
			return DatasetRef{}, fmt.Errorf("store: committing %s: %w", m.Key, err)
		}
		if !found {
			continue // invalidated since: create it again
		}
		if cur != nil {
			ok, err := s.intact(ctx, *cur)
			if err != nil {
				return DatasetRef{}, fmt.Errorf("store: committing %s: %w", m.Key, err)
			}
			if ok {
				if cur.Key != m.Key {
					// Another writer committed first (another campaign's
					// prefix): drop the copy that lost, so no stage
					// directory holds a dataset no marker points at.
					if err := s.removeObject(ctx, m.Key); err != nil {
						return DatasetRef{}, fmt.Errorf("store: %s was committed first at %s; removing the copy at %s: %w", m.ContentKey, cur.Key, m.Key, err)
					}
				}
				return cur.DatasetRef, nil
			}
		}
		// Stale (its object is missing or changed, or it is unreadable):
		// replace it, unless someone else did since it was read.
		err = s.putMarker(ctx, mkey, data, etag)
		if err == nil {
			return m.DatasetRef, nil
		}
		if !isConflict(err) && !IsNotFound(err) {
			return DatasetRef{}, fmt.Errorf("store: committing %s: %w", m.Key, err)
		}
	}
	return DatasetRef{}, fmt.Errorf("store: committing %s: the commit marker %s changed under %d attempts to write it (concurrent writers); run the unit again", m.Key, mkey, maxMarkerRounds)
}

// putMarker writes a commit marker: a create that fails if the marker
// exists when ifMatch is "", else a replacement that fails unless the
// marker's ETag is ifMatch.
func (s *Store) putMarker(ctx context.Context, key string, data []byte, ifMatch string) error {
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	if ifMatch == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(strings.Trim(ifMatch, `"`))
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	return err
}

// isConflict reports whether a conditional write failed because its
// condition did not hold (412), or because a concurrent conditional write
// of the same key was in flight (409 on AWS S3): either way, read the
// object again and decide.
func isConflict(err error) bool {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	return resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed" ||
		resp.Code == "ConditionalRequestConflict"
}

// readMarkerETag reads the commit marker of contentKey and its ETag in one
// request. found is false when there is none; m is nil when it is not a
// valid marker (stale: it may be replaced).
func (s *Store) readMarkerETag(ctx context.Context, contentKey string) (m *marker, etag string, found bool, err error) {
	key := commitKey(contentKey)
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", false, fmt.Errorf("store: reading %s: %w", key, err)
	}
	defer obj.Close()
	st, err := obj.Stat()
	if IsNotFound(err) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("store: reading %s: %w", key, err)
	}
	data, err := io.ReadAll(obj)
	if IsNotFound(err) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("store: reading %s: %w", key, err)
	}
	var cur marker
	if json.Unmarshal(data, &cur) != nil || cur.Key == "" {
		return nil, st.ETag, true, nil
	}
	return &cur, st.ETag, true, nil
}

// intact reports whether the object a marker names is there with the size
// and ETag the marker recorded.
func (s *Store) intact(ctx context.Context, m marker) (bool, error) {
	st, err := s.client.StatObject(ctx, s.cfg.Bucket, m.Key, minio.StatObjectOptions{})
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: lookup %s: %w", m.Key, err)
	}
	return st.Size == m.Size && (m.ETag == "" || strings.Trim(st.ETag, `"`) == strings.Trim(m.ETag, `"`)), nil
}

type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Lookup returns the dataset committed under contentKey. ok is false when
// there is no marker, or when the data object is missing or differs in size
// or ETag from what the marker recorded (a dataset overwritten by an
// unfinished retry is not trusted).
func (s *Store) Lookup(ctx context.Context, contentKey string) (ref DatasetRef, ok bool, err error) {
	m, ok, err := s.lookup(ctx, contentKey)
	return m.DatasetRef, ok, err
}

// lookup is Lookup returning the whole commit marker.
func (s *Store) lookup(ctx context.Context, contentKey string) (marker, bool, error) {
	if !isDigest(contentKey) {
		return marker{}, false, fmt.Errorf("store: lookup: content key %q: want 64 lowercase hex digits", contentKey)
	}
	m, ok, err := s.readMarker(ctx, contentKey)
	if err != nil || !ok {
		return marker{}, false, err
	}
	if ok, err := s.intact(ctx, m); err != nil || !ok {
		return marker{}, false, err
	}
	return m, true, nil
}

func (s *Store) readMarker(ctx context.Context, contentKey string) (marker, bool, error) {
	data, err := s.Get(ctx, commitKey(contentKey))
	if IsNotFound(err) {
		return marker{}, false, nil
	}
	if err != nil {
		return marker{}, false, err
	}
	var m marker
	if err := json.Unmarshal(data, &m); err != nil {
		return marker{}, false, fmt.Errorf("store: commit marker %s is not valid JSON: %w", commitKey(contentKey), err)
	}
	return m, true, nil
}

// Invalidate removes the commit marker of contentKey, so that Lookup and
// List no longer see the dataset and the next run of the unit recomputes
// and overwrites it (what a forced rerun needs). The data object stays until
// it is overwritten. Invalidating a key that is not committed is not an error.
func (s *Store) Invalidate(ctx context.Context, contentKey string) error {
	if !isDigest(contentKey) {
		return fmt.Errorf("store: invalidate: content key %q: want 64 lowercase hex digits", contentKey)
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, commitKey(contentKey), minio.RemoveObjectOptions{}); err != nil && !IsNotFound(err) {
		return fmt.Errorf("store: invalidating %s: %w", contentKey, err)
	}
	return nil
}

// Remove deletes the data object of a dataset that is no longer wanted (one
// a rerun superseded under a new content key). Invalidate its content key
// first, so that no reader is pointed at the missing object. Removing an
// object that does not exist is not an error.
func (s *Store) Remove(ctx context.Context, key string) error {
	if _, ok := partContentKey(key); !ok {
		return fmt.Errorf("store: remove %q: not a dataset object (…/part-<content key>.<ext>)", key)
	}
	return s.removeObject(ctx, key)
}

// removeObject deletes an object; a missing one is not an error.
func (s *Store) removeObject(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil && !IsNotFound(err) {
		return fmt.Errorf("store: removing %s: %w", key, err)
	}
	return nil
}

// List returns the committed datasets under a campaign's stage (every stage
// if stage is ""), sorted by key. Data objects without a matching commit
// marker are left out.
func (s *Store) List(ctx context.Context, campaign, stage string) ([]DatasetRef, error) {
	prefix, err := CampaignPrefix(campaign)
	if stage != "" {
		prefix, err = StagePrefix(campaign, stage)
	}
	if err != nil {
		return nil, err
	}
	type candidate struct {
		key, contentKey, etag string
		size                  int64
	}
	var cands []candidate
	for obj := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			if IsNotFound(obj.Err) {
				return nil, nil
			}
			return nil, fmt.Errorf("store: listing %s: %w", prefix, obj.Err)
		}
		if ck, ok := partContentKey(obj.Key); ok {
			cands = append(cands, candidate{obj.Key, ck, strings.Trim(obj.ETag, `"`), obj.Size})
		}
	}
	refs := make([]*DatasetRef, len(cands))
	errs := make([]error, len(cands))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m, ok, err := s.readMarker(ctx, c.contentKey)
			if err != nil {
				errs[i] = err
				return
			}
			if ok && m.Key == c.key && m.Size == c.size && (m.ETag == "" || strings.Trim(m.ETag, `"`) == c.etag) {
				refs[i] = &m.DatasetRef
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []DatasetRef
	for _, r := range refs {
		if r != nil {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Campaigns returns the IDs of the campaigns that have objects in the
// store (the directories campaigns/<id>/), sorted.
func (s *Store) Campaigns(ctx context.Context) ([]string, error) {
	const root = "campaigns/"
	var ids []string
	for obj := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: root}) {
		if obj.Err != nil {
			if IsNotFound(obj.Err) {
				return nil, nil
			}
			return nil, fmt.Errorf("store: listing %s: %w", root, obj.Err)
		}
		id, dir := strings.CutSuffix(strings.TrimPrefix(obj.Key, root), "/")
		if dir && checkSegment("campaign", id) == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// partContentKey returns the content key of a dataset key (ParseDatasetKey).
func partContentKey(key string) (string, bool) {
	p, err := ParseDatasetKey(key)
	return p.ContentKey, err == nil
}

// Verify reads the dataset's object in full and checks its size and SHA-256
// against the ref.
func (s *Store) Verify(ctx context.Context, ref DatasetRef) error {
	obj, err := s.Open(ctx, ref.Key)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return fmt.Errorf("store: verifying %s: %w", ref.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != ref.Size || got != ref.SHA256 {
		return &CorruptError{Key: ref.Key, msg: fmt.Sprintf("store: %s has %d bytes with SHA-256 %s, the ref says %d bytes with %s", ref.Key, n, got, ref.Size, ref.SHA256)}
	}
	return nil
}

// CorruptError is Verify's error for an object whose bytes differ from
// what its ref recorded (as opposed to a failure to read it).
type CorruptError struct {
	Key string // object key
	msg string
}

func (e *CorruptError) Error() string { return e.msg }

// WriteRows writes rows as one dataset at p in p.Format and commits it.
func WriteRows[R schemas.Row[R]](ctx context.Context, s *Store, p DatasetPath, meta schemas.Meta, rows []R) (DatasetRef, error) {
	var zero R
	return s.Commit(ctx, p, zero.Kind().ID(), func(w io.Writer) (int64, error) {
		return schemas.WriteAll(w, p.Format, meta, rows)
	})
}

// ReadRows reads every row of a committed dataset.
func ReadRows[R schemas.Row[R]](ctx context.Context, s *Store, ref DatasetRef) ([]R, schemas.Info, error) {
	obj, err := s.Open(ctx, ref.Key)
	if err != nil {
		return nil, schemas.Info{}, err
	}
	defer obj.Close()
	if obj.Size() != ref.Size {
		return nil, schemas.Info{}, fmt.Errorf("store: %s has %d bytes, the ref says %d: it was overwritten since it was committed", ref.Key, obj.Size(), ref.Size)
	}
	rows, info, err := schemas.ReadAll[R](obj, obj.Size())
	if err != nil {
		return nil, info, fmt.Errorf("store: %s: %w", ref.Key, err)
	}
	return rows, info, nil
}

// smallUpload is the largest dataset Commit uploads in one request of known
// length. Larger ones stream into a multipart upload, for which minio-go
// allocates (and clears) a part buffer of partSize per upload — which,
// profiled, was the most expensive part of committing the many small
// datasets of a campaign.
const smallUpload = 8 << 20

// spillWriter buffers up to max bytes; the write that would exceed them
// calls spill with the buffered bytes once, and that and every later write
// go to the writer spill returned.
type spillWriter struct {
	buf   bytes.Buffer
	max   int
	spill func(buffered []byte) io.Writer
	w     io.Writer // non-nil after the spill
}

func (s *spillWriter) Write(p []byte) (int, error) {
	if s.w == nil && s.buf.Len()+len(p) <= s.max {
		return s.buf.Write(p)
	}
	if s.w == nil {
		s.w = s.spill(s.buf.Bytes())
	}
	return s.w.Write(p)
}
