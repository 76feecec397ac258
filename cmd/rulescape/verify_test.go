package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rulescape/internal/devstack"
	"rulescape/manifest"
	"rulescape/store"
)

// corruptInPlace flips 16 bytes in the middle of an object in the embedded
// gateway's backing file objects/<bucket>/<key>, keeping its size, so the
// store's size (and the marker's ETag check) still pass.
func corruptInPlace(t *testing.T, home string, st *store.Store, key string) {
	t.Helper()
	file := filepath.Join(home, "objects", st.Bucket(), filepath.FromSlash(key))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 64 {
		t.Fatalf("%s has %d bytes: too small to corrupt in the middle", key, len(data))
	}
	for i := len(data) / 2; i < len(data)/2+16; i++ {
		data[i] ^= 0xff
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// verifyJSONOf runs `verify -o json` with args and decodes what it printed.
func verifyJSONOf(t *testing.T, args ...string) (int, verifyJSON, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"verify", "-o", "json", "--progress", "never"}, args...)...)
	var v verifyJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("verify %v printed %q (stderr %q): %v", args, out, errOut, err)
	}
	return code, v, errOut
}

func badKeys(bad []manifest.Bad) []string {
	var keys []string
	for _, b := range bad {
		keys = append(keys, b.Key)
	}
	slices.Sort(keys)
	return keys
}

// TestVerifyAndRepair corrupts two datasets of a finished campaign in place
// (same size): verify names exactly those two and exits 1; datasets get
// downloads every other dataset and names both; report refuses, naming
// both; verify --repair recomputes only the two units they belong to, and
// a second verify is clean. Then the report's index.html is corrupted:
// verify names it and --repair recomputes only the report unit.
func TestVerifyAndRepair(t *testing.T) {
	ctx, home, _, st := embeddedStack(t, 6*time.Minute)
	file := filepath.Join("testdata", "campaign_tiny.yaml")
	r := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	id := r.Campaign
	repair := "rulescape verify " + id + " --repair"

	code, clean, _ := verifyJSONOf(t, id)
	if code != 0 || len(clean.Bad) != 0 || clean.Objects != 14 || clean.Report == "" || clean.Bytes == 0 {
		t.Fatalf("verify of a fresh campaign: exit %d, %+v; want 13 datasets and the report, none bad", code, clean)
	}

	m, err := manifest.Read(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	var victims []manifest.Entry
	for _, d := range m.Datasets {
		if (d.Unit == "train/gonogo/miconi/seed=1" && d.Kind == "learning_curves") ||
			(d.Unit == "fixedpoints/gonogo/miconi/seed=2" && d.Kind == "fixed_points") {
			victims = append(victims, d)
		}
	}
	if len(victims) != 2 {
		t.Fatalf("manifest has %d of the two victims: %+v", len(victims), m.Datasets)
	}
	var want []string
	for _, v := range victims {
		corruptInPlace(t, home, st, v.Ref.Key)
		want = append(want, v.Ref.Key)
	}
	slices.Sort(want)

	// verify: exactly the two, exit 1, the repair command named.
	code, v, errOut := verifyJSONOf(t, id)
	if code != 1 || !slices.Equal(badKeys(v.Bad), want) || v.Objects != 14 || v.RepairCommand != repair || !strings.Contains(errOut, repair) {
		t.Fatalf("verify after corrupting %v: exit %d, bad %v, %+v, stderr %q", want, code, badKeys(v.Bad), v, errOut)
	}
	for _, b := range v.Bad {
		if b.Problem != store.ProblemDigest || b.Got != b.Want {
			t.Errorf("%s: problem %s, size %d vs %d; want a digest mismatch at the same size", b.Key, b.Problem, b.Got, b.Want)
		}
	}
	code, text, _ := runCLI(t, "verify", id)
	if code != 1 || strings.Count(text, "  BAD ") != 2 || !strings.Contains(text, "14 objects") || !strings.Contains(text, "2 bad") {
		t.Errorf("verify (text): exit %d\n%s", code, text)
	}

	// datasets get: every other dataset, both named, neither written.
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "datasets", "get", "-o", "json", id, "--out", dir)
	var got manifest.Downloaded
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("datasets get printed %q (%v), stderr %q", out, err, errOut)
	}
	if code != 1 || len(got.Files) != 11 || !slices.Equal(badKeys(got.Bad), want) || got.Repair != repair || !strings.Contains(errOut, repair) {
		t.Errorf("datasets get: exit %d, %d files, bad %v, repair %q, stderr %q; want 11 files and the two named", code, len(got.Files), badKeys(got.Bad), got.Repair, errOut)
	}
	for _, k := range want {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k))); !os.IsNotExist(err) {
			t.Errorf("datasets get wrote the corrupt %s (%v)", k, err)
		}
	}

	// report: refuses, naming both.
	code, _, errOut = runCLI(t, "report", id, "--out", t.TempDir())
	if code != 1 || !strings.Contains(errOut, repair) || !strings.Contains(errOut, "no report written") {
		t.Errorf("report: exit %d, stderr %q; want a refusal naming the repair", code, errOut)
	}
	for _, k := range want {
		if !strings.Contains(errOut, k) {
			t.Errorf("report's error does not name %s:\n%s", k, errOut)
		}
	}

	// verify --repair: only the two units recompute, then all is clean.
	code, fixed, errOut := verifyJSONOf(t, id, "--repair")
	if code != 0 || len(fixed.Bad) != 0 || fixed.Repair == nil || !slices.Equal(badKeys(fixed.Repair.Bad), want) {
		t.Fatalf("verify --repair: exit %d, %+v (stderr %q)", code, fixed, errOut)
	}
	rp := fixed.Repair
	computedBy := map[string]int{}
	for name, s := range rp.Stages {
		computedBy[name] = s.Units - s.CacheHits
	}
	if rp.Invalidated != 2 || rp.Removed != 2 || rp.Recomputed != 2 || computedBy["train"] != 1 || computedBy["fixedpoints"] != 1 || rp.Superseded != 0 {
		t.Errorf("repair: %+v, computed %v; want 2 markers invalidated, 2 objects removed, one train and one fixedpoints unit recomputed", rp, computedBy)
	}
	if code, again, _ := verifyJSONOf(t, id); code != 0 || len(again.Bad) != 0 || again.Objects != 14 {
		t.Errorf("verify after the repair: exit %d, %+v", code, again)
	}
	if code, _, errOut := runCLI(t, "report", id, "--out", t.TempDir()); code != 0 {
		t.Errorf("report after the repair: exit %d: %s", code, errOut)
	}

	// The report's index.html: committed by store.Mark under the report
	// unit's content key; a corrupt one is found and only the report
	// unit recomputes.
	corruptInPlace(t, home, st, fixed.Report)
	code, v, _ = verifyJSONOf(t, id)
	if code != 1 || len(v.Bad) != 1 || v.Bad[0].Key != fixed.Report || v.Bad[0].Kind != "report" {
		t.Fatalf("verify after corrupting %s: exit %d, %+v", fixed.Report, code, v)
	}
	code, fixed, errOut = verifyJSONOf(t, id, "--repair")
	if code != 0 || len(fixed.Bad) != 0 || fixed.Repair == nil || fixed.Repair.Recomputed != 1 || fixed.Repair.Stages["report"].CacheHits != 0 || fixed.Repair.Removed != 0 {
		t.Errorf("verify --repair of the report: exit %d, %+v, repair %+v (stderr %q); want the report unit alone recomputed", code, fixed, fixed.Repair, errOut)
	}

	// A missing object and a truncated one: named as such, and their two
	// train units recompute.
	problems := map[string]store.Problem{}
	for _, d := range m.Datasets {
		f := filepath.Join(home, "objects", st.Bucket(), filepath.FromSlash(d.Ref.Key))
		switch {
		case d.Unit == "train/gonogo/miconi/seed=2" && d.Kind == "networks":
			err = os.Remove(f)
			problems[d.Ref.Key] = store.ProblemMissing
		case d.Unit == "train/gonogo/discovered/seed=1" && d.Kind == "learning_curves":
			err = os.Truncate(f, d.Ref.Size/2)
			problems[d.Ref.Key] = store.ProblemSize
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	code, v, _ = verifyJSONOf(t, id)
	if code != 1 || len(v.Bad) != 2 || len(problems) != 2 {
		t.Fatalf("verify after removing and truncating %v: exit %d, %+v", problems, code, v)
	}
	for _, b := range v.Bad {
		if problems[b.Key] != b.Problem {
			t.Errorf("%s: problem %q, want %q", b.Key, b.Problem, problems[b.Key])
		}
	}
	code, fixed, errOut = verifyJSONOf(t, id, "--repair")
	if code != 0 || len(fixed.Bad) != 0 || fixed.Repair == nil || fixed.Repair.Recomputed != 2 ||
		fixed.Repair.Stages["train"].Units-fixed.Repair.Stages["train"].CacheHits != 2 || fixed.Repair.Removed != 1 {
		t.Errorf("verify --repair of a missing and a truncated object: exit %d, %+v, repair %+v (stderr %q); want two train units recomputed", code, fixed, fixed.Repair, errOut)
	}
}

// TestVerifyBadInput: a bad CAMPAIGN argument or an unreachable service is
// one line and exit 1, before anything is checked.
func TestVerifyBadInput(t *testing.T) {
	t.Setenv(devstack.EnvHome, filepath.Join(t.TempDir(), "home"))
	for _, c := range []struct {
		name, addr string
		args       []string
		want       string
	}{
		{"not a campaign", "", []string{"verify", "nope"}, `CAMPAIGN "nope" is neither a pipeline file nor a campaign ID`},
		{"bad progress", "", []string{"verify", "0123456789abcdef", "--repair", "--progress", "sometimes"}, "sometimes"},
		{"unreachable Temporal", "127.0.0.1:1", []string{"verify", "0123456789abcdef"}, "cannot reach Temporal at 127.0.0.1:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(devstack.EnvTemporalAddr, c.addr)
			code, out, errOut := runCLI(t, c.args...)
			if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", code, out, errOut, c.want)
			}
		})
	}
}
