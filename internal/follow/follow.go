// Package follow follows a running campaign workflow: it queries its
// progress (workflows.Progress) every Interval and draws one bar per stage
// on a terminal, or streams one JSON line (Line) per change — what
// `rulescape run`, `rerun` and `status --watch` show.
package follow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"rulescape/internal/progress"
	"rulescape/pipelines"
	"rulescape/workflows"
)

const (
	Interval  = 500 * time.Millisecond // between progress queries
	Heartbeat = 10 * time.Second       // a JSON line at least this often, changed or not
	barWidth  = 24
)

// Stage is one stage of a progress line: the workflow's progress query's
// answer and the stage's wall time so far.
type Stage struct {
	workflows.StageProgress
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// Line is one JSON line streamed while a campaign runs.
type Line struct {
	Type     string    `json:"type"` // "progress"
	Time     time.Time `json:"time"`
	Campaign string    `json:"campaign"`
	Workflow string    `json:"workflow"`
	Status   string    `json:"status"`
	Stages   []Stage   `json:"stages"`
	// MetaoptIterations is the sum of the running metaopt jobs' last
	// heartbeats and the finished jobs' iterations, of MetaoptTotal (all
	// jobs' iterations); absent when no metaopt job is running.
	MetaoptIterations *int `json:"metaopt_iterations,omitempty"`
	MetaoptTotal      int  `json:"metaopt_total,omitempty"`
	// Metaopt is the progress of each running metaopt job (iteration, J,
	// held-out J), from its MetaoptJob workflow's query.
	Metaopt []workflows.MetaoptJobProgress `json:"metaopt,omitempty"`
	UIURL   string                         `json:"ui_url,omitempty"`
	Error   string                         `json:"error,omitempty"`
}

// Follower draws or streams the progress of one campaign workflow.
type Follower struct {
	Out      io.Writer // JSON lines, or the text bars
	JSON     bool
	Campaign string
	Workflow string
	Iters    int // total metaopt iterations (0 when unknown)
	PerJob   int // iterations of each metaopt job when all have as many (else 0)
	UI       string
	// Query asks the workflow for its progress (final: it has ended);
	// Iterations sums the running metaopt jobs' heartbeats (ok false when
	// there are none).
	Query      func(ctx context.Context, final bool) (workflows.Progress, error)
	Iterations func(context.Context) (n int, ok bool)
	// Jobs returns the running metaopt jobs' progress (nil: none shown).
	Jobs func(context.Context) []workflows.MetaoptJobProgress
	Now  func() time.Time // the clock (time.Now when nil)

	finished map[string]bool // text: stages printed for good
	current  string          // text: the stage on the redrawn line
	last     []byte          // json: the last line's content, without its time
	lastAt   time.Time
}

// New follows run rid ("" for the latest) of workflow wid.
func New(c client.Client, wid, rid string) *Follower {
	return &Follower{Workflow: wid,
		Iterations: func(ctx context.Context) (int, bool) { return workflows.MetaoptIterations(ctx, c, wid, rid) },
		Jobs: func(ctx context.Context) []workflows.MetaoptJobProgress {
			return workflows.MetaoptJobs(ctx, c, wid, rid)
		},
		Query: func(ctx context.Context, final bool) (workflows.Progress, error) {
			if final {
				return workflows.FinalProgress(ctx, c, wid, rid)
			}
			return workflows.QueryProgress(ctx, c, wid, rid)
		},
	}
}

// Follow queries the progress every Interval until done is closed (then
// once more, for the final state) or ctx ends.
func (f *Follower) Follow(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	f.Step(ctx, false)
	for {
		select {
		case <-done:
			f.Step(ctx, true)
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			f.Step(ctx, false)
		}
	}
}

func (f *Follower) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// Step queries the progress once and draws or streams it.
func (f *Follower) Step(ctx context.Context, final bool) {
	if f.finished == nil {
		f.finished = map[string]bool{}
	}
	p, err := f.Query(ctx, final)
	if err != nil {
		if final && !f.JSON && f.current != "" && !f.finished[f.current] {
			fmt.Fprintln(f.Out) // keep the last bar drawn, end its line
		}
		return
	}
	var iter *int
	var jobs []workflows.MetaoptJobProgress
	for _, st := range p.Stages {
		if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning && !final && f.Jobs != nil {
			jobs = f.Jobs(ctx)
		}
		if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning && !final && f.Iterations != nil {
			if it, ok := f.Iterations(ctx); ok {
				// Heartbeats come from running jobs only; a finished job
				// has done all its iterations.
				it += st.Done * f.PerJob
				iter = &it
			}
		}
	}
	if f.JSON {
		f.streamLine(p, iter, jobs, final)
	} else {
		f.drawBars(p, iter, final)
	}
}

// streamLine writes a JSON line when the progress changed, at least every
// Heartbeat, and always for the final state.
func (f *Follower) streamLine(p workflows.Progress, iter *int, jobs []workflows.MetaoptJobProgress, final bool) {
	now := f.now().UTC()
	// Whether anything but the clock moved: the stages without their
	// elapsed time, the status, the iterations.
	key, _ := json.Marshal(struct {
		S  string
		St []workflows.StageProgress
		I  *int
		J  []workflows.MetaoptJobProgress
	}{p.Status, p.Stages, iter, jobs})
	if !final && bytes.Equal(key, f.last) && now.Sub(f.lastAt) < Heartbeat {
		return
	}
	f.last, f.lastAt = key, now
	line := Line{Type: "progress", Time: now, Campaign: f.Campaign, Workflow: f.Workflow, Status: p.Status,
		Stages: []Stage{}, MetaoptIterations: iter, MetaoptTotal: f.Iters, Metaopt: jobs, UIURL: f.UI, Error: p.Error}
	for _, st := range p.Stages {
		line.Stages = append(line.Stages, Stage{StageProgress: st, ElapsedSeconds: st.Seconds(now)})
	}
	if data, err := json.Marshal(line); err == nil {
		f.Out.Write(append(data, '\n'))
	}
}

// drawBars keeps one line per stage on f.Out: the running stage's bar is
// redrawn in place, a finished stage's is printed for good.
func (f *Follower) drawBars(p workflows.Progress, iter *int, final bool) {
	for _, st := range p.Stages {
		if f.finished[st.Name] || st.Status == workflows.StatusPending {
			continue
		}
		line := StageLine(st, f.now())
		if iter != nil && st.Name == string(pipelines.StageMetaopt) {
			line += fmt.Sprintf("  iterations %d", *iter)
			if f.Iters > 0 {
				line += fmt.Sprintf("/%d", f.Iters)
			}
		}
		if st.Status == workflows.StatusRunning && !final {
			fmt.Fprintf(f.Out, "\r\033[K%s", line)
			f.current = st.Name
			continue
		}
		if f.current == st.Name {
			fmt.Fprint(f.Out, "\r\033[K")
		}
		fmt.Fprintln(f.Out, line)
		f.finished[st.Name] = true
	}
}

// StageLine renders one stage's progress bar, with the ETA of the
// workflow's progress query (the mean time per finished unit so far times
// the units left; "--" before the first unit finishes).
func StageLine(st workflows.StageProgress, now time.Time) string {
	elapsed := time.Duration(st.Seconds(now) * float64(time.Second))
	switch st.Status {
	case workflows.StatusRunning, workflows.StatusCompleted, workflows.StatusFailed, workflows.StatusCanceled:
		eta := time.Duration(-1)
		switch {
		case st.Status == workflows.StatusCompleted:
			eta = 0
		case st.Status == workflows.StatusRunning && st.EtaSeconds != nil:
			eta = time.Duration(*st.EtaSeconds * float64(time.Second))
		}
		line := progress.RenderETA(fmt.Sprintf("%-11s", st.Name), "units", st.Done, st.Total, elapsed, eta, barWidth)
		if st.CacheHits > 0 {
			line += fmt.Sprintf("  (%d cached)", st.CacheHits)
		}
		switch st.Status {
		case workflows.StatusFailed:
			line += "  FAILED"
		case workflows.StatusCanceled:
			line += "  CANCELED"
		}
		return line
	}
	return fmt.Sprintf("%-11s %s", st.Name, st.Status)
}
