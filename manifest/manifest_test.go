package manifest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rulescape/internal/s3test"
	"rulescape/manifest"
	"rulescape/store"
)

// TestOldManifest decodes testdata/manifest-v0.json, written by the
// activities.Manifest type before this package existed (no version field),
// and checks that every field survives and that encoding it again gives the
// same bytes: manifests of earlier campaigns stay readable, and `datasets
// get` copies them unchanged.
func TestOldManifest(t *testing.T) {
	const path = "testdata/manifest-v0.json"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 0 || m.Campaign != "314f658e8f18a8d4" || m.Name != "quickstart" || m.File != "pipelines/quickstart.yaml" ||
		m.EngineVersion != "0.1.0" || !strings.HasSuffix(m.Revision, "+dirty") ||
		!m.Written.Equal(time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)) ||
		m.Stages["train"] != "completed" || !strings.HasPrefix(m.Spec, "name: quickstart\n") || len(m.Datasets) != 2 {
		t.Fatalf("decoded %+v", m)
	}
	e := m.Datasets[1]
	if e.Unit != "train/gonogo/miconi/seed=1" || e.Stage != "train" || e.Kind != "networks" || e.ContentKey != strings.Repeat("fedcba9876543210", 4) ||
		e.Ref.Rows != 1 || e.Ref.Size != 123456 || e.Ref.Schema != "networks@2" || e.Ref.SHA256 != strings.Repeat("0123456789abcdef", 4) ||
		!strings.HasSuffix(e.Ref.Key, "/part-"+e.ContentKey+".parquet") || e.URI != "s3://rulescape/"+e.Ref.Key ||
		e.ParamsSHA256 != strings.Repeat("0123456789abcdef", 4) || !strings.Contains(string(e.Params), `"rule": "a/b"`) {
		t.Fatalf("entry 1 decoded as %+v", e)
	}
	again, err := manifest.Encode(*m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, raw) {
		t.Errorf("re-encoding the old manifest changed its bytes:\n%s\nwant\n%s", again, raw)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not JSON", `{"campaign": `, "x.json is not a valid manifest (malformed JSON)"},
		{"wrong type", `{"datasets": 3}`, "x.json is not a valid manifest"},
		{"newer version", `{"version": 2, "campaign": "c"}`, "format version 2, newer than this rulescape reads (up to 1): upgrade rulescape"},
	} {
		if _, err := manifest.Decode([]byte(tc.data), "x.json"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	m, err := manifest.Decode([]byte(`{"version": 1, "campaign": "c", "a_field_from_the_future": [1, 2]}`), "x.json")
	if err != nil || m.Version != 1 || m.Campaign != "c" {
		t.Errorf("a version-1 manifest with an unknown field: %+v, %v; want it read (added fields are compatible)", m, err)
	}
	if _, err := manifest.ReadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	gw := s3test.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := store.New(ctx, store.Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, Region: gw.Region, Bucket: "manifest-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWriteRead writes a manifest to S3 and reads it back, and checks the
// errors of Read: no manifest, not JSON, another campaign's.
func TestWriteRead(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	old, err := manifest.ReadFile("testdata/manifest-v0.json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := manifest.Write(ctx, st, *old)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := store.ManifestKey(old.Campaign); key != want {
		t.Errorf("Write stored %s, want %s", key, want)
	}
	got, err := manifest.Read(ctx, st, old.Campaign)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != manifest.CurrentVersion {
		t.Errorf("Write recorded version %d, want %d", got.Version, manifest.CurrentVersion)
	}
	got.Version = 0
	a, _ := manifest.Encode(*got)
	b, _ := manifest.Encode(*old)
	if !bytes.Equal(a, b) {
		t.Errorf("read back\n%s\nwant\n%s", a, b)
	}

	_, err = manifest.Read(ctx, st, "0123456789abcdef")
	if !errors.Is(err, manifest.ErrNotFound) || !strings.Contains(err.Error(), "campaign 0123456789abcdef has no manifest (s3://manifest-test/campaigns/0123456789abcdef/manifest.json)") ||
		!strings.Contains(err.Error(), "rulescape status 0123456789abcdef") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Read of a campaign without a manifest: %v", err)
	}
	for campaign, body := range map[string]string{"badjson": "{", "other": `{"campaign": "someone-else"}`} {
		k, _ := store.ManifestKey(campaign)
		if err := st.Put(ctx, k, []byte(body), "application/json"); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"badjson": "malformed JSON", "other": `is of campaign "someone-else", want other`}[campaign]
		if _, err := manifest.Read(ctx, st, campaign); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("manifest s3://manifest-test/%s ", k)) ||
			!strings.Contains(err.Error(), want) || errors.Is(err, manifest.ErrNotFound) {
			t.Errorf("Read of %s: %v, want an error naming the key and containing %q", campaign, err, want)
		}
	}
	if _, err := manifest.Read(ctx, st, "../x"); err == nil {
		t.Error("Read accepted the campaign ID ../x")
	}
}
