package landscape_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"rulescape/core/fixedpoints"
	"rulescape/core/landscape"
	"rulescape/core/rnn"
)

// grid returns every state whose coordinates are taken from vals.
func grid(n int, vals []float64) [][]float64 {
	out := [][]float64{{}}
	for range n {
		var next [][]float64
		for _, x := range out {
			for _, v := range vals {
				next = append(next, append(slices.Clone(x), v))
			}
		}
		out = next
	}
	return out
}

// bistable returns three independent units x = 2 tanh x (27 fixed points:
// each coordinate 0 or ±x*, the index is the number of zeros), with an
// optional fourth unit clamped at 0.7 that feeds nothing.
func bistable(t testing.TB, clamp bool) *rnn.Network {
	t.Helper()
	n := 3
	if clamp {
		n = 4
	}
	net, err := rnn.NewNetwork(n, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		net.W[i*n+i] = 2
	}
	if clamp {
		net.ClampIndex, net.ClampValue = []int{3}, []float64{0.7}
	}
	return net
}

// find runs the fixed-point search and converts its points.
func find(t testing.TB, net *rnn.Network, u []float64, inits [][]float64) []landscape.Point {
	t.Helper()
	res, err := fixedpoints.Find(context.Background(), net, u, inits, fixedpoints.Settings{Workers: 1, Vectors: -1})
	if err != nil {
		t.Fatal(err)
	}
	var pts []landscape.Point
	for _, p := range res.Fixed {
		pts = append(pts, landscape.Point{X: p.X, Index: p.Unstable})
	}
	for _, p := range res.Slow {
		pts = append(pts, landscape.Point{X: p.X, Index: p.Unstable, Slow: true})
	}
	return pts
}

// Each index-1 saddle of the bistable cube (one zero coordinate) connects
// exactly the two stable corners adjacent to it: the corners equal to it
// except in its zero coordinate, which is ±x*.
func TestBistableSaddlesConnectAdjacentCorners(t *testing.T) {
	for _, clamp := range []bool{false, true} {
		net := bistable(t, clamp)
		inits := grid(3, []float64{-2.5, -1.2, -0.3, 0.05, 0.4, 1.1, 2.7})
		if clamp {
			for i := range inits {
				inits[i] = append(inits[i], 0)
			}
		}
		pts := find(t, net, []float64{0}, inits)
		states := grid(net.N, []float64{-1, 0.3, 1})
		m, err := landscape.Analyze(context.Background(), net, states, []landscape.Input{{Name: "none", U: []float64{0}, Points: pts}}, landscape.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		im := m.Inputs[0]
		if want := []int{8, 12, 6, 1}; !slices.Equal(im.Counts, want) {
			t.Fatalf("clamp %v: counts %v, want %v", clamp, im.Counts, want)
		}
		saddles := 0
		for _, p := range im.Points {
			if p.Index != 1 {
				if p.Connects != nil {
					t.Errorf("point %v of index %d has connections %v", p.X, p.Index, p.Connects)
				}
				continue
			}
			saddles++
			zero := -1
			for i := range 3 {
				if math.Abs(p.X[i]) < 1e-6 {
					zero = i
				}
			}
			var got [][]float64
			for _, c := range p.Connects {
				if c == landscape.None {
					t.Fatalf("saddle %v: a branch reached no attractor", p.X)
				}
				if im.Points[c].Index != 0 {
					t.Fatalf("saddle %v connects point %v of index %d", p.X, im.Points[c].X, im.Points[c].Index)
				}
				got = append(got, im.Points[c].X)
			}
			// The corners differ from the saddle in coordinate zero only.
			signs := map[bool]bool{}
			for _, c := range got {
				for i := range 3 {
					if i == zero {
						signs[c[i] > 0] = true
						if math.Abs(math.Abs(c[i])-1.9150) > 1e-3 {
							t.Errorf("saddle %v: corner %v has coordinate %d = %v, want ±x* ≈ 1.915", p.X, c, i, c[i])
						}
					} else if math.Abs(c[i]-p.X[i]) > 1e-6 {
						t.Errorf("saddle %v: corner %v is not adjacent (coordinate %d)", p.X, c, i)
					}
				}
			}
			if len(signs) != 2 {
				t.Errorf("saddle %v: both branches reach the same corner %v", p.X, got)
			}
		}
		if saddles != 12 {
			t.Errorf("%d index-1 saddles followed, want 12", saddles)
		}
		sig := im.Signature()
		if sig.SaddleDegrees != [3]int{0, 0, 12} || !slices.Equal(sig.AttractorDegrees, []int{3, 3, 3, 3, 3, 3, 3, 3}) {
			t.Errorf("signature %+v: want every saddle of degree 2 and every corner of degree 3", sig)
		}
	}
}

// randomNetwork returns a network with a random recurrent matrix of gain
// g, a random input column and random biases.
func randomNetwork(t testing.TB, n int, g float64, seed uint64) *rnn.Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	net, err := rnn.NewNetwork(n, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.W {
		net.W[i] = g * rng.NormFloat64() / math.Sqrt(float64(n))
	}
	for i := range n {
		net.Win[i] = rng.NormFloat64()
		net.B[i] = 0.1 * rng.NormFloat64()
	}
	return net
}

// permuted returns net with unit i renamed perm[i].
func permuted(net *rnn.Network, perm []int) *rnn.Network {
	n := net.N
	out := net.Clone()
	for i := range n {
		for j := range n {
			out.W[perm[i]*n+perm[j]] = net.W[i*n+j]
		}
		out.B[perm[i]] = net.B[i]
		for k := range net.M {
			out.Win[perm[i]*net.M+k] = net.Win[i*net.M+k]
		}
	}
	return out
}

func permute(x []float64, perm []int) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[perm[i]] = v
	}
	return out
}

// A network and a copy with its units relabelled have the same topology
// (distance 0) and the same PCA coordinates up to the axes' signs; a
// different network does not.
func TestDistanceZeroForRelabelledCopy(t *testing.T) {
	const n = 6
	net := randomNetwork(t, n, 2.5, 3)
	perm := []int{3, 0, 5, 1, 4, 2}
	cp := permuted(net, perm)
	rng := rand.New(rand.NewPCG(5, 6))
	var inits, initsP, states, statesP [][]float64
	for range 300 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 2 * rng.NormFloat64()
		}
		inits, initsP = append(inits, x), append(initsP, permute(x, perm))
	}
	states, statesP = inits[:100], initsP[:100]
	inputs := func(nw *rnn.Network, in [][]float64) []landscape.Input {
		var out []landscape.Input
		for _, u := range []float64{0, 0.5} {
			out = append(out, landscape.Input{Name: "u", U: []float64{u}, Points: find(t, nw, []float64{u}, in)})
			out[len(out)-1].Name = map[float64]string{0: "zero", 0.5: "half"}[u]
		}
		return out
	}
	a, err := landscape.Analyze(context.Background(), net, states, inputs(net, inits), landscape.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := landscape.Analyze(context.Background(), cp, statesP, inputs(cp, initsP), landscape.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Inputs[0].Counts) == 0 || a.Inputs[0].Counts[0] < 2 || len(a.Inputs[0].Counts) < 2 {
		t.Fatalf("the random network has counts %v: want several attractors and saddles for a meaningful test", a.Inputs[0].Counts)
	}
	d, err := landscape.Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Total != 0 || d.Inputs != 2 {
		t.Errorf("relabelled copy: distance %+v, want 0 over 2 inputs", d)
	}
	for k := range a.PCA.Explained {
		if math.Abs(a.PCA.Explained[k]-b.PCA.Explained[k]) > 1e-9 {
			t.Errorf("explained variance %d: %v vs %v", k, a.PCA.Explained[k], b.PCA.Explained[k])
		}
	}
	other := randomNetwork(t, n, 0.5, 4) // contracting: one attractor per input
	c, err := landscape.Analyze(context.Background(), other, states, inputs(other, inits), landscape.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Inputs[0].Counts, []int{1}) {
		t.Fatalf("contracting network: counts %v, want [1]", c.Inputs[0].Counts)
	}
	d, err = landscape.Compare(a, c)
	if err != nil {
		t.Fatal(err)
	}
	if d.Total <= 0 {
		t.Errorf("different networks: distance %+v, want > 0", d)
	}
	t.Logf("counts %v / %v, distance to a contracting network %+v", a.Inputs[0].Counts, a.Inputs[1].Counts, d)
}

// Compare on hand-built maps: the L1 distances of the signatures, averaged
// over the shared inputs; inputs only one map has are ignored.
func TestCompareHandComputed(t *testing.T) {
	pt := func(index int, connects ...int) landscape.PointMap {
		return landscape.PointMap{Point: landscape.Point{Index: index}, Connects: connects}
	}
	// a: two attractors joined by one saddle. b: three attractors, two
	// saddles in a chain, and a saddle reaching one attractor only.
	a := &landscape.Map{Inputs: []landscape.InputMap{
		{Name: "x", Counts: []int{2, 1}, Points: []landscape.PointMap{pt(0), pt(0), pt(1, 0, 1)}},
		{Name: "only-a", Counts: []int{5}},
	}}
	b := &landscape.Map{Inputs: []landscape.InputMap{
		{Name: "x", Counts: []int{3, 3, 1}, Points: []landscape.PointMap{pt(0), pt(0), pt(0), pt(1, 0, 1), pt(1, 1, 2), pt(1, 2, landscape.None), pt(2)}},
	}}
	// Counts: |2−3| + |1−3| + |0−1| = 4. Saddle degrees a (0,0,1), b (0,1,2): 2.
	// Attractor degrees a (1,1,0), b (2,2,1): 1 + 1 + 1 = 3. Graph = 5.
	d, err := landscape.Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d != (landscape.Distance{Index: 4, Graph: 5, Total: 9, Inputs: 1}) {
		t.Errorf("distance %+v, want index 4, graph 5, total 9 over 1 input", d)
	}
	if _, err := landscape.Compare(a, &landscape.Map{Inputs: []landscape.InputMap{{Name: "y"}}}); err == nil {
		t.Error("no shared input: no error")
	}
}

func TestSettingsRejected(t *testing.T) {
	net := bistable(t, false)
	for _, s := range []landscape.Settings{{PCs: -1}, {Steps: -2}, {Delta: -1}, {Step: 1.5}, {MatchTol: math.Inf(1)}} {
		if _, err := landscape.Analyze(context.Background(), net, grid(3, []float64{0, 1}), nil, s); err == nil {
			t.Errorf("settings %+v: no error", s)
		}
	}
	if _, err := landscape.Analyze(context.Background(), net, grid(3, []float64{0, 1})[:1], nil, landscape.Settings{}); err == nil {
		t.Error("landscape of one state: no error")
	}
}

// A branch that ends at no listed attractor is None; a point labelled
// index 1 that is not a saddle is counted as unfollowed, not an error.
func TestConnectNoneAndUnfollowed(t *testing.T) {
	net := bistable(t, false)
	const xs = 1.9150080
	saddle := []float64{0, xs, -xs}
	corner := []float64{xs, xs, -xs}
	br, err := landscape.Connect(net, []float64{0}, saddle, [][]float64{corner}, landscape.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	// One branch reaches the listed corner, the other the missing one.
	targets := []int{br[0].Target, br[1].Target}
	slices.Sort(targets)
	if !slices.Equal(targets, []int{landscape.None, 0}) || !br[0].Settled || !br[1].Settled {
		t.Errorf("branches %+v, want one at corner 0 and one at none, both settled", br)
	}
	for _, b := range br {
		if b.Target == landscape.None && !math.IsNaN(b.Distance) || b.Target == 0 && !(b.Distance < 1e-6) {
			t.Errorf("branch %+v: distance inconsistent with its target", b)
		}
	}
	if _, err := landscape.Connect(net, []float64{0}, corner, nil, landscape.Settings{}); err == nil {
		t.Error("Connect from a stable corner: no error")
	}
	pts := []landscape.Point{{X: corner, Index: 1}, {X: saddle, Index: 1}}
	m, err := landscape.Analyze(context.Background(), net, grid(3, []float64{-1, 1}), []landscape.Input{{Name: "none", U: []float64{0}, Points: pts}}, landscape.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	im := m.Inputs[0]
	if im.Unfollowed != 1 || !slices.Equal(im.Points[0].Connects, []int{landscape.None, landscape.None}) || !slices.Equal(im.Counts, []int{0, 2}) {
		t.Errorf("unfollowed %d, connects %v, counts %v: want the mislabelled corner unfollowed", im.Unfollowed, im.Points[0].Connects, im.Counts)
	}
}
