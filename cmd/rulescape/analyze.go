package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rulescape/internal/atomicfile"
	rsvc "rulescape/internal/services"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

func init() { register(newAnalyzeCmd) }

var analyzeLong = help("analyze.long")

// analyses builds the subcommands of `rulescape analyze`, one function per
// analysis. To add one, write newAnalyzeX(a): a cobra command whose flags
// are selection.addFlags plus the stage's settings (defaults =
// pipelines.DefaultStages, checked by the settings' Validate), whose RunE
// calls a.loadNetworks, the stage's computation and its summary in package
// stages, writes --out with writeRowsFile and prints with the printer; then
// append it here.
var analyses = []func(*app) *cobra.Command{newAnalyzeFixedPoints, newAnalyzeSensitivity, newAnalyzeRSA, newAnalyzeLandscape, newAnalyzeDSA}

func newAnalyzeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "analyze",
		Short:   "Run an analysis on stored networks for a quick look",
		Long:    analyzeLong,
		Example: help("analyze.example"),
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
	q        stages.NetworkQuery
	campaign string
	out      string
	workers  int
}

// addFlags adds the selection flags to f.
func (s *selection) addFlags(f *pflag.FlagSet, many bool) {
	help := "the network `REF`: a networks dataset file, or CAMPAIGN/UNIT (see analyze --help)"
	if many {
		help = "networks `REF`: a networks dataset file, or CAMPAIGN/UNIT; repeat the flag (see analyze --help)"
	}
	s.q.One = !many
	f.StringArrayVar(&s.q.Refs, "network", nil, help)
	f.StringVar(&s.campaign, "campaign", "", "campaign ID or pipeline file; --network then names train units (train/TASK/RULE/seed=N)")
	f.StringVar(&s.q.Manifest, "manifest", "", "the campaign's manifest.json for a networks FILE (default: found above the file)")
	f.StringVar(&s.q.Task, "task", "", "select the networks of this task")
	f.StringVar(&s.q.Rule, "rule", "", "select the networks of this rule")
	f.Int64Var(&s.q.Seed, "seed", -1, "select the network of this seed (-1 = any)")
	f.StringVar(&s.q.Which, "which", stages.Final, "weights to analyse: final (trained) or initial (W⁰)")
	f.StringVar(&s.out, "out", "", "also write the stage's rows to `FILE` (.parquet or .arrow)")
	f.IntVar(&s.workers, "workers", 0, "parallel searches or comparisons (0 = all cores); results do not depend on it")
}

// check validates the flags before any I/O: a stage's settings (a
// *pipelines.SettingError, named by its flag), other output files
// ({flag, file} pairs), then the selection's.
func (s *selection) check(settings error, outs ...[2]string) error {
	var se *pipelines.SettingError
	if errors.As(settings, &se) {
		se.Key = "--" + strings.ReplaceAll(se.Key, "_", "-")
	}
	if settings != nil {
		return settings
	}
	for _, o := range outs {
		if _, err := outFormat(o[1], o[0]); o[1] != "" && err != nil {
			return err
		}
	}
	switch {
	case s.q.Which != stages.Final && s.q.Which != stages.Initial:
		return fmt.Errorf("--which = %q: want final or initial", s.q.Which)
	case s.q.Seed < -1:
		return fmt.Errorf("--seed = %d: want a seed ≥ 0, or -1 for any", s.q.Seed)
	case s.workers < 0:
		return fmt.Errorf("--workers = %d: want 0 (all cores) or more", s.workers)
	case len(s.q.Refs) == 0 && s.campaign == "":
		return errors.New("no network given: pass --network FILE or --network CAMPAIGN/UNIT, or --campaign CAMPAIGN for its networks")
	}
	if s.out != "" {
		_, err := outFormat(s.out, "--out")
		return err
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

// loadNetworks checks the flags and rebuilds the selected networks
// (stages.LoadNetworks); the caller closes the campaigns.
func (a *app) loadNetworks(ctx context.Context, s *selection, settings error, outs ...[2]string) ([]*stages.StoredNetwork, *campaigns, error) {
	if err := s.check(settings, outs...); err != nil {
		return nil, nil, err
	}
	if s.campaign != "" {
		ca, err := parseCampaignArg(s.campaign)
		if err != nil {
			return nil, nil, fmt.Errorf("--campaign: %w", err)
		}
		s.q.Campaign = ca.id
	}
	c := &campaigns{a: a}
	nets, err := stages.LoadNetworks(ctx, c, s.q)
	if err != nil {
		c.close()
		return nil, nil, err
	}
	return nets, c, nil
}

// campaigns reads manifests and networks for stages.LoadNetworks,
// connecting to the store on first use.
type campaigns struct {
	a   *app
	svc *services
}

func (c *campaigns) close() {
	if c.svc != nil {
		c.svc.Close()
	}
}

func (c *campaigns) Manifest(ctx context.Context, id string) (*stages.CampaignRecord, error) {
	if c.svc == nil {
		s, err := c.a.connectStore(ctx)
		if err != nil {
			return nil, err
		}
		c.svc = s
	}
	m, _, err := campaignManifest(ctx, c.svc.Store, id)
	if err != nil {
		return nil, err
	}
	return campaignRecord(m), nil
}

func (c *campaigns) ManifestFile(path string) (*stages.CampaignRecord, error) {
	m, err := manifest.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--manifest: %w", err)
	}
	return campaignRecord(m), nil
}

func (c *campaigns) ReadNetworks(ctx context.Context, ref store.DatasetRef) ([]schemas.NetworkRow, error) {
	rows, _, err := store.ReadRows[schemas.NetworkRow](ctx, c.svc.Store, ref)
	return rows, err
}

// campaignRecord is what stages.LoadNetworks reads of a manifest.
func campaignRecord(m *manifest.Manifest) *stages.CampaignRecord {
	r := &stages.CampaignRecord{ID: m.Campaign, File: m.File, Spec: m.Spec, StoredPlan: m.Plan != nil}
	for _, d := range m.Datasets {
		if d.Kind == string(schemas.Networks) {
			r.Networks = append(r.Networks, stages.NetworkDataset{Unit: d.Unit, URI: d.URI, Ref: d.Ref})
		}
	}
	return r
}

// connectStore connects to the object store that connect would use —
// the embedded stack's, or the configured one when Temporal is external
// (TEMPORAL_ADDRESS or TEMPORAL_PROFILE set) — without dialling Temporal:
// an analysis only reads datasets.
func (a *app) connectStore(ctx context.Context) (*services, error) {
	return rsvc.ConnectStore(ctx, a.serviceOptions())
}

// writeRowsFile writes rows to name (the value of flag; nothing for "")
// in the format of its extension, through a temporary file and a rename.
func writeRowsFile[R schemas.Row[R]](name, flag string, meta schemas.Meta, rows []R) error {
	if name == "" {
		return nil
	}
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

// written is the line that says where rows were written ("" when not).
func written(n int, kind, file string) string {
	if file == "" {
		return ""
	}
	return fmt.Sprintf("%d %s rows written to %s\n", n, kind, file)
}

// withinLimits returns settings (the error of the stage settings'
// Validate), else the first setting of st past the limits of this machine
// (pipelines.Limits.CheckStages), as a *pipelines.SettingError.
func withinLimits(settings error, st pipelines.Stages) error {
	if settings != nil {
		return settings
	}
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	st.FixedPoints.Enabled, st.RSA.Enabled, st.Landscape.Enabled, st.Sensitivity.Enabled = true, true, true, true
	return lim.CheckStages(st)
}

// fixedPointsMemory compares the estimated peak memory of the fixed-point
// search of each network (pipelines.FixedPointsBytes) with the memory
// budget of this machine, before any search starts.
func fixedPointsMemory(nets []*stages.StoredNetwork, st pipelines.FixedPointsStage, workers int) error {
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, n := range nets {
		e := pipelines.FixedPointsBytes(pipelines.ShapeOf(n.Setup), len(n.Setup.Task.FixedPointInputs()), st.Inits, workers)
		if err := lim.CheckMemory("the fixed-point search of "+n.Unit.ID, e, "lower --inits or --workers"); err != nil {
			return err
		}
	}
	return nil
}
