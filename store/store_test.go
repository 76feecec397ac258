package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"rulescape/schemas"
	"rulescape/schemas/schemastest"
	"rulescape/store"
)

var meta = schemas.Meta{Campaign: schemastest.Campaign, ParamsSHA256: strings.Repeat("cd", 32), EngineVersion: "test-1"}

func contentKey(t *testing.T, params any) string {
	t.Helper()
	ck, err := store.ContentKey(params, nil, "test-1")
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// roundTrip writes rows to S3 as a committed dataset, finds it by content
// key and in the stage listing, reads it back and compares.
func roundTrip[R schemas.Row[R]](t *testing.T, s *store.Store, f schemas.Format, rows []R) {
	t.Helper()
	var zero R
	kind := zero.Kind()
	ctx := t.Context()
	p := store.DatasetPath{Campaign: schemastest.Campaign, Stage: "train", Dataset: string(kind),
		Partitions: store.TaskRuleSeed("dnms", "miconi", 1), ContentKey: contentKey(t, map[string]any{"kind": kind, "f": f.String()}), Format: f}
	ref, err := store.WriteRows(ctx, s, p, meta, rows)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Rows != int64(len(rows)) || ref.Schema != kind.ID() || ref.Size <= 0 {
		t.Errorf("ref = %+v, want %d rows of %s", ref, len(rows), kind.ID())
	}
	if err := s.Verify(ctx, ref); err != nil {
		t.Error(err)
	}
	got, ok, err := s.Lookup(ctx, p.ContentKey)
	if err != nil || !ok || got != ref {
		t.Fatalf("Lookup = %+v, %v, %v; want %+v", got, ok, err, ref)
	}
	back, info, err := store.ReadRows[R](ctx, s, ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != kind || info.Meta != meta {
		t.Errorf("info = %+v", info)
	}
	if !schemastest.Equal(back, rows) {
		t.Errorf("rows read back from S3 differ from the rows written")
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	s := newStore(t)
	for _, f := range []schemas.Format{schemas.Parquet, schemas.ArrowIPC} {
		t.Run(f.String(), func(t *testing.T) {
			t.Run("learning_curves", func(t *testing.T) { roundTrip(t, s, f, schemastest.LearningCurves(5000)) })
			t.Run("networks", func(t *testing.T) { roundTrip(t, s, f, schemastest.Networks(2, 20, 4, 1)) })
			t.Run("trajectories", func(t *testing.T) { roundTrip(t, s, f, schemastest.Trajectories()) })
			t.Run("metaopt_history", func(t *testing.T) { roundTrip(t, s, f, schemastest.MetaoptHistory()) })
			t.Run("fixed_points", func(t *testing.T) { roundTrip(t, s, f, schemastest.FixedPoints()) })
			t.Run("rdms", func(t *testing.T) { roundTrip(t, s, f, schemastest.RDMs()) })
			t.Run("rsa_pairs", func(t *testing.T) { roundTrip(t, s, f, schemastest.RSAPairs()) })
			t.Run("sensitivity", func(t *testing.T) { roundTrip(t, s, f, schemastest.Sensitivity()) })
		})
	}
	refs, err := s.List(t.Context(), schemastest.Campaign, "train")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 16 {
		t.Errorf("List found %d committed datasets, want 16 (8 kinds × 2 formats)", len(refs))
	}
}

// slowReader yields size random bytes and cancels the upload's context
// once cancelAt bytes have been read.
type slowReader struct {
	left, cancelAt int64
	read           int64
	cancel         context.CancelFunc
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, _ := rand.Read(p)
	r.left -= int64(n)
	r.read += int64(n)
	if r.cancel != nil && r.read >= r.cancelAt {
		r.cancel()
		r.cancel = nil
	}
	return n, nil
}

func TestCommitIsAtomic(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	p := store.DatasetPath{Campaign: "crash", Stage: "train", Dataset: "blob",
		Partitions: store.TaskRuleSeed("dnms", "miconi", 7), ContentKey: contentKey(t, "crash"), Format: schemas.Parquet}
	key, err := p.Key()
	if err != nil {
		t.Fatal(err)
	}
	const size = 40 << 20 // three multipart parts of 16 MiB

	// 1. The process "crashes" mid-upload: the context is cancelled after
	// 20 MiB, in the second part of a multipart upload.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = s.Commit(cctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := io.Copy(w, &slowReader{left: size, cancelAt: 20 << 20, cancel: cancel})
		return 1, err
	})
	if err == nil {
		t.Fatal("Commit succeeded although its context was cancelled mid-upload")
	}
	if _, ok, err := s.Lookup(ctx, p.ContentKey); ok || err != nil {
		t.Errorf("after an interrupted upload Lookup = %v, %v; want a miss", ok, err)
	}
	if refs, err := s.List(ctx, "crash", "train"); len(refs) != 0 || err != nil {
		t.Errorf("after an interrupted upload List = %v, %v; want nothing", refs, err)
	}
	if _, err := s.Open(ctx, key); !store.IsNotFound(err) {
		t.Errorf("the interrupted upload left an object at %s (%v)", key, err)
	}

	// 2. A writer that fails mid-stream leaves no marker either.
	_, err = s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		w.Write(make([]byte, 1000))
		return 0, errors.New("simulated failure of the Parquet writer")
	})
	if err == nil || !strings.Contains(err.Error(), "simulated failure") {
		t.Fatalf("Commit with a failing writer: %v", err)
	}
	if _, ok, _ := s.Lookup(ctx, p.ContentKey); ok {
		t.Error("a failed write is visible to Lookup")
	}

	// 3. A crash between the data and the marker: the complete data object
	// exists but is not committed, so readers ignore it.
	if err := s.Put(ctx, key, []byte("complete but uncommitted"), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lookup(ctx, p.ContentKey); ok {
		t.Error("data without a marker is visible to Lookup")
	}
	if refs, _ := s.List(ctx, "crash", "train"); len(refs) != 0 {
		t.Errorf("data without a marker is listed: %v", refs)
	}

	// 4. The retry overwrites and commits.
	h := sha256.New()
	ref, err := s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := io.Copy(io.MultiWriter(w, h), &slowReader{left: size})
		return 3, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Size != size || ref.SHA256 != hex.EncodeToString(h.Sum(nil)) || ref.Rows != 3 || ref.Key != key {
		t.Errorf("ref = %+v, want %d bytes with the SHA-256 of what was written", ref, size)
	}
	if got, ok, err := s.Lookup(ctx, p.ContentKey); !ok || err != nil || got != ref {
		t.Errorf("after the retry Lookup = %+v, %v, %v; want %+v", got, ok, err, ref)
	}
	if refs, _ := s.List(ctx, "crash", "train"); len(refs) != 1 || refs[0] != ref {
		t.Errorf("after the retry List = %v; want [%+v]", refs, ref)
	}
	if err := s.Verify(ctx, ref); err != nil {
		t.Error(err)
	}

	// 5. An invalidated dataset is gone for readers until recommitted.
	if err := s.Invalidate(ctx, p.ContentKey); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lookup(ctx, p.ContentKey); ok {
		t.Error("Lookup finds an invalidated dataset")
	}
	if err := s.Invalidate(ctx, p.ContentKey); err != nil {
		t.Errorf("invalidating twice: %v", err)
	}
	if ref, err = s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := w.Write([]byte("small recomputed dataset"))
		return 1, err
	}); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Lookup(ctx, p.ContentKey); !ok || got != ref {
		t.Errorf("after recommitting Lookup = %+v, %v", got, ok)
	}

	// 6. Data replaced behind the marker's back (size changes) is no longer trusted.
	if err := s.Put(ctx, key, []byte("tampered"), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lookup(ctx, p.ContentKey); ok {
		t.Error("Lookup trusts a data object whose size no longer matches its marker")
	}
	if refs, _ := s.List(ctx, "crash", "train"); len(refs) != 0 {
		t.Errorf("List trusts a replaced data object: %v", refs)
	}
}

func TestDatasetRefJSON(t *testing.T) {
	ref := store.DatasetRef{Key: "k", SHA256: "s", Rows: 3, Schema: "networks@1", Size: 99}
	b, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"key":"k","sha256":"s","rows":3,"schema":"networks@1","size":99}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestPresign(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	p := store.DatasetPath{Campaign: "share", Stage: "train", Dataset: "blob", ContentKey: contentKey(t, "share"), Format: schemas.Parquet}
	ref, err := s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := w.Write(data)
		return 1, err
	})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(url string) (int, []byte) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	url, err := s.Presign(ctx, ref.Key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := fetch(url); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("presigned GET: status %d, %d bytes (equal: %v); want 200 and the exact %d bytes", code, len(body), bytes.Equal(body, data), len(data))
	}
	if code, _ := fetch(strings.Replace(url, "X-Amz-Signature=", "X-Amz-Signature=0", 1)); code != http.StatusForbidden {
		t.Errorf("tampered signature: status %d, want 403", code)
	}
	short, err := s.Presign(ctx, ref.Key, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if code, body := fetch(short); code != http.StatusForbidden {
		t.Errorf("expired URL: status %d (%d bytes), want 403", code, len(body))
	}
	if _, err := s.Presign(ctx, ref.Key, 8*24*time.Hour); err == nil {
		t.Error("Presign accepted an expiry beyond 7 days")
	}
}

func TestWrongCredentials(t *testing.T) {
	for _, tc := range []struct {
		name           string
		access, secret string
	}{
		{"wrong secret", "", "not-the-secret"},
		{"unknown access key", "nobody", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t)
			if tc.access != "" {
				cfg.AccessKey = tc.access
			}
			if tc.secret != "" {
				cfg.SecretKey = tc.secret
			}
			_, err := store.New(t.Context(), cfg)
			if !errors.Is(err, store.ErrCredentials) {
				t.Fatalf("New with %s: %v; want ErrCredentials", tc.name, err)
			}
			msg := err.Error()
			for _, want := range []string{"S3 credentials rejected by " + cfg.Endpoint, "check RULESCAPE_S3_ACCESS_KEY/SECRET_KEY"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	// A port that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct{ name, endpoint, want string }{
		{"refused", closed, "connection refused"},
		{"silent", silent.Addr().String(), "no answer within 300ms"},
		{"url form", "http://" + closed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := store.Config{Endpoint: tc.endpoint, AccessKey: "a", SecretKey: "b", ConnectTimeout: 300 * time.Millisecond}
			_, err := store.New(t.Context(), cfg)
			if !errors.Is(err, store.ErrUnreachable) {
				t.Fatalf("New: %v; want ErrUnreachable", err)
			}
			host := strings.TrimPrefix(tc.endpoint, "http://")
			for _, want := range []string{"S3 endpoint " + host + " unreachable: ", tc.want, "— start MinIO or set RULESCAPE_S3_ENDPOINT"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestRemove: a removed dataset object is gone (and its listing with it);
// removing it again, or a missing one, is not an error; keys that are not
// dataset objects are refused.
func TestRemove(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	p := store.DatasetPath{Campaign: "rm", Stage: "train", Dataset: "blob", ContentKey: contentKey(t, "rm"), Format: schemas.Parquet}
	ref, err := s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := w.Write([]byte("superseded"))
		return 1, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Invalidate(ctx, p.ContentKey); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Remove(ctx, ref.Key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, ref.Key); !store.IsNotFound(err) {
		t.Errorf("Get after Remove: %v, want not found", err)
	}
	if err := s.Remove(ctx, "campaigns/rm/manifest.json"); err == nil {
		t.Error("Remove of a manifest key succeeded; want it refused")
	}
}
