package stages_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rulescape/schemas"
	"rulescape/stages"
)

// inputRows reads the rows of testdata/inputs/<name>.arrow.
func inputRows[R schemas.Row[R]](t *testing.T, name string) []R {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "inputs", name+".arrow"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := schemas.ReadAll[R](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestSummaries summarizes the digest case's frozen fixed_points, rsa and
// landscape rows and checks the summaries against the rows: counts per
// input, symmetric matrices holding the pair rows' values, the summary
// rows; and the text renderings of counts and connections.
func TestSummaries(t *testing.T) {
	file, c, _ := sourceFixture(t, campaign)
	stored, err := stages.LoadNetworks(t.Context(), c, stages.NetworkQuery{Refs: []string{file}, Seed: -1, Which: stages.Final})
	if err != nil {
		t.Fatal(err)
	}
	nets := stages.Networks(stored)
	fpRows := inputRows[schemas.FixedPointRow](t, "fixed_points")
	fps := make([][]schemas.FixedPointRow, len(nets))
	for _, r := range fpRows {
		for i, n := range nets {
			if r.Rule == n.Unit.Rule && r.Seed == n.Seed {
				fps[i] = append(fps[i], r)
			}
		}
	}
	for i, n := range nets {
		s := stages.SummarizeFixedPoints(n, fps[i])
		total := 0
		for _, in := range s.Inputs {
			byType := 0
			for _, v := range in.ByType {
				byType += v
			}
			if byType != in.Fixed {
				t.Errorf("network %d, %s: %d fixed, %d by type", i, in.Input, in.Fixed, byType)
			}
			total += in.Fixed + in.Slow
		}
		if total != len(fps[i]) || len(s.Points) != len(fps[i]) || len(s.Inputs) != len(n.Setup.Task.FixedPointInputs()) {
			t.Errorf("network %d: %d points counted, %d listed, %d rows", i, total, len(s.Points), len(fps[i]))
		}
	}

	rsa := stages.RSARows{RDMs: inputRows[schemas.RDMRow](t, "rdms"), Pairs: inputRows[schemas.RSAPairRow](t, "rsa_pairs")}
	rs, err := stages.SummarizeRSA(len(nets), rsa)
	if err != nil {
		t.Fatal(err)
	}
	checkPairs(t, "rsa", rs.Similarity, rs.Pairs, len(rsa.Pairs), math.NaN())
	if len(rs.Labels) == 0 || len(rs.Similarity) != len(stages.RSAMethods) {
		t.Errorf("rsa: %d labels, %d methods", len(rs.Labels), len(rs.Similarity))
	}
	rsa.Pairs[0], rsa.Pairs[1] = rsa.Pairs[1], rsa.Pairs[len(rsa.Pairs)-1]
	if _, err := stages.SummarizeRSA(len(nets), rsa); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("rows out of order: %v", err)
	}

	land := stages.LandscapeRows{Points: inputRows[schemas.LandscapeRow](t, "landscape"), Pairs: inputRows[schemas.LandscapePairRow](t, "landscape_pairs")}
	ls, err := stages.SummarizeLandscape(nets, fps, land)
	if err != nil {
		t.Fatal(err)
	}
	checkPairs(t, "landscape", ls.Distance, ls.Pairs, len(land.Pairs), 0)
	points := 0
	for _, m := range ls.Maps {
		for _, in := range m.Inputs {
			points += len(in.Points)
		}
		if !strings.HasPrefix(m.ExplainedText(), "PC1 ") {
			t.Errorf("explained %q", m.ExplainedText())
		}
	}
	if len(ls.Maps) != len(nets) || points != len(land.Points) {
		t.Errorf("landscape: %d maps, %d points of %d rows", len(ls.Maps), points, len(land.Points))
	}
	if _, err := stages.SummarizeLandscape(nets[:1], fps[:1], land); err == nil {
		t.Error("rows of 4 networks summarized as 1")
	}

	for _, c := range []struct{ got, want string }{
		{stages.FixedPointsInput{ByType: map[string]int{"unstable:3": 1, "saddle:2": 1, "stable": 2, "saddle:1": 3}}.Types(),
			"2 stable, 3 saddle (index 1), 1 saddle (index 2), 1 unstable (index 3)"},
		{stages.FixedPointsInput{}.Types(), "-"},
		{stages.LandscapeInput{ByIndex: []int{2, 0, 1}}.ByIndexText(), "2 stable, 1 index 2"},
		{stages.LandscapeInput{Connections: []stages.Connection{{Saddle: 1, Attractors: [2]int32{0, 2}}, {Saddle: 3, Attractors: [2]int32{0, -1}}}}.ConnectionsText(),
			"#1 → #0, #2; #3 → #0, none"},
		{stages.LandscapeMap{Explained: []stages.Float{0.5, 0.25, stages.Float(math.NaN())}}.ExplainedText(), "PC1 50.0%, PC2 25.0% (total 75.0%)"},
		{stages.LandscapeMap{}.ExplainedText(), "n/a (no fixed or slow point)"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	if b, _ := json.Marshal([]stages.Float{1, stages.Float(math.Inf(1)), stages.Float(math.NaN())}); string(b) != "[1,null,null]" {
		t.Errorf("Floats encode as %s", b)
	}
}

// checkPairs checks that every pair of pairs is in its method's matrix,
// both ways, that the matrices' diagonals are diag, and that every row is
// listed.
func checkPairs(t *testing.T, what string, mats map[string]stages.Matrix, pairs []stages.PairInfo, rows int, diag float64) {
	t.Helper()
	if len(pairs) != rows {
		t.Errorf("%s: %d pairs of %d rows", what, len(pairs), rows)
	}
	summaries := 0
	for _, p := range pairs {
		if p.Summary() {
			summaries++
			continue
		}
		m := mats[p.Method]
		if m[p.A][p.B] != p.Value || m[p.B][p.A] != p.Value {
			t.Errorf("%s %s[%d][%d] = %v, pair %v", what, p.Method, p.A, p.B, m[p.A][p.B], p.Value)
		}
	}
	if summaries == 0 {
		t.Errorf("%s: no summary rows", what)
	}
	for name, m := range mats {
		for i := range m {
			if d := float64(m[i][i]); d != diag && !(math.IsNaN(d) && math.IsNaN(diag)) {
				t.Errorf("%s %s[%d][%d] = %v", what, name, i, i, d)
			}
		}
	}
}
