package manifest

import (
	"bytes"
	"io"
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

	// A dataset whose marker no longer matches the manifest (a rerun in
	// progress) is refused, and nothing partial is left.
	stale := *m
	stale.Datasets = []Entry{m.Datasets[0]}
	stale.Datasets[0].Ref.Key = strings.Replace(stale.Datasets[0].Ref.Key, "seed=1", "seed=9", 1)
	if _, err := Download(ctx, st, &stale, t.TempDir()); err == nil || !strings.Contains(err.Error(), "no longer committed") {
		t.Errorf("Download of a stale manifest: %v", err)
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
}
