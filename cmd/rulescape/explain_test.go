package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rulescape/pipelines"
	"rulescape/stages"
)

// runWith runs the command line in-process with the given stage versions
// (what a worker and the CLI built from changed stage code would have).
func runWith(t *testing.T, versions stages.Versions, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runApp(t.Context(), &app{stdout: &out, stderr: &errb, versions: versions}, args)
	return code, out.String(), errb.String()
}

func runJSONWith(t *testing.T, versions stages.Versions, args ...string) runJSON {
	t.Helper()
	code, out, errOut := runWith(t, versions, args...)
	if code != 0 {
		t.Fatalf("rulescape %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("rulescape %s printed %q: %v", strings.Join(args, " "), out, err)
	}
	return r
}

func explainWith(t *testing.T, versions stages.Versions, arg string) explainJSON {
	t.Helper()
	code, out, errOut := runWith(t, versions, "explain", "-o", "json", arg)
	if code != 0 {
		t.Fatalf("explain %s: exit %d: %s", arg, code, errOut)
	}
	var e explainJSON
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("explain printed %q: %v", out, err)
	}
	return e
}

// statuses returns the explanation's status of each unit.
func statuses(e explainJSON) map[string]stages.Explanation {
	out := map[string]stages.Explanation{}
	for _, u := range e.Units {
		out[u.Unit] = u
	}
	return out
}

// computed returns, per stage, the units a run computed (not cache hits).
func computed(r runJSON) map[string]int {
	out := map[string]int{}
	for name, s := range r.Stages {
		out[name] = s.Units - s.CacheHits
	}
	return out
}

// TestCampaignIdentity is the acceptance test of honest cache keys and
// explain: a second run computes nothing (report included); a change to
// one stage's code (its engine version, changed through the test hook
// app.versions) recomputes that stage and what reads it, and explain names
// the version; a changed setting recomputes exactly the units it affects,
// and explain names the field with its old and new values.
func TestCampaignIdentity(t *testing.T) {
	ctx, _, _, _ := embeddedStack(t, 4*time.Minute)
	_ = ctx
	file := filepath.Join("testdata", "identity.yaml")
	cur := stages.Current()

	first := runJSONWith(t, cur, "run", "-o", "json", "--progress", "never", file)
	if first.Status != "completed" {
		t.Fatalf("first run: %+v", first)
	}
	if got := computed(first); got["train"] != 4 || got["rsa"] != 1 || got["report"] != 1 {
		t.Fatalf("first run computed %v, want every unit", got)
	}
	second := runJSONWith(t, cur, "run", "-o", "json", "--progress", "never", file)
	for name, n := range computed(second) {
		if n != 0 {
			t.Errorf("second run computed %d units of %s, want 0 (report included): %+v", n, name, second.Stages)
		}
	}
	if second.Report == nil || first.Report == nil || *second.Report != *first.Report {
		t.Errorf("second run's report %v, want the first's %v", second.Report, first.Report)
	}
	for id, e := range statuses(explainWith(t, cur, file)) {
		if e.Status != stages.StatusCached {
			t.Errorf("explain after two runs: %s is %s (%v), want cached", id, e.Status, e.Reasons)
		}
	}

	// A change to the RSA code: rsa and the report recompute, nothing else.
	changed := cur.With(pipelines.StageRSA, "rsa-test")
	ex := statuses(explainWith(t, changed, file))
	for id, e := range ex {
		switch {
		case strings.HasPrefix(id, "rsa/"):
			if e.Status != stages.StatusCompute || len(e.Reasons) != 1 || e.Reasons[0].Kind != stages.ReasonEngine ||
				e.Reasons[0].Old != cur[pipelines.StageRSA] || e.Reasons[0].New != "rsa-test" {
				t.Errorf("explain %s: %s %+v, want compute because of the engine version %s → rsa-test", id, e.Status, e.Reasons, cur[pipelines.StageRSA])
			}
		case id == "report":
			if e.Status != stages.StatusPending {
				t.Errorf("explain report: %s %+v, want pending behind rsa", id, e.Reasons)
			}
		default:
			if e.Status != stages.StatusCached {
				t.Errorf("explain %s: %s %+v, want cached", id, e.Status, e.Reasons)
			}
		}
	}
	code, text, _ := runWith(t, changed, "explain", file)
	if code != 0 || !strings.Contains(text, "engine version "+cur[pipelines.StageRSA]+" → rsa-test") {
		t.Errorf("explain text (exit %d) does not name the engine version:\n%s", code, text)
	}
	third := runJSONWith(t, changed, "run", "-o", "json", "--progress", "never", file)
	if got := computed(third); got["train"] != 0 || got["rsa"] != 1 || got["report"] != 1 {
		t.Errorf("run after the RSA change computed %v, want rsa and the report only", got)
	}

	// A changed setting: the rsa permutations.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(t.TempDir(), "identity.yaml")
	if err := os.WriteFile(edited, bytes.Replace(data, []byte("permutations: 10"), []byte("permutations: 20"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	ex = statuses(explainWith(t, changed, edited))
	rsa := ex["rsa/gonogo"]
	if rsa.Status != stages.StatusCompute || len(rsa.Reasons) != 1 || rsa.Reasons[0].Kind != stages.ReasonSetting ||
		rsa.Reasons[0].Field != "settings.permutations" || rsa.Reasons[0].Old != "10" || rsa.Reasons[0].New != "20" {
		t.Errorf("explain of the edited file: rsa/gonogo %s %+v, want compute because settings.permutations 10 → 20", rsa.Status, rsa.Reasons)
	}
	for id, e := range ex {
		if strings.HasPrefix(id, "train/") && e.Status != stages.StatusCached {
			t.Errorf("explain of the edited file: %s is %s, want cached", id, e.Status)
		}
	}
	fourth := runJSONWith(t, changed, "run", "-o", "json", "--progress", "never", edited)
	if got := computed(fourth); got["train"] != 0 || got["rsa"] != 1 || got["report"] != 1 {
		t.Errorf("run of the edited file computed %v, want rsa and the report only", got)
	}
	if fourth.Campaign == first.Campaign {
		t.Error("the edited file has the campaign ID of the original")
	}
}

// TestExplainBadInput: an unknown campaign or a file with errors gives one
// line and exit status 1.
func TestExplainBadInput(t *testing.T) {
	embeddedStack(t, 2*time.Minute)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\ntasks: [{name: gonogo}]\nrules: [{name: miconi}]\nseeds: 1-2\ntrain: {trials: -3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"0123456789abcdef", bad, "no-such-file.yaml"} {
		code, out, errOut := runCLI(t, "explain", arg)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 1 || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "rulescape: ") {
			t.Errorf("explain %s: exit %d, stdout %q, stderr %q; want exit 1 and one line", arg, code, out, errOut)
		}
	}
}
