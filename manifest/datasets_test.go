package manifest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"rulescape/internal/s3test"
	"rulescape/schemas"
	"rulescape/store"
)

// TestOwnPrefix: a dataset another campaign computed (a cache hit) is
// downloaded under the campaign's own prefix, keeping its layout.
func TestOwnPrefix(t *testing.T) {
	k1, k2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	for _, tc := range []struct{ key, want string }{
		{"campaigns/aaaa/train/networks/task=dnms/rule=miconi/seed=1/part-" + k1 + ".parquet", "campaigns/bbbb/train/networks/task=dnms/rule=miconi/seed=1/part-" + k1 + ".parquet"},
		{"campaigns/bbbb/rsa/rsa_pairs/task=dnms/part-" + k2 + ".parquet", "campaigns/bbbb/rsa/rsa_pairs/task=dnms/part-" + k2 + ".parquet"},
		{"campaigns/aaaa", "campaigns/aaaa"},
		{"other/x.parquet", "other/x.parquet"},
		{"campaigns/aaaa/train/networks/part-k1.parquet", "campaigns/aaaa/train/networks/part-k1.parquet"}, // not a dataset key
	} {
		if got := ownPrefix(tc.key, "bbbb"); got != tc.want {
			t.Errorf("ownPrefix(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// TestPartitions: Hive segments of a key, unescaped, in key order.
func TestPartitions(t *testing.T) {
	e := Entry{Dataset: Dataset{Ref: store.DatasetRef{Key: "campaigns/c/train/learning_curves/task=dnms/rule=a%2Fb%3Dc/seed=3/part-" + strings.Repeat("0", 64) + ".parquet"}}}
	got, err := e.Partitions()
	want := store.TaskRuleSeed("dnms", "a/b=c", 3)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Partitions = %v, %v; want %v", got, err, want)
	}
	m, hive, err := e.partitionMap()
	if err != nil || hive != "task=dnms rule=a/b=c seed=3" || m["rule"] != "a/b=c" || len(m) != 3 {
		t.Errorf("partitionMap = %v, %q, %v", m, hive, err)
	}
	if _, err := (Entry{Dataset: Dataset{Ref: store.DatasetRef{Key: "campaigns/c/manifest.json"}}}).Partitions(); err == nil {
		t.Error("Partitions of a manifest key: no error")
	}
}

func TestLocalPath(t *testing.T) {
	if p, err := LocalPath("d", "campaigns/c/x.parquet"); err != nil || p != filepath.Join("d", "campaigns", "c", "x.parquet") {
		t.Errorf("LocalPath = %q, %v", p, err)
	}
	for _, bad := range []string{"../x", "/x", "a/../../x", "a//b"} {
		if _, err := LocalPath("d", bad); err == nil {
			t.Errorf("LocalPath(%q): no error", bad)
		}
	}
}

// TestListDownloadShare: one campaign whose manifest lists a dataset of its
// own and a cache hit under another campaign's prefix.
func TestListDownloadShare(t *testing.T) {
	gw := s3test.Start(t)
	ctx := t.Context()
	st, err := store.New(ctx, store.Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, Region: gw.Region, Bucket: "dl-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	const id, other = "0123456789abcdef", "fedcba9876543210"
	m := &Manifest{Campaign: id, Name: "tiny"}
	for i, c := range []string{id, other} {
		ck := strings.Repeat(string(rune('a'+i)), 64)
		p := store.DatasetPath{Campaign: c, Stage: "train", Dataset: "learning_curves", Partitions: store.TaskRuleSeed("dnms", "a/b", int64(i+1)),
			ContentKey: ck, Format: schemas.Parquet}
		body := bytes.Repeat([]byte{byte(i)}, 100+i)
		ref, err := st.Commit(ctx, p, "learning_curves@1", func(w io.Writer) (int64, error) { _, err := w.Write(body); return 7, err })
		if err != nil {
			t.Fatal(err)
		}
		m.Datasets = append(m.Datasets, Entry{Dataset: Dataset{Unit: "u", Stage: "train", Kind: "learning_curves", ContentKey: ck, Ref: ref}, URI: URI(st, ref.Key)})
	}
	if _, err := Write(ctx, st, *m); err != nil {
		t.Fatal(err)
	}

	ls, err := List(st, m)
	if err != nil || ls.Manifest != "s3://dl-test/campaigns/"+id+"/manifest.json" || len(ls.Datasets) != 2 ||
		ls.Datasets[1].Hive != "task=dnms rule=a/b seed=2" || ls.Datasets[1].Partitions["rule"] != "a/b" || ls.Datasets[1].Rows != 7 {
		t.Fatalf("List = %+v, %v", ls, err)
	}

	dir := t.TempDir()
	got, err := Download(ctx, st, m, dir)
	if err != nil || len(got.Files) != 2 || got.Bytes != 201 || got.Manifest != filepath.Join(dir, "campaigns", id, "manifest.json") {
		t.Fatalf("Download = %+v, %v", got, err)
	}
	for i, f := range got.Files {
		if !strings.HasPrefix(f, filepath.Join(dir, "campaigns", id, "train", "learning_curves")+string(filepath.Separator)) {
			t.Errorf("file %d at %s, want it under the campaign's own prefix", i, f)
		}
		if data, err := os.ReadFile(f); err != nil || len(data) != 100+i {
			t.Errorf("file %d: %d bytes, %v", i, len(data), err)
		}
	}
	for _, f := range append(got.Files, got.Manifest) {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600: downloaded datasets are the lab's", f, fi.Mode(), err)
		}
	}
	if back, err := ReadFile(got.Manifest); err != nil || back.Campaign != id || len(back.Datasets) != 2 {
		t.Errorf("downloaded manifest: %+v, %v", back, err)
	}

	// The commit marker is the authority: a manifest naming another key
	// for a content key (the unit was recomputed under another campaign's
	// prefix since) downloads what the marker names.
	moved := *m
	moved.Datasets = []Entry{m.Datasets[0]}
	moved.Datasets[0].Ref.Key = strings.Replace(moved.Datasets[0].Ref.Key, "seed=1", "seed=9", 1)
	if got, err := Download(ctx, st, &moved, t.TempDir()); err != nil || len(got.Files) != 1 || !strings.Contains(got.Files[0], "seed=1") {
		t.Errorf("Download of a manifest whose key moved: %+v, %v", got, err)
	}

	report, _ := store.ReportKey(id, "index.html")
	sm, err := Share(ctx, st, m, time.Hour, report)
	if err != nil || sm.ReportURL != nil || len(sm.Datasets) != 2 || sm.ManifestURL == "" || sm.Datasets[0].Partitions["seed"] != "1" ||
		time.Until(sm.ExpiresAt) > time.Hour || time.Until(sm.ExpiresAt) < 59*time.Minute {
		t.Fatalf("Share = %+v, %v", sm, err)
	}
	if err := st.Put(ctx, report, []byte("<html>"), "text/html"); err != nil {
		t.Fatal(err)
	}
	if sm, err = Share(ctx, st, m, time.Hour, report); err != nil || sm.ReportURL == nil {
		t.Fatalf("Share with a report: %+v, %v", sm, err)
	}
	var text bytes.Buffer
	sm.WriteText(&text, "share.json")
	if s := text.String(); !strings.Contains(s, "2 datasets shared until") || !strings.Contains(s, "datasets: learning_curves (2 files)") ||
		!strings.Contains(s, "SELECT * FROM read_parquet(['"+sm.Datasets[0].URL+"', ") || !strings.Contains(s, `json.load(open("share.json"))`) {
		t.Errorf("WriteText:\n%s", s)
	}

	// Two bad objects: one whose marker is gone, one corrupted in place
	// (same size). Verify names exactly those; Download writes neither and
	// names both, and writes the manifest.
	if v, err := Verify(ctx, st, id, Targets(m), 0); err != nil || v.Objects != 2 || v.Bytes != 201 || len(v.Bad) != 0 {
		t.Fatalf("Verify of a good campaign = %+v, %v", v, err)
	}
	if err := st.Invalidate(ctx, m.Datasets[0].ContentKey); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(gw.Dir, st.Bucket(), filepath.FromSlash(m.Datasets[1].Ref.Key))
	data, err := os.ReadFile(file)
	if err != nil || len(data) != 101 {
		t.Fatalf("backing file %s: %d bytes, %v", file, len(data), err)
	}
	data[50] ^= 0xff
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(ctx, st, id, Targets(m), 0)
	if err != nil || len(v.Bad) != 2 || v.Bad[0].Problem != store.ProblemUncommitted || v.Bad[0].Key != m.Datasets[0].Ref.Key ||
		v.Bad[1].Problem != store.ProblemDigest || v.Bad[1].Key != m.Datasets[1].Ref.Key || v.Bytes != 101 {
		t.Fatalf("Verify after the damage = %+v, %v", v, err)
	}
	dir = t.TempDir()
	got, err = Download(ctx, st, m, dir)
	var bad *BadObjectsError
	if !errors.As(err, &bad) || len(bad.Bad) != 2 || len(got.Files) != 0 || len(got.Bad) != 2 || got.Repair != "rulescape verify "+id+" --repair" {
		t.Fatalf("Download of a damaged campaign = %+v, %v", got, err)
	}
	for _, want := range []string{m.Datasets[0].Ref.Key + ": uncommitted", m.Datasets[1].Ref.Key + ": digest", "rulescape verify " + id + " --repair"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Download's error does not say %q:\n%v", want, err)
		}
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 || files[0] != got.Manifest {
		t.Errorf("Download of a damaged campaign left %v, want only the manifest", files)
	}
}
