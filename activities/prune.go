package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
)

// PruneName is the activity name of Prune.
const PruneName = "Prune"

// PruneInput names the stages of a campaign that a rerun recomputed.
type PruneInput struct {
	CampaignID string                `json:"campaign_id"`
	Stages     []pipelines.StageName `json:"stages"`
}

// Prune removes, after a rerun wrote the campaign's new manifest, every
// committed dataset under the campaign's prefix in the rerun's stages that
// the manifest does not list: those whose content keys changed with their
// inputs (a train unit whose metaopt history was recomputed). Marker first,
// then object, so no reader is pointed at a missing object; a glob over a
// stage directory then matches the manifest exactly. It runs inside the
// workflow, so an interrupted `rulescape rerun` leaves nothing behind.
//
// A dataset another campaign's manifest lists is kept (and logged): a
// cross-campaign cache hit points that campaign at an object under this
// campaign's prefix. If another manifest cannot be parsed, nothing is
// removed, since what it lists is unknown.
func (a *Activities) Prune(ctx context.Context, in PruneInput) (int, error) {
	if err := a.check(); err != nil {
		return 0, err
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery) // a crashed worker is noticed in seconds, not at the timeout
	defer stopHB()
	key, err := store.ManifestKey(in.CampaignID)
	if err != nil {
		return 0, permanent(err)
	}
	data, err := a.Store.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("activities: prune: reading the manifest of %s: %w", in.CampaignID, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return 0, permanent(fmt.Errorf("activities: prune: manifest of %s: %w", in.CampaignID, err))
	}
	keep := map[string]bool{}
	for _, d := range m.Datasets {
		keep[d.Ref.Key] = true
	}
	var doomed []store.DatasetRef
	for _, s := range in.Stages {
		if s == pipelines.StageReport {
			continue
		}
		refs, err := a.Store.List(ctx, in.CampaignID, string(s))
		if err != nil {
			return 0, err
		}
		for _, ref := range refs {
			if !keep[ref.Key] {
				doomed = append(doomed, ref)
			}
		}
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	others, unreadable, err := manifest.ReferencedElsewhere(ctx, a.Store, in.CampaignID)
	if err != nil {
		return 0, err
	}
	if unreadable != "" {
		a.log().Warn("rerun: not removing superseded datasets: another campaign's manifest cannot be parsed, so what it lists is unknown",
			"campaign", in.CampaignID, "manifest", unreadable, "datasets", len(doomed))
		return 0, nil
	}
	removed := 0
	for _, ref := range doomed {
		if by := others[ref.Key]; len(by) > 0 {
			a.log().Info("rerun: keeping a superseded dataset another campaign's manifest lists", "campaign", in.CampaignID, "key", ref.Key, "listed_by", by)
			continue
		}
		p, err := store.ParseDatasetKey(ref.Key)
		if err != nil {
			continue
		}
		if err := a.Store.Invalidate(ctx, p.ContentKey); err != nil {
			return removed, err
		}
		if err := a.Store.Remove(ctx, ref.Key); err != nil {
			return removed, err
		}
		removed++
	}
	if removed > 0 {
		a.log().Info("rerun: removed superseded datasets", "campaign", in.CampaignID, "datasets", removed)
	}
	return removed, nil
}
