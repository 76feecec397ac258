package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/internal/atomicfile"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
)

func init() { register(newDatasetsCmd) }

const datasetsLong = `List or download the datasets of a completed campaign, as its manifest
(campaigns/<id>/manifest.json) lists them. CAMPAIGN is a campaign ID (as
` + "`rulescape run`" + ` prints it) or the pipeline file.

  ls   one line per dataset: stage, kind, partitions, rows, size, object key
  get  download every dataset to DIR as plain Parquet files in the Hive
       layout of the bucket (campaigns/<id>/<stage>/<dataset>/task=…/…/
       part-<key>.parquet) plus manifest.json; each file is written to a
       temporary name, checked against the SHA-256 of its commit marker and
       then renamed, so DIR never holds a partial or wrong file.

Services: as for ` + "`rulescape run`" + `.`

func newDatasetsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasets",
		Short: "List or download a campaign's datasets",
		Long:  datasetsLong,
		Example: `  rulescape datasets ls pipelines/quickstart.yaml
  rulescape datasets get 314f658e8f18a8d4 --out results/
  duckdb -c "SELECT rule, avg(error) FROM read_parquet('results/campaigns/*/train/learning_curves/*/*/*/*.parquet', hive_partitioning = true) GROUP BY rule"`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ls CAMPAIGN",
		Short: "List a campaign's datasets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.datasetsLs(cmd.Context(), args[0])
		},
	})
	var out string
	get := &cobra.Command{
		Use:   "get CAMPAIGN --out DIR",
		Short: "Download a campaign's datasets as Parquet files in Hive layout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("datasets get: --out DIR is required (the directory to download into)")
			}
			return a.datasetsGet(cmd.Context(), args[0], out)
		},
	}
	get.Flags().StringVar(&out, "out", "", "directory to download into (created if missing)")
	cmd.AddCommand(get)
	return cmd
}

// campaignIDPattern is the form of a campaign ID: pipelines.Campaign.ID.
var campaignIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// campaignArg is a resolved CAMPAIGN argument: an ID, and the parsed
// pipeline file when a file was given.
type campaignArg struct {
	id   string
	file string              // the path given, or "" for an ID
	data []byte              // the file's contents (nil for an ID)
	spec *pipelines.Campaign // parsed file (nil for an ID)
}

// parseCampaignArg resolves a CAMPAIGN argument without contacting any
// service: an existing file is parsed (a bad file is an error here), any
// other argument must look like a campaign ID.
func parseCampaignArg(arg string) (*campaignArg, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		c, data, err := readCampaign(arg)
		if err != nil {
			return nil, err
		}
		return &campaignArg{id: c.ID(), file: arg, data: data, spec: c}, nil
	}
	if !campaignIDPattern.MatchString(arg) {
		return nil, fmt.Errorf("CAMPAIGN %q is neither a pipeline file nor a campaign ID (16 hex digits, as `rulescape run` prints it)", arg)
	}
	return &campaignArg{id: arg}, nil
}

// campaignManifest reads the manifest of a campaign (manifest.Read: one
// clear error when there is none) and returns its key too.
func campaignManifest(ctx context.Context, st *store.Store, id string) (*manifest.Manifest, string, error) {
	m, err := manifest.Read(ctx, st, id)
	if err != nil {
		return nil, "", err
	}
	key, err := store.ManifestKey(id)
	return m, key, err
}

// datasetEntry is one dataset of `datasets ls -o json`.
type datasetEntry struct {
	Stage      string            `json:"stage"`
	Kind       string            `json:"kind"`
	Unit       string            `json:"unit"`
	Partitions map[string]string `json:"partitions"`
	Rows       int64             `json:"rows"`
	Size       int64             `json:"size"`
	SHA256     string            `json:"sha256"`
	Key        string            `json:"key"`
	URI        string            `json:"uri"`
}

// datasetsJSON is the object `datasets ls -o json` prints.
type datasetsJSON struct {
	Campaign string         `json:"campaign"`
	Manifest string         `json:"manifest"`
	Datasets []datasetEntry `json:"datasets"`
}

// partitionsOf returns the Hive partitions name=value of a dataset key,
// values unescaped, in key order.
func partitionsOf(key string) ([][2]string, error) {
	p, err := store.ParseDatasetKey(key)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, part := range p.Partitions {
		out = append(out, [2]string{part.Name, part.Value})
	}
	return out, nil
}

// openedCampaign is a campaign argument resolved, the services connected and
// its manifest loaded: what datasets ls/get and share start from.
type openedCampaign struct {
	id          string
	svc         *services
	manifest    *manifest.Manifest
	manifestKey string
}

// openCampaign resolves arg (a pipeline file or a campaign ID), connects to
// the services and loads the campaign's manifest. The caller closes svc.
func (a *app) openCampaign(ctx context.Context, arg string) (*openedCampaign, error) {
	ca, err := parseCampaignArg(arg)
	if err != nil {
		return nil, err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	m, key, err := campaignManifest(ctx, s.store, ca.id)
	if err != nil {
		s.close()
		return nil, err
	}
	return &openedCampaign{id: ca.id, svc: s, manifest: m, manifestKey: key}, nil
}

func (a *app) datasetsLs(ctx context.Context, arg string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.close()
	id, s, m, key := oc.id, oc.svc, oc.manifest, oc.manifestKey
	out := datasetsJSON{Campaign: id, Manifest: s3URI(s.store, key), Datasets: []datasetEntry{}}
	parts := make([]string, len(m.Datasets))
	for i, d := range m.Datasets {
		ps, err := partitionsOf(d.Ref.Key)
		if err != nil {
			return err
		}
		e := datasetEntry{Stage: d.Stage, Kind: d.Kind, Unit: d.Unit, Partitions: map[string]string{}, Rows: d.Ref.Rows,
			Size: d.Ref.Size, SHA256: d.Ref.SHA256, Key: d.Ref.Key, URI: d.URI}
		var texts []string
		for _, p := range ps {
			e.Partitions[p[0]] = p[1]
			texts = append(texts, p[0]+"="+p[1])
		}
		parts[i] = strings.Join(texts, " ")
		out.Datasets = append(out.Datasets, e)
	}
	if p := a.printer(); p.JSON() {
		return p.Print(out, nil)
	}
	w := a.stdout
	fmt.Fprintf(w, "campaign %s (%s): %d datasets, manifest %s\n", m.Name, id, len(out.Datasets), out.Manifest)
	fmt.Fprintf(w, "%-8s %-16s %-40s %7s %10s  %s\n", "STAGE", "KIND", "PARTITIONS", "ROWS", "SIZE", "KEY")
	for i, d := range out.Datasets {
		fmt.Fprintf(w, "%-8s %-16s %-40s %7d %10s  %s\n", d.Stage, d.Kind, parts[i], d.Rows, formatBytes(d.Size), d.Key)
	}
	return nil
}

// formatBytes renders a size as B, KiB, MiB or GiB.
func formatBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// getJSON is the object `datasets get -o json` prints.
type getJSON struct {
	Campaign string   `json:"campaign"`
	Dir      string   `json:"dir"`      // the download directory
	Manifest string   `json:"manifest"` // local path of manifest.json
	Files    []string `json:"files"`    // local paths of the datasets, in manifest order
	Bytes    int64    `json:"bytes"`
}

func (a *app) datasetsGet(ctx context.Context, arg, dir string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.close()
	id, s, m, key := oc.id, oc.svc, oc.manifest, oc.manifestKey
	out := getJSON{Campaign: id, Dir: dir, Files: []string{}}
	for _, d := range m.Datasets {
		// The commit marker is the authority on the bytes: a dataset
		// recomputed since the manifest was written has a new digest.
		ref, ok, err := s.store.Lookup(ctx, d.ContentKey)
		if err != nil {
			return err
		}
		if !ok || ref.Key != d.Ref.Key {
			return fmt.Errorf("the %s dataset of %s (%s) is no longer committed — is a rerun of campaign %s in progress? Try again when it has finished", d.Kind, d.Unit, d.Ref.Key, id)
		}
		// A cache hit from another campaign lives under that campaign's
		// prefix; the download puts every dataset under this campaign's
		// (same stage/kind/partition layout, file named by content key), so
		// the directory is the whole campaign in one Hive tree.
		local, err := localPath(dir, ownPrefix(ref.Key, id))
		if err != nil {
			return err
		}
		if err := download(ctx, s.store, ref, local); err != nil {
			return err
		}
		out.Files = append(out.Files, local)
		out.Bytes += ref.Size
	}
	data, err := manifest.Encode(*m)
	if err != nil {
		return err
	}
	if out.Manifest, err = localPath(dir, key); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(out.Manifest, data); err != nil {
		return err
	}
	if p := a.printer(); p.JSON() {
		return p.Print(out, nil)
	}
	w := a.stdout
	fmt.Fprintf(w, "campaign %s (%s): %d datasets (%s) downloaded to %s, SHA-256 verified\n", m.Name, id, len(out.Files), formatBytes(out.Bytes), dir)
	fmt.Fprintf(w, "manifest: %s\n", out.Manifest)
	glob := filepath.Join(dir, "campaigns", id, "train", "learning_curves", "*", "*", "*", "*.parquet")
	fmt.Fprintf(w, "\nopen them with DuckDB:\n  duckdb -c \"SELECT rule, avg(error) AS error FROM read_parquet('%s', hive_partitioning = true) GROUP BY rule\"\n", glob)
	return nil
}

// ownPrefix returns the dataset key with its campaign replaced by
// campaign; a key that is not a dataset's is returned unchanged.
func ownPrefix(key, campaign string) string {
	p, err := store.ParseDatasetKey(key)
	if err != nil {
		return key
	}
	p.Campaign = campaign
	if own, err := p.Key(); err == nil {
		return own
	}
	return key
}

// localPath maps an object key to a path under dir, refusing keys that
// would leave it.
func localPath(dir, key string) (string, error) {
	clean := path.Clean(key)
	if clean != key || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		return "", fmt.Errorf("object key %q does not map to a file under %s", key, dir)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// download copies a committed dataset to local: into a temporary file in
// the same directory, checking size and SHA-256 against ref, then renamed.
func download(ctx context.Context, st *store.Store, ref store.DatasetRef, local string) error {
	obj, err := st.Open(ctx, ref.Key)
	if err != nil {
		return err
	}
	defer obj.Close()
	return atomicfile.Write(local, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), obj)
		if err != nil {
			return fmt.Errorf("downloading %s: %w", ref.Key, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); n != ref.Size || got != ref.SHA256 {
			return fmt.Errorf("downloading %s: got %d bytes with SHA-256 %s, its commit marker says %d bytes with %s — it is being rewritten; try again",
				ref.Key, n, got, ref.Size, ref.SHA256)
		}
		return nil
	})
}
