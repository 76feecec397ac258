package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"rulescape/internal/duckdbcheck"
	"rulescape/internal/s3test"
	"rulescape/manifest"
	"rulescape/store"
)

// requireCurl returns the curl binary, or skips t loudly — or fails it
// under RULESCAPE_REQUIRE_S3=1 (CI, whose .ci/run installs curl).
func requireCurl(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		if s3test.Required() {
			t.Fatalf("RULESCAPE_REQUIRE_S3=1 but curl is missing (%v) — install it: apt-get install -y curl", err)
		}
		t.Skipf("!!! SKIPPING the share check with curl: %v (apt-get install -y curl; RULESCAPE_REQUIRE_S3=1 fails instead)", err)
	}
	return bin
}

// curlGet fetches url with the curl binary — as a recipient of a shared
// URL would, without credentials — and returns the body and HTTP status.
func curlGet(t *testing.T, curl, url string) ([]byte, int) {
	t.Helper()
	body := filepath.Join(t.TempDir(), "body")
	out, err := exec.Command(curl, "--silent", "--show-error", "--globoff", "--output", body, "--write-out", "%{http_code}", url).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("curl %s: %v %s", url, err, stderr)
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("curl printed status %q", out)
	}
	data, err := os.ReadFile(body)
	if err != nil {
		t.Fatal(err)
	}
	return data, status
}

// checkShare is the acceptance of `rulescape share` (issue #6 scope 4) on
// a completed campaign id of pipeline file `file` whose datasets ls lists:
// every shared URL fetched with curl returns the exact bytes of its object
// (and of its commit marker's digest), the printed DuckDB, pandas and
// polars snippets name exactly the shared learning curves and read them,
// and a URL shared for 2 s works at once and is refused (403) after it
// expired.
func checkShare(t *testing.T, ctx context.Context, s *store.Store, id, file string, ls []manifest.Listed) {
	curl := requireCurl(t)
	dir := t.TempDir()
	shareFile := filepath.Join(dir, "share.json")
	code, out, errOut := runCLI(t, "share", "-o", "json", id, "--out", shareFile)
	if code != 0 {
		t.Fatalf("share: exit %d: %s", code, errOut)
	}
	var sm manifest.Shared
	data, err := os.ReadFile(shareFile)
	if err != nil || json.Unmarshal(data, &sm) != nil || out != string(data) {
		t.Fatalf("share manifest %s (%v), stdout %q", data, err, out)
	}
	if fi, err := os.Stat(shareFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("share manifest mode %v (%v), want 0600: its URLs work without credentials", fi.Mode(), err)
	}
	if sm.Campaign != id || len(sm.Datasets) != len(ls) || time.Until(sm.ExpiresAt) < 71*time.Hour || time.Until(sm.ExpiresAt) > 72*time.Hour {
		t.Errorf("share manifest: %+v; want %d datasets for 72 h", sm, len(ls))
	}
	keyOf := map[string]string{} // sha256 → object key
	for _, e := range ls {
		keyOf[e.SHA256] = e.Key
	}
	for _, d := range sm.Datasets {
		key := keyOf[d.SHA256]
		want, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("%s %s: no object %q: %v", d.Kind, d.Unit, key, err)
		}
		body, status := curlGet(t, curl, d.URL)
		sum := sha256.Sum256(body)
		if status != 200 || !bytes.Equal(body, want) || hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(body)) != d.Size {
			t.Errorf("curl %s %s: status %d, %d bytes; want 200 and exactly the %d bytes of %s", d.Kind, d.Unit, status, len(body), len(want), key)
		}
	}
	wantMan, err := s.Get(ctx, "campaigns/"+id+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if body, status := curlGet(t, curl, sm.ManifestURL); status != 200 || !bytes.Equal(body, wantMan) {
		t.Errorf("curl manifest URL: status %d, %d bytes; want 200 and the manifest's %d bytes", status, len(body), len(wantMan))
	}

	// The report's presigned URL serves the page the workflow wrote, whole:
	// its figures are inline, so this one URL shows them all.
	wantPage, err := s.Get(ctx, "campaigns/"+id+"/report/index.html")
	if err != nil {
		t.Fatalf("the campaign has no report: %v", err)
	}
	if sm.ReportURL == nil {
		t.Error("share manifest: report_url is null, but the campaign has a report")
	} else if body, status := curlGet(t, curl, *sm.ReportURL); status != 200 || !bytes.Equal(body, wantPage) ||
		!strings.Contains(string(body), `<figure id="fig-learning-curves">`+"\n"+`<a href="figures/learning-curves.svg"><img src="data:image/png;base64,`) {
		t.Errorf("curl report URL: status %d, %d bytes; want 200 and the report page (%d bytes) with its figures inline", status, len(body), len(wantPage))
	}

	// The text output's snippets, for the share file it wrote.
	textFile := filepath.Join(dir, "share-text.json")
	code, out, errOut = runCLI(t, "share", file, "--out", textFile)
	if code != 0 {
		t.Fatalf("share (text): exit %d: %s", code, errOut)
	}
	var tm manifest.Shared
	if data, err := os.ReadFile(textFile); err != nil || json.Unmarshal(data, &tm) != nil {
		t.Fatalf("share (text) wrote %s (%v)", data, err)
	}
	var curves []string
	var rows int64
	for _, d := range tm.Datasets {
		if d.Kind == "learning_curves" {
			curves = append(curves, d.URL)
			rows += d.Rows
		}
	}
	m := regexp.MustCompile(`(?m)^  SELECT \* FROM read_parquet\(\[(.*)\]\);$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "INSTALL httpfs; LOAD httpfs;") {
		t.Fatalf("share (text) prints no DuckDB snippet:\n%s", out)
	}
	var listed []string
	for _, q := range regexp.MustCompile(`'((?:[^']|'')*)'`).FindAllStringSubmatch(m[1], -1) {
		listed = append(listed, strings.ReplaceAll(q[1], "''", "'"))
	}
	if !slices.Equal(listed, curves) || len(curves) == 0 {
		t.Errorf("the DuckDB snippet reads %d URLs, want the share file's %d learning_curves URLs in order", len(listed), len(curves))
	}
	// DuckDB's httpfs extension is downloaded on first use, which a machine
	// without internet cannot; so the snippet's SQL runs on the files the
	// URLs return, fetched with curl.
	local := filepath.Join(dir, "fetched")
	if err := os.Mkdir(local, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, u := range listed {
		body, status := curlGet(t, curl, u)
		if status != 200 {
			t.Fatalf("curl %s: status %d", u, status)
		}
		if err := os.WriteFile(filepath.Join(local, fmt.Sprintf("%02d.parquet", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if res, ok := duckdbcheck.Run(t, filepath.Join(local, "*.parquet")); ok {
		if res.Rows != rows || res.KV["rulescape.campaign"] != id || !slices.Contains(res.Names(), "error") {
			t.Errorf("DuckDB over the snippet's files: %d rows, columns %v, metadata %v; want the manifest's %d rows of campaign %s", res.Rows, res.Names(), res.KV, rows, id)
		}
	}
	checkPythonSnippets(t, out, textFile, curves)

	// A URL shared for 2 s: fetched at once, refused after it expired.
	shortFile := filepath.Join(dir, "short.json")
	code, _, errOut = runCLI(t, "share", id, "--expires", "2s", "--out", shortFile)
	var short manifest.Shared
	if data, err := os.ReadFile(shortFile); code != 0 || err != nil || json.Unmarshal(data, &short) != nil || len(short.Datasets) == 0 {
		t.Fatalf("share --expires 2s: exit %d %s, wrote %s (%v)", code, errOut, data, err)
	}
	if _, status := curlGet(t, curl, short.Datasets[0].URL); status != 200 {
		t.Fatalf("curl of a fresh 2 s URL: status %d, want 200", status)
	}
	time.Sleep(time.Until(short.ExpiresAt.Add(1500 * time.Millisecond)))
	if body, status := curlGet(t, curl, short.Datasets[0].URL); status != 403 || bytes.Contains(body, []byte("PAR1")) {
		t.Errorf("curl of an expired URL: status %d, %d bytes; want 403 and no data", status, len(body))
	}
	if _, status := curlGet(t, curl, short.ManifestURL); status != 403 {
		t.Errorf("curl of the expired manifest URL: status %d, want 403", status)
	}
}

// checkPythonSnippets runs the pandas and polars snippets of share's text
// output with python3 and stub pandas/polars modules that record the URLs
// read_parquet gets: the snippets must be valid Python and read exactly the
// learning-curve URLs of the share file, in order.
func checkPythonSnippets(t *testing.T, out, shareFile string, want []string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("!!! not running the pandas/polars snippets: %v", err)
		return
	}
	stubs := t.TempDir()
	stub := "import json\nread = []\ndef read_parquet(u):\n    read.append(u)\n    return u\ndef concat(xs, ignore_index=False):\n    return list(xs)\n"
	for _, mod := range []string{"pandas", "polars"} {
		if err := os.WriteFile(filepath.Join(stubs, mod+".py"), []byte(stub), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, lib := range []struct{ name, module string }{{"pandas", "pd"}, {"polars", "pl"}} {
		m := regexp.MustCompile(`(?s)\n` + lib.name + `:\n((?:  [^\n]*\n)+)`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("share (text) prints no %s snippet:\n%s", lib.name, out)
			continue
		}
		var code strings.Builder
		for _, line := range strings.Split(strings.TrimRight(m[1], "\n"), "\n") {
			code.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		}
		if !strings.Contains(code.String(), strconv.Quote(shareFile)) {
			t.Errorf("the %s snippet does not open %s:\n%s", lib.name, shareFile, code.String())
		}
		code.WriteString("import json as _j\nprint(_j.dumps(" + lib.module + ".read))\n")
		cmd := exec.Command(py, "-c", code.String())
		cmd.Env = append(os.Environ(), "PYTHONPATH="+stubs)
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("the %s snippet fails: %v\n%s\n%s", lib.name, err, code.String(), got)
			continue
		}
		var read []string
		if err := json.Unmarshal(got, &read); err != nil || !slices.Equal(read, want) {
			t.Errorf("the %s snippet reads %q (%v), want the %d learning_curves URLs", lib.name, got, err, len(want))
		}
	}
}
