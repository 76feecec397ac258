package manifest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"rulescape/store"
)

// SharedDataset is one dataset of a share manifest.
type SharedDataset struct {
	Stage      string            `json:"stage"`
	Kind       string            `json:"kind"`
	Unit       string            `json:"unit"`
	Partitions map[string]string `json:"partitions"`
	Rows       int64             `json:"rows"`
	Size       int64             `json:"size"`
	SHA256     string            `json:"sha256"`
	URL        string            `json:"url"`
}

// Shared is a share manifest (`rulescape share`): presigned GET URLs of a
// campaign's manifest, report page and datasets, which anyone who can reach
// the S3 endpoint can fetch without credentials until ExpiresAt. Its JSON
// field names are a public format.
type Shared struct {
	Campaign    string          `json:"campaign"`
	Name        string          `json:"name"`
	ExpiresAt   time.Time       `json:"expires_at"`
	ManifestURL string          `json:"manifest_url"`
	ReportURL   *string         `json:"report_url"` // null when the campaign has no report
	Datasets    []SharedDataset `json:"datasets"`
}

// Share presigns the URLs of m's manifest, its datasets and, when the
// object exists, reportKey (the campaign's report page; "" for none),
// valid for expires (1 s to 7 days, S3's limits).
func Share(ctx context.Context, st *store.Store, m *Manifest, expires time.Duration, reportKey string) (*Shared, error) {
	sm := &Shared{Campaign: m.Campaign, Name: m.Name, ExpiresAt: time.Now().UTC().Add(expires).Truncate(time.Second), Datasets: []SharedDataset{}}
	key, err := store.ManifestKey(m.Campaign)
	if err != nil {
		return nil, err
	}
	if sm.ManifestURL, err = st.Presign(ctx, key, expires); err != nil {
		return nil, err
	}
	if reportKey != "" {
		obj, err := st.Open(ctx, reportKey)
		switch {
		case err == nil:
			obj.Close()
			u, err := st.Presign(ctx, reportKey, expires)
			if err != nil {
				return nil, err
			}
			sm.ReportURL = &u
		case !store.IsNotFound(err):
			return nil, err
		}
	}
	for _, d := range m.Datasets {
		parts, _, err := d.partitionMap()
		if err != nil {
			return nil, err
		}
		u, err := st.Presign(ctx, d.Ref.Key, expires)
		if err != nil {
			return nil, err
		}
		sm.Datasets = append(sm.Datasets, SharedDataset{Stage: d.Stage, Kind: d.Kind, Unit: d.Unit, Partitions: parts,
			Rows: d.Ref.Rows, Size: d.Ref.Size, SHA256: d.Ref.SHA256, URL: u})
	}
	return sm, nil
}

// WriteText writes for people what was shared — file is where the share
// manifest was written — and DuckDB, pandas and polars snippets that open
// the learning curves (or another kind when there are none).
func (sm *Shared) WriteText(w io.Writer, file string) {
	fmt.Fprintf(w, "campaign %s (%s): %d datasets shared until %s\n", sm.Name, sm.Campaign, len(sm.Datasets), sm.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintf(w, "share manifest: %s (send it along; the URLs need no credentials)\n", file)
	fmt.Fprintf(w, "manifest: %s\n", sm.ManifestURL)
	if sm.ReportURL != nil {
		fmt.Fprintf(w, "report:   %s\n", *sm.ReportURL)
	} else {
		fmt.Fprintln(w, "report:   none yet")
	}
	byKind := map[string][]string{}
	for _, d := range sm.Datasets {
		byKind[d.Kind] = append(byKind[d.Kind], d.URL)
	}
	names, counts := slices.Sorted(maps.Keys(byKind)), []string{}
	for _, k := range names {
		counts = append(counts, fmt.Sprintf("%s (%d files)", k, len(byKind[k])))
	}
	fmt.Fprintf(w, "datasets: %s\n", strings.Join(counts, ", "))
	kind := "learning_curves"
	if len(byKind[kind]) == 0 {
		if len(names) == 0 {
			return
		}
		kind = names[0] // no learning curves: the first kind by name
	}
	quoted := make([]string, len(byKind[kind]))
	for i, u := range byKind[kind] {
		quoted[i] = "'" + strings.ReplaceAll(u, "'", "''") + "'"
	}
	fmt.Fprintf(w, "\nDuckDB (%s; the other kinds' URLs are in %s):\n", kind, file)
	fmt.Fprintf(w, "  INSTALL httpfs; LOAD httpfs;\n  SELECT * FROM read_parquet([%s]);\n", strings.Join(quoted, ", "))
	fmt.Fprintf(w, `
pandas:
  import json, pandas as pd
  share = json.load(open(%[1]q))
  urls = [d["url"] for d in share["datasets"] if d["kind"] == %[2]q]
  df = pd.concat([pd.read_parquet(u) for u in urls], ignore_index=True)

polars:
  import json, polars as pl
  share = json.load(open(%[1]q))
  urls = [d["url"] for d in share["datasets"] if d["kind"] == %[2]q]
  df = pl.concat([pl.read_parquet(u) for u in urls])
`, file, kind)
}
