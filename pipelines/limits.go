package pipelines

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"rulescape/core/tasks"
	"rulescape/core/train"
)

// LimitsEnv is the environment variable that raises (or lowers) limits:
// comma-separated name=value pairs of the limits table (LimitTable), e.g.
// RULESCAPE_LIMITS=memory=64GiB,trials=100000000. Limits are checked when a
// campaign is planned and when a command validates its flags; they never
// enter a plan, so changing them changes no campaign ID.
const LimitsEnv = "RULESCAPE_LIMITS"

// DefaultMemory is the worker memory budget when the machine's physical
// memory cannot be read: the target machine class (2 cores, 24 GiB).
const DefaultMemory = 24 << 30

// Limit is one bound of the limits table: the largest value the sizes it
// names may take on the target machine class (2 cores, 24 GiB; a cluster
// worker may be bigger, see LimitsEnv).
type Limit struct {
	Name    string // its name in RULESCAPE_LIMITS, e.g. "trials"
	Default int64  // the bound on the target machine class
	Fields  string // the campaign fields and flags it bounds
	Why     string // the cost estimate it comes from, shown in messages
}

// LimitTable returns the bounds of every size a user can give, besides the
// worker memory budget ("memory": the machine's physical memory) that the
// estimated peak memory of every unit is compared with, and the cores the
// estimates assume run at once ("cores": the machine's). Sizes bounded
// elsewhere keep their own bound: seeds (MaxSeeds), train units (MaxUnits),
// K and L (plasticity.MaxOrder), a task's steps (tasks.MaxSteps) and
// conditions (tasks.MaxConditions). The table is documented in
// docs/CAMPAIGNS.md ("Limits").
func LimitTable() []Limit {
	return []Limit{
		{"n", 50_000, "n (network size N)",
			"one N×N float64 matrix takes 8·N² bytes, 20 GB at N = 50000, and a learner holds about 8 of them"},
		{"trials", 10_000_000, "trials, train.trials, warmup, criterion_window, metaopt.trials, metagrad --trials",
			"every trial is kept (17 bytes) and written as a row of the trials dataset; at ≥ 1 ms a trial, 10⁷ trials take hours per network"},
		{"steps", tasks.MaxSteps, "perturb_start, gate_start, metagrad --steps (a task's steps are bounded by its own check)",
			"a trial of T steps holds about (7 + 2L)·T·N floats"},
		{"iters", 100_000, "metaopt.iters, eval_every, metaopt --iters",
			"every meta-iteration trains all learners over the whole horizon"},
		{"learners", 10_000, "metaopt.learners, held_out, es_pairs, cma_population",
			"every learner is a network trained over the horizon in every iteration"},
		{"directions", 10_000, "metaopt.estimator projection:Ω, metagrad --directions",
			"forward mode keeps 3 tangent copies of W per direction, 24·Ω·N² bytes"},
		{"inits", 1_000_000, "stages.fixedpoints.inits, analyze --inits",
			"every initial state is a descent and keeps about 4·N floats"},
		{"max_iters", 1_000_000, "stages.fixedpoints.max_iters, analyze --max-iters",
			"every iteration factors an N×N matrix (N³/3 flops)"},
		{"deflation", 10_000, "stages.fixedpoints.deflation, analyze --deflation",
			"every round runs up to two searches per initial state, each evaluating the deflation over every point found"},
		{"permutations", 1_000_000, "stages.rsa.permutations, stages.landscape.permutations, stages.dsa.permutations, stages.atlas.permutations, analyze --permutations",
			"every shuffle recomputes the test statistic over all pairs of networks"},
		{"pcs", 1_000, "stages.landscape.pcs, analyze --pcs",
			"the points are projected on that many principal axes of the trajectories"},
		{"connect_steps", 10_000_000, "stages.landscape.connect_steps, analyze --connect-steps",
			"every step is one N×N matrix-vector product per saddle branch"},
		{"perturbations", 1_000_000, "stages.sensitivity.perturbations, analyze --perturbations",
			"every perturbation runs every condition's trial once more"},
		{"parallel", 4_096, "concurrency.max_parallel, --workers",
			"every unit or seed in flight holds its own learner"},
		{"case_bytes", 0, "metagrad --case, and the case metagrad --write-case would write",
			"a case is read whole and decoded to about 4 times its size (default: an eighth of the memory budget)"},
	}
}

// NoLimits are limits no size reaches: for re-reading campaigns that ran
// already (their sizes were checked when they were planned).
func NoLimits() Limits {
	l := Limits{Memory: math.MaxInt64, Cores: 1, max: map[string]int64{}}
	for _, t := range LimitTable() {
		l.max[t.Name] = math.MaxInt64
	}
	return l
}

// Limits are the bounds in force: the table's (LimitTable), the worker
// memory budget and the overrides of RULESCAPE_LIMITS. The zero value is
// not usable: build one with NewLimits, ParseLimits or LimitsFromEnv.
type Limits struct {
	Memory int64 // bytes one unit may need at its peak: the worker memory budget
	Cores  int   // learners or seeds the estimates assume run at once, at most
	max    map[string]int64
	set    map[string]bool // names RULESCAPE_LIMITS set
}

// NewLimits returns the table's bounds for a worker of memory bytes and
// cores cores (case_bytes is an eighth of memory).
func NewLimits(memory int64, cores int) Limits {
	l := Limits{Memory: memory, Cores: max(cores, 1), max: map[string]int64{}, set: map[string]bool{}}
	for _, t := range LimitTable() {
		l.max[t.Name] = t.Default
	}
	l.max["case_bytes"] = memory / 8
	return l
}

// LimitsFromEnv returns the limits of this machine: its physical memory
// (PhysicalMemory) and cores, with the overrides of RULESCAPE_LIMITS.
func LimitsFromEnv() (Limits, error) {
	return ParseLimits(os.Getenv(LimitsEnv), PhysicalMemory(), runtime.NumCPU())
}

// ParseLimits returns NewLimits(memory, cores) with the overrides of spec,
// a RULESCAPE_LIMITS value: "name=value,…" where name is "memory", "cores"
// or a name of LimitTable. Values are integers ("1e8" and "100_000" too);
// memory and case_bytes take a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB).
// Setting memory rescales case_bytes unless spec sets it too.
func ParseLimits(spec string, memory int64, cores int) (Limits, error) {
	l := NewLimits(memory, cores)
	var names []string
	for _, t := range LimitTable() {
		names = append(names, t.Name)
	}
	all := append([]string{"memory", "cores"}, names...)
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return Limits{}, fmt.Errorf("%s: %s is not name=value — write e.g. %s=memory=64GiB,trials=100000000", LimitsEnv, Excerpt(part), LimitsEnv)
		}
		if !slices.Contains(all, name) {
			fix := "use one of " + strings.Join(all, ", ")
			if near := Nearest(name, all); near != "" {
				fix = fmt.Sprintf("did you mean %s? (%s)", near, fix)
			}
			return Limits{}, fmt.Errorf("%s: %s is not a limit — %s", LimitsEnv, Excerpt(name), fix)
		}
		v, err := parseSize(strings.TrimSpace(val), name == "memory" || name == "case_bytes")
		if err != nil || v < 1 {
			return Limits{}, fmt.Errorf("%s: %s=%s is not a positive size — write e.g. %s=%s", LimitsEnv, name, Excerpt(val), name, map[bool]string{true: "64GiB", false: "1000000"}[name == "memory" || name == "case_bytes"])
		}
		switch name {
		case "memory":
			l.Memory = v
			if !l.set["case_bytes"] {
				l.max["case_bytes"] = v / 8
			}
		case "cores":
			l.Cores = int(min(v, 1<<20))
		default:
			l.max[name] = v
		}
		l.set[name] = true
	}
	return l, nil
}

// parseSize parses an integer, in scientific notation or with '_'
// separators, and with bytes a unit suffix.
func parseSize(s string, bytes bool) (int64, error) {
	mult := 1.0
	if bytes {
		units := []struct {
			suffix string
			mult   float64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
			{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
		for _, u := range units {
			if rest, ok := strings.CutSuffix(s, u.suffix); ok {
				s, mult = strings.TrimSpace(rest), u.mult
				break
			}
		}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsNaN(f) || f*mult >= math.MaxInt64 || f != math.Trunc(f) && mult == 1 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * mult), nil
}

// PhysicalMemory returns the machine's physical memory (MemTotal of
// /proc/meminfo), or DefaultMemory where it cannot be read.
func PhysicalMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return DefaultMemory
	}
	if v, ok := memTotal(data); ok {
		return v
	}
	return DefaultMemory
}

// memTotal reads the MemTotal line of a /proc/meminfo ("MemTotal: 24576000 kB").
func memTotal(data []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// Max returns the bound of the limit name (LimitTable).
func (l Limits) Max(name string) int64 { return l.max[name] }

// LimitWhy returns the table's reason for the limit name.
func LimitWhy(name string) string { return why(name) }

// why returns the table's reason for limit name.
func why(name string) string {
	for _, t := range LimitTable() {
		if t.Name == name {
			return t.Why
		}
	}
	return ""
}

// Exceeds returns nil when v is within limit name, else a *ParamError
// for key named ref: "<ref> = v exceeds the limit L (why) — lower it, or
// raise the limit with RULESCAPE_LIMITS=name=v".
func (l Limits) Exceeds(name, key, ref string, v int64) error {
	if v <= l.max[name] {
		return nil
	}
	return &ParamError{Key: key,
		Problem: fmt.Sprintf("%s = %d exceeds the limit %d (%s)", ref, v, l.max[name], why(name)),
		Fix:     fmt.Sprintf("lower it, or raise the limit on a bigger machine with %s=%s=%d", LimitsEnv, name, v)}
}

// CheckParams checks the sizes of a built setup's parameters (spec is its
// task's shape) against the limits, naming a value as src does (nil: the
// preset). Errors are *ParamError.
func (l Limits) CheckParams(p *Params, src Source) error {
	if src == nil {
		src = presetSource(p.Preset)
	}
	for _, c := range []struct {
		name, key string
		v         int
	}{
		{"n", "n", p.N},
		{"trials", "trials", p.Trials},
		{"trials", "warmup", p.Warmup},
		{"trials", "criterion_window", p.CriterionWindow},
		{"steps", "perturb_start", p.PerturbStart},
		{"steps", "gate_start", p.GateStart},
	} {
		if err := l.Exceeds(c.name, c.key, src.Ref(c.key), int64(c.v)); err != nil {
			return err
		}
	}
	return nil
}

// CheckMetaopt checks the sizes of a metaopt job's settings, naming a
// setting as ref names its key. Errors are *ParamError.
func (l Limits) CheckMetaopt(s *MetaoptSpec, ref func(key string) string) error {
	omega := 0
	if rest, ok := strings.CutPrefix(s.Estimator, "projection:"); ok {
		omega, _ = strconv.Atoi(rest)
	}
	for _, c := range []struct {
		name, key string
		v         int
	}{
		{"iters", "iters", s.Iters},
		{"learners", "learners", s.Learners},
		{"trials", "trials", s.Trials},
		{"learners", "held_out", s.HeldOut},
		{"iters", "eval_every", s.EvalEvery},
		{"learners", "es_pairs", s.ESPairs},
		{"learners", "cma_population", s.CMAPopulation},
		{"directions", "estimator", omega},
	} {
		if err := l.Exceeds(c.name, c.key, ref(c.key), int64(c.v)); err != nil {
			return err
		}
	}
	return nil
}

// CheckStages checks the sizes of the enabled analysis stages' settings:
// the first one out of bounds is a *SettingError keyed by the setting
// (e.g. "inits").
func (l Limits) CheckStages(st Stages) error {
	name, key, v, over := l.stageExcess(st, "")
	if !over {
		return nil
	}
	return &SettingError{Key: key, Value: v, Want: fmt.Sprintf("at most %d (%s) — lower it, or raise the limit with %s=%s=%d",
		l.max[name], why(name), LimitsEnv, name, v)}
}

// stageExcess returns the limit, key and value of the first setting of
// an enabled stage (of section only, unless "") that exceeds its limit.
func (l Limits) stageExcess(st Stages, section string) (name, key string, v int, over bool) {
	for _, c := range []struct {
		section   string
		on        bool
		name, key string
		v         int
	}{
		{"fixedpoints", st.FixedPoints.Enabled, "inits", "inits", st.FixedPoints.Inits},
		{"fixedpoints", st.FixedPoints.Enabled, "max_iters", "max_iters", st.FixedPoints.MaxIters},
		{"fixedpoints", st.FixedPoints.Enabled, "deflation", "deflation", st.FixedPoints.Deflation},
		{"rsa", st.RSA.Enabled, "permutations", "permutations", st.RSA.Permutations},
		{"landscape", st.Landscape.Enabled, "pcs", "pcs", st.Landscape.PCs},
		{"landscape", st.Landscape.Enabled, "permutations", "permutations", st.Landscape.Permutations},
		{"landscape", st.Landscape.Enabled, "connect_steps", "connect_steps", st.Landscape.ConnectSteps},
		{"sensitivity", st.Sensitivity.Enabled, "perturbations", "perturbations", st.Sensitivity.Perturbations},
		{"dsa", st.DSA.Enabled, "permutations", "permutations", st.DSA.Permutations},
		{"atlas", st.Atlas.Enabled, "permutations", "permutations", st.Atlas.Permutations},
	} {
		if c.on && (section == "" || section == c.section) && int64(c.v) > l.max[c.name] {
			return c.name, c.key, c.v, true
		}
	}
	return "", "", 0, false
}

// CheckMemory returns nil when an estimate fits the memory budget, else an
// error naming what needs it: "<what> needs about X (<estimate>), more than
// the worker memory budget Y — <fix>, or raise the budget with
// RULESCAPE_LIMITS=memory=…".
func (l Limits) CheckMemory(what string, e Estimate, fix string) error {
	if e.Bytes <= l.Memory {
		return nil
	}
	return &MemoryError{What: what, Need: e, Budget: l.Memory, Fix: fix}
}

// MemoryError is a unit or command whose estimated peak memory exceeds
// the worker memory budget.
type MemoryError struct {
	What   string   // e.g. "train unit train/dnms/miconi/seed=1"
	Need   Estimate // the estimate
	Budget int64    // the memory budget, bytes
	Fix    string   // what to lower, e.g. "lower n"
}

// Problem returns what needs how much memory, and the budget.
func (e *MemoryError) Problem() string {
	return fmt.Sprintf("%s needs about %s of memory (%s), more than the worker memory budget %s",
		e.What, FormatBytes(e.Need.Bytes), e.Need.Formula, FormatBytes(e.Budget))
}

// Remedy returns the fix: lower a size, or raise the budget.
func (e *MemoryError) Remedy() string {
	return fmt.Sprintf("%s, or on a bigger worker raise the budget with %s=memory=%s", e.Fix, LimitsEnv, roundUpGiB(e.Need.Bytes))
}

// Error returns one line: "<problem> — <remedy>".
func (e *MemoryError) Error() string { return e.Problem() + " — " + e.Remedy() }

// roundUpGiB formats b rounded up to whole GiB as RULESCAPE_LIMITS takes
// it, e.g. "64GiB".
func roundUpGiB(b int64) string {
	const g = 1 << 30
	return fmt.Sprintf("%dGiB", b/g+1)
}

// FormatBytes formats a byte count in binary units: "512 MiB", "23.4 GiB".
func FormatBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(b), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 || v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// CheckMemory compares the estimated peak memory of training the unit
// with setup s (its Setup) with the memory budget of lim. It is the
// worker's guard: a unit planned with a larger budget than this worker's,
// or by a version without limits, fails with this error instead of
// exhausting the worker.
func (u *TrainUnit) CheckMemory(s *train.Setup, lim Limits) error {
	e := TrainBytes(ShapeOf(s), s.Trials)
	return lim.CheckMemory("train unit "+u.ID, e, "lower "+e.Key)
}
