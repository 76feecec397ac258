package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"rulescape/internal/atomicfile"
	"rulescape/store"
)

// Partitions returns the Hive partitions of the entry's object key
// (task=…/rule=…/seed=…), values unescaped, in key order.
func (e Entry) Partitions() ([]store.Partition, error) {
	p, err := store.ParseDatasetKey(e.Ref.Key)
	if err != nil {
		return nil, err
	}
	return p.Partitions, nil
}

// partitionMap returns the entry's partitions as a map and as the text
// "name=value name=value" in key order.
func (e Entry) partitionMap() (map[string]string, string, error) {
	ps, err := e.Partitions()
	if err != nil {
		return nil, "", err
	}
	m, texts := map[string]string{}, make([]string, len(ps))
	for i, p := range ps {
		m[p.Name], texts[i] = p.Value, p.Name+"="+p.Value
	}
	return m, strings.Join(texts, " "), nil
}

// Listed is one dataset of a Listing.
type Listed struct {
	Stage      string            `json:"stage"`
	Kind       string            `json:"kind"`
	Unit       string            `json:"unit"`
	Partitions map[string]string `json:"partitions"`
	Rows       int64             `json:"rows"`
	Size       int64             `json:"size"`
	SHA256     string            `json:"sha256"`
	Key        string            `json:"key"`
	URI        string            `json:"uri"`
	Hive       string            `json:"-"` // the partitions as "task=… rule=… seed=…", in key order
}

// Listing is a campaign's datasets with their partitions (`rulescape
// datasets ls -o json`).
type Listing struct {
	Campaign string   `json:"campaign"`
	Manifest string   `json:"manifest"` // s3:// URI of manifest.json
	Datasets []Listed `json:"datasets"`
}

// List lists the datasets of m, which was read from st.
func List(st *store.Store, m *Manifest) (Listing, error) {
	key, err := store.ManifestKey(m.Campaign)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Campaign: m.Campaign, Manifest: URI(st, key), Datasets: []Listed{}}
	for _, d := range m.Datasets {
		parts, hive, err := d.partitionMap()
		if err != nil {
			return Listing{}, err
		}
		out.Datasets = append(out.Datasets, Listed{Stage: d.Stage, Kind: d.Kind, Unit: d.Unit, Partitions: parts, Rows: d.Ref.Rows,
			Size: d.Ref.Size, SHA256: d.Ref.SHA256, Key: d.Ref.Key, URI: d.URI, Hive: hive})
	}
	return out, nil
}

// URI returns the s3:// URI of an object key of st ("" for "").
func URI(st *store.Store, key string) string {
	if key == "" {
		return ""
	}
	return "s3://" + st.Bucket() + "/" + key
}

// Downloaded is what Download wrote (`rulescape datasets get -o json`).
type Downloaded struct {
	Campaign string   `json:"campaign"`
	Dir      string   `json:"dir"`      // the download directory
	Manifest string   `json:"manifest"` // local path of manifest.json
	Files    []string `json:"files"`    // local paths of the datasets, in manifest order
	Bytes    int64    `json:"bytes"`
}

// Download copies every dataset of m from st to dir as plain Parquet files
// in the bucket's Hive layout (campaigns/<id>/<stage>/<kind>/task=…/…/
// part-<key>.parquet), then m as campaigns/<id>/manifest.json. A dataset
// another campaign computed (a cache hit) is put under m's campaign too,
// so dir holds the campaign as one tree. Each file is written to a
// temporary name, checked against the size and SHA-256 of its commit
// marker, then renamed: dir never holds a partial or wrong file.
func Download(ctx context.Context, st *store.Store, m *Manifest, dir string) (Downloaded, error) {
	out := Downloaded{Campaign: m.Campaign, Dir: dir, Files: []string{}}
	for _, d := range m.Datasets {
		// The commit marker is the authority on the bytes: a dataset
		// recomputed since the manifest was written has a new digest.
		ref, ok, err := st.Lookup(ctx, d.ContentKey)
		if err != nil {
			return out, err
		}
		if !ok || ref.Key != d.Ref.Key {
			return out, fmt.Errorf("the %s dataset of %s (%s) is no longer committed — is a rerun of campaign %s in progress? Try again when it has finished", d.Kind, d.Unit, d.Ref.Key, m.Campaign)
		}
		local, err := LocalPath(dir, ownPrefix(ref.Key, m.Campaign))
		if err != nil {
			return out, err
		}
		if err := DownloadFile(ctx, st, ref, local); err != nil {
			return out, err
		}
		out.Files = append(out.Files, local)
		out.Bytes += ref.Size
	}
	data, err := Encode(*m)
	if err != nil {
		return out, err
	}
	key, err := store.ManifestKey(m.Campaign)
	if err != nil {
		return out, err
	}
	if out.Manifest, err = LocalPath(dir, key); err != nil {
		return out, err
	}
	return out, atomicfile.WritePrivateBytes(out.Manifest, data)
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

// LocalPath maps an object key to a path under dir, refusing keys that
// would leave it.
func LocalPath(dir, key string) (string, error) {
	clean := path.Clean(key)
	if clean != key || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		return "", fmt.Errorf("object key %q does not map to a file under %s", key, dir)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// DownloadFile copies a committed dataset to local: into a temporary file
// in the same directory, checking size and SHA-256 against ref, then
// renamed.
func DownloadFile(ctx context.Context, st *store.Store, ref store.DatasetRef, local string) error {
	obj, err := st.Open(ctx, ref.Key)
	if err != nil {
		return err
	}
	defer obj.Close()
	return atomicfile.WritePrivate(local, func(w io.Writer) error {
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
