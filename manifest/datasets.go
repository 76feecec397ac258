package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

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
	// Provenance of the dataset (Entry's; absent when unknown).
	Worker      string     `json:"worker,omitempty"`
	Attempt     int        `json:"attempt,omitempty"`
	WallSeconds float64    `json:"wall_seconds,omitempty"`
	ComputedAt  *time.Time `json:"computed_at,omitempty"`
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
			Size: d.Ref.Size, SHA256: d.Ref.SHA256, Key: d.Ref.Key, URI: d.URI, Hive: hive,
			Worker: d.Worker, Attempt: d.Attempt, WallSeconds: d.WallSeconds, ComputedAt: d.ComputedAt})
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
	// Bad are the datasets that were not downloaded because they failed
	// verification (none are written to Dir); Repair is the command that
	// repairs them ("" when there are none).
	Bad    []Bad  `json:"bad"`
	Repair string `json:"repair,omitempty"`
}

// Download copies every dataset of m from st to dir as plain Parquet files
// in the bucket's Hive layout (campaigns/<id>/<stage>/<kind>/task=…/…/
// part-<key>.parquet), then m as campaigns/<id>/manifest.json. A dataset
// another campaign computed (a cache hit) is put under m's campaign too,
// so dir holds the campaign as one tree. Each file is written to a
// temporary name, checked against the size and SHA-256 of its commit
// marker, then renamed: dir never holds a partial or wrong file.
//
// A dataset that fails the check (its marker is gone, its object is
// missing, or its size or digest differs) is not written; Download goes on
// with the others and then returns a *BadObjectsError naming every one
// (the Downloaded says what was written). Other errors (the store cannot
// be read, dir cannot be written) stop it at once.
func Download(ctx context.Context, st *store.Store, m *Manifest, dir string) (Downloaded, error) {
	out := Downloaded{Campaign: m.Campaign, Dir: dir, Files: []string{}, Bad: []Bad{}}
	for _, d := range m.Datasets {
		bad := func(f store.Fault) {
			out.Bad = append(out.Bad, Bad{Unit: d.Unit, Kind: d.Kind, ContentKey: d.ContentKey, Fault: f})
		}
		// The commit marker is the authority on the bytes: a dataset
		// recomputed since the manifest was written has a new digest.
		ref, ok, err := st.Marker(ctx, d.ContentKey)
		if err != nil {
			return out, err
		}
		if !ok {
			bad(store.Fault{Key: d.Ref.Key, Problem: store.ProblemUncommitted, Want: d.Ref.Size, WantSHA: d.Ref.SHA256})
			continue
		}
		local, err := LocalPath(dir, ownPrefix(ref.Key, m.Campaign))
		if err != nil {
			return out, err
		}
		err = DownloadFile(ctx, st, ref, local)
		var f *store.Fault
		if errors.As(err, &f) {
			bad(*f)
			continue
		}
		if err != nil {
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
	if err := atomicfile.WritePrivateBytes(out.Manifest, data); err != nil {
		return out, err
	}
	if len(out.Bad) > 0 {
		out.Repair = RepairCommand(m.Campaign)
		return out, &BadObjectsError{Campaign: m.Campaign, Bad: out.Bad, Of: len(m.Datasets)}
	}
	return out, nil
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
// renamed. An object that is missing or differs from ref is a *store.Fault
// (errors.As), and nothing is left at local.
func DownloadFile(ctx context.Context, st *store.Store, ref store.DatasetRef, local string) error {
	obj, err := st.Open(ctx, ref.Key)
	if store.IsNotFound(err) {
		return &store.Fault{Key: ref.Key, Problem: store.ProblemMissing, Want: ref.Size, WantSHA: ref.SHA256}
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	if obj.Size() != ref.Size {
		return &store.Fault{Key: ref.Key, Problem: store.ProblemSize, Want: ref.Size, Got: obj.Size(), WantSHA: ref.SHA256}
	}
	return atomicfile.WritePrivate(local, func(w io.Writer) error {
		_, f, err := store.CheckReader(io.TeeReader(obj, w), ref)
		if err != nil {
			return fmt.Errorf("downloading %s: %w", ref.Key, err)
		}
		if f != nil {
			return f
		}
		return nil
	})
}
