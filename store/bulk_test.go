package store_test

import (
	"context"
	"io"
	"testing"
	"time"

	"rulescape/schemas"
	"rulescape/store"
)

// TestProvenanceAndPrefixLookup: a commit made with a Runner records its
// provenance in the marker (one without records none); PrefixLookup finds
// datasets inside the listed prefix and outside it (another campaign's),
// returns what LookupProvenance returns, and misses an uncommitted key and
// an object overwritten after its commit.
func TestProvenanceAndPrefixLookup(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	commit := func(ctx context.Context, campaign, name, body string) (store.DatasetPath, store.DatasetRef) {
		t.Helper()
		p := store.DatasetPath{Campaign: campaign, Stage: "train", Dataset: "blob", ContentKey: contentKey(t, name), Format: schemas.Parquet}
		ref, err := s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
			_, err := io.WriteString(w, body)
			return 1, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return p, ref
	}
	started := time.Now().Add(-1500 * time.Millisecond)
	rctx := store.WithRunner(ctx, store.Runner{Worker: "w-1", Attempt: 2, Started: started})
	inside, insideRef := commit(rctx, "camp", "a", "inside")
	outside, _ := commit(ctx, "other", "b", "outside")
	overwritten, _ := commit(ctx, "camp", "c", "will change")

	ref, prov, ok, err := s.LookupProvenance(ctx, inside.ContentKey)
	if err != nil || !ok || ref != insideRef {
		t.Fatalf("LookupProvenance: %+v %v %v", ref, ok, err)
	}
	if prov == nil || prov.Worker != "w-1" || prov.Attempt != 2 || prov.WallSeconds < 1.5 || prov.ComputedAt.Before(started) {
		t.Fatalf("provenance %+v, want worker w-1, attempt 2, wall ≥ 1.5 s", prov)
	}
	if _, prov, ok, err := s.LookupProvenance(ctx, outside.ContentKey); err != nil || !ok || prov != nil {
		t.Fatalf("a commit without a runner: provenance %+v (ok %v, err %v), want none", prov, ok, err)
	}

	pl := s.NewPrefixLookup("camp")
	// Overwrite c's object after its commit, with other bytes of another
	// size, before the prefix is listed: the listing sees the new size.
	key, err := overwritten.Key()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key, []byte("changed!!!!!!!!"), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ck   string
		want bool
	}{
		{"inside the prefix", inside.ContentKey, true},
		{"another campaign's", outside.ContentKey, true},
		{"overwritten", overwritten.ContentKey, false},
		{"never committed", contentKey(t, "none"), false},
	} {
		ref, prov, ok, err := pl.Lookup(ctx, tc.ck)
		if err != nil || ok != tc.want {
			t.Errorf("%s: ok %v, err %v; want ok %v", tc.name, ok, err, tc.want)
			continue
		}
		wref, wprov, _, _ := s.LookupProvenance(ctx, tc.ck)
		if ref != wref || (prov == nil) != (wprov == nil) {
			t.Errorf("%s: %+v %+v, LookupProvenance says %+v %+v", tc.name, ref, prov, wref, wprov)
		}
	}
}
