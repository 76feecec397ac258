package manifest

import (
	"context"
	"encoding/json"
	"fmt"

	"rulescape/store"
)

// ReferencedElsewhere returns the dataset keys that the manifests of the
// store's campaigns other than campaign list, each with the campaigns that
// list it. A campaign without a manifest (one that never finished) lists
// nothing; unreadable is the key of the first manifest that is not valid
// JSON (what it lists is unknown, so a caller deleting objects must stop).
// Only the refs' keys are read, so any manifest version counts.
func ReferencedElsewhere(ctx context.Context, st *store.Store, campaign string) (refs map[string][]string, unreadable string, err error) {
	ids, err := st.Campaigns(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("manifest: listing campaigns: %w", err)
	}
	refs = map[string][]string{}
	for _, id := range ids {
		if id == campaign {
			continue
		}
		key, err := store.ManifestKey(id)
		if err != nil {
			continue // not a campaign directory this version writes
		}
		data, err := st.Get(ctx, key)
		if store.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("manifest: reading the manifest of %s: %w", id, err)
		}
		var m struct {
			Datasets []struct {
				Ref struct {
					Key string `json:"key"`
				} `json:"ref"`
			} `json:"datasets"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, key, nil
		}
		for _, d := range m.Datasets {
			refs[d.Ref.Key] = append(refs[d.Ref.Key], id)
		}
	}
	return refs, "", nil
}
