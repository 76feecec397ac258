package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"rulescape/pipelines"
	"rulescape/store"
)

// A ResolveUnits activity of a campaign run records the cache hits it
// verified in one object per chunk, under the campaign's checkpoints:
// checkpoints/resolved/<run>/<stage>-<from>.json, run being the campaign
// workflow's run ID. Later activities of the same run — the resolution of
// a downstream stage (for its inputs' digests) and the manifest — read
// those few objects instead of one commit marker per dataset; the manifest
// removes them once it is written. Only the run that wrote them reads
// them: another run resolves afresh.

// resolvedEntry is one verified dataset of a record.
type resolvedEntry struct {
	Ref        store.DatasetRef  `json:"ref"`
	Provenance *store.Provenance `json:"provenance,omitempty"`
}

// resolvedPrefix is the key prefix of a run's records.
func resolvedPrefix(campaign, run string) (string, error) {
	k, err := store.CheckpointKey(campaign, "resolved/"+run+"/x")
	if err != nil {
		return "", err
	}
	return k[:len(k)-1], nil
}

// putResolved writes the record of a chunk: content key → dataset.
func (a *Activities) putResolved(ctx context.Context, campaign, run string, stage pipelines.StageName, from int, hits map[string]resolvedEntry) error {
	key, err := store.CheckpointKey(campaign, fmt.Sprintf("resolved/%s/%s-%d.json", run, stage, from))
	if err != nil {
		return err
	}
	data, err := json.Marshal(hits)
	if err != nil {
		return err
	}
	return a.Store.Put(ctx, key, data, "application/json")
}

// runRecords are the records of one run, read once.
type runRecords struct {
	once    sync.Once
	err     error
	keys    []string
	entries map[string]resolvedEntry
}

// load reads every record of the run (no run: none).
func (r *runRecords) load(ctx context.Context, a *Activities, campaign, run string) error {
	r.once.Do(func() {
		r.entries = map[string]resolvedEntry{}
		if run == "" {
			return
		}
		prefix, err := resolvedPrefix(campaign, run)
		if err != nil {
			r.err = err
			return
		}
		if r.keys, r.err = a.Store.ListKeys(ctx, prefix); r.err != nil {
			return
		}
		for _, k := range r.keys {
			data, err := a.Store.Get(ctx, k)
			if err != nil {
				r.err = err
				return
			}
			var m map[string]resolvedEntry
			if err := json.Unmarshal(data, &m); err != nil {
				r.err = fmt.Errorf("activities: %s: %w", k, err)
				return
			}
			for ck, e := range m {
				r.entries[ck] = e
			}
		}
	})
	return r.err
}

// get returns the recorded dataset of a content key.
func (r *runRecords) get(ck string) (resolvedEntry, bool) {
	e, ok := r.entries[ck]
	return e, ok
}

// removeResolved deletes the records of the campaign's runs — this one's
// and any left by a run that failed before its manifest (one run of a
// campaign runs at a time: its workflow ID is the campaign's). Failures
// are logged, not returned.
func (a *Activities) removeResolved(ctx context.Context, campaign string) {
	prefix, err := store.CheckpointKey(campaign, "resolved/x")
	if err != nil {
		return
	}
	keys, err := a.Store.ListKeys(ctx, prefix[:len(prefix)-1])
	if err != nil {
		a.log().Warn("listing the resolution records failed", "err", err)
		return
	}
	for _, k := range keys {
		if err := a.Store.RemoveCheckpoint(ctx, k); err != nil {
			a.log().Warn("removing a resolution record failed", "key", k, "err", err)
		}
	}
}
