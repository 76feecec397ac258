package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"rulescape/manifest"
	"rulescape/report"
	"rulescape/store"
)

func init() { register(newReportCmd) }

const reportLong = `Regenerate a completed campaign's HTML report from its datasets alone:
read its manifest (campaigns/<id>/manifest.json) and every dataset it
lists, draw the figures (PNG and SVG) and write index.html, both to the
store (campaigns/<id>/report/, index.html last, so a reader never sees a
page whose figures are missing) and to --out DIR (default "report").

The page needs no network and no JavaScript: open DIR/index.html in any
browser. It holds the learning curves, the meta-optimization trajectory
and the discovered rule, fixed points, RDMs, the network similarity
matrix and its MDS embedding and the sensitivity spectra — each for the
stages the campaign ran — with the campaign spec, provenance (engine
version, git commit, spec hash, dataset digests), per-stage timings and
cache hits of the last run, and how to reproduce it. docs/REPORT.md says
how each figure is computed.

CAMPAIGN is a campaign ID or the pipeline file. Services: as for
` + "`rulescape run`" + `.`

func newReportCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report CAMPAIGN",
		Short: "Regenerate a campaign's HTML report and figures from its datasets",
		Long:  reportLong,
		Example: `  rulescape report pipelines/quickstart.yaml
  rulescape report e9389274f147ced9 --out /tmp/quickstart-report`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is empty: give the directory to write the report to (default report)")
			}
			return a.report(cmd.Context(), args[0], out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "report", "directory to write index.html and figures/ to (created if missing)")
	return cmd
}

// reportJSON is what `report -o json` prints.
type reportJSON struct {
	Campaign string   `json:"campaign"`
	Index    string   `json:"index"` // local path of index.html
	URI      string   `json:"uri"`   // s3:// URI of the store's index.html
	Figures  []string `json:"figures"`
	Files    []string `json:"files"` // local paths written, index.html last
	Cited    int      `json:"cited"` // datasets the report cites
}

func (a *app) report(ctx context.Context, arg, dir string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.Close()
	st := oc.svc.Store
	d, err := report.LoadManifest(ctx, st, oc.manifest)
	if err != nil {
		return err
	}
	rep, err := report.Build(d)
	if err != nil {
		return err
	}
	key, err := report.Write(ctx, st, oc.id, rep.Files)
	if err != nil {
		return err
	}
	index, err := report.WriteDir(dir, rep.Files)
	if err != nil {
		return err
	}
	out := reportJSON{Campaign: oc.id, Index: index, URI: manifest.URI(st, key), Figures: []string{}, Cited: len(rep.Cited)}
	for _, s := range rep.Sections {
		for _, f := range s.Figures {
			out.Figures = append(out.Figures, f.ID)
		}
	}
	for _, f := range rep.Files {
		out.Files = append(out.Files, filepath.Join(dir, filepath.FromSlash(f.Name)))
	}
	return a.printer().Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "campaign %s (%s): report with %d figures, citing %d datasets\n", d.Manifest.Name, oc.id, len(out.Figures), out.Cited)
		fmt.Fprintf(w, "  %s\n  %s\n", index, out.URI)
		for _, s := range rep.Sections {
			if s.Note != "" {
				fmt.Fprintf(w, "  %s: %s\n", s.Title, s.Note)
			}
		}
	})
}

// reportKey returns the key of a campaign's report page.
func reportKey(id string) (string, error) { return store.ReportKey(id, report.Index) }
