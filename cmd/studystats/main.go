// Command studystats computes the statistics docs/STUDY.md reports from a
// campaign downloaded with `rulescape datasets get CAMPAIGN --out DIR`:
// learning outcomes per task and rule; each rule against a reference rule
// (--reference, default miconi) with 95% intervals — criterion met
// (Wilson), median trials to criterion counting never as later than any
// (percentile bootstrap), final accuracy (bootstrap) — and paired by seed:
// McNemar's exact test and the mean accuracy difference; and the seed-stratified permutation
// tests of within- against between-rule similarity (RSA: Spearman of RDMs
// and linear CKA) and distance (landscape topology; DSA and spectral
// distances when the campaign has a dsa stage), both over every rule
// the campaign trained (as the rsa and landscape stages record them) and
// over a subset of rules (--rules), e.g. the rules that learned the task.
//
//	go run ./cmd/studystats --rules discovered-dnms,discovered-cdi,miconi --seeds 11-20 DIR/campaigns/<id>
//
// It reads the datasets only (rsa_pairs, landscape_pairs, dsa_pairs,
// learning_curves, networks) and prints Markdown tables.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
	"rulescape/core/stats"
	"rulescape/schemas"
)

// errNoDataset says a campaign directory has no dataset of a kind.
var errNoDataset = errors.New("no such dataset")

// permStream is the PCG stream of the permutation tests' shuffles.
const permStream = 0x737475 // "stu"

func main() {
	rules := flag.String("rules", "", "comma-separated rules of the subset test (default: none)")
	perms := flag.Int("permutations", 10000, "permutations of each test")
	window := flag.Int("window", 100, "trials at the end of learning that the outcome is measured over")
	seedsFlag := flag.String("seeds", "", "only the networks of these seeds, e.g. 11-20 (default: all)")
	ref := flag.String("reference", "miconi", "rule every other rule is compared with, seed by seed")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: studystats [flags] DIR/campaigns/<id>\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var subset []string
	if *rules != "" {
		subset = strings.Split(*rules, ",")
	}
	seeds, err := parseSeeds(*seedsFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "studystats: --seeds:", err)
		os.Exit(2)
	}
	if err := run(os.Stdout, flag.Arg(0), subset, seeds, *ref, *perms, *window); err != nil {
		fmt.Fprintln(os.Stderr, "studystats:", err)
		os.Exit(1)
	}
}

// parseSeeds reads "a-b" or "a,b,c" (or a mix); "" means every seed (nil).
func parseSeeds(s string) (map[int64]bool, error) {
	if s == "" {
		return nil, nil
	}
	out := map[int64]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: want seeds like 11-20 or 1,3,5", s)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("%q: want seeds like 11-20 or 1,3,5", s)
			}
		}
		for v := a; v <= b; v++ {
			out[v] = true
		}
	}
	return out, nil
}

func run(w io.Writer, dir string, subset []string, seeds map[int64]bool, ref string, perms, window int) error {
	curves, err := readKind[schemas.LearningCurveRow](dir, "learning_curves")
	if err != nil {
		return err
	}
	nets, err := readKind[schemas.NetworkRow](dir, "networks")
	if err != nil {
		return err
	}
	// The pair datasets and the metaopt history are optional: a campaign
	// without an rsa, landscape, dsa or metaopt stage (or a running one)
	// has no such table.
	rsaPairs, err := optional(readKind[schemas.RSAPairRow](dir, "rsa_pairs"))
	if err != nil {
		return err
	}
	landPairs, err := optional(readKind[schemas.LandscapePairRow](dir, "landscape_pairs"))
	if err != nil {
		return err
	}
	dsaPairs, err := optional(readKind[schemas.DSAPairRow](dir, "dsa_pairs"))
	if err != nil {
		return err
	}
	history, err := optional(readKindFiles[schemas.MetaoptRow](dir, "metaopt_history"))
	if err != nil {
		return err
	}
	keep := func(seed int64) bool { return seeds == nil || seeds[seed] }
	curves = slices.DeleteFunc(curves, func(r schemas.LearningCurveRow) bool { return !keep(r.Seed) })
	nets = slices.DeleteFunc(nets, func(r schemas.NetworkRow) bool { return !keep(r.Seed) })
	out := outcomes(curves, nets, window)
	learning(w, out, window)
	versus(w, out, ref, window, 10000, 1)
	metaoptTable(w, history)

	var pairs []pair
	for _, r := range rsaPairs {
		if r.ARule != "*" && (r.Method == "spearman" || r.Method == "cka") && keep(r.ASeed) && keep(r.BSeed) {
			pairs = append(pairs, pair{r.Task, r.Method, item{r.ARule, r.ASeed}, item{r.BRule, r.BSeed}, r.Value})
		}
	}
	for _, r := range landPairs {
		if r.ARule != "*" && r.Method == "topology" && keep(r.ASeed) && keep(r.BSeed) {
			// A distance: the test's similarity is its negative.
			pairs = append(pairs, pair{r.Task, r.Method, item{r.ARule, r.ASeed}, item{r.BRule, r.BSeed}, -r.Value})
		}
	}
	for _, r := range dsaPairs {
		if r.ARule != "*" && (r.Method == "dsa" || r.Method == "spectral") && r.ANetwork == "final" && r.BNetwork == "final" && keep(r.ASeed) && keep(r.BSeed) {
			pairs = append(pairs, pair{r.Task, r.Method, item{r.ARule, r.ASeed}, item{r.BRule, r.BSeed}, -r.Value})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n| task | measure | rules | networks | within | between | within − between | p (%d perm.) | same seed, different rules |\n", perms)
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, g := range groupPairs(pairs) {
		sets := [][]string{nil}
		if len(subset) > 0 {
			sets = append(sets, subset)
		}
		for _, set := range sets {
			if set != nil && rulesPresent(g.pairs, set) < 2 {
				continue // the subset names fewer than two of this task's rules: nothing to compare
			}
			t, err := test(g.pairs, set, perms)
			if err != nil {
				return fmt.Errorf("%s %s: %w", g.task, g.method, err)
			}
			name := "all"
			if set != nil {
				name = strings.Join(set, ", ")
			}
			sign := 1.0
			if g.method == "topology" || g.method == "dsa" || g.method == "spectral" {
				sign = -1 // report distances, not their negatives
			}
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %.4f | %s |\n", g.task, g.method, name, t.n,
				meanText(sign*t.Within, ""), meanText(sign*t.Between, ""), meanText(sign*t.Observed, "+"), t.P, meanText(sign*t.SameBlockBetween, ""))
		}
	}
	return nil
}

// meanText prints a mean similarity or distance with three decimals, or
// with three significant digits below 0.1 in magnitude (the DSA and
// spectral distances of DNMS networks are a few thousandths); flag "+"
// prints the sign of a difference.
func meanText(v float64, flag string) string {
	if v != 0 && math.Abs(v) < 0.1 {
		return fmt.Sprintf("%"+flag+".3g", v)
	}
	return fmt.Sprintf("%"+flag+".3f", v)
}

// rulesPresent counts the rules of set that some pair has a network of.
func rulesPresent(pairs []pair, set []string) int {
	seen := map[string]bool{}
	for _, p := range pairs {
		seen[p.a.rule], seen[p.b.rule] = true, true
	}
	n := 0
	for _, r := range set {
		if seen[r] {
			n++
		}
	}
	return n
}

// item is one network: its rule and seed.
type item struct {
	rule string
	seed int64
}

// pair is a similarity of two networks of one task by one measure.
type pair struct {
	task, method string
	a, b         item
	value        float64
}

type group struct {
	task, method string
	pairs        []pair
}

func groupPairs(pairs []pair) []group {
	var out []group
	for _, p := range pairs {
		i := slices.IndexFunc(out, func(g group) bool { return g.task == p.task && g.method == p.method })
		if i < 0 {
			out = append(out, group{task: p.task, method: p.method})
			i = len(out) - 1
		}
		out[i].pairs = append(out[i].pairs, p)
	}
	slices.SortFunc(out, func(a, b group) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.method, b.method)) })
	return out
}

// subsetResult is a stratified test over the networks of some rules.
type subsetResult struct {
	*rsa.Stratified
	n int // networks
}

// test runs rsa.StratifiedPermutationTest (labels = rules, blocks = seeds)
// on the similarity matrix of the networks whose rule is in rules (all
// when rules is nil).
func test(pairs []pair, rules []string, perms int) (*subsetResult, error) {
	var items []item
	for _, p := range pairs {
		for _, it := range []item{p.a, p.b} {
			if (rules == nil || slices.Contains(rules, it.rule)) && !slices.Contains(items, it) {
				items = append(items, it)
			}
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.seed, b.seed)) })
	if len(items) < 3 {
		return nil, fmt.Errorf("%d networks of rules %v: need at least 3", len(items), rules)
	}
	s := mat.NewSymDense(len(items), nil)
	seen := mat.NewSymDense(len(items), nil)
	for _, p := range pairs {
		i, j := slices.Index(items, p.a), slices.Index(items, p.b)
		if i < 0 || j < 0 {
			continue
		}
		s.SetSym(i, j, p.value)
		seen.SetSym(i, j, 1)
	}
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if seen.At(i, j) == 0 {
				return nil, fmt.Errorf("no pair of %v and %v", items[i], items[j])
			}
		}
	}
	labels, blocks := make([]int, len(items)), make([]int, len(items))
	ruleIDs := map[string]int{}
	for i, it := range items {
		if _, ok := ruleIDs[it.rule]; !ok {
			ruleIDs[it.rule] = len(ruleIDs)
		}
		labels[i], blocks[i] = ruleIDs[it.rule], int(it.seed)
	}
	st, err := rsa.StratifiedPermutationTest(s, labels, blocks, perms, rand.New(rand.NewPCG(0, permStream)))
	if err != nil {
		return nil, err
	}
	return &subsetResult{st, len(items)}, nil
}

// learning prints, per task and rule, the networks' outcome over the last
// window trials: the median (and quartiles) of the mean error, the median
// accuracy, and how many met the learning criterion. Quantiles are
// stats.Quantile's (type 7, as R, NumPy and pandas by default).
func learning(w io.Writer, out map[netKey]outcome, window int) {
	type tr struct{ task, rule string }
	errs, accs, met := map[tr][]float64{}, map[tr][]float64{}, map[tr]int{}
	for k, o := range out {
		if o.curve == 0 {
			continue // no learning curve: nothing to summarise
		}
		t := tr{k.task, k.rule}
		errs[t] = append(errs[t], o.error)
		accs[t] = append(accs[t], o.accuracy)
		if o.learned {
			met[t]++
		}
	}
	keys := make([]tr, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tr) int { return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.rule, b.rule)) })
	fmt.Fprintf(w, "| task | rule | networks | error, last %d trials: median [quartiles] | accuracy: median [range] | met the criterion |\n", window)
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, k := range keys {
		e, a := errs[k], accs[k]
		slices.Sort(e)
		slices.Sort(a)
		q := stats.Quantile // type 7, as the report's learning curves
		fmt.Fprintf(w, "| %s | %s | %d | %.2f [%.2f, %.2f] | %.0f%% [%.0f%%, %.0f%%] | %d of %d |\n", k.task, k.rule, len(e),
			q(e, 0.5), q(e, 0.25), q(e, 0.75), 100*q(a, 0.5), 100*a[0], 100*a[len(a)-1], met[k], len(e))
	}
}

// optional passes a read's result on, with "no such dataset" as none.
func optional[T any](v T, err error) (T, error) {
	if errors.Is(err, errNoDataset) {
		return v, nil
	}
	return v, err
}

// readKind reads every Parquet file of a dataset kind under dir.
func readKind[R schemas.Row[R]](dir, kind string) ([]R, error) {
	files, err := readKindFiles[R](dir, kind)
	var out []R
	for _, f := range files {
		out = append(out, f.rows...)
	}
	return out, err
}

// kindFile is the rows of one Parquet file and its path.
type kindFile[R any] struct {
	path string
	rows []R
}

// readKindFiles reads every Parquet file of a dataset kind under dir,
// file by file, in path order.
func readKindFiles[R schemas.Row[R]](dir, kind string) ([]kindFile[R], error) {
	var out []kindFile[R]
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".parquet") || !strings.Contains(filepath.ToSlash(path), "/"+kind+"/") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		rows, _, err := schemas.ReadAll[R](f, fi.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, kindFile[R]{filepath.ToSlash(path), rows})
		n += len(rows)
		return nil
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("no %s datasets under %s: give the campaign's directory of `rulescape datasets get`: %w", kind, dir, errNoDataset)
	}
	return out, err
}
