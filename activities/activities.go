package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

// Activities are the campaign's activities. Register a value with a
// worker (w.RegisterActivity(acts)); workflows call the methods by name.
type Activities struct {
	// Store is where datasets, checkpoints and the manifest go.
	Store *store.Store
	// EngineVersion enters every content key (store.ContentKey): results of
	// another engine version are never reused.
	EngineVersion string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Workers bounds the learners a metaopt iteration runs in parallel
	// (0 = all cores). Results do not depend on it.
	Workers int

	// Versions are the stages' engine versions (stages.Current() when
	// nil): each enters the content keys of its stage's datasets and their
	// metadata. Tests set one to stand for a change to a stage's code.
	Versions stages.Versions

	// Identity names the worker in the provenance of the datasets it
	// computes (store.Provenance.Worker); "" means "<hostname>:<pid>".
	// Give each worker of one process its own (`rulescape loadtest`).
	Identity string

	plansOnce sync.Once
	plans     *planCache // stored plans read so far, by digest

	// afterIteration, if set, is called after each metaopt checkpoint
	// (tests use it to interrupt a job).
	afterIteration func(iter int)
	// beforeEval, if set, is called by MetaoptEval before it evaluates a
	// group; an error fails the attempt (tests use it to lose a group).
	beforeEval func(ctx context.Context, in MetaoptEvalInput) error
}

// The activity names, as workflows call them.
const (
	TrainName    = "Train"
	MetaoptName  = "Metaopt"
	ManifestName = "Manifest"
)

// Dataset is one committed dataset of a unit, as the manifest lists it.
// It is declared in package manifest; the alias keeps activities.Dataset
// compiling in workflows and cmd while they move over to manifest.Dataset.
type Dataset = manifest.Dataset

// TrainInput is one train unit of a campaign.
type TrainInput struct {
	CampaignID string              `json:"campaign_id"`
	Unit       pipelines.TrainUnit `json:"unit"`
	Metaopt    *MetaoptResult      `json:"metaopt,omitempty"` // the job's result when Unit.Metaopt is set
	// Force recomputes the unit even when its datasets are committed, and
	// overwrites them (a forced rerun).
	Force bool `json:"force,omitempty"`

	keys    []string       // content keys from the plan's resolver (Unit)
	docs    []store.KeyDoc // their key documents, recorded in the commit markers
	version string         // the stage's engine version
}

// TrainOutput is what computeTrain returns: refs only.
type TrainOutput struct {
	Unit     string    `json:"unit"`
	Datasets []Dataset `json:"datasets"` // learning_curves, networks
}

// MetaoptInput is one metaopt job of a campaign.
type MetaoptInput struct {
	CampaignID string               `json:"campaign_id"`
	Job        pipelines.MetaoptJob `json:"job"`
	// Force recomputes the job from its first iteration even when its
	// history is committed or a checkpoint exists, and overwrites the
	// history (a forced rerun). A retried attempt of a forced job still
	// resumes from the checkpoint its previous attempt heartbeated.
	Force bool `json:"force,omitempty"`

	keys    []string       // content keys from the plan's resolver (Unit)
	docs    []store.KeyDoc // their key documents, recorded in the commit markers
	version string         // the stage's engine version
}

// MetaoptResult is the outcome of a metaopt job: the discovered rule and
// the history dataset it is recorded in.
type MetaoptResult struct {
	Job      string      `json:"job"`   // job ID, "metaopt/<rule>"
	Theta    [][]float64 `json:"theta"` // final Θ, (K+1)×(L+1)
	Eta      float64     `json:"eta"`   // meta-learned learning rate η; 0 unless the job's log_eta is set
	Iters    int         `json:"iters"`
	HeldOutJ *float64    `json:"held_out_j,omitempty"` // held-out J of the final Θ, if evaluated
	Dataset  Dataset     `json:"dataset"`              // metaopt_history
	CacheHit bool        `json:"cache_hit"`
}

// heartbeatEvery is the number of trials between heartbeats of Train.
const heartbeatEvery = 50

func (a *Activities) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *Activities) check() error {
	if a.Store == nil {
		return temporal.NewNonRetryableApplicationError("activities: no store configured", "Config", nil)
	}
	if a.EngineVersion == "" {
		return temporal.NewNonRetryableApplicationError("activities: empty engine version", "Config", nil)
	}
	return nil
}

// campaignOf returns the campaign ID of a dataset key campaigns/<id>/….
func campaignOf(key string) string {
	p, err := store.ParseKey(key)
	if err != nil {
		return ""
	}
	return p.Campaign
}

// docAt returns the key document of the i-th content key, nil if unknown.
func docAt(docs []store.KeyDoc, i int) *store.KeyDoc {
	if i < len(docs) {
		return &docs[i]
	}
	return nil
}

// permanent marks errors that no retry can fix (bad parameters).
func permanent(err error) error {
	if err == nil {
		return nil
	}
	// No cause: its message is already in err.Error(), and the cause would
	// repeat it in every message the error is shown in.
	return temporal.NewNonRetryableApplicationError(err.Error(), "BadUnit", nil)
}

// keepAlive heartbeats every interval until the returned stop is called,
// with the details last passed to the returned set: a unit of work that
// runs longer than the heartbeat timeout between its own heartbeats (one
// metaopt iteration, a long trial) still proves its worker is alive, and a
// retry still finds the last checkpoint in the details.
func keepAlive(ctx context.Context, interval time.Duration) (set func(any), stop func()) {
	if !activity.IsActivity(ctx) {
		return func(any) {}, func() {}
	}
	if hb := activity.GetInfo(ctx).HeartbeatTimeout; hb > 0 && hb/3 < interval {
		interval = hb / 3
	}
	var (
		mu      sync.Mutex
		details any
	)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				d := details
				mu.Unlock()
				if d == nil {
					activity.RecordHeartbeat(ctx)
				} else {
					activity.RecordHeartbeat(ctx, d)
				}
			}
		}
	}()
	set = func(d any) {
		mu.Lock()
		details = d
		mu.Unlock()
		activity.RecordHeartbeat(ctx, d)
	}
	return set, func() { close(done) }
}

// keepAliveEvery is the longest interval of keepAlive; it is shortened to a
// third of the activity's heartbeat timeout when that is shorter.
const keepAliveEvery = 5 * time.Second

func marshal(v any) []byte {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // plain structs of finite numbers and strings
	}
	return data
}

var errNoTheta = errors.New("a unit trained with a discovered rule needs the metaopt result")

// stageError is an error of a stage's computation of unit id: permanent
// when the stage says no retry can fix it (stages.Invalid).
func stageError(id string, err error) error {
	err = fmt.Errorf("activities: %s: %w", id, err)
	if stages.Invalid(err) {
		return permanent(err)
	}
	return err
}
