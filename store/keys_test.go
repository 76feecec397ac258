package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"rulescape/schemas"
	"rulescape/store"
)

const ck = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDatasetKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    store.DatasetPath
		want string // key, or the error's substring when wantErr
		err  bool
	}{
		{"network", store.DatasetPath{Campaign: "c1", Stage: "train", Dataset: "networks", Partitions: store.TaskRuleSeed("dnms", "miconi", 3), ContentKey: ck},
			"campaigns/c1/train/networks/task=dnms/rule=miconi/seed=3/part-" + ck + ".parquet", false},
		{"arrow, no partitions", store.DatasetPath{Campaign: "c1", Stage: "metaopt", Dataset: "metaopt_history", ContentKey: ck, Format: schemas.ArrowIPC},
			"campaigns/c1/metaopt/metaopt_history/part-" + ck + ".arrow", false},
		{"escaped values", store.DatasetPath{Campaign: "c1", Stage: "train", Dataset: "networks",
			Partitions: []store.Partition{{"task", "a/b=c"}, {"rule", "50% [x]"}, {"seed", "ü"}}, ContentKey: ck},
			"campaigns/c1/train/networks/task=a%2Fb%3Dc/rule=50%25 %5Bx%5D/seed=ü/part-" + ck + ".parquet", false},
		{"bad campaign", store.DatasetPath{Campaign: "../x", Stage: "train", Dataset: "networks", ContentKey: ck}, `campaign "../x"`, true},
		{"bad stage", store.DatasetPath{Campaign: "c", Stage: "a/b", Dataset: "networks", ContentKey: ck}, `stage "a/b"`, true},
		{"reserved stage", store.DatasetPath{Campaign: "c", Stage: "report", Dataset: "networks", ContentKey: ck}, "reserved", true},
		{"empty value", store.DatasetPath{Campaign: "c", Stage: "s", Dataset: "d", Partitions: []store.Partition{{"task", ""}}, ContentKey: ck}, "empty value", true},
		{"bad partition name", store.DatasetPath{Campaign: "c", Stage: "s", Dataset: "d", Partitions: []store.Partition{{"ta=sk", "x"}}, ContentKey: ck}, "partition name", true},
		{"bad content key", store.DatasetPath{Campaign: "c", Stage: "s", Dataset: "d", ContentKey: "ABC"}, "content key", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Key()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Key() = %q, %v; want an error containing %q", got, err, tc.want)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Key() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestOtherKeys(t *testing.T) {
	for _, tc := range []struct {
		got  func() (string, error)
		want string
	}{
		{func() (string, error) { return store.ManifestKey("c1") }, "campaigns/c1/manifest.json"},
		{func() (string, error) { return store.CheckpointKey("c1", "train/dnms-miconi-3/iter-000100.json") },
			"campaigns/c1/checkpoints/train/dnms-miconi-3/iter-000100.json"},
		{func() (string, error) { return store.ReportKey("c1", "index.html") }, "campaigns/c1/report/index.html"},
		{func() (string, error) { return store.StagePrefix("c1", "train") }, "campaigns/c1/train/"},
	} {
		if got, err := tc.got(); err != nil || got != tc.want {
			t.Errorf("got %q, %v; want %q", got, err, tc.want)
		}
	}
	if _, err := store.CheckpointKey("c1", "a/../b"); err == nil {
		t.Error(`CheckpointKey accepted ".."`)
	}
}

func TestEscapePartition(t *testing.T) {
	for _, v := range []string{"plain", "a/b", "50%", "x=y", "tab\there", "[]{}^?*:'\"#\\", "ünïcødé", "%41"} {
		e := store.EscapePartition(v)
		if strings.ContainsAny(e, "/=") {
			t.Errorf("EscapePartition(%q) = %q still contains / or =", v, e)
		}
		back, err := store.UnescapePartition(e)
		if err != nil || back != v {
			t.Errorf("UnescapePartition(EscapePartition(%q)) = %q, %v", v, back, err)
		}
	}
	if got := store.EscapePartition("a/b%"); got != "a%2Fb%25" {
		t.Errorf("EscapePartition(a/b%%) = %q, want a%%2Fb%%25 (Hive's %%XX, uppercase)", got)
	}
	for _, bad := range []string{"%", "%4", "%zz"} {
		if _, err := store.UnescapePartition(bad); err == nil {
			t.Errorf("UnescapePartition(%q) accepted a bad escape", bad)
		}
	}
}

func TestContentKey(t *testing.T) {
	type inner struct {
		C []float64 `json:"c"`
		D string    `json:"d"`
	}
	type ab struct {
		A int   `json:"a"`
		B inner `json:"b"`
	}
	type ba struct {
		B inner `json:"b"`
		A int   `json:"a"`
	}
	in := []string{strings.Repeat("1", 64), strings.Repeat("2", 64)}
	key := func(params any, inputs []string, engine string) string {
		t.Helper()
		k, err := store.ContentKey(params, inputs, engine)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(ab{A: 1, B: inner{C: []float64{0.5, 2}, D: "x"}}, in, "v1")

	// The hash of the canonical document written out by hand.
	doc := `{"engine":"v1","inputs":["` + in[0] + `","` + in[1] + `"],"params":{"a":1,"b":{"c":[0.5,2],"d":"x"}},"v":1}`
	sum := sha256.Sum256([]byte(doc))
	if want := hex.EncodeToString(sum[:]); base != want {
		t.Errorf("ContentKey = %s, want sha256(%s) = %s", base, doc, want)
	}
	same := []any{
		ba{A: 1, B: inner{C: []float64{0.5, 2}, D: "x"}},
		map[string]any{"b": map[string]any{"d": "x", "c": []any{0.5, 2.0}}, "a": 1},
		map[string]any{"a": 1.0, "b": map[string]any{"c": []int{0, 2}, "d": "x"}}, // differs: c[0]
	}
	for i, p := range same[:2] {
		if k := key(p, in, "v1"); k != base {
			t.Errorf("params %d (same content, other field order) gave %s, want %s", i, k, base)
		}
	}
	for name, k := range map[string]string{
		"other params":       key(same[2], in, "v1"),
		"inputs reordered":   key(same[0], []string{in[1], in[0]}, "v1"),
		"other engine":       key(same[0], in, "v2"),
		"no inputs":          key(same[0], nil, "v1"),
		"one more parameter": key(map[string]any{"a": 1, "b": map[string]any{"c": []float64{0.5, 2}, "d": "x"}, "e": nil}, in, "v1"),
	} {
		if k == base {
			t.Errorf("%s: same content key as the base", name)
		}
	}
	for _, tc := range []struct {
		name   string
		inputs []string
		engine string
		params any
	}{
		{"empty engine", nil, "", 1},
		{"bad digest", []string{"xyz"}, "v1", 1},
		{"unmarshalable params", nil, "v1", func() {}},
	} {
		if _, err := store.ContentKey(tc.params, tc.inputs, tc.engine); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("RULESCAPE_S3_ENDPOINT", "https://s3.example.org:9000")
	t.Setenv("RULESCAPE_S3_ACCESS_KEY", "ak")
	t.Setenv("RULESCAPE_S3_SECRET_KEY", "sk")
	t.Setenv("RULESCAPE_S3_BUCKET", "lab-data")
	t.Setenv("RULESCAPE_S3_REGION", "eu-west-1")
	t.Setenv("RULESCAPE_S3_SECURE", "false")
	cfg, err := store.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := store.Config{Endpoint: "https://s3.example.org:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "lab-data", Region: "eu-west-1"}
	if cfg != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", cfg, want)
	}
	t.Setenv("RULESCAPE_S3_SECURE", "maybe")
	if _, err := store.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "RULESCAPE_S3_SECURE") {
		t.Errorf("bad RULESCAPE_S3_SECURE: %v", err)
	}
	for _, tc := range []struct {
		cfg  store.Config
		want string
	}{
		{store.Config{}, "set RULESCAPE_S3_ACCESS_KEY and RULESCAPE_S3_SECRET_KEY"},
		{store.Config{AccessKey: "a", SecretKey: "b", Bucket: "Bad_Bucket"}, "RULESCAPE_S3_BUCKET"},
		{store.Config{AccessKey: "a", SecretKey: "b", Endpoint: "ftp://x:1"}, "want http or https"},
		{store.Config{AccessKey: "a", SecretKey: "b", Endpoint: "http://x:1/path"}, "no path"},
	} {
		if _, err := store.New(t.Context(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestConfigStringRedactsSecret(t *testing.T) {
	s := store.Config{Endpoint: "h:1", AccessKey: "ak", SecretKey: "very-secret"}.String()
	if strings.Contains(s, "very-secret") || !strings.Contains(s, "AccessKey:ak") {
		t.Errorf("Config.String() = %s", s)
	}
}
