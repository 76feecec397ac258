package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"rulescape/internal/progress"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
	"rulescape/workflows"
)

func init() { register(newRunCmd) }

var runLong = help("run.long")

var runExample = help("run.example")

func newRunCmd(a *app) *cobra.Command {
	var (
		mode     string
		dryRun   bool
		noWorker bool
	)
	cmd := &cobra.Command{
		Use:     "run FILE",
		Short:   "Run a campaign from a pipeline file",
		Long:    runLong,
		Example: runExample,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dryRun {
				return a.explain(cmd.Context(), args[0], false)
			}
			return a.runCampaign(cmd.Context(), args[0], mode, noWorker)
		},
	}
	cmd.Flags().StringVar(&mode, "progress", "auto", progressFlagUsage)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say which units would be computed and why, start nothing (as `rulescape explain FILE`)")
	cmd.Flags().BoolVar(&noWorker, "no-worker", false, "start no worker in this process: submit the campaign and follow it while `rulescape worker` processes run it")
	return cmd
}

// stageJSON is one stage of `run -o json`.
type stageJSON struct {
	Status    string  `json:"status"`
	Units     int     `json:"units"`
	CacheHits int     `json:"cache_hits"`
	Seconds   float64 `json:"seconds"`
}

// datasetJSON is one dataset of `run -o json`.
type datasetJSON struct {
	Stage string `json:"stage"`
	Kind  string `json:"kind"`
	URI   string `json:"uri"`
	Rows  int64  `json:"rows"`
}

// runJSON is the object `run -o json` ends with.
type runJSON struct {
	Type     string               `json:"type"` // "result"
	Campaign string               `json:"campaign"`
	Status   string               `json:"status"` // completed or failed
	Error    string               `json:"error,omitempty"`
	Stages   map[string]stageJSON `json:"stages"`
	Datasets []datasetJSON        `json:"datasets"`
	Manifest string               `json:"manifest,omitempty"`
	Report   *string              `json:"report"` // s3:// URI of the report's index.html; null when the campaign has no report stage
	UIURL    string               `json:"ui_url,omitempty"`
}

// readCampaign reads and parses a pipeline file.
func readCampaign(file string) (*pipelines.Campaign, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	c, err := pipelines.Parse(file, data)
	if err != nil {
		return nil, nil, err
	}
	return c, data, nil
}

func (a *app) runCampaign(ctx context.Context, file, mode string, noWorker bool) error {
	showProgress, err := a.campaignProgress(mode)
	if err != nil {
		return err
	}
	c, _, err := readCampaign(file)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	plan, err := c.Plan()
	if err != nil {
		return err
	}
	return a.execCampaign(ctx, s, plan, file, showProgress, nil, noWorker)
}

// execCampaign runs plan c (file is its path) with a worker in this
// process (unless noWorker), follows it and prints the summary. With
// force set (a rerun) those stages are recomputed, and a campaign that is
// already running is an error instead of being attached to.
//
// The worker polls the shared task queue, so it may also run units of
// other campaigns; it stops on Ctrl-C, or else when the services close —
// in the owner of the embedded stack once no other process uses it — and
// its units in flight are then handed back and scheduled again for other
// workers without using up an attempt (docs/CAMPAIGNS.md, "Stopping and
// interrupting").
func (a *app) execCampaign(ctx context.Context, s *services, c *pipelines.Plan, file string,
	showProgress bool, force []pipelines.StageName, noWorker bool) error {
	id := c.CampaignID
	in, err := workflows.NewInput(ctx, s.Store, c, force)
	if err != nil {
		return err
	}
	if !noWorker {
		w := a.newWorker(s)
		if err := w.Start(); err != nil {
			return fmt.Errorf("starting the worker: %w", err)
		}
		// Stopped by s.Close: in the stack's owner only after the other
		// processes using the stack are done, so that the worker goes on
		// computing their units meanwhile instead of handing them back —
		// unless this run was interrupted: Ctrl-C stops the worker now.
		stop := sync.OnceFunc(w.Stop)
		s.KeepWorkerWhileOwning(stop)
		interrupted := ctx
		defer func() {
			if interrupted.Err() != nil {
				stop()
			}
		}()
	}
	// A lost embedded stack (its owner exited, or its gateway kept
	// failing) ends the wait with one line instead of minutes of retries.
	var lost <-chan struct{}
	if s.Stack != nil {
		lost = s.Stack.Done()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stackLost := make(chan struct{})
	go func() {
		select {
		case <-lost:
			close(stackLost)
			cancel()
		case <-ctx.Done():
		}
	}()
	lostErr := func() error {
		select {
		case <-stackLost:
			return s.Stack.Err()
		default:
			return nil
		}
	}
	run, err := workflows.Start(ctx, s.Client, in, force != nil)
	if lerr := lostErr(); lerr != nil {
		return lerr
	}
	if err != nil {
		return err
	}
	ui := a.workflowURL(s, run.GetID())
	a.note("campaign %s (%s): workflow %s, run %s\n", c.Name, id, run.GetID(), run.GetRunID())
	if noWorker {
		a.note("no worker in this process (--no-worker): the campaign runs on `rulescape worker` processes of task queue %q\n", workflows.TaskQueue)
	}
	if ui != "" {
		a.note("Temporal Web UI: %s\n", ui)
	}
	done, drawn := make(chan struct{}), make(chan struct{})
	if showProgress {
		f := a.follower(s, id, run.GetID(), run.GetRunID(), ui, a.stderr)
		f.Iters, f.PerJob = metaoptIters(c)
		go func() {
			defer close(drawn)
			f.Follow(ctx, done)
		}()
	} else {
		close(drawn)
	}
	var res workflows.CampaignResult
	runErr := run.Get(ctx, &res)
	close(done)
	<-drawn
	if lerr := lostErr(); lerr != nil {
		return lerr
	}
	if ctx.Err() != nil {
		// Interrupted: the workflow is still there (paused while no
		// worker runs); running the file again attaches to it.
		return fmt.Errorf("interrupted; campaign %s continues as workflow %s whenever a worker runs — `rulescape run %s` again attaches to it", id, run.GetID(), file)
	}
	out := runJSON{Type: "result", Campaign: id, Status: workflows.StatusCompleted, Stages: map[string]stageJSON{}, Datasets: []datasetJSON{}, UIURL: ui}
	if runErr != nil {
		out.Status, out.Error = workflows.StatusFailed, workflows.FailureMessage(runErr)
		if canceled := (*temporal.CanceledError)(nil); errors.As(runErr, &canceled) {
			out.Status, out.Error = workflows.StatusCanceled, "the campaign was cancelled; `rulescape run "+file+"` starts it again"
		}
		// The progress of the failed run, and what it committed.
		if p, err := workflows.QueryProgress(ctx, s.Client, run.GetID(), run.GetRunID()); err == nil {
			res.Progress = p
		}
		refs, _ := s.Store.List(ctx, id, "")
		for _, r := range refs {
			p, _ := store.ParseDatasetKey(r.Key)
			kind, _, _ := strings.Cut(r.Schema, "@")
			out.Datasets = append(out.Datasets, datasetJSON{Stage: p.Stage, Kind: kind, URI: manifest.URI(s.Store, r.Key), Rows: r.Rows})
		}
	} else {
		m, err := manifest.Read(ctx, s.Store, id)
		if err != nil {
			return err
		}
		for _, d := range m.Datasets {
			out.Datasets = append(out.Datasets, datasetJSON{Stage: d.Stage, Kind: d.Kind, URI: d.URI, Rows: d.Ref.Rows})
		}
		out.Manifest = manifest.URI(s.Store, res.Manifest)
		if res.Report != "" {
			u := manifest.URI(s.Store, res.Report)
			out.Report = &u
		}
	}
	for _, st := range res.Stages {
		out.Stages[st.Name] = stageJSON{Status: st.Status, Units: st.Total, CacheHits: st.CacheHits, Seconds: st.Seconds(time.Now())}
	}
	if err := a.printer().Print(out, func(w io.Writer) { printRun(w, c, res, out, s) }); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("campaign %s %s: %s", id, out.Status, out.Error)
	}
	return nil
}

// printRun writes the text summary of a campaign run.
func printRun(w io.Writer, c *pipelines.Plan, res workflows.CampaignResult, out runJSON, s *services) {
	fmt.Fprintf(w, "campaign %s (%s): %s\n", c.Name, out.Campaign, out.Status)
	for _, st := range res.Stages {
		j := out.Stages[st.Name]
		if st.Status == workflows.StatusCompleted {
			fmt.Fprintf(w, "  %-12s %4d units  %4d cache hits  %8s\n", st.Name, j.Units, j.CacheHits, progress.FormatDuration(time.Duration(j.Seconds*float64(time.Second))))
		} else {
			fmt.Fprintf(w, "  %-12s %4d units  %s\n", st.Name, j.Units, st.Status)
		}
	}
	if out.Status != workflows.StatusCompleted {
		return
	}
	kinds := map[string]int{}
	prefix := manifest.URI(s.Store, "campaigns/"+out.Campaign+"/")
	// Cache hits computed for another campaign stay under its prefix.
	elsewhere, curvesElsewhere := 0, false
	for _, d := range out.Datasets {
		kinds[d.Stage+"/"+d.Kind]++
		if !strings.HasPrefix(d.URI, prefix) {
			elsewhere++
			curvesElsewhere = curvesElsewhere || d.Kind == "learning_curves"
		}
	}
	if elsewhere == 0 {
		fmt.Fprintf(w, "\ndatasets under %s\n", prefix)
	} else {
		fmt.Fprintf(w, "\ndatasets under %s (%d of them cache hits kept under the prefix of the campaign that computed them; the manifest lists where)\n", prefix, elsewhere)
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Fprintf(w, "  %-28s %d files\n", k, kinds[k])
	}
	fmt.Fprintf(w, "manifest: %s\n", out.Manifest)
	// The embedded gateway keeps objects as files under objects/<bucket>.
	var objects string
	if s.Stack != nil {
		objects = filepath.Join(s.Stack.Home, "objects", s.Store.Bucket())
	}
	if out.Report != nil {
		fmt.Fprintf(w, "report:   %s (or `rulescape report %s` for a local copy)\n", *out.Report, out.Campaign)
		if objects != "" {
			fmt.Fprintf(w, "          open %s\n", filepath.Join(objects, filepath.FromSlash(res.Report)))
		}
	}
	fmt.Fprintln(w, "\nopen them with DuckDB:")
	glob := "campaigns/" + out.Campaign + "/train/learning_curves/**/*.parquet"
	const query = "  duckdb -c \"SELECT rule, avg(error) AS error FROM read_parquet('%s', hive_partitioning = true) GROUP BY rule\"\n"
	switch {
	case curvesElsewhere:
		// A glob under this campaign's prefix would miss them: download
		// the campaign as one tree first (datasets get puts every dataset
		// under the campaign's own prefix).
		fmt.Fprintf(w, "  rulescape datasets get %s --out results\n", out.Campaign)
		fmt.Fprintf(w, query, filepath.Join("results", filepath.FromSlash(glob)))
	case objects != "":
		fmt.Fprintf(w, query, filepath.Join(objects, filepath.FromSlash(glob)))
	default:
		fmt.Fprintf(w, `  INSTALL httpfs; LOAD httpfs;
  CREATE SECRET (TYPE s3, KEY_ID '$RULESCAPE_S3_ACCESS_KEY', SECRET '$RULESCAPE_S3_SECRET_KEY',
                 ENDPOINT '%s', URL_STYLE 'path', USE_SSL false);
  SELECT rule, avg(error) AS error FROM read_parquet('%s', hive_partitioning = true) GROUP BY rule;
`, s.Store.Endpoint(), manifest.URI(s.Store, glob))
	}
}

// metaoptIters returns the iterations of all metaopt jobs of c, and the
// iterations of each job when every job has as many (else 0).
func metaoptIters(plan *pipelines.Plan) (total, perJob int) {
	for i, j := range plan.Metaopt {
		total += j.Settings.Iters
		switch {
		case i == 0:
			perJob = j.Settings.Iters
		case perJob != j.Settings.Iters:
			perJob = -1
		}
	}
	return total, max(perJob, 0)
}
