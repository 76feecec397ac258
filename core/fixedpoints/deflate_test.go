package fixedpoints

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/rnn"
)

// bistable returns three uncoupled units x = 2 tanh x: 27 fixed points.
func bistable(t *testing.T) *rnn.Network {
	net := newNet(t, 3, 0)
	for i := range 3 {
		net.W[i*3+i] = 2
	}
	return net
}

// hopfield returns a 4-unit Hopfield network W = (g/4)(ξ¹ξ¹ᵀ + ξ²ξ²ᵀ)
// storing ξ¹ = (1, 1, 1, 1) and ξ² = (1, 1, −1, −1) with gain g = 2. Every
// fixed point lies in the span of the patterns, x = (u, u, v, v), where
// x = W tanh x reads u = 2 tanh u, v = 2 tanh v: 9 fixed points, the four
// stored patterns ±ξ¹, ±ξ² (stable), four mixtures with u or v zero
// (index 1) and the origin (index 2).
func hopfield(t *testing.T) *rnn.Network {
	net := newNet(t, 4, 0)
	xi := [][]float64{{1, 1, 1, 1}, {1, 1, -1, -1}}
	for i := range 4 {
		for j := range 4 {
			for _, p := range xi {
				net.W[i*4+j] += 2.0 / 4 * p[i] * p[j]
			}
		}
	}
	return net
}

func TestDeflationFindsEveryRoot(t *testing.T) {
	// Eight starts uniform in [−3, 3]ⁿ: the plain descents from them find
	// 6 of the 27 and 5 of the 9 points.
	starts := func(n int) [][]float64 {
		rng := rand.New(rand.NewPCG(1, 8))
		out := make([][]float64, 8)
		for k := range out {
			out[k] = make([]float64, n)
			for i := range out[k] {
				out[k][i] = 6*rng.Float64() - 3
			}
		}
		return out
	}
	cases := []struct {
		name    string
		net     *rnn.Network
		roots   int
		plain   int // what the plain descents find (docs/ANALYSIS.md quotes it)
		byIndex map[int]int
		inits   [][]float64
	}{
		{"bistable", bistable(t), 27, 6, map[int]int{0: 8, 1: 12, 2: 6, 3: 1}, starts(3)},
		{"hopfield", hopfield(t), 9, 5, map[int]int{0: 4, 1: 4, 2: 1}, starts(4)},
	}
	for _, c := range cases {
		plain, err := Find(context.Background(), c.net, nil, c.inits, Settings{Workers: 2, Alpha: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		defl, err := Find(context.Background(), c.net, nil, c.inits, Settings{Workers: 2, Alpha: 0.1, Deflations: 40})
		if err != nil {
			t.Fatal(err)
		}
		if len(plain.Fixed) != c.plain {
			t.Errorf("%s: plain search from %d starts finds %d points, want %d (fewer than all %d)", c.name, len(c.inits), len(plain.Fixed), c.plain, c.roots)
		}
		if len(defl.Fixed) != c.roots {
			t.Fatalf("%s: deflation from %d starts finds %d points, want all %d (plain: %d)", c.name, len(c.inits), len(defl.Fixed), c.roots, len(plain.Fixed))
		}
		byIndex := map[int]int{}
		for k, p := range defl.Fixed {
			byIndex[p.Unstable]++
			if p.MapUnstable != p.Unstable {
				t.Errorf("%s: point %v: map index %d, want the continuous-time index %d (real eigenvalues, small α)", c.name, p.X, p.MapUnstable, p.Unstable)
			}
			if p.Q >= 1e-12 {
				t.Errorf("%s: point %v: q = %g", c.name, p.X, p.Q)
			}
			for _, o := range defl.Fixed[:k] {
				if dist(o.X, p.X) < 0.1 {
					t.Errorf("%s: points %v and %v are the same", c.name, o.X, p.X)
				}
			}
			// Found by a plain descent or by a deflated one, never neither.
			if p.Count == 0 && p.Deflated == 0 {
				t.Errorf("%s: point %v found by no search", c.name, p.X)
			}
		}
		if !maps(byIndex, c.byIndex) {
			t.Errorf("%s: points by index %v, want %v", c.name, byIndex, c.byIndex)
		}
		// The plain descents are unchanged by deflation; the deflated finds
		// come after them and are not samples of the basins.
		for k, p := range plain.Fixed {
			if d := defl.Fixed[k]; d.Count != p.Count || dist(d.X, p.X) > 1e-12 {
				t.Errorf("%s: plain point %d changed with deflation: %v (count %d) → %v (count %d)", c.name, k, p.X, p.Count, d.X, d.Count)
			}
		}
		cp, cd := plain.Completeness(), defl.Completeness()
		if cd.Observed != cp.Observed || cd.Chao1 != cp.Chao1 || cd.Deflated != c.roots-len(plain.Fixed) || cp.Deflated != 0 {
			t.Errorf("%s: completeness plain %+v, deflated %+v", c.name, cp, cd)
		}
		if defl.Deflations < len(c.inits) {
			t.Errorf("%s: %d deflated searches, want at least one per start", c.name, defl.Deflations)
		}
	}
}

// From a grid of 343 starts on the bistable network, every one of the 27
// points is reached by several starts: Chao1 is exact (= S_obs = 27). From
// three starts, Chao1 estimates more points than were observed.
func TestChao1OnBistable(t *testing.T) {
	net := bistable(t)
	res, err := Find(context.Background(), net, nil, grid(3, []float64{-2.5, -1.2, -0.3, 0.05, 0.4, 1.1, 2.7}), Settings{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Completeness()
	if c.Observed != 27 || c.F1 != 0 || c.Chao1 != 27 || c.Starts != 343 {
		t.Errorf("grid: completeness %+v, want 27 observed, none once, Chao1 = 27 of 343 starts", c)
	}
	res, err = Find(context.Background(), net, nil, [][]float64{{0.9, -1.3, 0.2}, {-2.1, 1.7, -0.4}, {1.5, 0.3, 2.2}}, Settings{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	c = res.Completeness()
	if c.Observed != 3 || c.F1 != 3 || c.Chao1 != 6 {
		t.Errorf("3 starts: completeness %+v, want 3 points found once each and Chao1 = 3 + 3·2/2 = 6", c)
	}
}

func TestDeflationSettings(t *testing.T) {
	net := bistable(t)
	init := [][]float64{{0.5, 0.5, 0.5}}
	for _, s := range []Settings{{Deflations: -1}, {DeflationPower: -2}, {DeflationShift: math.Inf(1)}, {Alpha: math.NaN()}, {Alpha: -0.1}} {
		if _, err := Find(context.Background(), net, nil, init, s); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

// Deflation keeps the result independent of the number of workers.
func TestDeflationDeterministic(t *testing.T) {
	net, inits := randomNetwork(t, 30, 1.5, 7)
	var first *Result
	for _, w := range []int{1, 3} {
		res, err := Find(context.Background(), net, []float64{0}, inits[:16], Settings{Workers: w, Deflations: 3})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if !equalResults(first, res) || first.Deflations != res.Deflations {
			t.Errorf("Workers=%d gives a different result than Workers=1", w)
		}
	}
}
