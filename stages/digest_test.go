package stages_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"rulescape/internal/atomicfile"
	"rulescape/pipelines"
	"rulescape/report"
	"rulescape/schemas"
	"rulescape/stages"
)

var update = flag.Bool("update", false, "rewrite stages/testdata/digests.json and the frozen stage inputs in stages/testdata/inputs")

// goldenFile records, per stage, the engine version and the digest of the
// stage's numbers on its small fixed case.
const goldenFile = "testdata/digests.json"

// golden is the content of goldenFile. The kernels of core/internal/kern
// round differently with and without AVX2+FMA, so the digests hold for the
// platform they were recorded on.
type golden struct {
	Platform string                 `json:"platform"`
	Stages   map[string]stageDigest `json:"stages"`
}

type stageDigest struct {
	Version string `json:"version"`
	Digest  string `json:"digest"`
}

// platform names what the digests depend on beyond the code.
func platform() string {
	p := runtime.GOARCH
	if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		p += "+avx2+fma"
	}
	return p
}

// Digest settings of the analysis stages: explicit, so that the digests
// do not follow the campaign defaults.
var (
	fpSettings   = pipelines.FixedPointsStage{Enabled: true, Inits: 8, MaxIters: 200, Tol: 1e-6}
	sensSettings = pipelines.SensitivityStage{Enabled: true, Perturbations: 2, Scale: 1e-3}
	rsaSettings  = pipelines.RSAStage{Enabled: true, Metric: "correlation", Permutations: 20}
	landSettings = pipelines.LandscapeStage{Enabled: true, PCs: 3, Permutations: 20, ConnectSteps: 300}
	dsaSettings  = pipelines.DSAStage{Enabled: true, Delays: 4, DelayInterval: 2, Rank: 6, Restarts: 4, Permutations: 20}
	atlSettings  = pipelines.AtlasStage{Enabled: true, Weights: map[string]float64{"dsa": 1, "spectral": 0.5, "topology": 1},
		MinFamilies: 2, MaxFamilies: 10, MinSilhouette: 0.1, Resamples: 10, Fraction: 0.8, Permutations: 20}
)

const campaign = "digest"

// TestStageDigests computes every stage's numbers on a small fixed case and
// compares their SHA-256 with testdata/digests.json: a stage whose numbers
// changed must have a new engine version (stages.Current), so that its
// cached datasets are recomputed. Each stage after train reads frozen
// inputs (testdata/inputs, the rows of the stages before it as of the last
// -update), so a change is blamed on the stage whose code changed only.
// Run with -update to record new digests and inputs.
func TestStageDigests(t *testing.T) {
	ctx := t.Context()
	plan := digestPlan(t)
	got := map[pipelines.StageName]string{}

	// metaopt: one job, standalone.
	if len(plan.Metaopt) != 1 {
		t.Fatalf("%d metaopt jobs, want 1", len(plan.Metaopt))
	}
	mo, err := stages.Metaopt(ctx, campaign, &plan.Metaopt[0], 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got[pipelines.StageMetaopt] = digest(mo.Theta, mo.Eta, mo.Iters, mo.HeldOutJ, mo.History)

	// train: the named rules' units.
	units := map[string]*pipelines.TrainUnit{}
	var curves []schemas.LearningCurveRow
	var netRows []schemas.NetworkRow
	for i := range plan.Train {
		u := &plan.Train[i]
		if u.Metaopt != "" {
			continue
		}
		units[netKey(u.Task, u.Rule, int64(u.Seed))] = u
		r, err := stages.Train(ctx, campaign, u, nil, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		curves = append(curves, r.Curve...)
		netRows = append(netRows, r.Network)
	}
	got[pipelines.StageTrain] = digest(curves, netRows)

	// train in float32: the same units with precision f32, whose version
	// is the train stage's followed by stages.TrainF32.
	var curves32 []schemas.LearningCurveRow
	var nets32 []schemas.NetworkRow
	for _, u := range units {
		u32 := *u
		u32.Params.Precision = "f32"
		r, err := stages.Train(ctx, campaign, &u32, nil, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		curves32 = append(curves32, r.Curve...)
		nets32 = append(nets32, r.Network)
	}
	sortRows(curves32, nets32)
	got[stageTrainF32] = digest(curves32, nets32)

	frozen(t, "learning_curves", &curves)
	frozen(t, "networks", &netRows)

	nets := make([]*stages.Network, len(netRows))
	for i, r := range netRows {
		u := units[netKey(r.Task, r.Rule, r.Seed)]
		if u == nil {
			t.Fatalf("frozen network %s/%s/%d is not a unit of %s: run with -update", r.Task, r.Rule, r.Seed, "testdata/digest.yaml")
		}
		if nets[i], err = stages.LoadNetwork(u, nil, r, stages.Final); err != nil {
			t.Fatal(err)
		}
	}

	var fps []schemas.FixedPointRow
	perNet := make([][]schemas.FixedPointRow, len(nets))
	for i, n := range nets {
		if perNet[i], err = stages.FixedPoints(ctx, campaign, n, fpSettings, 1); err != nil {
			t.Fatal(err)
		}
		fps = append(fps, perNet[i]...)
	}
	got[pipelines.StageFixedPoints] = digest(fps)
	frozen(t, "fixed_points", &fps)
	perNet = splitByNetwork(fps, nets)

	var sens []schemas.SensitivityRow
	for _, n := range nets {
		r, err := stages.Sensitivity(ctx, campaign, n, sensSettings)
		if err != nil {
			t.Fatal(err)
		}
		sens = append(sens, r)
	}
	got[pipelines.StageSensitivity] = digest(sens)
	frozen(t, "sensitivity", &sens)

	rsaRows, err := stages.RSA(ctx, campaign, "gonogo", nets, rsaSettings, 1)
	if err != nil {
		t.Fatal(err)
	}
	got[pipelines.StageRSA] = digest(rsaRows.RDMs, rsaRows.Pairs)
	frozen(t, "rdms", &rsaRows.RDMs)
	frozen(t, "rsa_pairs", &rsaRows.Pairs)

	land, err := stages.Landscape(ctx, campaign, "gonogo", nets, perNet, landSettings, 1)
	if err != nil {
		t.Fatal(err)
	}
	got[pipelines.StageLandscape] = digest(land.Points, land.Pairs)
	frozen(t, "landscape", &land.Points)
	frozen(t, "landscape_pairs", &land.Pairs)

	dsaRows, err := stages.DSA(ctx, campaign, "gonogo", nets, dsaSettings, 1)
	if err != nil {
		t.Fatal(err)
	}
	got[pipelines.StageDSA] = digest(dsaRows.Operators, dsaRows.Pairs)
	// distances: [spectral] fits the same operators and gives the same
	// spectral rows, without the DSA pairs.
	specSettings := dsaSettings
	specSettings.Distances = []string{pipelines.DistanceSpectral}
	spec, err := stages.DSA(ctx, campaign, "gonogo", nets, specSettings, 1)
	if err != nil {
		t.Fatal(err)
	}
	var wantSpec []schemas.DSAPairRow
	for _, r := range dsaRows.Pairs {
		if strings.HasSuffix(r.Method, stages.MethodSpectral) {
			wantSpec = append(wantSpec, r)
		}
	}
	if digest(spec.Operators) != digest(dsaRows.Operators) || digest(spec.Pairs) != digest(wantSpec) {
		t.Errorf("dsa with distances [spectral]: %d pair rows differ from the %d spectral rows of the full stage (or its operators differ)", len(spec.Pairs), len(wantSpec))
	}
	frozen(t, "dsa_pairs", &dsaRows.Pairs)

	atl, err := stages.Atlas(ctx, campaign, "gonogo", stages.AtlasMeasures(atlSettings, dsaRows.Pairs, land.Pairs), atlSettings)
	if err != nil {
		t.Fatal(err)
	}
	got[pipelines.StageAtlas] = digest(atl.Networks, atl.Families, atl.Rules)

	// report: the figure data the report computes from the rows.
	got[pipelines.StageReport] = reportDigest(t, curves, netRows, fps, rsaRows, land, sens)

	t.Logf("cases: %d metaopt rows, %d curve rows of %d networks, %d fixed points, %d sensitivity rows, %d rdms and %d rsa_pairs rows, %d landscape and %d landscape_pairs rows",
		len(mo.History), len(curves), len(netRows), len(fps), len(sens), len(rsaRows.RDMs), len(rsaRows.Pairs), len(land.Points), len(land.Pairs))
	check(t, got)
}

// reportDigest digests the report's figure data of the rows.
func reportDigest(t *testing.T, curves []schemas.LearningCurveRow, netRows []schemas.NetworkRow, fps []schemas.FixedPointRow,
	rsaRows stages.RSARows, land stages.LandscapeRows, sens []schemas.SensitivityRow) string {
	t.Helper()
	nets := make([]report.Network, len(netRows))
	for i, r := range netRows {
		nets[i] = report.Network{Task: r.Task, Rule: r.Rule, Seed: r.Seed, N: int(r.N), Trials: r.Trials, TrialsToCriterion: r.TrialsToCriterion}
	}
	var sims []report.Similarity
	for _, m := range []string{stages.MethodSpearman, stages.MethodCKA, stages.MethodProcrustes} {
		s, err := report.Similarities(rsaRows.Pairs, m)
		if err != nil {
			t.Fatal(err)
		}
		sims = append(sims, s...)
	}
	maps, err := report.FixedPointMaps(fps, nil, land.Points, 3)
	if err != nil {
		t.Fatal(err)
	}
	return digest(report.LearningCurves(curves, nets, 5), report.MeanRDMs(rsaRows.RDMs), sims, report.Spectra(sens), maps,
		report.IndexCounts(land.Points, land.Pairs), report.TopologyMatrices(land.Pairs))
}

// stageTrainF32 names the float32 train digest in the golden file.
const stageTrainF32 = pipelines.StageName("train+f32")

// versionOf returns the version a digest is recorded under: the stage's,
// or for stageTrainF32 the train stage's followed by stages.TrainF32.
func versionOf(cur stages.Versions, s pipelines.StageName) (string, error) {
	if s == stageTrainF32 {
		v, err := cur.Of(pipelines.StageTrain)
		return v + "+" + stages.TrainF32, err
	}
	return cur.Of(s)
}

// sortRows puts float32 rows (trained in map order) in a fixed order.
func sortRows(curves []schemas.LearningCurveRow, nets []schemas.NetworkRow) {
	slices.SortStableFunc(curves, func(a, b schemas.LearningCurveRow) int {
		return strings.Compare(netKey(a.Task, a.Rule, a.Seed), netKey(b.Task, b.Rule, b.Seed))
	})
	slices.SortStableFunc(nets, func(a, b schemas.NetworkRow) int {
		return strings.Compare(netKey(a.Task, a.Rule, a.Seed), netKey(b.Task, b.Rule, b.Seed))
	})
}

// check compares the digests with the golden file, or rewrites it.
func check(t *testing.T, got map[pipelines.StageName]string) {
	t.Helper()
	cur := stages.Current()
	if *update {
		g := golden{Platform: platform(), Stages: map[string]stageDigest{}}
		for s, d := range got {
			v, err := versionOf(cur, s)
			if err != nil {
				t.Fatal(err)
			}
			g.Stages[string(s)] = stageDigest{Version: v, Digest: d}
		}
		data, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenFile)
		return
	}
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v: run go test ./stages -run TestStageDigests -update", err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	if g.Platform != platform() {
		t.Skipf("the digests of %s were recorded on %s, this machine is %s: its kernels round differently", goldenFile, g.Platform, platform())
	}
	names := make([]string, 0, len(got))
	for s := range got {
		names = append(names, string(s))
	}
	sort.Strings(names)
	for _, name := range names {
		s := pipelines.StageName(name)
		v, err := versionOf(cur, s)
		if err != nil {
			t.Fatal(err)
		}
		rec, ok := g.Stages[name]
		switch {
		case !ok:
			t.Errorf("stage %s has no digest in %s: run go test ./stages -run TestStageDigests -update", s, goldenFile)
		case rec.Version != v:
			t.Errorf("stage %s's engine version is %s but %s records %s: run go test ./stages -run TestStageDigests -update", s, v, goldenFile, rec.Version)
		case rec.Digest != got[s]:
			t.Errorf("stage %s's numbers changed but its engine version is still %s: raise it in stages/versions.go (and run go test ./stages -run TestStageDigests -update)", s, v)
		}
	}
}

func digestPlan(t *testing.T) *pipelines.Plan {
	t.Helper()
	data, err := os.ReadFile("testdata/digest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse("digest.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func netKey(task, rule string, seed int64) string { return fmt.Sprintf("%s/%s/%d", task, rule, seed) }

// splitByNetwork groups fixed_points rows by network, in the order of nets.
func splitByNetwork(fps []schemas.FixedPointRow, nets []*stages.Network) [][]schemas.FixedPointRow {
	out := make([][]schemas.FixedPointRow, len(nets))
	for _, r := range fps {
		for i, n := range nets {
			if r.Task == n.Unit.Task && r.Rule == n.Unit.Rule && r.Seed == n.Seed {
				out[i] = append(out[i], r)
			}
		}
	}
	return out
}

// frozen makes *rows the frozen input of the stages that read them: with
// -update it writes them to testdata/inputs/<name>.arrow, otherwise it
// replaces them by that file's rows. Each stage's digest then depends on
// its own code only.
func frozen[R schemas.Row[R]](t *testing.T, name string, rows *[]R) {
	t.Helper()
	file := filepath.Join("testdata", "inputs", name+".arrow")
	if *update {
		err := atomicfile.Write(file, func(w io.Writer) error {
			_, err := schemas.WriteAll(w, schemas.ArrowIPC, schemas.Meta{Campaign: campaign}, *rows)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v: run go test ./stages -run TestStageDigests -update", err)
	}
	got, _, err := schemas.ReadAll[R](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	*rows = got
}

// digest is the SHA-256 of the values: every number by its bits, every
// string by its bytes, in field and element order.
func digest(vs ...any) string {
	h := sha256.New()
	for _, v := range vs {
		hashValue(h, reflect.ValueOf(v))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashValue(h io.Writer, v reflect.Value) {
	num := func(x uint64) { _ = binary.Write(h, binary.LittleEndian, x) }
	str := func(s string) { num(uint64(len(s))); io.WriteString(h, s) }
	if !v.IsValid() {
		str("<nil>")
		return
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		num(math.Float64bits(v.Float()))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		num(math.Float64bits(real(c)))
		num(math.Float64bits(imag(c)))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		num(v.Uint())
	case reflect.Bool:
		if v.Bool() {
			num(1)
		} else {
			num(0)
		}
	case reflect.String:
		str(v.String())
	case reflect.Slice, reflect.Array:
		num(uint64(v.Len()))
		for i := range v.Len() {
			hashValue(h, v.Index(i))
		}
	case reflect.Struct:
		ty := v.Type()
		for i := range v.NumField() {
			if f := ty.Field(i); f.IsExported() {
				str(f.Name)
				hashValue(h, v.Field(i))
			}
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			str("<nil>")
			return
		}
		hashValue(h, v.Elem())
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			return bytes.Compare([]byte(fmt.Sprint(a.Interface())), []byte(fmt.Sprint(b.Interface())))
		})
		num(uint64(len(keys)))
		for _, k := range keys {
			hashValue(h, k)
			hashValue(h, v.MapIndex(k))
		}
	default:
		panic(fmt.Sprintf("digest: cannot hash a %s", v.Type()))
	}
}

// TestStageDigestsWithoutAVX512 runs TestStageDigests again in a process
// that does not use the AVX-512 kernels (GODEBUG=cpu.avx512f=off), on a
// CPU that has them: every stage's numbers, float32 training included,
// must be the same bits with the AVX2 kernels, as a cluster that mixes the
// two kinds of CPU needs.
func TestStageDigestsWithoutAVX512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("this CPU has no AVX-512: TestStageDigests ran the AVX2 kernels")
	}
	if testing.Short() || *update {
		t.Skip("short mode or -update")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestStageDigests$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "GODEBUG=cpu.avx512f=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("TestStageDigests without AVX-512: %v\n%s", err, out)
	}
}
