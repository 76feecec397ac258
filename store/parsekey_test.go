package store_test

import (
	"reflect"
	"strings"
	"testing"

	"rulescape/schemas"
	"rulescape/store"
)

// samePath compares two DatasetPaths, nil and empty Partitions alike.
func samePath(a, b store.DatasetPath) bool {
	if len(a.Partitions) == 0 && len(b.Partitions) == 0 {
		a.Partitions, b.Partitions = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func TestParseKeyRoundTrip(t *testing.T) {
	for _, p := range []store.DatasetPath{
		{Campaign: "c1", Stage: "train", Dataset: "networks", Partitions: store.TaskRuleSeed("dnms", "miconi", 3), ContentKey: ck},
		{Campaign: "c1", Stage: "metaopt", Dataset: "metaopt_history", ContentKey: ck, Format: schemas.ArrowIPC},
		{Campaign: "314f658e8f18a8d4", Stage: "rsa", Dataset: "rsa_pairs", Partitions: []store.Partition{{"task", "gonogo"}}, ContentKey: ck},
		{Campaign: "c1", Stage: "train", Dataset: "networks", ContentKey: ck,
			Partitions: []store.Partition{{"task", "a/b=c"}, {"rule", "50% [x]"}, {"seed", "ü"}, {"x", "%41"}, {"y", "part-" + ck + ".parquet"}}},
		{Campaign: "c", Stage: "manifest.json", Dataset: "part-x", ContentKey: ck}, // names that look like other keys
	} {
		key, err := p.Key()
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.ParseKey(key)
		if err != nil || got.Kind != store.DatasetKind || got.Campaign != p.Campaign || !samePath(got.Dataset, p) {
			t.Errorf("ParseKey(%q) = %+v, %v; want the dataset %+v", key, got, err, p)
		}
		if d, err := store.ParseDatasetKey(key); err != nil || !samePath(d, p) {
			t.Errorf("ParseDatasetKey(%q) = %+v, %v", key, d, err)
		}
	}
}

func TestParseKeyOtherKinds(t *testing.T) {
	for _, tc := range []struct {
		key  func() (string, error)
		kind store.KeyKind
		name string
	}{
		{func() (string, error) { return store.ManifestKey("c1") }, store.ManifestKind, ""},
		{func() (string, error) { return store.CheckpointKey("c1", "train/dnms-miconi-3/iter-000100.json") }, store.CheckpointKind, "train/dnms-miconi-3/iter-000100.json"},
		{func() (string, error) { return store.ReportKey("c1", "index.html") }, store.ReportKind, "index.html"},
		{func() (string, error) { return store.ReportKey("c1", "figures/rdm.svg") }, store.ReportKind, "figures/rdm.svg"},
	} {
		key, err := tc.key()
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.ParseKey(key)
		if err != nil || !reflect.DeepEqual(got, store.ParsedKey{Kind: tc.kind, Campaign: "c1", Name: tc.name}) {
			t.Errorf("ParseKey(%q) = %+v, %v; want %s %q of c1", key, got, err, tc.kind, tc.name)
		}
		if _, err := store.ParseDatasetKey(key); err == nil || !strings.Contains(err.Error(), "is the campaign's "+tc.kind.String()+", not a dataset") {
			t.Errorf("ParseDatasetKey(%q) = %v", key, err)
		}
	}
}

func TestParseKeyErrors(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"", "not under campaigns/<campaign>/"},
		{"commits/" + ck + ".json", "not under campaigns/<campaign>/"},
		{"campaigns/c1", "not under campaigns/<campaign>/"},
		{"campaigns/../train/d/part-" + ck + ".parquet", `campaign ".."`},
		{"campaigns/c1/manifest.jsonx", "want campaigns/<campaign>/<stage>/<dataset>/"},
		{"campaigns/c1/checkpoints", "no checkpoint name"},
		{"campaigns/c1/checkpoints/a/../b", `checkpoints name ".."`},
		{"campaigns/c1/report/", `report name ""`},
		{"campaigns/c1/train/networks", "want campaigns/<campaign>/<stage>/<dataset>/"},
		{"campaigns/c1/train/networks/seed/part-" + ck + ".parquet", `segment "seed": want a partition`},
		{"campaigns/c1/train/networks/=3/part-" + ck + ".parquet", `partition name ""`},
		{"campaigns/c1/train/networks/seed=/part-" + ck + ".parquet", "is empty or not escaped"},
		{"campaigns/c1/train/networks/rule=a%2fb/part-" + ck + ".parquet", "is empty or not escaped"},
		{"campaigns/c1/train/networks/rule=%41/part-" + ck + ".parquet", "is empty or not escaped"},
		{"campaigns/c1/train/networks/rule=%4/part-" + ck + ".parquet", "truncated"},
		{"campaigns/c1/train/networks/part-x.parquet", `file "part-x.parquet": want part-<content key`},
		{"campaigns/c1/train/networks/part-" + strings.ToUpper(ck) + ".parquet", "want part-<content key"},
		{"campaigns/c1/train/networks/data-" + ck + ".parquet", "want part-<content key"},
		{"campaigns/c1/train/networks/part-" + ck + ".csv", `extension ".csv"`},
		{"campaigns/c1/train/networks/part-" + ck, `extension ""`},
		{"campaigns/c1/train/networks/part-" + ck + ".parquet/", "want a partition"},
	} {
		if got, err := store.ParseKey(tc.key); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "store: object key") {
			t.Errorf("ParseKey(%q) = %+v, %v; want an error containing %q", tc.key, got, err, tc.want)
		}
	}
}

// FuzzParseKey checks that ParseKey never panics, that what it accepts is
// canonical (building the key again gives the input back), and that it
// inverts DatasetPath.Key.
func FuzzParseKey(f *testing.F) {
	f.Add("campaigns/c1/train/networks/task=dnms/rule=a%2Fb/seed=3/part-"+ck+".parquet", "c1", "train", "networks", "dnms", "a/b=c%", false)
	f.Add("campaigns/c1/manifest.json", "c", "s", "d", "", "", true)
	f.Add("campaigns/c1/checkpoints/a/b", "c", "manifest.json", "part-1", "ü", "\x00", false)
	f.Add("campaigns/c1/report/index.html", "..", "report", "d", "%", "=", true)
	f.Fuzz(func(t *testing.T, key, campaign, stage, dataset, v1, v2 string, arrow bool) {
		if p, err := store.ParseKey(key); err == nil {
			var again string
			switch p.Kind {
			case store.DatasetKind:
				again, err = p.Dataset.Key()
			case store.ManifestKind:
				again, err = store.ManifestKey(p.Campaign)
			case store.CheckpointKind:
				again, err = store.CheckpointKey(p.Campaign, p.Name)
			case store.ReportKind:
				again, err = store.ReportKey(p.Campaign, p.Name)
			default:
				t.Fatalf("ParseKey(%q) returned kind %v", key, p.Kind)
			}
			if err != nil || again != key {
				t.Fatalf("ParseKey(%q) = %+v, which builds %q, %v", key, p, again, err)
			}
		}
		d := store.DatasetPath{Campaign: campaign, Stage: stage, Dataset: dataset, ContentKey: ck,
			Partitions: []store.Partition{{"task", v1}, {"rule", v2}}}
		if arrow {
			d.Format = schemas.ArrowIPC
		}
		k, err := d.Key()
		if err != nil {
			return
		}
		got, err := store.ParseDatasetKey(k)
		if err != nil || !samePath(got, d) {
			t.Fatalf("ParseDatasetKey(Key(%+v) = %q) = %+v, %v", d, k, got, err)
		}
	})
}
