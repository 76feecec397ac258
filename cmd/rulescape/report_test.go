package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rulescape/internal/browsercheck"
	"rulescape/manifest"
	"rulescape/report/reporttest"
)

// TestReport is the report's acceptance test. It runs
// testdata/campaign_report.yaml (metaopt, train, fixedpoints, rsa,
// landscape, sensitivity, report) on the embedded stack; the workflow
// writes the report as its last stage. It then checks the report in the
// store, regenerates it from the datasets alone with `rulescape report
// FILE --out DIR` (byte-identical to the workflow's), decodes every PNG,
// parses every SVG, checks each shows non-trivial content, that the
// fixed points are on the landscape's axes and the landscape figure
// states both stages' tests, and that every dataset the report cites is
// committed in the store. `share` presigns the report's page when there
// is one, and says null when there is none.
func TestReport(t *testing.T) {
	ctx, home, stack, s := embeddedStack(t, 3*time.Minute)
	file := filepath.Join("testdata", "campaign_report.yaml")

	res := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	id := res.Campaign
	indexKey := "campaigns/" + id + "/report/index.html"
	if res.Status != "completed" || res.Report == nil || *res.Report != "s3://"+stack.S3Bucket+"/"+indexKey {
		t.Fatalf("run: %+v; want completed with the report at %s", res, indexKey)
	}
	for _, name := range []string{"metaopt", "train", "fixedpoints", "rsa", "landscape", "sensitivity", "report"} {
		if st := res.Stages[name]; st.Status != "completed" {
			t.Errorf("stage %s: %+v, want completed", name, st)
		}
	}
	stored, err := s.Get(ctx, indexKey)
	if err != nil {
		t.Fatalf("the workflow's report: %v", err)
	}

	// Regenerate from the datasets alone.
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errOut := runCLI(t, "report", "-o", "json", file, "--out", dir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	var rj reportJSON
	if err := json.Unmarshal([]byte(out), &rj); err != nil {
		t.Fatalf("report -o json printed %q: %v", out, err)
	}
	wantFigs := []string{"fig-learning-curves", "fig-criterion", "fig-metaopt", "fig-fixed-points", "fig-rdms", "fig-similarity", "fig-landscape-gonogo", "fig-sensitivity"}
	if rj.Campaign != id || !slices.Equal(rj.Figures, wantFigs) || rj.Index != filepath.Join(dir, "index.html") || rj.Files[len(rj.Files)-1] != rj.Index {
		t.Fatalf("report -o json: %+v; want figures %v and index.html last", rj, wantFigs)
	}
	html, err := os.ReadFile(rj.Index)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(html, stored) {
		t.Errorf("the regenerated index.html differs from the one the workflow wrote")
	}
	page := string(html)
	if !strings.Contains(page, `<figure id="fig-learning-curves">`) || strings.Contains(page, "<script") || strings.Contains(page, "https://") {
		t.Errorf("index.html: no learning-curve figure, or a script or external resource")
	}
	// The fixed points are drawn on the landscape stage's axes, and the
	// landscape figure states both stages' seed-stratified tests (2 rules ×
	// 3 seeds have within-rule pairs across seeds).
	for _, want := range []string{"on the PCs of its trajectories (landscape stage)", "seed-stratified permutation p = ",
		"Geometry (rsa_pairs): Spearman correlation of RDMs: mean within-rule − mean between-rule similarity"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}

	// Every file the page references exists locally and in the store, and
	// every figure is a valid, non-trivial PNG or SVG (the same bytes in both).
	refs := regexp.MustCompile(`(?:src|href)="(figures/[^"]+)"`).FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range refs {
		name := m[1]
		if seen[name] {
			continue
		}
		seen[name] = true
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("index.html references %s: %v", name, err)
			continue
		}
		remote, err := s.Get(ctx, "campaigns/"+id+"/report/"+name)
		if err != nil || !bytes.Equal(remote, data) {
			t.Errorf("%s in the store: %v (or different bytes)", name, err)
		}
		switch filepath.Ext(name) {
		case ".png":
			err = reporttest.PNG(data, 8)
		case ".svg":
			paths := 20
			if strings.HasSuffix(name, "criterion.svg") {
				paths = 10 // one mark per network: 9 networks here
			}
			err = reporttest.SVG(data, paths)
		default:
			t.Errorf("index.html references %s, neither PNG nor SVG", name)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(seen) != 2*len(wantFigs) {
		t.Errorf("index.html references %d figure files, want %d", len(seen), 2*len(wantFigs))
	}

	// Every dataset the report cites is committed in the store, and it
	// cites every dataset of the manifest.
	committed := map[string]bool{}
	all, err := s.List(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		committed[r.Key] = true
	}
	cited := map[string]bool{}
	for _, m := range regexp.MustCompile(`<code>(campaigns/[^<]+\.parquet)</code>`).FindAllStringSubmatch(page, -1) {
		cited[m[1]] = true
	}
	if len(cited) != rj.Cited || len(cited) != len(res.Datasets) {
		t.Errorf("the page cites %d datasets, the command says %d, the run listed %d", len(cited), rj.Cited, len(res.Datasets))
	}
	for k := range cited {
		if !committed[k] {
			t.Errorf("the report cites %s, which is not committed in the store", k)
		}
	}

	// share: the report's presigned URL serves the page; without a report
	// the share manifest says null.
	shareFile := filepath.Join(t.TempDir(), "share.json")
	shared := func() manifest.Shared {
		t.Helper()
		if code, _, errOut := runCLI(t, "share", "-o", "json", id, "--out", shareFile); code != 0 {
			t.Fatalf("share: exit %d: %s", code, errOut)
		}
		var sm manifest.Shared
		data, err := os.ReadFile(shareFile)
		if err != nil || json.Unmarshal(data, &sm) != nil {
			t.Fatalf("share manifest %s (%v)", data, err)
		}
		return sm
	}
	if sm := shared(); sm.ReportURL == nil {
		t.Error("share: report_url is null, want the report's presigned URL")
	} else if body, status := fetch(t, *sm.ReportURL); status != http.StatusOK || !bytes.Equal(body, stored) {
		t.Errorf("GET report_url: status %d, %d bytes; want 200 and index.html", status, len(body))
	}
	// Headless Chromium: the page opens without console errors,
	// exceptions or failed loads, and the learning-curve figure is visible
	// in a screenshot — from the local copy and from the shared URL.
	if sm := shared(); sm.ReportURL != nil {
		checkInBrowser(t, ctx, map[string]string{"local copy": rj.Index, "shared URL": *sm.ReportURL})
	}
	// The embedded gateway keeps objects as files (store.Remove deletes
	// dataset objects only).
	if err := os.Remove(filepath.Join(home, "objects", stack.S3Bucket, filepath.FromSlash(indexKey))); err != nil {
		t.Fatal(err)
	}
	if sm := shared(); sm.ReportURL != nil {
		t.Errorf("share without a report: report_url %q, want null", *sm.ReportURL)
	}
}

// fetch GETs url with net/http and returns the body and status.
func fetch(t *testing.T, url string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, resp.StatusCode
}

// checkInBrowser opens each page in headless Chromium and requires no
// console errors, exceptions or failed loads, and the learning-curve
// figure visible, loaded and drawn in the screenshot as in its image. The
// screenshots are written to $RULESCAPE_SCREENSHOTS when set (CI keeps them).
func checkInBrowser(t *testing.T, ctx context.Context, pages map[string]string) {
	t.Helper()
	bin := browsercheck.Require(t)
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		r, err := browsercheck.Check(ctx, pages[name], browsercheck.Options{Binary: bin}, "fig-learning-curves")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := r.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		st, err := r.CheckFigure("fig-learning-curves")
		if err != nil || !st.Compared {
			t.Errorf("%s: the learning-curve figure: %+v %v", name, st, err)
		}
		if d := os.Getenv("RULESCAPE_SCREENSHOTS"); d != "" {
			_ = os.MkdirAll(d, 0o755)
			_ = os.WriteFile(filepath.Join(d, "report-"+strings.ReplaceAll(name, " ", "-")+".png"), r.Screenshot, 0o644)
		}
	}
}
