package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"rulescape/schemas"
	"rulescape/store"
)

// sharedPath is where campaign writes the dataset of content key ck: the
// same content key under each campaign's own prefix, as two campaigns
// that share a unit write it.
func sharedPath(campaign, ck string) store.DatasetPath {
	return store.DatasetPath{Campaign: campaign, Stage: "train", Dataset: "blob",
		Partitions: store.TaskRuleSeed("dnms", "miconi", 1), ContentKey: ck, Format: schemas.Parquet}
}

// commitBytes commits data at p.
func commitBytes(ctx context.Context, s *store.Store, p store.DatasetPath, data string) (store.DatasetRef, error) {
	return s.Commit(ctx, p, "blob@1", func(w io.Writer) (int64, error) {
		_, err := io.WriteString(w, data)
		return 1, err
	})
}

// mustCommit commits data at p and fails the test on an error.
func mustCommit(t *testing.T, s *store.Store, p store.DatasetPath, data string) store.DatasetRef {
	t.Helper()
	ref, err := commitBytes(t.Context(), s, p, data)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// keyOf is p.Key(), failing the test on an error.
func keyOf(t *testing.T, p store.DatasetPath) string {
	t.Helper()
	key, err := p.Key()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// partFiles returns the part files under a campaign's prefix in the
// gateway's backing directory: what a glob over the prefix reads, however
// the store lists it.
func partFiles(t *testing.T, s *store.Store, campaign string) []string {
	t.Helper()
	root := filepath.Join(gateway.Dir, s.Bucket(), "campaigns", campaign)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "part-") {
			rel, _ := filepath.Rel(filepath.Join(gateway.Dir, s.Bucket()), path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestConcurrentCommitFirstWriterWins: two campaigns commit the same
// content key at the same moment (each writer waits for the other before
// its upload ends, so both reach the commit marker together), round after
// round. Both get the same ref, Lookup agrees, the winner's object
// verifies, and the loser's prefix keeps no copy. In the same campaign
// (same object key) both get the ref and the object stays.
func TestConcurrentCommitFirstWriterWins(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	const rounds = 40
	wins := map[string]int{}
	for round := range rounds {
		ck := contentKey(t, fmt.Sprintf("shared-%d", round))
		campaigns := []string{"alpha", "beta"}
		if round%4 == 3 {
			campaigns = []string{"alpha", "alpha"} // a retried attempt racing the first
		}
		var (
			refs    [2]store.DatasetRef
			errs    [2]error
			barrier sync.WaitGroup
			done    sync.WaitGroup
		)
		barrier.Add(2)
		for i, c := range campaigns {
			done.Add(1)
			go func() {
				defer done.Done()
				refs[i], errs[i] = s.Commit(ctx, sharedPath(c, ck), "blob@1", func(w io.Writer) (int64, error) {
					_, err := fmt.Fprintf(w, "rows of %s written by %s", ck, c) // the campaign is in the bytes, as in Parquet metadata
					barrier.Done()
					barrier.Wait()
					return 1, err
				})
			}()
		}
		done.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: commit by %s: %v", round, campaigns[i], err)
			}
		}
		if refs[0] != refs[1] {
			t.Fatalf("round %d: the two writers got different refs:\n%+v\n%+v", round, refs[0], refs[1])
		}
		got, ok, err := s.Lookup(ctx, ck)
		if err != nil || !ok || got != refs[0] {
			t.Fatalf("round %d: Lookup = %+v, %v, %v; want %+v", round, got, ok, err, refs[0])
		}
		if err := s.Verify(ctx, got); err != nil {
			t.Errorf("round %d: the winner's object: %v", round, err)
		}
		winner := strings.Split(got.Key, "/")[1]
		wins[winner]++
		for _, c := range []string{"alpha", "beta"} {
			key := keyOf(t, sharedPath(c, ck))
			_, err := s.Get(ctx, key)
			switch {
			case key == got.Key && err != nil:
				t.Errorf("round %d: the committed object %s: %v", round, key, err)
			case key != got.Key && !store.IsNotFound(err):
				t.Errorf("round %d: the losing copy %s is still there (%v)", round, key, err)
			}
		}
		for _, c := range []string{"alpha", "beta"} {
			refs, err := s.List(ctx, c, "train")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range refs {
				if p, _ := store.ParseDatasetKey(r.Key); p.ContentKey == ck && r != got {
					t.Errorf("round %d: %s lists %+v, not the committed %+v", round, c, r, got)
				}
			}
		}
	}
	// Every committed dataset has its one object, under one prefix.
	files := append(partFiles(t, s, "alpha"), partFiles(t, s, "beta")...)
	if len(files) != rounds {
		t.Errorf("%d part files under both prefixes after %d rounds, want one per round: %v", len(files), rounds, files)
	}
	t.Logf("winners: %v", wins)
}

// TestCommitKeepsIntactMarker: a later commit of a committed content key
// from another campaign returns the first ref and removes its own copy;
// after Invalidate (a forced rerun), a commit replaces the dataset.
func TestCommitKeepsIntactMarker(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	ck := contentKey(t, "intact")
	first := mustCommit(t, s, sharedPath("alpha", ck), "alpha's rows")
	second := mustCommit(t, s, sharedPath("beta", ck), "beta's rows")
	if second != first {
		t.Errorf("second commit returned %+v, want the first's %+v", second, first)
	}
	if _, err := s.Get(ctx, keyOf(t, sharedPath("beta", ck))); !store.IsNotFound(err) {
		t.Errorf("the second commit's copy is still there (%v)", err)
	}
	if got := partFiles(t, s, "beta"); len(got) != 0 {
		t.Errorf("beta's prefix holds %v", got)
	}
	// The same writer again (a retried activity) gets its own ref back.
	if again := mustCommit(t, s, sharedPath("alpha", ck), "alpha's rows"); again != first {
		t.Errorf("recommitting the same bytes returned %+v, want %+v", again, first)
	}

	if err := s.Invalidate(ctx, ck); err != nil {
		t.Fatal(err)
	}
	forced := mustCommit(t, s, sharedPath("beta", ck), "beta's recomputed rows")
	if forced.Key != keyOf(t, sharedPath("beta", ck)) || forced == first {
		t.Errorf("commit after Invalidate returned %+v, want beta's new dataset", forced)
	}
	if got, ok, err := s.Lookup(ctx, ck); err != nil || !ok || got != forced {
		t.Errorf("Lookup after the forced commit = %+v, %v, %v; want %+v", got, ok, err, forced)
	}
	// alpha's object is left to whoever prunes it: Invalidate only
	// removes the marker.
	if _, err := s.Get(ctx, first.Key); err != nil {
		t.Errorf("alpha's object after Invalidate: %v", err)
	}
}

// TestCommitReplacesStaleMarker: a marker whose object is gone, changed,
// or that is not a marker at all is replaced by the next commit — also by
// two concurrent ones, which then agree on one ref.
func TestCommitReplacesStaleMarker(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	cases := []struct {
		name  string
		spoil func(t *testing.T, ck string, ref store.DatasetRef)
	}{
		{"object removed", func(t *testing.T, _ string, ref store.DatasetRef) {
			if err := s.Remove(ctx, ref.Key); err != nil {
				t.Fatal(err)
			}
		}},
		{"object replaced", func(t *testing.T, _ string, ref store.DatasetRef) {
			if err := s.Put(ctx, ref.Key, []byte("other bytes of another size"), "application/octet-stream"); err != nil {
				t.Fatal(err)
			}
		}},
		{"marker not JSON", func(t *testing.T, ck string, _ store.DatasetRef) {
			if err := s.Put(ctx, "commits/"+ck+".json", []byte("{truncated"), "application/json"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		for _, concurrent := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/concurrent=%v", tc.name, concurrent), func(t *testing.T) {
				ck := contentKey(t, tc.name+fmt.Sprint(concurrent))
				old := mustCommit(t, s, sharedPath("alpha", ck), "alpha's rows")
				tc.spoil(t, ck, old)
				writers := []string{"beta"}
				if concurrent {
					writers = []string{"beta", "gamma"}
				}
				refs := make([]store.DatasetRef, len(writers))
				errs := make([]error, len(writers))
				var wg sync.WaitGroup
				for i, c := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						refs[i], errs[i] = commitBytes(ctx, s, sharedPath(c, ck), c+"'s rows")
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("commit by %s over a stale marker: %v", writers[i], err)
					}
				}
				if concurrent && refs[0] != refs[1] {
					t.Fatalf("concurrent commits over a stale marker got %+v and %+v", refs[0], refs[1])
				}
				got, ok, err := s.Lookup(ctx, ck)
				if err != nil || !ok || got != refs[0] || got.Key == old.Key {
					t.Fatalf("Lookup = %+v, %v, %v; want the new %+v", got, ok, err, refs[0])
				}
				if err := s.Verify(ctx, got); err != nil {
					t.Error(err)
				}
				for _, c := range writers {
					if key := keyOf(t, sharedPath(c, ck)); key != got.Key {
						if _, err := s.Get(ctx, key); !store.IsNotFound(err) {
							t.Errorf("the losing copy %s is still there (%v)", key, err)
						}
					}
				}
			})
		}
	}
}

// TestCampaigns lists the campaign directories, not other prefixes.
func TestCampaigns(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if ids, err := s.Campaigns(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("Campaigns of an empty bucket = %v, %v", ids, err)
	}
	for _, c := range []string{"beta", "alpha"} {
		mustCommit(t, s, sharedPath(c, contentKey(t, c)), c)
	}
	if err := s.Put(ctx, "campaigns/gamma/manifest.json", []byte("{}"), "application/json"); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Campaigns(ctx)
	if err != nil || !slices.Equal(ids, []string{"alpha", "beta", "gamma"}) {
		t.Errorf("Campaigns = %v, %v; want [alpha beta gamma]", ids, err)
	}
}
