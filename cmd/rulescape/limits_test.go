package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"rulescape/internal/devstack"
	"rulescape/pipelines"
)

// limitsHome points RULESCAPE_HOME at a fresh directory, with the limits of
// the target machine class, and returns the directory: a command refused
// before any work leaves it empty (no embedded stack, no store).
func limitsHome(t testing.TB, setenv func(k, v string), dir string) string {
	home := filepath.Join(dir, "home")
	setenv(devstack.EnvHome, home)
	setenv(devstack.EnvTemporalAddr, "")
	setenv(pipelines.LimitsEnv, "memory=24GiB,cores=2")
	return home
}

// assertRefused checks a refused command: exit 1, one line on stderr
// naming want, nothing on stdout, and no RULESCAPE_HOME made.
func assertRefused(t *testing.T, home string, code int, stdout, stderr string, want ...string) {
	t.Helper()
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "rulescape: ") {
		t.Errorf("stderr is not one line: %.500q", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%q\n  does not name %q", stderr, w)
		}
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("RULESCAPE_HOME %s was made (err %v): the command started work", home, err)
	}
}

// TestHugeSizesAreRefused runs the inputs that used to exhaust memory (exit
// 2 and a goroutine dump), grow past gigabytes or run forever: each is now
// one line naming the field and the limit, before any store or server is
// contacted, and without allocating more than a few MB.
func TestHugeSizesAreRefused(t *testing.T) {
	dir := t.TempDir()
	home := limitsHome(t, t.Setenv, dir)
	campaign := func(name, extra string) string {
		p := filepath.Join(dir, name+".yaml")
		body := "name: huge\ntasks: [{name: dnms}]\nrules: [{name: miconi}]\nseeds: 1\n" + extra
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caseFile := filepath.Join(dir, "case.json")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"run n", []string{"run", campaign("n", "defaults: {n: 1000000}\n")}, []string{"n.yaml:5:", "defaults.n = 1000000 exceeds the limit 50000", "RULESCAPE_LIMITS=n="}},
		{"run trials", []string{"run", campaign("trials", "train: {trials: 1000000000000}\n")}, []string{"train.trials = 1000000000000 exceeds the limit"}},
		{"run inits", []string{"run", campaign("inits", "stages: {fixedpoints: {inits: 1000000000000}}\n")}, []string{"stages.fixedpoints.inits = 1000000000000 exceeds"}},
		{"run memory", []string{"run", campaign("mem", "defaults: {n: 40000}\n")}, []string{"defaults.n", "needs about", "worker memory budget 24 GiB", "RULESCAPE_LIMITS=memory="}},
		{"run iters", []string{"run", writeFile(t, "iters.yaml",
			"name: huge\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt, metaopt: {iters: 1000000000000}}]\nseeds: 1\n")},
			[]string{"rules[0].metaopt.iters = 1000000000000 exceeds the limit 100000"}},
		{"train n", []string{"train", "--n", "1000000"}, []string{"--n = 1000000 exceeds the limit 50000"}},
		{"train memory", []string{"train", "--n", "20000", "--seeds", "1-4"}, []string{"training 2 seed(s) at once needs about", "lower --n or --workers"}},
		{"train trials", []string{"train", "--trials", "1000000000000"}, []string{"--trials = 1000000000000 exceeds"}},
		{"metagrad write n", []string{"metagrad", "--write-case", caseFile, "--task", "dnms", "--trials", "2", "--n", "1000000"}, []string{"--n = 1000000 exceeds"}},
		{"metagrad write trials", []string{"metagrad", "--write-case", caseFile, "--task", "dnms", "--trials", "1000000000000"}, []string{"--trials = 1000000000000 exceeds"}},
		{"metagrad write case size", []string{"metagrad", "--write-case", caseFile, "--task", "dnms", "--trials", "1000000"}, []string{"the case would take about", "case_bytes"}},
		{"metagrad directions", []string{"metagrad", "--case", caseFile, "--directions", "1000000000"}, []string{"--directions = 1000000000 exceeds the limit 10000"}},
		{"metaopt iters", []string{"metaopt", "--iters", "1000000000000"}, []string{"--iters = 1000000000000 exceeds the limit 100000"}},
		{"metaopt memory", []string{"metaopt", "--n", "9000"}, []string{"metaopt needs about", "learners at once"}},
		{"metaopt projection", []string{"metaopt", "--estimator", "projection:1000000000"}, []string{"--estimator = 1000000000 exceeds the limit 10000"}},
		{"analyze inits", []string{"analyze", "fixedpoints", "--inits", "1000000000000", "--network", "x"}, []string{"--inits = 1000000000000", "at most 1000000"}},
		{"analyze permutations", []string{"analyze", "rsa", "--permutations", "1000000000000", "--network", "x"}, []string{"--permutations = 1000000000000"}},
		{"bad RULESCAPE_LIMITS", []string{"train", "--n", "1000000"}, []string{`RULESCAPE_LIMITS: "trails" is not a limit — did you mean trials?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "bad RULESCAPE_LIMITS" {
				t.Setenv(pipelines.LimitsEnv, "trails=5")
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			code, stdout, stderr := runCLI(t, tc.args...)
			runtime.ReadMemStats(&after)
			assertRefused(t, home, code, stdout, stderr, tc.want...)
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
				t.Errorf("refusing allocated %d MB", got>>20)
			}
			if _, err := os.Stat(caseFile); !os.IsNotExist(err) {
				t.Errorf("a case file was written")
			}
		})
	}
}

// TestRaisedLimitsAccept: RULESCAPE_LIMITS raises a bound; the check then
// passes (and the command goes on to its next check).
func TestRaisedLimitsAccept(t *testing.T) {
	dir := t.TempDir()
	limitsHome(t, t.Setenv, dir)
	t.Setenv(pipelines.LimitsEnv, "memory=24GiB,directions=2000000000")
	code, _, stderr := runCLI(t, "metagrad", "--case", filepath.Join(dir, "none.json"), "--directions", "1000000000")
	if code != 1 || strings.Contains(stderr, "exceeds the limit") || !strings.Contains(stderr, "--case") {
		t.Errorf("exit %d, stderr %q: want the missing case file as the error", code, stderr)
	}
}

// fuzzAllocLimit bounds what one fuzzed command may allocate in total
// (TotalAlloc, an upper bound of its peak): the 1 GB that no input may
// ever cost. (A tiny setup that passes its checks can come close in total,
// never at once: `train --seeds 1-99999` allocates ≈ 770 MB over its
// 99 999 seeds before it stops at the ended context.)
const fuzzAllocLimit = 1 << 30

// FuzzRunRefusals: any campaign file the parser refuses makes `rulescape
// run` exit 1 with one line, start nothing and never crash.
func FuzzRunRefusals(f *testing.F) {
	dir := f.TempDir()
	home := limitsHome(f, f.Setenv, dir)
	head := "name: huge\ntasks: [{name: dnms}]\nrules: [{name: miconi}]\nseeds: 1\n"
	for _, s := range []string{
		head + "defaults: {n: 1000000}\n", head + "train: {trials: 1000000000000}\n",
		head + "stages: {fixedpoints: {inits: 1000000000000}}\n", head + "defaults: {n: 40000}\n",
		"name: t\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt, metaopt: {iters: 1000000000000}}]\nseeds: 1\n",
		head + "defaults: {n: -1}\n", head + "seeds: 1-1000000000\n", "", "name: [",
		head + "defaults: {task_params: {steps: 1000000}}\n", head + "concurrency: {max_parallel: 99999999999}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if _, err := pipelines.Parse("c.yaml", data); err == nil {
			return // a valid campaign would run: not this test's business
		}
		file := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		code := run(context.Background(), []string{"run", file}, &out, &errb)
		runtime.ReadMemStats(&after)
		assertRefused(t, home, code, out.String(), errb.String())
		if got := after.TotalAlloc - before.TotalAlloc; got > fuzzAllocLimit {
			t.Errorf("refusing allocated %d MB", got>>20)
		}
	})
}

// FuzzSetupFlags gives one flag of train, metaopt or metagrad --write-case
// any value, on a tiny valid setup, with the run's context already ended
// (so that a setup that passes stops at once): the command never crashes
// nor prints a stack, exits 0 or 1, and an exit 1 is one line on stderr
// with no file written.
func FuzzSetupFlags(f *testing.F) {
	dir := f.TempDir()
	limitsHome(f, f.Setenv, dir)
	// A setup that passes runs until its first check of the context: keep
	// what it may allocate small.
	f.Setenv(pipelines.LimitsEnv, "memory=256MiB,cores=2")
	for _, s := range []struct {
		cmd  uint8
		flag string
		val  string
	}{
		{0, "n", "1000000"}, {0, "trials", "1000000000000"}, {0, "workers", "100000"}, {0, "seeds", "1-99999"},
		{1, "iters", "1000000000000"}, {1, "learners", "1000000000"}, {1, "estimator", "projection:1000000000"},
		{1, "held-out", "99999999"}, {2, "trials", "1000000000000"}, {2, "steps", "100000000"}, {2, "n", "1000000"},
		{0, "task-params", `{"steps": 1000000}`}, {0, "warmup", "1e12"}, {0, "criterion-window", "99999999999"},
		{2, "directions", "1000000000"}, {0, "n", "11000"}, {0, "theta", "[[1e308]]"}, {0, "clamps", "1,1,1,1,1,1,1,1,1,1,1,1,1"},
	} {
		f.Add(s.cmd, s.flag, s.val)
	}
	tiny := []string{"--n", "12", "--trials", "2", "--task", "gonogo", "--task-params", `{"steps": 30, "stim_start": 2, "stim_end": 10, "response": 10}`}
	f.Fuzz(func(t *testing.T, cmd uint8, flag, val string) {
		if len(flag) > 64 || len(val) > 256 || strings.ContainsAny(flag, "= ") || flag == "" || flag == "help" || flag == "h" {
			return
		}
		caseFile := filepath.Join(dir, "case.json")
		_ = os.Remove(caseFile)
		var args []string
		switch cmd % 3 {
		case 0:
			args = append([]string{"train", "--progress", "never"}, tiny...)
		case 1:
			args = append([]string{"metaopt", "--progress", "never", "--iters", "1", "--learners", "1", "--held-out", "0"}, tiny...)
		default:
			args = append([]string{"metagrad", "--write-case", caseFile}, tiny...)
		}
		args = append(args, "--"+flag+"="+val)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errb bytes.Buffer
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		code := run(ctx, args, &out, &errb)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > fuzzAllocLimit {
			t.Fatalf("%v: allocated %d MB", args, got>>20)
		}
		stderr := errb.String()
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Fatalf("%v: a stack on stderr: %.300q", args, stderr)
		}
		switch code {
		case 0:
		case 1:
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "rulescape: ") {
				t.Fatalf("%v: stderr is not one line: %.500q", args, stderr)
			}
			if _, err := os.Stat(caseFile); !os.IsNotExist(err) {
				t.Fatalf("%v: refused, yet wrote the case", args)
			}
		default:
			t.Fatalf("%v: exit %d", args, code)
		}
	})
}
