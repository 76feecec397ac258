package pipelines

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"rulescape/core/train"
)

// testLimits are the limits of the target machine class, whatever machine
// the tests run on.
func testLimits() Limits { return NewLimits(24<<30, 2) }

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits(" memory=64GiB, trials=1e8,n=100_000,cores=8 ", 24<<30, 2)
	if err != nil {
		t.Fatal(err)
	}
	if l.Memory != 64<<30 || l.Max("trials") != 1e8 || l.Max("n") != 100000 || l.Cores != 8 {
		t.Errorf("got memory %d trials %d n %d cores %d", l.Memory, l.Max("trials"), l.Max("n"), l.Cores)
	}
	if l.Max("case_bytes") != 8<<30 {
		t.Errorf("case_bytes = %d, want an eighth of the raised memory", l.Max("case_bytes"))
	}
	if l.Max("iters") != 100000 {
		t.Errorf("iters = %d, want the table's default", l.Max("iters"))
	}
	for _, tc := range []struct{ spec, want string }{
		{"trails=5", "did you mean trials?"},
		{"trials", "is not name=value"},
		{"trials=-1", "is not a positive size"},
		{"trials=1.5", "is not a positive size"},
		{"memory=lots", "is not a positive size"},
		{"memory=1e30GiB", "is not a positive size"},
	} {
		_, err := ParseLimits(tc.spec, 1<<30, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), LimitsEnv+": ") {
			t.Errorf("%q: got %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func TestMemTotal(t *testing.T) {
	v, ok := memTotal([]byte("MemTotal:       24576000 kB\nMemFree: 1 kB\n"))
	if !ok || v != 24576000<<10 {
		t.Errorf("got %d %v", v, ok)
	}
	if _, ok := memTotal([]byte("MemFree: 1 kB\n")); ok {
		t.Error("no MemTotal line read as a size")
	}
	if PhysicalMemory() <= 0 {
		t.Error("PhysicalMemory is not positive")
	}
}

// TestLimitsNeverEnterTheID: a campaign plans to the same ID whatever the
// limits, as long as it is within them.
func TestLimitsNeverEnterTheID(t *testing.T) {
	a, err := ParseWithLimits("c.yaml", []byte(idBase), testLimits())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseWithLimits("c.yaml", []byte(idBase), NoLimits())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() {
		t.Errorf("IDs %s and %s differ with the limits", a.ID(), b.ID())
	}
}

// TestParseRejectsHugeSizes: each size that used to pass and crash the
// worker (or run forever) is one line naming the field and the limit.
func TestParseRejectsHugeSizes(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"n", base + "defaults: {n: 1000000}\n", []string{"c.yaml:7:", "defaults.n = 1000000 exceeds the limit 50000", "RULESCAPE_LIMITS=n=1000000"}},
		{"n memory", base + "defaults: {n: 30000}\n", []string{"c.yaml:7:", "defaults.n", "a train unit of rule miconi on task dnms needs about", "worker memory budget 24 GiB", "lower n", "RULESCAPE_LIMITS=memory="}},
		{"train.trials", base + "train: {trials: 1000000000000}\n", []string{"train.trials = 1000000000000 exceeds the limit 10000000", "RULESCAPE_LIMITS=trials="}},
		{"warmup", base + "defaults: {warmup: 1000000000000}\n", []string{"defaults.warmup = 1000000000000 exceeds the limit 10000000"}},
		{"inits", base + "stages: {fixedpoints: {inits: 1000000000000}}\n", []string{"stages.fixedpoints.inits = 1000000000000 exceeds the limit 1000000"}},
		{"inits memory", base + "stages: {fixedpoints: {inits: 1000000}}\n", []string{"stages.fixedpoints", "a fixedpoints unit", "lower stages.fixedpoints.inits"}},
		{"permutations", base + "stages: {rsa: {permutations: 1000000000000}}\n", []string{"stages.rsa.permutations = 1000000000000 exceeds the limit"}},
		{"connect_steps", base + "stages: {fixedpoints: {}, landscape: {connect_steps: 1000000000000}}\n", []string{"stages.landscape.connect_steps = 1000000000000 exceeds"}},
		{"perturbations", base + "stages: {sensitivity: {perturbations: 1000000000000}}\n", []string{"stages.sensitivity.perturbations"}},
		{"iters", "name: t\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt, metaopt: {iters: 1000000000000}}]\nseeds: 1\n",
			[]string{"c.yaml:3:", "rules[0].metaopt.iters = 1000000000000 exceeds the limit 100000"}},
		{"projection", "name: t\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt, metaopt: {estimator: \"projection:1000000000\"}}]\nseeds: 1\n",
			[]string{"rules[0].metaopt.estimator = 1000000000 exceeds the limit 10000"}},
		{"metaopt memory", "name: t\ndefaults: {n: 8000}\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt}]\nseeds: 1\n",
			[]string{"defaults.n", "the metaopt job of rule d needs about", "learners at once"}},
		{"horizon", "name: t\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt, metaopt: {trials: 1000000000000}}]\nseeds: 1\n",
			[]string{"rules[0].metaopt.trials = 1000000000000 exceeds the limit 10000000"}},
		{"max_parallel stays", base + "concurrency: {max_parallel: 3}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWithLimits("c.yaml", []byte(tc.file), testLimits())
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("parsed")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T: %v", err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("several lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q\n  does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestRaisedLimits: what the default limits refuse, raised limits accept,
// with the same campaign ID as ever.
func TestRaisedLimits(t *testing.T) {
	file := base + "train: {trials: 20000000}\n"
	if _, err := ParseWithLimits("c.yaml", []byte(file), testLimits()); err == nil {
		t.Fatal("default limits accept 2·10⁷ trials")
	}
	l, err := ParseLimits("trials=1e8", 24<<30, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseWithLimits("c.yaml", []byte(file), l); err != nil {
		t.Fatal(err)
	}
}

// TestRejectingHugeNAllocatesLittle: the check comes before any N×N
// matrix is made.
func TestRejectingHugeNAllocatesLittle(t *testing.T) {
	data := []byte(base + "defaults: {n: 1000000}\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ParseWithLimits("c.yaml", data, testLimits())
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("parsed")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("rejecting n: 1000000 allocated %d bytes", got)
	}
}

// TestTrainBytesBoundsMeasured compares TrainBytes with what train.Run
// allocates: with the collector off every allocation stays, so the total
// bounds the peak from above; the estimate must lie between the live
// heap after the run (result kept) and a few times the total.
func TestTrainBytesBoundsMeasured(t *testing.T) {
	p, err := Preset(PresetDefault)
	if err != nil {
		t.Fatal(err)
	}
	p.N, p.Trials, p.TaskParams = 400, 3, JSONObject{"steps": 200, "stim1_start": 0, "stim1_end": 40, "stim2_start": 80, "stim2_end": 120, "response": 40}
	b, err := p.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	est := TrainBytes(ShapeOf(b.Setup), p.Trials)

	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := train.Run(t.Context(), b.Setup, 1, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(after.TotalAlloc - before.TotalAlloc)
	debug.SetGCPercent(old)
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(res)
	t.Logf("estimate %d, live after %d, total allocated %d", est.Bytes, live, total)
	if est.Bytes < live || est.Bytes < total/2 || est.Bytes > 4*total {
		t.Errorf("estimate %d bytes: want ≥ the live heap %d, ≥ half and ≤ 4 times the %d allocated", est.Bytes, live, total)
	}
	if est.Key != "n" {
		t.Errorf("dominant term %q, want n at N=400", est.Key)
	}
}

// TestEstimatesClosedForm checks each formula at a point by hand.
func TestEstimatesClosedForm(t *testing.T) {
	s := Shape{N: 100, M: 3, O: 1, T: 50, Conditions: 4, K: 2, L: 2}
	learner := 8 * (8*100*100 + 3*100*(3+1+1) + 50*(3+2+1) + 51*100*(7+4))
	for _, tc := range []struct {
		name string
		got  Estimate
		want int64
		key  string
	}{
		{"train", TrainBytes(s, 1000), int64(learner + 48*1000), "n"},
		{"train trials", TrainBytes(s, 1e7), int64(learner + 48*1e7), "trials"},
		{"forward", ForwardBytes(s, 9, 10), int64(learner + 480 + 8*9*(3*100*100+4*100+4)), "directions"},
		{"fixedpoints", FixedPointsBytes(s, 3, 64, 2), int64(8*(4+16)*100*100 + 48*3*64*100), "n"},
		{"sensitivity", SensitivityBytes(s, 2), int64(8*(10*100*100) + 8*(8+14)*50*100), "task_params"},
		{"rsa", RSABytes(s, 10, 0), int64(8*10*(2*4*50*100+16) + 8*100), "task_params"},
		{"case", CaseBytes(s, 10), int64(24*10*(50*(3+100+1+1)+100) + 24*(2*100*100+100*4)), "trials"},
	} {
		if tc.got.Bytes != tc.want || tc.got.Key != tc.key {
			t.Errorf("%s: %d bytes (key %s), want %d (key %s)", tc.name, tc.got.Bytes, tc.got.Key, tc.want, tc.key)
		}
	}
	spec := DefaultMetaopt()
	if d := Directions(&spec, s); d != 9 {
		t.Errorf("exact: D = %d, want P = 9", d)
	}
	spec.Estimator = "projection:4"
	if d := Directions(&spec, s); d != 4 {
		t.Errorf("projection:4: D = %d", d)
	}
	spec = DefaultMetaopt()
	if got, want := MetaoptBytes(s, &spec, 2).Bytes, 2*ForwardBytes(s, 9, spec.Trials).Bytes; math.Abs(float64(got-want)) > 2 {
		t.Errorf("metaopt: %d, want two learners at once, %d", got, want)
	}
	huge := TrainBytes(Shape{N: math.MaxInt32, T: math.MaxInt32, L: 8}, math.MaxInt64)
	if huge.Bytes != math.MaxInt64 {
		t.Errorf("overflowing estimate %d, want it saturated", huge.Bytes)
	}
}

// FuzzLimitsSpec: any RULESCAPE_LIMITS value is accepted or one line
// naming the variable.
func FuzzLimitsSpec(f *testing.F) {
	for _, s := range []string{"", "memory=64GiB", "trials=1e8,n=200000", "x", "=", ",,", "memory=1e400", "cores=99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		l, err := ParseLimits(spec, 1<<30, 2)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, LimitsEnv+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q", msg)
			}
			return
		}
		if l.Memory < 1 || l.Cores < 1 {
			t.Fatalf("limits %+v", l)
		}
	})
}
