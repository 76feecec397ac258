package follow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"rulescape/workflows"
)

func ptrTo[T any](v T) *T { return &v }

// TestStageLine: the bar shows the workflow's ETA, not one extrapolated
// from the rate; "--" before the first unit finishes; 0s when done.
func TestStageLine(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := start.Add(10 * time.Second)
	end := start.Add(4 * time.Second)
	tests := []struct {
		name string
		st   workflows.StageProgress
		want string
	}{
		{"running, workflow ETA", workflows.StageProgress{Name: "train", Status: "running", Done: 5, Total: 10, StartedAt: &start, EtaSeconds: ptrTo(90.0)},
			"train       [============>           ] 5/10  50.0%  0.5 units/s  ETA 1m30s"},
		{"running, no unit done", workflows.StageProgress{Name: "train", Status: "running", Total: 10, StartedAt: &start},
			"train       [                        ] 0/10   0.0%  -- units/s  ETA --"},
		{"completed with cache hits", workflows.StageProgress{Name: "metaopt", Status: "completed", Done: 2, Total: 2, CacheHits: 1, StartedAt: &start, FinishedAt: &end, EtaSeconds: ptrTo(3.0)},
			"metaopt     [========================] 2/2 100.0%  0.5 units/s  ETA 0s  (1 cached)"},
		{"failed", workflows.StageProgress{Name: "train", Status: "failed", Done: 1, Total: 4, StartedAt: &start, FinishedAt: &end, EtaSeconds: ptrTo(12.0)},
			"train       [======>                 ] 1/4  25.0%  0.2 units/s  ETA --  FAILED"},
		{"canceled", workflows.StageProgress{Name: "train", Status: "canceled", Done: 1, Total: 4, StartedAt: &start, FinishedAt: &end},
			"train       [======>                 ] 1/4  25.0%  0.2 units/s  ETA --  CANCELED"},
		{"pending", workflows.StageProgress{Name: "rsa", Status: "pending", Total: 1}, "rsa         pending"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StageLine(tc.st, now); got != tc.want {
				t.Errorf("StageLine =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// scripted is a follower's progress source that plays a list of states.
func scripted(states []workflows.Progress) func(context.Context, bool) (workflows.Progress, error) {
	i := 0
	return func(context.Context, bool) (workflows.Progress, error) {
		if i >= len(states) {
			return workflows.Progress{}, errors.New("no worker")
		}
		p := states[i]
		i++
		return p, nil
	}
}

// TestFollowerJSON: one line per change, none for a repeat or a failed
// query, always one for the final state; each line parses and carries the
// stages, the metaopt iterations and the UI link.
func TestFollowerJSON(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	start := now.Add(-3 * time.Second)
	st := func(name, status string, done, total int) workflows.StageProgress {
		return workflows.StageProgress{Name: name, Status: status, Done: done, Total: total, StartedAt: &start}
	}
	states := []workflows.Progress{
		{Status: "running", Stages: []workflows.StageProgress{st("metaopt", "running", 0, 1), st("train", "pending", 0, 4)}},
		{Status: "running", Stages: []workflows.StageProgress{st("metaopt", "running", 0, 1), st("train", "pending", 0, 4)}}, // iterations moved
		{Status: "running", Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "running", 2, 4)}},
		{Status: "running", Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "running", 2, 4)}}, // repeat
		{Status: "running", Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "running", 2, 4)}}, // repeat, 10 s later
		{Status: "completed", Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "completed", 4, 4)}},
	}
	var out bytes.Buffer
	f := &Follower{Out: &out, JSON: true, Campaign: "0123456789abcdef", Workflow: "campaign-0123456789abcdef", Iters: 8, UI: "http://ui/x",
		Query: scripted(states), Now: func() time.Time { return now }}
	its := []int{3, 5}
	f.Iterations = func(context.Context) (int, bool) {
		if len(its) == 0 {
			return 0, false
		}
		n := its[0]
		its = its[1:]
		return n, true
	}
	ctx := context.Background()
	for range 4 {
		f.Step(ctx, false)
	}
	clock := now
	f.Now = func() time.Time { return clock }
	clock = now.Add(Heartbeat)
	f.Step(ctx, false) // unchanged, but a heartbeat is due
	f.Step(ctx, true)  // the final state
	f.Step(ctx, true)  // the query fails: nothing
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (3 changes, a heartbeat and the final state):\n%s", len(lines), out.String())
	}
	var got []Line
	for _, l := range lines {
		var p Line
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if p.Type != "progress" || p.Campaign != "0123456789abcdef" || p.UIURL != "http://ui/x" || p.MetaoptTotal != 8 || p.Time.IsZero() {
			t.Errorf("line %q", l)
		}
		got = append(got, p)
	}
	if got[0].MetaoptIterations == nil || *got[0].MetaoptIterations != 3 || *got[1].MetaoptIterations != 5 || got[2].MetaoptIterations != nil {
		t.Errorf("metaopt Iterations: %v %v %v", got[0].MetaoptIterations, got[1].MetaoptIterations, got[2].MetaoptIterations)
	}
	if s := got[2].Stages[1]; s.Name != "train" || s.Done != 2 || s.Total != 4 || s.ElapsedSeconds != 3 {
		t.Errorf("third line's train stage: %+v", s)
	}
	if got[3].Status != "running" || !got[3].Time.Equal(now.Add(Heartbeat)) || got[3].Stages[1].ElapsedSeconds != 13 {
		t.Errorf("heartbeat line: %+v", got[3])
	}
	if got[4].Status != "completed" || got[4].Stages[1].Status != "completed" {
		t.Errorf("final line: %+v", got[4])
	}
	if !strings.Contains(lines[0], `"eta_seconds":null`) || !strings.Contains(lines[0], `"elapsed_seconds":`) {
		t.Errorf("line lacks eta_seconds/elapsed_seconds: %s", lines[0])
	}
}

// TestFollowerBars: the running stage's bar is redrawn in place; a stage
// that finished is printed once for good.
func TestFollowerBars(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	start := now.Add(-2 * time.Second)
	st := func(name, status string, done, total int) workflows.StageProgress {
		return workflows.StageProgress{Name: name, Status: status, Done: done, Total: total, StartedAt: &start, EtaSeconds: ptrTo(4.0)}
	}
	var out bytes.Buffer
	f := &Follower{Out: &out, Iters: 8, Query: scripted([]workflows.Progress{
		{Stages: []workflows.StageProgress{st("metaopt", "running", 0, 1), st("train", "pending", 0, 2)}},
		{Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "running", 1, 2)}},
		{Stages: []workflows.StageProgress{st("metaopt", "completed", 1, 1), st("train", "completed", 2, 2)}},
	}), Iterations: func(context.Context) (int, bool) { return 6, true }, Now: func() time.Time { return now }}
	f.Step(context.Background(), false)
	f.Step(context.Background(), false)
	f.Step(context.Background(), true)
	got := out.String()
	want := "\r\033[K" + "metaopt     [                        ] 0/1   0.0%  -- units/s  ETA 4s  iterations 6/8" +
		"\r\033[K" + "metaopt     [========================] 1/1 100.0%  0.5 units/s  ETA 0s\n" +
		"\r\033[K" + "train       [============>           ] 1/2  50.0%  0.5 units/s  ETA 4s" +
		"\r\033[K" + "train       [========================] 2/2 100.0%  1.0 units/s  ETA 0s\n"
	if got != want {
		t.Errorf("bars =\n%q\nwant\n%q", got, want)
	}
}

// TestFollowerBarsEndLine: when the final state cannot be read, the last
// bar stays and its line is ended, so what follows starts on a new line.
func TestFollowerBarsEndLine(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	f := &Follower{Out: &out, Now: func() time.Time { return start.Add(time.Second) },
		Query: scripted([]workflows.Progress{{Stages: []workflows.StageProgress{
			{Name: "train", Status: "running", Done: 1, Total: 2, StartedAt: &start}}}})}
	f.Step(context.Background(), false)
	f.Step(context.Background(), true) // the query fails
	if got := out.String(); !strings.HasPrefix(got, "\r\033[Ktrain ") || !strings.HasSuffix(got, "ETA --\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("bars = %q; want the running bar, then its line ended", got)
	}
}

// TestFollowerFinishedJobs: the iterations count the finished metaopt jobs'
// iterations too (heartbeats come from running jobs only).
func TestFollowerFinishedJobs(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	start := now.Add(-time.Second)
	var out bytes.Buffer
	f := &Follower{Out: &out, JSON: true, Campaign: "c", Workflow: "w", Iters: 160, PerJob: 80, Now: func() time.Time { return now },
		Query: scripted([]workflows.Progress{{Status: "running", Stages: []workflows.StageProgress{
			{Name: "metaopt", Status: "running", Done: 1, Total: 2, StartedAt: &start}}}}),
		Iterations: func(context.Context) (int, bool) { return 68, true }}
	f.Step(context.Background(), false)
	var p Line
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.MetaoptIterations == nil || *p.MetaoptIterations != 148 || p.MetaoptTotal != 160 {
		t.Errorf("iterations %v of %d; want 80 of the finished job + 68 heartbeated = 148 of 160", p.MetaoptIterations, p.MetaoptTotal)
	}
}
