package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"rulescape/manifest"
	"rulescape/report"
	"rulescape/store"
)

func init() { register(newReportCmd) }

var reportLong = help("report.long")

func newReportCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "report CAMPAIGN",
		Short:   "Regenerate a campaign's HTML report and figures from its datasets",
		Long:    reportLong,
		Example: help("report.example"),
		Args:    cobra.ExactArgs(1),
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
	var bad *manifest.BadObjectsError
	if errors.As(err, &bad) {
		// Refuse rather than draw from part of the data: a figure that
		// lost some seeds would look complete. The stored report is left
		// as it was.
		return fmt.Errorf("no report written, the report is built only from all of a campaign's datasets: %w", bad)
	}
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
