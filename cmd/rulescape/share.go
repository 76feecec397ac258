package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"rulescape/internal/atomicfile"
	"rulescape/store"
)

func init() { register(newShareCmd) }

// maxShareExpiry is the longest validity of a presigned URL (S3's limit).
const maxShareExpiry = 7 * 24 * time.Hour

const shareLong = `Share a completed campaign: presign a GET URL for every dataset, the
manifest and the report (when there is one), valid for --expires (at most
168h = 7 days, the S3 limit), write them to a share manifest (JSON,
share-<campaign>.json unless --out says otherwise) and print DuckDB, pandas
and polars snippets that open them. Anyone who can reach the S3 endpoint
can fetch the URLs until they expire, without credentials; after that the
store refuses them (403).

CAMPAIGN is a campaign ID or the pipeline file. The URLs name the S3
endpoint as this command sees it (with the embedded stack: 127.0.0.1), so
share through an endpoint the recipients can reach.

Share manifest:
  {"campaign", "expires_at", "manifest_url", "report_url" (null when there is no report),
   "datasets": [{"stage", "kind", "unit", "partitions", "rows", "size", "sha256", "url"}]}`

func newShareCmd(a *app) *cobra.Command {
	var (
		expires time.Duration
		out     string
	)
	cmd := &cobra.Command{
		Use:   "share CAMPAIGN",
		Short: "Presign URLs of a campaign's datasets and print snippets that open them",
		Long:  shareLong,
		Example: `  rulescape share pipelines/quickstart.yaml
  rulescape share 314f658e8f18a8d4 --expires 24h --out share.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires < time.Second || expires > maxShareExpiry {
				return fmt.Errorf("--expires %v: presigned URLs are valid between 1s and %v (7 days, the S3 limit) — choose a shorter expiry", expires, maxShareExpiry)
			}
			return a.share(cmd.Context(), args[0], expires, out)
		},
	}
	cmd.Flags().DurationVar(&expires, "expires", 72*time.Hour, "how long the URLs stay valid (at most 168h)")
	cmd.Flags().StringVar(&out, "out", "", "share manifest to write (default share-<campaign>.json)")
	return cmd
}

// sharedDataset is one dataset of a share manifest.
type sharedDataset struct {
	Stage      string            `json:"stage"`
	Kind       string            `json:"kind"`
	Unit       string            `json:"unit"`
	Partitions map[string]string `json:"partitions"`
	Rows       int64             `json:"rows"`
	Size       int64             `json:"size"`
	SHA256     string            `json:"sha256"`
	URL        string            `json:"url"`
}

// shareManifest is the JSON `share` writes.
type shareManifest struct {
	Campaign    string          `json:"campaign"`
	Name        string          `json:"name"`
	ExpiresAt   time.Time       `json:"expires_at"`
	ManifestURL string          `json:"manifest_url"`
	ReportURL   *string         `json:"report_url"`
	Datasets    []sharedDataset `json:"datasets"`
}

func (a *app) share(ctx context.Context, arg string, expires time.Duration, out string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.close()
	id, s, m, mkey := oc.id, oc.svc, oc.manifest, oc.manifestKey
	sm := shareManifest{Campaign: id, Name: m.Name, ExpiresAt: time.Now().UTC().Add(expires).Truncate(time.Second), Datasets: []sharedDataset{}}
	if sm.ManifestURL, err = s.store.Presign(ctx, mkey, expires); err != nil {
		return err
	}
	rkey, err := reportKey(id)
	if err != nil {
		return err
	}
	if obj, err := s.store.Open(ctx, rkey); err == nil {
		obj.Close()
		u, err := s.store.Presign(ctx, rkey, expires)
		if err != nil {
			return err
		}
		sm.ReportURL = &u
	} else if !store.IsNotFound(err) {
		return err
	}
	for _, d := range m.Datasets {
		ps, err := partitionsOf(d.Ref.Key)
		if err != nil {
			return err
		}
		u, err := s.store.Presign(ctx, d.Ref.Key, expires)
		if err != nil {
			return err
		}
		e := sharedDataset{Stage: d.Stage, Kind: d.Kind, Unit: d.Unit, Partitions: map[string]string{}, Rows: d.Ref.Rows,
			Size: d.Ref.Size, SHA256: d.Ref.SHA256, URL: u}
		for _, p := range ps {
			e.Partitions[p[0]] = p[1]
		}
		sm.Datasets = append(sm.Datasets, e)
	}
	if out == "" {
		out = "share-" + id + ".json"
	}
	data, err := json.MarshalIndent(sm, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(out, append(data, '\n')); err != nil {
		return err
	}
	if p := a.printer(); p.JSON() {
		return p.Print(json.RawMessage(data), nil)
	}
	a.printShare(sm, out)
	return nil
}

// printShare prints where the share manifest is and the snippets.
func (a *app) printShare(sm shareManifest, file string) {
	w := a.stdout
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
	kinds := make([]string, 0, len(byKind))
	for k, urls := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s (%d files)", k, len(urls)))
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "datasets: %s\n", strings.Join(kinds, ", "))
	kind := "learning_curves"
	if len(byKind[kind]) == 0 {
		for k := range byKind {
			kind = k
			break
		}
	}
	if len(byKind[kind]) == 0 {
		return
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
