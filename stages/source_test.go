package stages_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// fakeCampaigns serves one campaign record, from the store (by ID) or a
// local manifest file, and its networks rows by key.
type fakeCampaigns struct {
	rec  *stages.CampaignRecord
	rows map[string]schemas.NetworkRow // by dataset key
}

func (f *fakeCampaigns) Manifest(_ context.Context, id string) (*stages.CampaignRecord, error) {
	if id != f.rec.ID {
		return nil, fmt.Errorf("campaign %s has no manifest", id)
	}
	return f.rec, nil
}

func (f *fakeCampaigns) ManifestFile(string) (*stages.CampaignRecord, error) { return f.rec, nil }

func (f *fakeCampaigns) ReadNetworks(_ context.Context, ref store.DatasetRef) ([]schemas.NetworkRow, error) {
	return []schemas.NetworkRow{f.rows[ref.Key]}, nil
}

// sourceFixture returns the digest case's networks rows as a downloaded
// file (with a manifest.json beside it), and Campaigns that serve the
// same campaign from a "store" under id.
func sourceFixture(t *testing.T, id string) (string, *fakeCampaigns, []schemas.NetworkRow) {
	t.Helper()
	spec, err := os.ReadFile("testdata/digest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/inputs/networks.arrow")
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := schemas.ReadAll[schemas.NetworkRow](strings.NewReader(string(data)), int64(len(data)))
	if err != nil || len(rows) == 0 {
		t.Fatalf("networks.arrow: %d rows (%v)", len(rows), err)
	}
	dir := filepath.Join(t.TempDir(), "campaigns", campaign)
	file := filepath.Join(dir, "train", "networks", "part-x.arrow")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeCampaigns{rec: &stages.CampaignRecord{ID: campaign, File: "digest.yaml", Spec: string(spec)}, rows: map[string]schemas.NetworkRow{}}
	for _, r := range rows {
		unit := fmt.Sprintf("train/%s/%s/seed=%d", r.Task, r.Rule, r.Seed)
		f.rows[unit] = r
		f.rec.Networks = append(f.rec.Networks, stages.NetworkDataset{Unit: unit, URI: "s3://b/" + unit, Ref: store.DatasetRef{Key: unit}})
	}
	return file, f, rows
}

// TestLoadNetworks loads the digest case's networks from a file and from
// the store: each is LoadNetwork of its row with its train unit, the
// selection flags select, and the errors list the candidates.
func TestLoadNetworks(t *testing.T) {
	ctx := t.Context()
	file, c, rows := sourceFixture(t, campaign)
	units := map[string]*pipelines.TrainUnit{}
	plan := digestPlan(t)
	for i := range plan.Train {
		units[plan.Train[i].ID] = &plan.Train[i]
	}

	nets, err := stages.LoadNetworks(ctx, c, stages.NetworkQuery{Refs: []string{file}, Seed: -1, Which: stages.Final})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != len(rows) {
		t.Fatalf("%d networks from a file of %d rows", len(nets), len(rows))
	}
	for i, n := range nets {
		r := rows[i]
		if n.Campaign != campaign || n.Source != file || units[n.Unit.ID] == nil || n.Unit.Seed != units[n.Unit.ID].Seed || n.Seed != r.Seed || n.Unit.Rule != r.Rule {
			t.Errorf("network %d: %+v from row %s/%d", i, n.Info(), r.Rule, r.Seed)
		}
		if fmt.Sprint(n.Net.W) != fmt.Sprint(r.WFinal) {
			t.Errorf("network %d: W is not the row's w_final", i)
		}
	}
	if got := nets[0].Title(); !strings.Contains(got, "(final weights, N=8, campaign digest)") {
		t.Errorf("title %q", got)
	}

	// From the store, one unit, initial weights.
	r := rows[len(rows)-1]
	unit := fmt.Sprintf("train/%s/%s/seed=%d", r.Task, r.Rule, r.Seed)
	c.rec.ID = "0123456789abcdef"
	one, err := stages.LoadNetworks(ctx, c, stages.NetworkQuery{Refs: []string{"0123456789abcdef/" + unit}, Seed: -1, Which: stages.Initial, One: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].Unit.ID != unit || one[0].Source != "s3://b/"+unit || fmt.Sprint(one[0].Net.W) != fmt.Sprint(r.W0) {
		t.Errorf("store ref: %+v", one[0].Info())
	}
	all, err := stages.LoadNetworks(ctx, c, stages.NetworkQuery{Campaign: c.rec.ID, Rule: r.Rule, Seed: -1, Which: stages.Final})
	if err != nil || len(all) != 2 {
		t.Fatalf("--campaign --rule %s: %d networks (%v), want its 2 seeds", r.Rule, len(all), err)
	}

	for _, e := range []struct {
		q    stages.NetworkQuery
		want string
	}{
		{stages.NetworkQuery{Campaign: c.rec.ID, Seed: -1, One: true}, fmt.Sprintf("%d networks match the selection: this analysis takes one", len(rows))},
		{stages.NetworkQuery{Campaign: c.rec.ID, Rule: "hebb", Seed: -1}, "no network matches --rule hebb; the networks given are:\n  gonogo/"},
		{stages.NetworkQuery{Refs: []string{c.rec.ID + "/train/gonogo/hebb/seed=1"}, Seed: -1}, `has no network of unit "train/gonogo/hebb/seed=1"; its networks are:`},
		{stages.NetworkQuery{Refs: []string{"fedcba9876543210/" + unit}, Seed: -1}, "campaign fedcba9876543210 has no manifest"},
		{stages.NetworkQuery{Refs: []string{"nosuch.arrow"}, Seed: -1}, `--network "nosuch.arrow": no such file, and not CAMPAIGN/UNIT`},
		{stages.NetworkQuery{Refs: []string{filepath.Dir(file)}, Seed: -1}, "is a directory"},
		{stages.NetworkQuery{Campaign: c.rec.ID, Refs: []string{"gonogo"}, Seed: -1}, "with --campaign give a train unit"},
		{stages.NetworkQuery{Refs: []string{file}, Seed: -1}, "is of campaign digest but manifest"},
	} {
		if _, err := stages.LoadNetworks(ctx, c, e.q); err == nil || !strings.Contains(err.Error(), e.want) {
			t.Errorf("%+v: error %v, want %q", e.q, err, e.want)
		}
	}

	// A manifest of a campaign with a stored plan (ID v2) must record the
	// file of its ID; one of ID v1 is planned from its file.
	c.rec.ID, c.rec.StoredPlan = campaign, true
	if _, err := stages.LoadNetworks(ctx, c, stages.NetworkQuery{Refs: []string{file}, Seed: -1, Which: stages.Final}); err == nil || !strings.Contains(err.Error(), "the manifest is damaged") {
		t.Errorf("ID v2 manifest of another file: %v", err)
	}
}
