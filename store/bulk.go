package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// Provenance records where and how a dataset was computed: the worker that
// ran its unit, the attempt, the unit's wall time up to the commit and the
// commit time. Commit stores it in the dataset's commit marker (never in
// the dataset's bytes, which stay identical across runs), so a cache hit
// keeps the provenance of the computation that produced it.
type Provenance struct {
	Worker      string    `json:"worker"`       // Temporal worker identity, e.g. "4242@host@" (or host:pid outside a worker)
	Attempt     int       `json:"attempt"`      // the activity's attempt, from 1
	WallSeconds float64   `json:"wall_seconds"` // the unit's wall time from its start to this dataset's commit
	ComputedAt  time.Time `json:"computed_at"`  // when the dataset was committed
}

// Runner is what a unit's activity knows of itself when it starts: the
// worker, the attempt and the start time. WithRunner puts it in the context
// whose Commit calls then record a Provenance.
type Runner struct {
	Worker  string
	Attempt int
	Started time.Time
}

type runnerKey struct{}

// WithRunner returns ctx carrying r: every Commit made with the returned
// context records r (and the wall time since r.Started) as the dataset's
// Provenance.
func WithRunner(ctx context.Context, r Runner) context.Context {
	return context.WithValue(ctx, runnerKey{}, r)
}

// RunnerOf returns the Runner of ctx (WithRunner); ok is false when there
// is none.
func RunnerOf(ctx context.Context) (Runner, bool) {
	r, ok := ctx.Value(runnerKey{}).(Runner)
	return r, ok
}

// LocalWorker is the worker identity of code running outside a Temporal
// worker: "<hostname>:<pid>".
func LocalWorker() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// provenanceAt is the Provenance of a commit made at now with ctx.
func provenanceAt(ctx context.Context, now time.Time) *Provenance {
	r, ok := RunnerOf(ctx)
	if !ok {
		return nil
	}
	wall := 0.0
	if !r.Started.IsZero() {
		wall = now.Sub(r.Started).Seconds()
	}
	return &Provenance{Worker: r.Worker, Attempt: r.Attempt, WallSeconds: wall, ComputedAt: now}
}

// LookupProvenance is Lookup that also returns the Provenance the commit
// marker recorded (nil for datasets committed before markers recorded it,
// or by code that ran without a Runner).
func (s *Store) LookupProvenance(ctx context.Context, contentKey string) (ref DatasetRef, prov *Provenance, ok bool, err error) {
	m, ok, err := s.lookup(ctx, contentKey)
	if err != nil || !ok {
		return DatasetRef{}, nil, false, err
	}
	return m.DatasetRef, m.Provenance, true, nil
}

// objectStat is the size and ETag of a listed object.
type objectStat struct {
	size int64
	etag string
}

// PrefixLookup is LookupProvenance for many content keys whose datasets
// are mostly under one campaign's prefix (what the manifest reads): the
// prefix is listed once, on first use (one request per 1 000 objects), and
// each lookup reads the commit marker and checks the object's size and
// ETag against the listing — a StatObject only for objects outside the
// prefix (cache hits of other campaigns) or written after the listing. It
// accepts exactly what LookupProvenance accepts. Safe for concurrent use.
type PrefixLookup struct {
	s        *Store
	campaign string
	once     sync.Once
	objects  map[string]objectStat
	err      error
}

// NewPrefixLookup returns a PrefixLookup of campaign's prefix.
func (s *Store) NewPrefixLookup(campaign string) *PrefixLookup {
	return &PrefixLookup{s: s, campaign: campaign}
}

func (p *PrefixLookup) list(ctx context.Context) error {
	p.once.Do(func() {
		prefix, err := CampaignPrefix(p.campaign)
		if err != nil {
			p.err = err
			return
		}
		p.objects = map[string]objectStat{}
		for obj := range p.s.client.ListObjectsIter(ctx, p.s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				if IsNotFound(obj.Err) {
					return
				}
				p.err = fmt.Errorf("store: listing %s: %w", prefix, obj.Err)
				return
			}
			p.objects[obj.Key] = objectStat{obj.Size, strings.Trim(obj.ETag, `"`)}
		}
	})
	return p.err
}

// Lookup returns the dataset committed under contentKey and its
// provenance, as LookupProvenance does.
func (p *PrefixLookup) Lookup(ctx context.Context, contentKey string) (DatasetRef, *Provenance, bool, error) {
	if err := p.list(ctx); err != nil {
		return DatasetRef{}, nil, false, err
	}
	if !isDigest(contentKey) {
		return DatasetRef{}, nil, false, fmt.Errorf("store: lookup: content key %q: want 64 lowercase hex digits", contentKey)
	}
	m, ok, err := p.s.readMarker(ctx, contentKey)
	if err != nil || !ok {
		return DatasetRef{}, nil, false, err
	}
	st, listed := p.objects[m.Key]
	if !listed || st.size != m.Size || (m.ETag != "" && st.etag != strings.Trim(m.ETag, `"`)) {
		// Not listed, or changed since: ask the store itself.
		return p.s.LookupProvenance(ctx, contentKey)
	}
	return m.DatasetRef, m.Provenance, true, nil
}

// MarkerProvenance is Marker with the provenance the marker recorded.
func (s *Store) MarkerProvenance(ctx context.Context, contentKey string) (ref DatasetRef, prov *Provenance, ok bool, err error) {
	if !isDigest(contentKey) {
		return DatasetRef{}, nil, false, fmt.Errorf("store: marker: content key %q: want 64 lowercase hex digits", contentKey)
	}
	m, ok, err := s.readMarker(ctx, contentKey)
	return m.DatasetRef, m.Provenance, ok, err
}

// ListKeys returns the keys of the objects under prefix, sorted.
func (s *Store) ListKeys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for obj := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			if IsNotFound(obj.Err) {
				return nil, nil
			}
			return nil, fmt.Errorf("store: listing %s: %w", prefix, obj.Err)
		}
		out = append(out, obj.Key)
	}
	return out, nil
}

// RemoveCheckpoint deletes an object under a campaign's checkpoints/
// (CheckpointKey); removing one that does not exist is not an error.
func (s *Store) RemoveCheckpoint(ctx context.Context, key string) error {
	p, err := ParseKey(key)
	if err != nil || p.Kind != CheckpointKind {
		return fmt.Errorf("store: remove %q: not a checkpoint object (campaigns/<id>/checkpoints/…)", key)
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil && !IsNotFound(err) {
		return fmt.Errorf("store: removing %s: %w", key, err)
	}
	return nil
}
