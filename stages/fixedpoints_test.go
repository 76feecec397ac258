package stages_test

import (
	"math"
	"testing"

	"rulescape/schemas"
	"rulescape/stages"
)

// TestFixedPointsRows runs the fixedpoints stage on the digest case's
// networks with and without deflation and checks the new columns against
// the rows: each input's set_* columns are the same in all its rows and
// agree with the rows' counts, the Euler-map index is at least the index,
// the measures have their documented shapes and ranges, and deflation keeps
// every point of the plain search and reports the ones it adds.
func TestFixedPointsRows(t *testing.T) {
	file, c, _ := sourceFixture(t, campaign)
	stored, err := stages.LoadNetworks(t.Context(), c, stages.NetworkQuery{Refs: []string{file}, Seed: -1, Which: stages.Final})
	if err != nil {
		t.Fatal(err)
	}
	nets := stages.Networks(stored)
	for _, n := range nets[:min(2, len(nets))] {
		plain, err := stages.FixedPoints(t.Context(), campaign, n, fpSettings, 2)
		if err != nil {
			t.Fatal(err)
		}
		st := fpSettings
		st.Deflation = 3
		defl, err := stages.FixedPoints(t.Context(), campaign, n, st, 2)
		if err != nil {
			t.Fatal(err)
		}
		N, M, O := n.Net.N, n.Net.M, n.Net.O
		for _, rows := range [][]schemas.FixedPointRow{plain, defl} {
			bySet := map[string][]schemas.FixedPointRow{}
			for _, r := range rows {
				bySet[r.Input] = append(bySet[r.Input], r)
				if r.IndexMap < r.Index || len(r.ReadoutOverlap) != O*N || len(r.Response) != M*N || len(r.ResponseNorm) != M {
					t.Errorf("%s %s: index %d, map index %d, %d overlaps, %d response values, %d norms (N=%d M=%d O=%d)",
						n.Unit.ID, r.Input, r.Index, r.IndexMap, len(r.ReadoutOverlap), len(r.Response), len(r.ResponseNorm), N, M, O)
				}
				if !(r.Henrici >= 0) || !(r.HenriciRel >= 0 && r.HenriciRel <= 1) {
					t.Errorf("%s %s: Henrici %v, relative %v", n.Unit.ID, r.Input, r.Henrici, r.HenriciRel)
				}
				for k := range M {
					s := 0.0
					for _, v := range r.Response[k*N : (k+1)*N] {
						s += v * v
					}
					if math.Abs(math.Sqrt(s)-r.ResponseNorm[k]) > 1e-12*(1+r.ResponseNorm[k]) {
						t.Errorf("%s %s: response norm %d = %v, rows give %v", n.Unit.ID, r.Input, k, r.ResponseNorm[k], math.Sqrt(s))
					}
				}
			}
			for in, set := range bySet {
				first := set[0]
				observed, f1, f2, deflated := 0, 0, 0, 0
				for _, r := range set {
					if r.SetStarts != first.SetStarts || r.SetObserved != first.SetObserved || r.SetF1 != first.SetF1 ||
						r.SetF2 != first.SetF2 || r.SetChao1 != first.SetChao1 || r.SetDeflated != first.SetDeflated {
						t.Errorf("%s %s: set columns differ between rows", n.Unit.ID, in)
					}
					if r.Slow {
						continue
					}
					switch {
					case r.Count == 0:
						deflated++
					case r.Count == 1:
						f1++
					case r.Count == 2:
						f2++
					}
					if r.Count > 0 {
						observed++
					}
				}
				if int(first.SetObserved) != observed || int(first.SetF1) != f1 || int(first.SetF2) != f2 ||
					int(first.SetDeflated) != deflated || int(first.SetStarts) != fpSettings.Inits || first.SetChao1 < float64(observed) {
					t.Errorf("%s %s: set columns %d observed, f1 %d, f2 %d, %d deflated, %d starts, Chao1 %v; rows give %d, %d, %d, %d",
						n.Unit.ID, in, first.SetObserved, first.SetF1, first.SetF2, first.SetDeflated, first.SetStarts, first.SetChao1, observed, f1, f2, deflated)
				}
			}
		}
		// Deflation appends to the plain search's fixed points.
		fixed := func(rows []schemas.FixedPointRow) map[string][][]float64 {
			out := map[string][][]float64{}
			for _, r := range rows {
				if !r.Slow {
					out[r.Input] = append(out[r.Input], r.X)
				}
			}
			return out
		}
		fp, fd := fixed(plain), fixed(defl)
		for in, xs := range fp {
			if len(fd[in]) < len(xs) {
				t.Errorf("%s %s: %d fixed points with deflation, %d without", n.Unit.ID, in, len(fd[in]), len(xs))
				continue
			}
			for k, x := range xs {
				for i := range x {
					if math.Abs(x[i]-fd[in][k][i]) > 1e-9 {
						t.Errorf("%s %s: point %d moved with deflation", n.Unit.ID, in, k)
						break
					}
				}
			}
		}
	}
}
