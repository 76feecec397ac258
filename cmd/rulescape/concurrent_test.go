package main

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"rulescape/internal/duckdbcheck"
	"rulescape/manifest"
	"rulescape/workflows"
)

// TestConcurrentCampaignsShareUnits runs two campaigns with the same units
// (the same file under two names) at the same moment on one home, served
// by two workers: both compute the metaopt job and race to commit it, and
// then whatever train and analysis units they reach together. Both
// complete; their manifests agree on one ref for every content key they
// share (the first writer's); every dataset of each manifest verifies; and
// under each campaign's prefix there are exactly the manifest's datasets
// that lie there — one part file per partition directory, and DuckDB
// reading a stage's glob counts the rows of those datasets, nothing twice.
func TestConcurrentCampaignsShareUnits(t *testing.T) {
	ctx, home, st, s := embeddedStack(t, 2*time.Minute)
	svc := servicesOfStack(st)
	c := temporalClient(t, ctx, svc.temporal, svc.namespace)
	file := filepath.Join("testdata", "campaign_tiny.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	texts := [][]byte{data, bytes.Replace(data, []byte("name: tiny"), []byte("name: twin"), 1)}
	// Two workers, so both campaigns' first units run at once whatever
	// the number of cores.
	_, log1 := startWorkerWith(t, svc.env)
	_, log2 := startWorkerWith(t, svc.env)

	start := time.Now()
	runs := make([]client.WorkflowRun, len(texts))
	ids := make([]string, len(texts))
	for i, text := range texts {
		camp, _, run := startCampaign(t, ctx, c, svc.s3, file, text, 5*time.Second)
		runs[i], ids[i] = run, camp.ID()
	}
	if ids[0] == ids[1] {
		t.Fatalf("both files are campaign %s", ids[0])
	}
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	results := make([]workflows.CampaignResult, len(runs))
	for i, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run.Get(ctx, &results[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || results[i].Status != workflows.StatusCompleted {
			t.Fatalf("campaign %s: %v (%+v)\nworker 1:\n%s\nworker 2:\n%s", ids[i], err, results[i].Progress, log1, log2)
		}
	}
	t.Logf("both campaigns ran in %v", time.Since(start).Round(time.Millisecond))
	// The race this test is about: a unit both campaigns computed (each
	// found it uncommitted), so both committed its content key. On a
	// fresh home every unit was computed at least once, so the units of a
	// stage computed twice are those computed beyond its total.
	both := map[string]int{}
	for _, sp := range results[0].Stages {
		both[sp.Name] = -sp.Total
	}
	for _, r := range results {
		for _, sp := range r.Stages {
			both[sp.Name] += sp.Done - sp.CacheHits
		}
	}
	delete(both, "report") // each campaign has its own
	t.Logf("units computed by both campaigns at once, by stage: %v", both)
	if both["metaopt"] < 1 {
		t.Errorf("the campaigns' metaopt job was computed once, not by both at once: the race this test is about did not happen (%v)", both)
	}

	manifests := make([]*manifest.Manifest, len(ids))
	for i, id := range ids {
		if manifests[i], err = manifest.Read(ctx, s, id); err != nil {
			t.Fatal(err)
		}
	}

	// One ref per content key across both manifests.
	byKey := map[string]manifest.Entry{}
	shared, elsewhere := 0, 0
	for i, m := range manifests {
		for _, d := range m.Datasets {
			if prev, ok := byKey[d.ContentKey]; ok {
				shared++
				if prev.Ref != d.Ref {
					t.Errorf("content key %s (%s %s): the manifests list different refs:\n%+v\n%+v", d.ContentKey, d.Unit, d.Kind, prev.Ref, d.Ref)
				}
			}
			byKey[d.ContentKey] = d
			if !strings.HasPrefix(d.Ref.Key, "campaigns/"+ids[i]+"/") {
				elsewhere++
			}
		}
	}
	if shared != len(manifests[0].Datasets) || len(manifests[0].Datasets) != len(manifests[1].Datasets) {
		t.Errorf("%d content keys shared by manifests of %d and %d datasets; want all", shared, len(manifests[0].Datasets), len(manifests[1].Datasets))
	}
	t.Logf("%d datasets shared; %d manifest entries point under the other campaign's prefix", shared, elsewhere)

	objects := filepath.Join(home, "objects", s.Bucket())
	for i, m := range manifests {
		id := ids[i]
		prefix := "campaigns/" + id + "/"
		// Every dataset verifies; those under the prefix, by stage and kind.
		own := map[string]bool{}
		rows := map[string]int64{} // "<stage>/<kind>" → rows under the prefix
		for _, d := range m.Datasets {
			if err := s.Verify(ctx, d.Ref); err != nil {
				t.Errorf("campaign %s: %v", id, err)
			}
			if strings.HasPrefix(d.Ref.Key, prefix) {
				own[d.Ref.Key] = true
				rows[d.Stage+"/"+d.Kind] += d.Ref.Rows
			}
		}
		// The part files under the prefix are exactly those datasets, one
		// per partition directory.
		perDir := map[string][]string{}
		stageKinds := map[string]bool{}
		err := filepath.WalkDir(filepath.Join(objects, "campaigns", id), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasPrefix(e.Name(), "part-") {
				return err
			}
			rel, err := filepath.Rel(objects, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if parts := strings.Split(strings.TrimPrefix(key, prefix), "/"); len(parts) > 2 && parts[0] != "report" && strings.HasSuffix(key, ".parquet") {
				stageKinds[parts[0]+"/"+parts[1]] = true
			}
			if !own[key] && !strings.HasPrefix(key, prefix+"report/") {
				t.Errorf("campaign %s: %s is under its prefix but not in its manifest", id, key)
			}
			perDir[path.Dir(key)] = append(perDir[path.Dir(key)], path.Base(key))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for d, names := range perDir {
			if len(names) > 1 {
				t.Errorf("campaign %s: partition %s holds %d part files: %v", id, d, len(names), names)
			}
		}
		for key := range own {
			if _, err := os.Stat(filepath.Join(objects, filepath.FromSlash(key))); err != nil {
				t.Errorf("campaign %s: manifest dataset %s is not on disk: %v", id, key, err)
			}
		}
		// DuckDB over each stage/kind directory of the prefix counts the
		// manifest's rows there.
		kinds := make([]string, 0, len(stageKinds))
		for k := range stageKinds {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, sk := range kinds {
			glob := filepath.Join(objects, "campaigns", id, filepath.FromSlash(sk), "**", "*.parquet")
			res, ok := duckdbcheck.Run(t, glob)
			if !ok {
				break
			}
			if res.Rows != rows[sk] {
				t.Errorf("campaign %s: DuckDB reads %d rows from %s, the manifest's datasets there have %d", id, res.Rows, glob, rows[sk])
			}
		}
		t.Logf("campaign %s: %d of its %d datasets under its own prefix (%v)", id, len(own), len(m.Datasets), kinds)
	}
}
