package stages

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// Loading stored networks: LoadNetworks finds the trained networks a
// query names — rows of a downloaded networks dataset file, or train units
// of a campaign in the store — and rebuilds each (LoadNetwork) with the
// setup its train unit planned, read from the campaign's manifest. The
// errors name the flags of `rulescape analyze`, whose values a
// NetworkQuery holds (docs/CLI.md#rulescape-analyze).

// Campaigns is where LoadNetworks reads campaigns: their manifests and
// their networks datasets. Its errors are returned as they are.
type Campaigns interface {
	// Manifest returns what the manifest of campaign id in the store
	// records.
	Manifest(ctx context.Context, id string) (*CampaignRecord, error)
	// ManifestFile returns what a local manifest.json records.
	ManifestFile(path string) (*CampaignRecord, error)
	// ReadNetworks returns the rows of a networks dataset in the store.
	ReadNetworks(ctx context.Context, ref store.DatasetRef) ([]schemas.NetworkRow, error)
}

// CampaignRecord is what LoadNetworks needs of a campaign's manifest.
type CampaignRecord struct {
	ID   string // campaign ID
	File string // the campaign file's name, as run
	Spec string // the campaign file as run: its plan gives each train unit's settings
	// StoredPlan is set when the campaign stored its plan (ID v2): the
	// file's ID must then be ID. Campaigns of ID v1 are planned from
	// their file by this version.
	StoredPlan bool
	Networks   []NetworkDataset // its networks datasets, in the manifest's order
}

// NetworkDataset is one networks dataset of a campaign in the store.
type NetworkDataset struct {
	Unit string // train unit ID, e.g. "train/gonogo/miconi/seed=1"
	URI  string // s3://bucket/key
	Ref  store.DatasetRef
}

// NetworkQuery names and selects stored networks.
type NetworkQuery struct {
	// Refs are networks dataset files or CAMPAIGN/UNIT refs; with
	// Campaign set, train units of that campaign (none: all its networks).
	Refs     []string
	Campaign string // a campaign ID, or ""
	Manifest string // the manifest of the Refs' files; "": found above each file
	Task     string // "" for any
	Rule     string // "" for any
	Seed     int64  // -1 for any
	Which    string // Final or Initial
	One      bool   // exactly one network must match
}

// StoredNetwork is a network rebuilt from a campaign's networks dataset,
// with where it came from.
type StoredNetwork struct {
	*Network
	Campaign string // campaign ID
	Source   string // the file or s3:// URI it was read from
}

// NetworkInfo names a stored network in JSON summaries.
type NetworkInfo struct {
	Campaign string `json:"campaign"`
	Unit     string `json:"unit"`
	Task     string `json:"task"`
	Rule     string `json:"rule"`
	Seed     int64  `json:"seed"`
	Network  string `json:"network"` // final or initial
	N        int    `json:"n"`
	Source   string `json:"source"`
}

// Info returns the network's NetworkInfo.
func (n *StoredNetwork) Info() NetworkInfo {
	u := n.Unit
	return NetworkInfo{Campaign: n.Campaign, Unit: u.ID, Task: u.Task, Rule: u.Rule, Seed: n.Seed, Network: n.Which, N: n.Net.N, Source: n.Source}
}

// Title names the network in one line: "gonogo/miconi seed=1 (final
// weights, N=10, campaign 16e1549349045f14)".
func (n *StoredNetwork) Title() string {
	u := n.Unit
	return fmt.Sprintf("%s/%s seed=%d (%s weights, N=%d, campaign %s)", u.Task, u.Rule, n.Seed, n.Which, n.Net.N, n.Campaign)
}

// Networks returns the rebuilt networks of nets.
func Networks(nets []*StoredNetwork) []*Network {
	out := make([]*Network, len(nets))
	for i, n := range nets {
		out[i] = n.Network
	}
	return out
}

// OneTask returns the task of nets, or an error when they are of several:
// analysis (e.g. "RSA") compares the networks of one task.
func OneTask(nets []*StoredNetwork, analysis string) (string, error) {
	var tasks []string
	for _, n := range nets {
		if !slices.Contains(tasks, n.Unit.Task) {
			tasks = append(tasks, n.Unit.Task)
		}
	}
	if len(tasks) > 1 {
		slices.Sort(tasks)
		return "", fmt.Errorf("the networks are of tasks %s: %s compares the networks of one task — select it with --task", strings.Join(tasks, ", "), analysis)
	}
	return tasks[0], nil
}

// AnalysisMeta is the metadata of an analysis' rows written outside a
// campaign: the campaign of the first network and the digest of the
// stage, its settings and the networks analysed.
func AnalysisMeta(stage pipelines.StageName, settings any, nets []*StoredNetwork, engineVersion string) (schemas.Meta, error) {
	units := make([]string, len(nets))
	for i, n := range nets {
		units[i] = n.Campaign + "/" + n.Unit.ID
	}
	sha, err := store.ParamsSHA256(struct {
		Stage    pipelines.StageName `json:"stage"`
		Settings any                 `json:"settings"`
		Networks []string            `json:"networks"`
		Which    string              `json:"which"`
	}{stage, settings, units, nets[0].Which})
	if err != nil {
		return schemas.Meta{}, err
	}
	return schemas.Meta{Campaign: nets[0].Campaign, ParamsSHA256: sha, EngineVersion: engineVersion}, nil
}

// candidate is one stored network a ref names, before it is rebuilt.
type candidate struct {
	campaign string
	source   string
	unit     *pipelines.TrainUnit
	row      *schemas.NetworkRow // set for a file
	ref      store.DatasetRef    // for a dataset in the store
}

// unitRefPattern is CAMPAIGN/UNIT: a campaign ID and a train unit ID.
var unitRefPattern = regexp.MustCompile(`^([0-9a-f]{16})/(train/.+)$`)

// LoadNetworks finds the networks q names among its Refs (or the
// campaign's), keeps those of q.Task, q.Rule and q.Seed, and rebuilds them
// in order. A discovered rule's Θ is not read: the analyses run no
// plasticity, so it is a zero Θ of the rule's shape.
func LoadNetworks(ctx context.Context, c Campaigns, q NetworkQuery) ([]*StoredNetwork, error) {
	all, err := findNetworks(ctx, c, q)
	if err != nil {
		return nil, err
	}
	var cs []*candidate
	for _, c := range all {
		if (q.Task == "" || c.unit.Task == q.Task) && (q.Rule == "" || c.unit.Rule == q.Rule) && (q.Seed < 0 || c.unit.Seed == uint64(q.Seed)) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("no network matches %s; the networks given are:\n  %s", q.filters(), listCandidates(all))
	}
	if q.One && len(cs) > 1 {
		return nil, fmt.Errorf("%d networks match %s: this analysis takes one — select it with --task, --rule and --seed among:\n  %s", len(cs), q.filters(), listCandidates(cs))
	}
	out := make([]*StoredNetwork, len(cs))
	for i, cd := range cs {
		row := cd.row
		if row == nil {
			rows, err := c.ReadNetworks(ctx, cd.ref)
			if err == nil && len(rows) != 1 {
				err = fmt.Errorf("%s has %d rows, want the 1 network of %s", cd.ref.Key, len(rows), cd.unit.ID)
			}
			if err != nil {
				return nil, fmt.Errorf("reading the network of %s: %w", cd.unit.ID, err)
			}
			row = &rows[0]
		}
		var theta [][]float64
		if cd.unit.Metaopt != "" {
			theta = make([][]float64, cd.unit.Params.K+1)
			for k := range theta {
				theta[k] = make([]float64, cd.unit.Params.L+1)
			}
		}
		n, err := LoadNetwork(cd.unit, theta, *row, q.Which)
		if err != nil {
			return nil, fmt.Errorf("rebuilding the network of %s (%s): %w", cd.unit.ID, cd.source, err)
		}
		out[i] = &StoredNetwork{Network: n, Campaign: cd.campaign, Source: cd.source}
	}
	return out, nil
}

// findNetworks returns the candidates of every ref.
func findNetworks(ctx context.Context, c Campaigns, q NetworkQuery) ([]*candidate, error) {
	var all []*candidate
	add := func(cs []*candidate, err error) error {
		all = append(all, cs...)
		return err
	}
	if q.Campaign != "" {
		refs := q.Refs
		if len(refs) == 0 {
			refs = []string{""}
		}
		for _, ref := range refs {
			if ref != "" && !strings.HasPrefix(ref, "train/") {
				return nil, fmt.Errorf("--network %q: with --campaign give a train unit as `rulescape datasets ls` lists it, e.g. train/gonogo/miconi/seed=1", ref)
			}
			if err := add(storeCandidates(ctx, c, q.Campaign, ref, ref)); err != nil {
				return nil, err
			}
		}
		return all, nil
	}
	for _, ref := range q.Refs {
		if fi, err := os.Stat(ref); err == nil {
			if fi.IsDir() {
				return nil, fmt.Errorf("--network %s is a directory: give a networks file in it (…/train/networks/task=…/rule=…/seed=…/part-<key>.parquet), once per network", ref)
			}
			if err := add(fileCandidates(c, ref, q.Manifest)); err != nil {
				return nil, err
			}
			continue
		}
		m := unitRefPattern.FindStringSubmatch(ref)
		if m == nil {
			return nil, fmt.Errorf("--network %q: no such file, and not CAMPAIGN/UNIT (e.g. f849efe0b020f557/train/gonogo/miconi/seed=1) — give a networks file downloaded by `rulescape datasets get`, or a campaign ID and a train unit as `rulescape datasets ls` lists them", ref)
		}
		if err := add(storeCandidates(ctx, c, m[1], m[2], ref)); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// trainUnits returns the train units of a campaign by ID, planned from its
// recorded file; where names the manifest in errors.
func (m *CampaignRecord) trainUnits(where string) (map[string]*pipelines.TrainUnit, error) {
	// It ran: its sizes were checked when it was planned, perhaps with
	// larger limits than this machine's.
	c, err := pipelines.ParseWithLimits(m.File, []byte(m.Spec), pipelines.NoLimits())
	if err != nil {
		return nil, fmt.Errorf("the campaign file recorded in %s: %w", where, err)
	}
	plan, err := c.Plan()
	if err != nil {
		return nil, fmt.Errorf("the campaign file recorded in %s: %w", where, err)
	}
	if m.StoredPlan && c.ID() != m.ID {
		return nil, fmt.Errorf("%s is of campaign %s but records the file of campaign %s: the manifest is damaged", where, m.ID, c.ID())
	}
	units := map[string]*pipelines.TrainUnit{}
	for i := range plan.Train {
		units[plan.Train[i].ID] = &plan.Train[i]
	}
	return units, nil
}

// storeCandidates lists the networks of a campaign in the store; unit ""
// lists all of them.
func storeCandidates(ctx context.Context, c Campaigns, id, unit, ref string) ([]*candidate, error) {
	m, err := c.Manifest(ctx, id)
	if err != nil {
		return nil, err
	}
	units, err := m.trainUnits("the manifest of campaign " + id)
	if err != nil {
		return nil, err
	}
	var out []*candidate
	var known []string
	for _, d := range m.Networks {
		known = append(known, d.Unit)
		if unit != "" && d.Unit != unit {
			continue
		}
		u, ok := units[d.Unit]
		if !ok {
			return nil, fmt.Errorf("the manifest of campaign %s lists networks of %s, which its campaign file does not plan", id, d.Unit)
		}
		out = append(out, &candidate{campaign: id, source: d.URI, unit: u, ref: d.Ref})
	}
	if len(out) == 0 {
		if len(known) == 0 {
			return nil, fmt.Errorf("campaign %s has no networks datasets in its manifest: its train stage has not completed", id)
		}
		return nil, fmt.Errorf("--network %s: campaign %s has no network of unit %q; its networks are:\n  %s", ref, id, unit, strings.Join(known, "\n  "))
	}
	return out, nil
}

// fileCandidates reads the rows of a local networks dataset and pairs each
// with its train unit from the campaign's manifest.
func fileCandidates(c Campaigns, file, manifest string) ([]*candidate, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--network %s: %w", file, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--network %s: %w", file, err)
	}
	rows, info, err := schemas.ReadAll[schemas.NetworkRow](f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("--network %s: not a networks dataset (%w) — give a file of the networks kind, as `rulescape datasets get` downloads it under campaigns/<id>/train/networks/", file, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("--network %s: the dataset has no rows", file)
	}
	campaign := info.Campaign
	if manifest == "" {
		if manifest, err = findManifest(file, campaign); err != nil {
			return nil, err
		}
	}
	m, err := c.ManifestFile(manifest)
	if err != nil {
		return nil, err
	}
	if m.ID != campaign {
		return nil, fmt.Errorf("--network %s is of campaign %s but manifest %s is of campaign %s — pass the manifest of its campaign with --manifest", file, campaign, manifest, m.ID)
	}
	units, err := m.trainUnits(manifest)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*pipelines.TrainUnit{}
	for _, u := range units {
		byKey[fmt.Sprintf("%s/%s/%d", u.Task, u.Rule, u.Seed)] = u
	}
	out := make([]*candidate, len(rows))
	for i := range rows {
		row := &rows[i]
		u, ok := byKey[fmt.Sprintf("%s/%s/%d", row.Task, row.Rule, row.Seed)]
		if !ok {
			return nil, fmt.Errorf("--network %s: row %d (task %s, rule %s, seed %d) is not a train unit of campaign %s (%s)", file, i, row.Task, row.Rule, row.Seed, campaign, manifest)
		}
		out[i] = &candidate{campaign: campaign, source: file, unit: u, row: row}
	}
	return out, nil
}

// findManifest looks for the manifest.json of campaign in the directory of
// file and above, as `datasets get` lays them out
// (DIR/campaigns/<id>/manifest.json beside DIR/campaigns/<id>/train/…).
func findManifest(file, campaign string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		m := filepath.Join(dir, "manifest.json")
		if _, err := os.Stat(m); err == nil {
			return m, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("--network %s: no manifest.json in its directory or above: the network's task and dynamics are in the manifest of campaign %s — download the campaign with `rulescape datasets get %s --out DIR` (it writes DIR/campaigns/%s/manifest.json), or pass --manifest FILE",
		file, campaign, campaign, campaign)
}

// filters describes the selection set.
func (q *NetworkQuery) filters() string {
	var f []string
	if q.Task != "" {
		f = append(f, "--task "+q.Task)
	}
	if q.Rule != "" {
		f = append(f, "--rule "+q.Rule)
	}
	if q.Seed >= 0 {
		f = append(f, fmt.Sprintf("--seed %d", q.Seed))
	}
	if len(f) == 0 {
		return "the selection"
	}
	return strings.Join(f, " ")
}

func listCandidates(cs []*candidate) string {
	var ls []string
	for _, c := range cs {
		u := c.unit
		ls = append(ls, fmt.Sprintf("%s/%s/seed=%d  (--task %s --rule %s --seed %d, %s)", u.Task, u.Rule, u.Seed, u.Task, u.Rule, u.Seed, c.source))
	}
	return strings.Join(ls, "\n  ")
}
