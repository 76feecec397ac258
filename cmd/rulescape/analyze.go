package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rulescape/internal/atomicfile"
	"rulescape/internal/devstack"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

func init() { register(newAnalyzeCmd) }

const analyzeLong = `Run one analysis of the campaign's analysis stages on stored networks, for
a quick look: the network, its task and its evaluation trials are rebuilt
exactly as the stage rebuilds them, with the stage's settings as flags
(defaults: the campaign defaults). Nothing is written to the store.

--network REF names the networks, in one of two forms:

  FILE             a networks dataset file (.parquet or .arrow) as
                   ` + "`rulescape datasets get`" + ` downloads it. The network's task and
                   dynamics come from the campaign's manifest.json, found in
                   the file's directory or above (the download layout) or
                   given with --manifest.
  CAMPAIGN/UNIT    a train unit of a campaign in the store, as
                   ` + "`rulescape datasets ls`" + ` lists it, e.g.
                   314f658e8f18a8d4/train/gonogo/miconi/seed=1. With
                   --campaign (an ID or the pipeline file) give just the
                   unit (train/gonogo/miconi/seed=1), or no --network at all
                   for every network of the campaign.

--task, --rule and --seed select among the networks a REF holds (a file of
several rows, or a whole campaign); fixedpoints and sensitivity need exactly
one. --which initial analyses W⁰ instead of the trained weights.

The summary goes to stdout (-o json for scripts); --out FILE also writes the
rows the campaign's stage would commit, as Parquet (.parquet) or Arrow IPC
(.arrow), with the schema of the stage's dataset (docs/DATASETS.md).

Services (CAMPAIGN/UNIT only): as for ` + "`rulescape run`" + `.`

// analyses builds the subcommands of `rulescape analyze`, one function per
// analysis. To add one, write newAnalyzeX(a): a cobra command whose flags
// are selection.addFlags plus the stage's settings (defaults = the
// campaign's, checked by TestAnalyzeDefaults), whose RunE calls
// a.loadNetworks and the stage's computation in package stages, and
// prints a summary, -o json or --out rows; then append it here.
var analyses = []func(*app) *cobra.Command{newAnalyzeFixedPoints, newAnalyzeSensitivity, newAnalyzeRSA, newAnalyzeLandscape}

func newAnalyzeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Run an analysis on stored networks for a quick look",
		Long:  analyzeLong,
		Example: `  rulescape datasets get 314f658e8f18a8d4 --out results/
  rulescape analyze fixedpoints --network results/campaigns/314f658e8f18a8d4/train/networks/task=gonogo/rule=miconi/seed=1/part-….parquet
  rulescape analyze sensitivity --network 314f658e8f18a8d4/train/gonogo/miconi/seed=1 -o json
  rulescape analyze rsa --campaign pipelines/quickstart.yaml --task gonogo --out pairs.parquet
  rulescape analyze landscape --campaign pipelines/quickstart.yaml --task gonogo --pairs-out landscape_pairs.parquet`,
	}
	for _, ctor := range analyses {
		sub := ctor(a)
		sub.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
			return fmt.Errorf("%w — see `rulescape analyze %s --help`", err, c.Name())
		})
		cmd.AddCommand(sub)
	}
	return cmd
}

// selection holds the flags that name and select the analysed networks,
// shared by every analysis.
type selection struct {
	refs     []string
	campaign string
	manifest string
	task     string
	rule     string
	seed     int64
	which    string
	out      string
	workers  int
}

// addFlags adds the selection flags to f.
func (s *selection) addFlags(f *pflag.FlagSet, many bool) {
	help := "the network `REF`: a networks dataset file, or CAMPAIGN/UNIT (see analyze --help)"
	if many {
		help = "networks `REF`: a networks dataset file, or CAMPAIGN/UNIT; repeat the flag (see analyze --help)"
	}
	f.StringArrayVar(&s.refs, "network", nil, help)
	f.StringVar(&s.campaign, "campaign", "", "campaign ID or pipeline file; --network then names train units (train/TASK/RULE/seed=N)")
	f.StringVar(&s.manifest, "manifest", "", "the campaign's manifest.json for a networks FILE (default: found above the file)")
	f.StringVar(&s.task, "task", "", "select the networks of this task")
	f.StringVar(&s.rule, "rule", "", "select the networks of this rule")
	f.Int64Var(&s.seed, "seed", -1, "select the network of this seed (-1 = any)")
	f.StringVar(&s.which, "which", "final", "weights to analyse: final (trained) or initial (W⁰)")
	f.StringVar(&s.out, "out", "", "also write the stage's rows to `FILE` (.parquet or .arrow)")
	f.IntVar(&s.workers, "workers", 0, "parallel searches or comparisons (0 = all cores); results do not depend on it")
}

// check validates the flags that need no I/O.
func (s *selection) check() error {
	if s.which != "final" && s.which != "initial" {
		return fmt.Errorf("--which = %q: want final or initial", s.which)
	}
	if s.seed < -1 {
		return fmt.Errorf("--seed = %d: want a seed ≥ 0, or -1 for any", s.seed)
	}
	if s.workers < 0 {
		return fmt.Errorf("--workers = %d: want 0 (all cores) or more", s.workers)
	}
	if len(s.refs) == 0 && s.campaign == "" {
		return errors.New("no network given: pass --network FILE or --network CAMPAIGN/UNIT, or --campaign CAMPAIGN for its networks")
	}
	if s.out != "" {
		if _, err := outFormat(s.out, "--out"); err != nil {
			return err
		}
	}
	return nil
}

// outFormat is the format of an output file, by its extension.
func outFormat(name, flag string) (schemas.Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return schemas.Parquet, nil
	case ".arrow", ".ipc":
		return schemas.ArrowIPC, nil
	}
	return 0, fmt.Errorf("%s %s: want a .parquet or .arrow file name (the format follows the extension)", flag, name)
}

// candidate is one stored network a REF names, before it is rebuilt.
type candidate struct {
	campaign string // campaign ID
	source   string // the file or s3:// URI it comes from
	unit     *pipelines.TrainUnit
	row      *schemas.NetworkRow                               // set for a file
	read     func(context.Context) (schemas.NetworkRow, error) // set for a store ref
}

// label names a candidate in messages: task/rule/seed.
func (c *candidate) label() string {
	return fmt.Sprintf("%s/%s/seed=%d", c.unit.Task, c.unit.Rule, c.unit.Seed)
}

// analyzed is a rebuilt network with where it came from.
type analyzed struct {
	campaign string
	unit     string
	source   string
	net      *stages.Network
}

// networkJSON names an analysed network in JSON output.
type networkJSON struct {
	Campaign string `json:"campaign"`
	Unit     string `json:"unit"`
	Task     string `json:"task"`
	Rule     string `json:"rule"`
	Seed     int64  `json:"seed"`
	Network  string `json:"network"` // final or initial
	N        int    `json:"n"`
	Source   string `json:"source"`
}

func (n *analyzed) json() networkJSON {
	u := n.net.Unit
	return networkJSON{Campaign: n.campaign, Unit: n.unit, Task: u.Task, Rule: u.Rule, Seed: n.net.Seed, Network: n.net.Which,
		N: n.net.Net.N, Source: n.source}
}

// title is a one-line name of the network for summaries.
func (n *analyzed) title() string {
	u := n.net.Unit
	return fmt.Sprintf("%s/%s seed=%d (%s weights, N=%d, campaign %s)", u.Task, u.Rule, n.net.Seed, n.net.Which, n.net.Net.N, n.campaign)
}

// unitRefPattern is CAMPAIGN/UNIT: a campaign ID and a train unit ID.
var unitRefPattern = regexp.MustCompile(`^([0-9a-f]{16})/(train/.+)$`)

// resolver turns REFs into candidates, connecting to the services once.
type resolver struct {
	a         *app
	svc       *services
	manifests map[string]*manifest.Manifest
}

func (r *resolver) close() {
	if r.svc != nil {
		r.svc.close()
	}
}

// campaignManifest returns the manifest of a campaign in the store.
func (r *resolver) campaignManifest(ctx context.Context, id string) (*manifest.Manifest, error) {
	if m, ok := r.manifests[id]; ok {
		return m, nil
	}
	if r.svc == nil {
		s, err := r.a.connectStore(ctx)
		if err != nil {
			return nil, err
		}
		r.svc = s
	}
	m, _, err := campaignManifest(ctx, r.svc.store, id)
	if err != nil {
		return nil, err
	}
	r.manifests[id] = m
	return m, nil
}

// connectStore connects to the object store that connect would use —
// the embedded stack's, or the configured one when Temporal is external
// (TEMPORAL_ADDRESS or TEMPORAL_PROFILE set) — without dialling Temporal:
// an analysis only reads datasets.
func (a *app) connectStore(ctx context.Context) (*services, error) {
	s := &services{}
	var cfg store.Config
	if os.Getenv(devstack.EnvTemporalAddr) == "" && os.Getenv("TEMPORAL_PROFILE") == "" {
		st, err := devstack.Start(ctx, devstack.Options{Logger: a.log, AutoInstall: true, InstallLog: a.stderr})
		if err != nil {
			return nil, fmt.Errorf("starting the embedded stack (set TEMPORAL_ADDRESS and the RULESCAPE_S3_* variables to use external services): %w", err)
		}
		s.stack = st
		cfg = store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket}
	} else {
		var err error
		if cfg, err = store.ConfigFromEnv(); err != nil {
			return nil, err
		}
	}
	st, err := store.New(ctx, cfg)
	if err != nil {
		s.close()
		return nil, err
	}
	s.store = st
	return s, nil
}

// planUnits returns the train units of a manifest's campaign by ID.
func planUnits(m *manifest.Manifest, where string) (map[string]*pipelines.TrainUnit, error) {
	c, err := pipelines.Parse(m.File, []byte(m.Spec))
	if err != nil {
		return nil, fmt.Errorf("the campaign file recorded in %s: %w", where, err)
	}
	plan, err := c.Plan()
	if err != nil {
		return nil, fmt.Errorf("the campaign file recorded in %s: %w", where, err)
	}
	if c.ID() != m.Campaign {
		return nil, fmt.Errorf("%s is of campaign %s but records the file of campaign %s: the manifest is damaged", where, m.Campaign, c.ID())
	}
	units := map[string]*pipelines.TrainUnit{}
	for i := range plan.Train {
		units[plan.Train[i].ID] = &plan.Train[i]
	}
	return units, nil
}

// storeCandidates lists the networks of a campaign in the store; unit ""
// lists all of them.
func (r *resolver) storeCandidates(ctx context.Context, id, unit, ref string) ([]*candidate, error) {
	m, err := r.campaignManifest(ctx, id)
	if err != nil {
		return nil, err
	}
	units, err := planUnits(m, "the manifest of campaign "+id)
	if err != nil {
		return nil, err
	}
	var out []*candidate
	var known []string
	for _, d := range m.Datasets {
		if d.Kind != string(schemas.Networks) {
			continue
		}
		known = append(known, d.Unit)
		if unit != "" && d.Unit != unit {
			continue
		}
		u, ok := units[d.Unit]
		if !ok {
			return nil, fmt.Errorf("the manifest of campaign %s lists networks of %s, which its campaign file does not plan", id, d.Unit)
		}
		dref := d.Ref
		st := r.svc.store
		out = append(out, &candidate{campaign: id, source: d.URI, unit: u, read: func(ctx context.Context) (schemas.NetworkRow, error) {
			rows, _, err := store.ReadRows[schemas.NetworkRow](ctx, st, dref)
			if err != nil {
				return schemas.NetworkRow{}, err
			}
			if len(rows) != 1 {
				return schemas.NetworkRow{}, fmt.Errorf("%s has %d rows, want the 1 network of %s", dref.Key, len(rows), u.ID)
			}
			return rows[0], nil
		}})
	}
	if len(out) == 0 {
		if len(known) == 0 {
			return nil, fmt.Errorf("campaign %s has no networks datasets in its manifest: its train stage has not completed", id)
		}
		return nil, fmt.Errorf("--network %s: campaign %s has no network of unit %q; its networks are:\n  %s", ref, id, unit, strings.Join(known, "\n  "))
	}
	return out, nil
}

// fileCandidates reads the rows of a local networks dataset and pairs each
// with its train unit from the campaign's manifest.
func (r *resolver) fileCandidates(file, manifestFlag string) ([]*candidate, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--network %s: %w", file, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--network %s: %w", file, err)
	}
	rows, info, err := schemas.ReadAll[schemas.NetworkRow](f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("--network %s: not a networks dataset (%w) — give a file of the networks kind, as `rulescape datasets get` downloads it under campaigns/<id>/train/networks/", file, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("--network %s: the dataset has no rows", file)
	}
	campaign := info.Campaign
	mpath := manifestFlag
	if mpath == "" {
		if mpath, err = findManifest(file, campaign); err != nil {
			return nil, err
		}
	}
	m, err := manifest.ReadFile(mpath)
	if err != nil {
		return nil, fmt.Errorf("--manifest: %w", err)
	}
	if m.Campaign != campaign {
		return nil, fmt.Errorf("--network %s is of campaign %s but manifest %s is of campaign %s — pass the manifest of its campaign with --manifest", file, campaign, mpath, m.Campaign)
	}
	units, err := planUnits(m, mpath)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*pipelines.TrainUnit{}
	for _, u := range units {
		byKey[fmt.Sprintf("%s/%s/%d", u.Task, u.Rule, u.Seed)] = u
	}
	out := make([]*candidate, len(rows))
	for i := range rows {
		row := &rows[i]
		u, ok := byKey[fmt.Sprintf("%s/%s/%d", row.Task, row.Rule, row.Seed)]
		if !ok {
			return nil, fmt.Errorf("--network %s: row %d (task %s, rule %s, seed %d) is not a train unit of campaign %s (%s)", file, i, row.Task, row.Rule, row.Seed, campaign, mpath)
		}
		out[i] = &candidate{campaign: campaign, source: file, unit: u, row: row}
	}
	return out, nil
}

// findManifest looks for the manifest.json of campaign in the directory of
// file and above, as `datasets get` lays them out
// (DIR/campaigns/<id>/manifest.json beside DIR/campaigns/<id>/train/…).
func findManifest(file, campaign string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		m := filepath.Join(dir, "manifest.json")
		if _, err := os.Stat(m); err == nil {
			return m, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("--network %s: no manifest.json in its directory or above: the network's task and dynamics are in the manifest of campaign %s — download the campaign with `rulescape datasets get %s --out DIR` (it writes DIR/campaigns/%s/manifest.json), or pass --manifest FILE",
		file, campaign, campaign, campaign)
}

// resolve returns the candidates of every REF, filtered by --task, --rule
// and --seed.
func (r *resolver) resolve(ctx context.Context, s *selection) ([]*candidate, error) {
	var all []*candidate
	add := func(cs []*candidate, err error) error {
		all = append(all, cs...)
		return err
	}
	if s.campaign != "" {
		ca, err := parseCampaignArg(s.campaign)
		if err != nil {
			return nil, fmt.Errorf("--campaign: %w", err)
		}
		refs := s.refs
		if len(refs) == 0 {
			refs = []string{""}
		}
		for _, ref := range refs {
			if ref != "" && !strings.HasPrefix(ref, "train/") {
				return nil, fmt.Errorf("--network %q: with --campaign give a train unit as `rulescape datasets ls` lists it, e.g. train/gonogo/miconi/seed=1", ref)
			}
			if err := add(r.storeCandidates(ctx, ca.id, ref, ref)); err != nil {
				return nil, err
			}
		}
	} else {
		for _, ref := range s.refs {
			if fi, err := os.Stat(ref); err == nil {
				if fi.IsDir() {
					return nil, fmt.Errorf("--network %s is a directory: give a networks file in it (…/train/networks/task=…/rule=…/seed=…/part-<key>.parquet), once per network", ref)
				}
				if err := add(r.fileCandidates(ref, s.manifest)); err != nil {
					return nil, err
				}
				continue
			}
			m := unitRefPattern.FindStringSubmatch(ref)
			if m == nil {
				return nil, fmt.Errorf("--network %q: no such file, and not CAMPAIGN/UNIT (e.g. 314f658e8f18a8d4/train/gonogo/miconi/seed=1) — give a networks file downloaded by `rulescape datasets get`, or a campaign ID and a train unit as `rulescape datasets ls` lists them", ref)
			}
			if err := add(r.storeCandidates(ctx, m[1], m[2], ref)); err != nil {
				return nil, err
			}
		}
	}
	var out []*candidate
	for _, c := range all {
		if (s.task == "" || c.unit.Task == s.task) && (s.rule == "" || c.unit.Rule == s.rule) && (s.seed < 0 || c.unit.Seed == uint64(s.seed)) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no network matches %s; the networks given are:\n  %s", s.filters(), listCandidates(all))
	}
	return out, nil
}

// filters describes the selection flags set.
func (s *selection) filters() string {
	var f []string
	if s.task != "" {
		f = append(f, "--task "+s.task)
	}
	if s.rule != "" {
		f = append(f, "--rule "+s.rule)
	}
	if s.seed >= 0 {
		f = append(f, fmt.Sprintf("--seed %d", s.seed))
	}
	if len(f) == 0 {
		return "the selection"
	}
	return strings.Join(f, " ")
}

func listCandidates(cs []*candidate) string {
	var ls []string
	for _, c := range cs {
		ls = append(ls, fmt.Sprintf("%s  (--task %s --rule %s --seed %d, %s)", c.label(), c.unit.Task, c.unit.Rule, c.unit.Seed, c.source))
	}
	return strings.Join(ls, "\n  ")
}

// load rebuilds the selected networks; one = true requires exactly one.
// The caller closes the resolver.
func (a *app) loadNetworks(ctx context.Context, s *selection, one bool) ([]*analyzed, *resolver, error) {
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	r := &resolver{a: a, manifests: map[string]*manifest.Manifest{}}
	cs, err := r.resolve(ctx, s)
	if err != nil {
		r.close()
		return nil, nil, err
	}
	if one && len(cs) > 1 {
		r.close()
		return nil, nil, fmt.Errorf("%d networks match %s: this analysis takes one — select it with --task, --rule and --seed among:\n  %s", len(cs), s.filters(), listCandidates(cs))
	}
	out := make([]*analyzed, len(cs))
	for i, c := range cs {
		var row schemas.NetworkRow
		if c.row != nil {
			row = *c.row
		} else if row, err = c.read(ctx); err != nil {
			r.close()
			return nil, nil, fmt.Errorf("reading the network of %s: %w", c.unit.ID, err)
		}
		var theta [][]float64
		if c.unit.Metaopt != "" {
			theta = placeholderTheta(c.unit)
		}
		n, err := stages.LoadNetwork(c.unit, theta, row, s.which)
		if err != nil {
			r.close()
			return nil, nil, fmt.Errorf("rebuilding the network of %s (%s): %w", c.unit.ID, c.source, err)
		}
		out[i] = &analyzed{campaign: c.campaign, unit: c.unit.ID, source: c.source, net: n}
	}
	return out, r, nil
}

// placeholderTheta is a zero Θ of a discovered rule's shape. The analyses
// run no plasticity: the setup needs a rule of the right shape, not the
// discovered values (which metaopt_history does not hold: its rows record
// Θ before each update).
func placeholderTheta(u *pipelines.TrainUnit) [][]float64 {
	th := make([][]float64, u.Params.K+1)
	for k := range th {
		th[k] = make([]float64, u.Params.L+1)
	}
	return th
}

// analysisMeta is the metadata of a --out file: the campaign of the first
// network and the digest of what was analysed with which settings.
func analysisMeta(stage pipelines.StageName, settings any, nets []*analyzed) (schemas.Meta, error) {
	units := make([]string, len(nets))
	for i, n := range nets {
		units[i] = n.campaign + "/" + n.unit
	}
	sha, err := store.ParamsSHA256(struct {
		Stage    pipelines.StageName `json:"stage"`
		Settings any                 `json:"settings"`
		Networks []string            `json:"networks"`
		Which    string              `json:"which"`
	}{stage, settings, units, nets[0].net.Which})
	if err != nil {
		return schemas.Meta{}, err
	}
	return schemas.Meta{Campaign: nets[0].campaign, ParamsSHA256: sha, EngineVersion: engineVersion}, nil
}

// writeRowsFile writes rows to name in the format of its extension,
// through a temporary file and a rename.
func writeRowsFile[R schemas.Row[R]](name, flag string, meta schemas.Meta, rows []R) error {
	f, err := outFormat(name, flag)
	if err != nil {
		return err
	}
	return atomicfile.Write(name, func(w io.Writer) error {
		if _, err := schemas.WriteAll(w, f, meta, rows); err != nil {
			return fmt.Errorf("%s %s: %w", flag, name, err)
		}
		return nil
	})
}

// floats converts to jsonFloat (NaN and ±Inf become null).
func floats(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func nan() float64 { return math.NaN() }

// rowsOut is one dataset an analysis may write: its file (the value of
// flag; "" when not asked for) and a function that writes it.
type rowsOut struct {
	file, flag string
	write      func(name, flag string, meta schemas.Meta) error
}

// outRows returns the rowsOut of rows.
func outRows[R schemas.Row[R]](file, flag string, rows []R) rowsOut {
	return rowsOut{file, flag, func(name, flag string, meta schemas.Meta) error { return writeRowsFile(name, flag, meta, rows) }}
}

// writeOutputs writes the datasets whose files were asked for, with one
// metadata record of the stage, its settings and the networks.
func writeOutputs(stage pipelines.StageName, settings any, nets []*analyzed, outs ...rowsOut) error {
	var meta *schemas.Meta
	for _, o := range outs {
		if o.file == "" {
			continue
		}
		if meta == nil {
			m, err := analysisMeta(stage, settings, nets)
			if err != nil {
				return err
			}
			meta = &m
		}
		if err := o.write(o.file, o.flag, *meta); err != nil {
			return err
		}
	}
	return nil
}
