package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
	"rulescape/workflows"
)

func init() { register(newDatasetsCmd) }

var datasetsLong = help("datasets.long")

func newDatasetsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "datasets",
		Short:   "List or download a campaign's datasets",
		Long:    datasetsLong,
		Example: help("datasets.example"),
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ls CAMPAIGN",
		Short: "List a campaign's datasets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.datasetsLs(cmd.Context(), args[0])
		},
	})
	var out string
	get := &cobra.Command{
		Use:   "get CAMPAIGN --out DIR",
		Short: "Download a campaign's datasets as Parquet files in Hive layout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("datasets get: --out DIR is required (the directory to download into)")
			}
			return a.datasetsGet(cmd.Context(), args[0], out)
		},
	}
	get.Flags().StringVar(&out, "out", "", "directory to download into (created if missing)")
	cmd.AddCommand(get)
	return cmd
}

// campaignIDPattern is the form of a campaign ID: pipelines.Campaign.ID.
var campaignIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// campaignArg is a resolved CAMPAIGN argument: an ID, and the parsed
// pipeline file when a file was given.
type campaignArg struct {
	id   string
	file string              // the path given, or "" for an ID
	data []byte              // the file's contents (nil for an ID)
	spec *pipelines.Campaign // parsed file (nil for an ID)
}

// parseCampaignArg resolves a CAMPAIGN argument without contacting any
// service: an existing file is parsed (a bad file is an error here), any
// other argument must look like a campaign ID.
func parseCampaignArg(arg string) (*campaignArg, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		c, data, err := readCampaign(arg)
		if err != nil {
			return nil, err
		}
		return &campaignArg{id: c.ID(), file: arg, data: data, spec: c}, nil
	}
	if !campaignIDPattern.MatchString(arg) {
		return nil, fmt.Errorf("CAMPAIGN %q is neither a pipeline file nor a campaign ID (16 hex digits, as `rulescape run` prints it)", arg)
	}
	return &campaignArg{id: arg}, nil
}

// plan returns the campaign's plan: the file's, or else the stored plan
// the campaign ran (s must be connected then).
func (ca *campaignArg) plan(ctx context.Context, s *services) (*pipelines.Plan, error) {
	if ca.spec != nil {
		return ca.spec.Plan()
	}
	return workflows.StoredPlan(ctx, s.Client, s.Store, ca.id)
}

// campaignManifest reads the manifest of a campaign (manifest.Read: one
// clear error when there is none) and returns its key too.
func campaignManifest(ctx context.Context, st *store.Store, id string) (*manifest.Manifest, string, error) {
	m, err := manifest.Read(ctx, st, id)
	if err != nil {
		return nil, "", err
	}
	key, err := store.ManifestKey(id)
	return m, key, err
}

// openedCampaign is a campaign argument resolved, the services connected and
// its manifest loaded: what datasets ls/get and share start from.
type openedCampaign struct {
	id          string
	svc         *services
	manifest    *manifest.Manifest
	manifestKey string
}

// openCampaign resolves arg (a pipeline file or a campaign ID), connects to
// the services and loads the campaign's manifest. The caller closes svc.
func (a *app) openCampaign(ctx context.Context, arg string) (*openedCampaign, error) {
	ca, err := parseCampaignArg(arg)
	if err != nil {
		return nil, err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	m, key, err := campaignManifest(ctx, s.Store, ca.id)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &openedCampaign{id: ca.id, svc: s, manifest: m, manifestKey: key}, nil
}

// describeCampaign resolves arg (a pipeline file or a campaign ID),
// connects to the services and describes the campaign's workflow: what
// status and cancel start from. The caller closes the services.
func (a *app) describeCampaign(ctx context.Context, arg string) (*services, workflows.Execution, error) {
	ca, err := parseCampaignArg(arg)
	if err != nil {
		return nil, workflows.Execution{}, err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return nil, workflows.Execution{}, err
	}
	e, err := workflows.Describe(ctx, s.Client, ca.id, "", s.Namespace)
	if err != nil {
		s.Close()
		return nil, workflows.Execution{}, err
	}
	return s, e, nil
}

func (a *app) datasetsLs(ctx context.Context, arg string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.Close()
	ls, err := manifest.List(oc.svc.Store, oc.manifest)
	if err != nil {
		return err
	}
	return a.printer().Print(ls, func(w io.Writer) {
		fmt.Fprintf(w, "campaign %s (%s): %d datasets, manifest %s\n", oc.manifest.Name, ls.Campaign, len(ls.Datasets), ls.Manifest)
		fmt.Fprintf(w, "%-8s %-16s %-40s %7s %10s  %s\n", "STAGE", "KIND", "PARTITIONS", "ROWS", "SIZE", "KEY")
		for _, d := range ls.Datasets {
			fmt.Fprintf(w, "%-8s %-16s %-40s %7d %10s  %s\n", d.Stage, d.Kind, d.Hive, d.Rows, formatBytes(d.Size), d.Key)
		}
	})
}

// formatBytes renders a size as B, KiB, MiB or GiB.
func formatBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func (a *app) datasetsGet(ctx context.Context, arg, dir string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.Close()
	got, err := manifest.Download(ctx, oc.svc.Store, oc.manifest, dir)
	var bad *manifest.BadObjectsError
	if err != nil && !errors.As(err, &bad) {
		return err
	}
	if perr := a.printer().Print(got, func(w io.Writer) {
		fmt.Fprintf(w, "campaign %s (%s): %d datasets (%s) downloaded to %s, SHA-256 verified\n", oc.manifest.Name, got.Campaign, len(got.Files), formatBytes(got.Bytes), dir)
		fmt.Fprintf(w, "manifest: %s\n", got.Manifest)
		if bad != nil {
			fmt.Fprintf(w, "\n%d of %d datasets NOT downloaded (bad in the store; nothing was written for them):\n", len(got.Bad), len(oc.manifest.Datasets))
			for _, b := range got.Bad {
				fmt.Fprintf(w, "  %s\n", b.Line())
			}
			fmt.Fprintf(w, "repair them with: %s\n", got.Repair)
			return
		}
		glob := filepath.Join(dir, "campaigns", got.Campaign, "train", "learning_curves", "*", "*", "*", "*.parquet")
		fmt.Fprintf(w, "\nopen them with DuckDB:\n  duckdb -c \"SELECT rule, avg(error) AS error FROM read_parquet('%s', hive_partitioning = true) GROUP BY rule\"\n", glob)
	}); perr != nil {
		return perr
	}
	if bad != nil {
		return fmt.Errorf("datasets get: %d of %d datasets of campaign %s are bad and were not downloaded — repair them with `%s`, then get again",
			len(bad.Bad), len(oc.manifest.Datasets), got.Campaign, got.Repair)
	}
	return nil
}
