// Package duckdbcheck runs the project's independent Parquet reader — DuckDB's
// Node client, store/testdata/duckdb_check.mjs — from Go tests. It exists so
// that every package that reads its datasets back through DuckDB shares one
// way of finding node and @duckdb/node-api, of skipping loudly when they are
// missing, and of failing instead when RULESCAPE_REQUIRE_DUCKDB=1 (CI).
package duckdbcheck

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Column is one column as DuckDB reports it.
type Column struct {
	Name, Type string
}

// Result is what duckdb_check.mjs prints.
type Result struct {
	Rows       int64               `json:"rows"`
	Columns    []Column            `json:"columns"`
	KV         map[string]string   `json:"kv"`
	Vector     []float64           `json:"vector"`
	Partitions []map[string]string `json:"partitions"`
}

// Names returns the column names in order.
func (r Result) Names() []string {
	var names []string
	for _, c := range r.Columns {
		names = append(names, c.Name)
	}
	return names
}

// Run reads target (a Parquet file or glob) with DuckDB; args are passed to
// the script (--hive, --vector COLUMN). When node or @duckdb/node-api is
// missing it logs a loud line and returns false — or fails the test when
// RULESCAPE_REQUIRE_DUCKDB=1. The package is looked up in
// RULESCAPE_NODE_MODULES, else store/testdata/node_modules of the module.
func Run(t testing.TB, target string, args ...string) (Result, bool) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	modules := os.Getenv("RULESCAPE_NODE_MODULES")
	if modules == "" {
		modules = filepath.Join(root, "store", "testdata", "node_modules")
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "@duckdb", "node-api", "package.json"))
	}
	if err != nil {
		msg := "the independent DuckDB reader cannot run (" + err.Error() + "); install it with `npm ci --prefix store/testdata` (Node ≥ 18) or set RULESCAPE_NODE_MODULES"
		if os.Getenv("RULESCAPE_REQUIRE_DUCKDB") == "1" {
			t.Fatal("RULESCAPE_REQUIRE_DUCKDB=1 but " + msg)
		}
		t.Log("!!! SKIPPING the DuckDB check: " + msg)
		return Result{}, false
	}
	abs, _ := filepath.Abs(modules)
	script := filepath.Join(root, "store", "testdata", "duckdb_check.mjs")
	cmd := exec.Command(node, append([]string{script, target}, args...)...)
	cmd.Env = append(os.Environ(), "RULESCAPE_NODE_MODULES="+abs)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("duckdb_check.mjs %s: %v\n%s", target, err, stderr)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("duckdb_check.mjs printed %q: %v", out, err)
	}
	return res, true
}

// moduleRoot is the directory holding go.mod, found upwards from the
// working directory (go test runs each package in its own directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("duckdbcheck: no go.mod above the working directory")
		}
		dir = parent
	}
}
