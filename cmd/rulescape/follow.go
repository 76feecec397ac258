package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"rulescape/internal/progress"
	"rulescape/pipelines"
	"rulescape/workflows"
)

// envTemporalUI is the base URL of the Temporal Web UI of an external
// Temporal server, e.g. http://temporal.lab:8080. With the embedded stack
// the UI `rulescape dev` serves is used unless this is set.
const envTemporalUI = "TEMPORAL_UI_URL"

// Progress polling of `run` and `status --watch`.
const (
	progressInterval  = 500 * time.Millisecond // between progress queries
	progressHeartbeat = 10 * time.Second       // a JSON line at least this often, changed or not
	progressBarWidth  = 24
)

const progressFlagUsage = "progress: auto (text: bars on stderr when it is a terminal; -o json: JSON lines on stdout), always or never"

// campaignProgress decides whether run and rerun follow the campaign's
// progress: with -o json "auto" streams JSON lines (scripts read them from
// stdout before the final object), in text "auto" draws bars when stderr
// is a terminal.
func (a *app) campaignProgress(mode string) (bool, error) {
	if a.output == "json" && mode == "auto" {
		return true, nil
	}
	return wantProgress(mode, a.stderr)
}

// workflowURL returns the Temporal Web UI page of a workflow — from
// TEMPORAL_UI_URL, else the embedded stack's UI when `rulescape dev` serves
// one — or "" when no UI is known.
func (a *app) workflowURL(s *services, workflowID string) string {
	base := strings.TrimRight(os.Getenv(envTemporalUI), "/")
	if base != "" {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			a.log.Warn("ignoring "+envTemporalUI+": not an http(s) URL such as http://temporal.lab:8080", "value", base)
			base = ""
		}
	}
	if base == "" && s.stack != nil {
		base = strings.TrimRight(s.stack.UIAddress, "/")
	}
	if base == "" {
		return ""
	}
	return base + "/namespaces/" + url.PathEscape(s.namespace) + "/workflows/" + url.PathEscape(workflowID)
}

// stageProgressJSON is one stage of a progress line: the workflow's
// progress query's answer and the stage's wall time so far.
type stageProgressJSON struct {
	workflows.StageProgress
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// progressJSON is one line `run -o json` and `status --watch -o json`
// stream while a campaign runs.
type progressJSON struct {
	Type     string              `json:"type"` // "progress"
	Time     time.Time           `json:"time"`
	Campaign string              `json:"campaign"`
	Workflow string              `json:"workflow"`
	Status   string              `json:"status"`
	Stages   []stageProgressJSON `json:"stages"`
	// MetaoptIterations is the sum of the running metaopt jobs' last
	// heartbeats, of MetaoptTotal (all jobs' iterations); absent when no
	// metaopt job is running.
	MetaoptIterations *int   `json:"metaopt_iterations,omitempty"`
	MetaoptTotal      int    `json:"metaopt_total,omitempty"`
	UIURL             string `json:"ui_url,omitempty"`
	Error             string `json:"error,omitempty"`
}

// follower draws or streams the progress of one campaign workflow.
type follower struct {
	out      io.Writer // JSON lines, or the text bars
	json     bool
	campaign string
	wid      string
	iters    int // total metaopt iterations (0 when unknown)
	perJob   int // iterations of each metaopt job when all have as many (else 0)
	ui       string
	// query asks the workflow for its progress (final: it has ended);
	// iterations sums the running metaopt jobs' heartbeats (ok false when
	// there are none).
	query      func(ctx context.Context, final bool) (workflows.Progress, error)
	iterations func(context.Context) (n int, ok bool)
	now        func() time.Time // the clock (time.Now); tests set it

	finished map[string]bool // text: stages printed for good
	current  string          // text: the stage on the redrawn line
	last     []byte          // json: the last line's content, without its time
	lastAt   time.Time
}

// newFollower follows run rid ("" for the latest) of workflow wid: JSON
// lines on out when asJSON, else bars.
func newFollower(c client.Client, out io.Writer, asJSON bool, campaign, wid, rid string, iters, perJob int, ui string) *follower {
	return &follower{out: out, json: asJSON, campaign: campaign, wid: wid, iters: iters, perJob: perJob, ui: ui,
		iterations: func(ctx context.Context) (int, bool) { return metaoptIterations(ctx, c, wid, rid) },
		now:        time.Now,
		query: func(ctx context.Context, final bool) (workflows.Progress, error) {
			p, err := queryProgress(ctx, c, wid, rid)
			if err == nil || !final {
				return p, err
			}
			// An ended workflow is queried by replaying it on a worker, and
			// the worker may be gone (status --watch of another process's
			// run); a completed one's result holds the same progress.
			gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var res workflows.CampaignResult
			if gerr := c.GetWorkflow(gctx, wid, rid).Get(gctx, &res); gerr != nil {
				return p, err
			}
			return res.Progress, nil
		},
	}
}

// follow queries the progress every progressInterval until done is
// closed (then once more, for the final state) or ctx ends.
func (f *follower) follow(ctx context.Context, done <-chan struct{}) {
	f.finished = map[string]bool{}
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	f.step(ctx, false)
	for {
		select {
		case <-done:
			f.step(ctx, true)
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			f.step(ctx, false)
		}
	}
}

// step queries the progress once and draws or streams it.
func (f *follower) step(ctx context.Context, final bool) {
	p, err := f.query(ctx, final)
	if err != nil {
		if final && !f.json && f.current != "" && !f.finished[f.current] {
			fmt.Fprintln(f.out) // keep the last bar drawn, end its line
		}
		return
	}
	var iter *int
	for _, st := range p.Stages {
		if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning && !final {
			if it, ok := f.iterations(ctx); ok {
				// Heartbeats come from running jobs only; a finished job
				// has done all its iterations.
				it += st.Done * f.perJob
				iter = &it
			}
		}
	}
	if f.json {
		f.streamLine(p, iter, final)
	} else {
		f.drawBars(p, iter, final)
	}
}

// streamLine writes a JSON line when the progress changed, at least every
// progressHeartbeat, and always for the final state.
func (f *follower) streamLine(p workflows.Progress, iter *int, final bool) {
	now := f.now().UTC()
	line := progressJSON{Type: "progress", Campaign: f.campaign, Workflow: f.wid, Status: p.Status,
		Stages: []stageProgressJSON{}, MetaoptIterations: iter, MetaoptTotal: f.iters, UIURL: f.ui, Error: p.Error}
	for _, st := range p.Stages {
		line.Stages = append(line.Stages, stageProgressJSON{StageProgress: st, ElapsedSeconds: st.Seconds(now)})
	}
	// Whether anything but the clock moved: the stages without their
	// elapsed time, the status, the iterations.
	key, _ := json.Marshal(struct {
		S  string
		St []workflows.StageProgress
		I  *int
	}{p.Status, p.Stages, iter})
	if !final && bytes.Equal(key, f.last) && now.Sub(f.lastAt) < progressHeartbeat {
		return
	}
	f.last, f.lastAt = key, now
	line.Time = now
	data, err := json.Marshal(line)
	if err != nil {
		return
	}
	f.out.Write(append(data, '\n'))
}

// drawBars keeps one line per stage on f.out: the running stage's bar is
// redrawn in place, a finished stage's is printed for good.
func (f *follower) drawBars(p workflows.Progress, iter *int, final bool) {
	for _, st := range p.Stages {
		if f.finished[st.Name] || st.Status == workflows.StatusPending {
			continue
		}
		line := stageLine(st, f.now())
		if iter != nil && st.Name == string(pipelines.StageMetaopt) {
			line += fmt.Sprintf("  iterations %d", *iter)
			if f.iters > 0 {
				line += fmt.Sprintf("/%d", f.iters)
			}
		}
		if st.Status == workflows.StatusRunning && !final {
			fmt.Fprintf(f.out, "\r\033[K%s", line)
			f.current = st.Name
			continue
		}
		if f.current == st.Name {
			fmt.Fprint(f.out, "\r\033[K")
		}
		fmt.Fprintln(f.out, line)
		f.finished[st.Name] = true
	}
}

// stageLine renders one stage's progress bar, with the ETA of the
// workflow's progress query (the mean time per finished unit so far times
// the units left; "--" before the first unit finishes).
func stageLine(st workflows.StageProgress, now time.Time) string {
	elapsed := time.Duration(st.Seconds(now) * float64(time.Second))
	switch st.Status {
	case workflows.StatusRunning, workflows.StatusCompleted, workflows.StatusFailed:
		eta := time.Duration(-1)
		switch {
		case st.Status == workflows.StatusCompleted:
			eta = 0
		case st.Status == workflows.StatusRunning && st.EtaSeconds != nil:
			eta = time.Duration(*st.EtaSeconds * float64(time.Second))
		}
		line := progress.RenderETA(fmt.Sprintf("%-11s", st.Name), "units", st.Done, st.Total, elapsed, eta, progressBarWidth)
		if st.CacheHits > 0 {
			line += fmt.Sprintf("  (%d cached)", st.CacheHits)
		}
		if st.Status == workflows.StatusFailed {
			line += "  FAILED"
		}
		return line
	}
	return fmt.Sprintf("%-11s %s", st.Name, st.Status)
}
