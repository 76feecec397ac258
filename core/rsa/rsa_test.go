package rsa_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func checkSlice(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", name, len(got), got, len(want), want)
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
}

func randMatrix(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// randOrthogonal returns the Q factor of a Gaussian matrix.
func randOrthogonal(rng *rand.Rand, n int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(randMatrix(rng, n, n))
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

func TestConditionAverage(t *testing.T) {
	// Two units, 5 steps, bin 2 (the fifth step is dropped). Conditions 7 and
	// 3: condition 3 has two trials, condition 7 one.
	states := [][]float64{
		{1, 0, 3, 0, 5, 0, 7, 0, 100, 100}, // condition 7
		{0, 2, 0, 4, 0, 6, 0, 8, 100, 100}, // condition 3
		{2, 2, 2, 4, 2, 6, 2, 8, 100, 100}, // condition 3
	}
	r, err := rsa.ConditionAverage(states, []int{7, 3, 3}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Conditions, []int{3, 7}) || r.Bins != 2 || r.Units != 2 {
		t.Fatalf("shape: conditions %v bins %d units %d", r.Conditions, r.Bins, r.Units)
	}
	// Condition 3: unit 0 averages (0,0)+(2,2) → 1 in both bins; unit 1:
	// bin 0 mean of 2,4 (twice) = 3, bin 1 mean of 6,8 = 7.
	// Condition 7: unit 0 bin 0 = 2, bin 1 = 6; unit 1 = 0.
	checkSlice(t, "Data", r.Data, []float64{1, 3, 1, 7, 2, 0, 6, 0}, 1e-15)

	folds, err := rsa.ConditionAverageFolds(states, []int{7, 3, 3}, 2, 2, 2)
	if err == nil {
		t.Fatalf("condition 7 has one trial, 2 folds accepted: %v", folds)
	}
	states = append(states, []float64{3, 0, 3, 0, 3, 0, 3, 0, 0, 0})
	folds, err = rsa.ConditionAverageFolds(states, []int{7, 3, 3, 7}, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "fold 0", folds[0].Data, []float64{0, 3, 0, 7, 2, 0, 6, 0}, 1e-15)
	checkSlice(t, "fold 1", folds[1].Data, []float64{2, 3, 2, 7, 3, 0, 3, 0}, 1e-15)
}

func TestConditionAverageErrors(t *testing.T) {
	good := [][]float64{{1, 2, 3, 4}}
	cases := []struct {
		name       string
		states     [][]float64
		conditions []int
		units, bin int
	}{
		{"no trials", nil, nil, 2, 1},
		{"labels", good, []int{0, 1}, 2, 1},
		{"units", good, []int{0}, 0, 1},
		{"bin", good, []int{0}, 2, 0},
		{"bin too long", good, []int{0}, 2, 3},
		{"ragged", [][]float64{{1, 2, 3, 4}, {1, 2}}, []int{0, 0}, 2, 1},
		{"not a multiple", [][]float64{{1, 2, 3}}, []int{0}, 2, 1},
	}
	for _, c := range cases {
		if _, err := rsa.ConditionAverage(c.states, c.conditions, c.units, c.bin); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestRDMHandComputed(t *testing.T) {
	// Three stimuli × three units: a = (1,2,3), b = (3,2,1), c = (1,3,2).
	// Centered: a (−1,0,1), b (1,0,−1), c (−1,1,0), each of squared norm 2.
	// r(a,b) = −2/2 = −1, r(a,c) = 1/2, r(b,c) = −1/2.
	// ‖a−b‖² = 8, ‖a−c‖² = 2, ‖b−c‖² = 6, divided by N = 3.
	resp := &rsa.Responses{Conditions: []int{0, 1, 2}, Bins: 1, Units: 3,
		Data: []float64{1, 2, 3, 3, 2, 1, 1, 3, 2}}
	cases := []struct {
		m    rsa.Metric
		want []float64
	}{
		{rsa.Correlation, []float64{2, 0.5, 1.5}},
		{rsa.SqEuclideanPerUnit, []float64{8.0 / 3, 2.0 / 3, 2}},
	}
	for _, c := range cases {
		got, err := rsa.RDM(resp, c.m)
		if err != nil {
			t.Fatal(err)
		}
		checkSlice(t, c.m.String(), got, c.want, 1e-14)
	}

	// Two units, three stimuli for the squared Euclidean metric:
	// (0,0), (1,1), (3,0): 2/2, 9/2, (4+1)/2.
	resp2 := &rsa.Responses{Conditions: []int{0, 1, 2}, Bins: 1, Units: 2, Data: []float64{0, 0, 1, 1, 3, 0}}
	got, err := rsa.RDM(resp2, rsa.SqEuclideanPerUnit)
	if err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "sqeuclid 2 units", got, []float64{1, 4.5, 2.5}, 1e-15)
	// Correlation across a constant pattern (0,0) is undefined.
	if _, err := rsa.RDM(resp2, rsa.Correlation); err == nil {
		t.Error("correlation distance of a constant pattern: no error")
	}
	if _, err := rsa.RDM(resp2, rsa.Metric(9)); err == nil {
		t.Error("unknown metric: no error")
	}
}

func TestSquareAndPairIndex(t *testing.T) {
	n := 5
	cond := make([]float64, rsa.Pairs(n))
	for k := range cond {
		cond[k] = float64(k)
	}
	s, err := rsa.Square(cond, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if s.At(i, i) != 0 {
			t.Errorf("diagonal %d = %v", i, s.At(i, i))
		}
		for j := range n {
			if i != j && s.At(i, j) != float64(rsa.PairIndex(n, i, j)) {
				t.Errorf("(%d,%d) = %v, PairIndex %d", i, j, s.At(i, j), rsa.PairIndex(n, i, j))
			}
		}
	}
}

func TestCrossnobisHandComputed(t *testing.T) {
	// Two folds, two stimuli, two units: fold differences d1 = (1,0),
	// d2 = (1,1); Σ_{k≠l} d_k·d_l = 2·1, / (K(K−1) = 2) / (N = 2) = 0.5.
	f1 := &rsa.Responses{Conditions: []int{0, 1}, Bins: 1, Units: 2, Data: []float64{1, 0, 0, 0}}
	f2 := &rsa.Responses{Conditions: []int{0, 1}, Bins: 1, Units: 2, Data: []float64{2, 1, 1, 0}}
	got, err := rsa.CrossnobisRDM([]*rsa.Responses{f1, f2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "crossnobis", got, []float64{0.5}, 1e-15)
	// With precision diag(2, 4): d1ᵀPd2 = 2, so 2·2/2/2 = 1.
	p := mat.NewSymDense(2, []float64{2, 0, 0, 4})
	got, err = rsa.CrossnobisRDM([]*rsa.Responses{f1, f2}, p)
	if err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "crossnobis P", got, []float64{1}, 1e-15)
	if _, err := rsa.CrossnobisRDM([]*rsa.Responses{f1}, nil); err == nil {
		t.Error("one fold: no error")
	}
}

// Crossnobis against an explicit loop over fold pairs, and its unbiasedness:
// on pure noise around known means, the average over many simulated data
// sets matches ‖μ_i − μ_j‖²/N while the plain squared distance is biased up.
func TestCrossnobisUnbiased(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const units, conds, reps, folds = 6, 3, 8, 4
	mu := randMatrix(rng, conds, units)
	sigma := 0.7
	var sumCV, sumPlain [3]float64
	const sets = 400
	for range sets {
		var states [][]float64
		var labels []int
		for c := range conds {
			for range reps {
				s := make([]float64, units)
				for u := range s {
					s[u] = mu.At(c, u) + sigma*rng.NormFloat64()
				}
				states = append(states, s)
				labels = append(labels, c)
			}
		}
		fs, err := rsa.ConditionAverageFolds(states, labels, units, 1, folds)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := rsa.CrossnobisRDM(fs, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Written-out double loop over k ≠ l.
		for p, ij := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
			want := 0.0
			for k := range folds {
				for l := range folds {
					if k == l {
						continue
					}
					for u := range units {
						want += (fs[k].Row(ij[0])[u] - fs[k].Row(ij[1])[u]) * (fs[l].Row(ij[0])[u] - fs[l].Row(ij[1])[u])
					}
				}
			}
			want /= folds * (folds - 1) * units
			if !near(cv[p], want, 1e-12) {
				t.Fatalf("pair %v: %v, loop %v", ij, cv[p], want)
			}
			sumCV[p] += cv[p]
		}
		mean, _ := rsa.ConditionAverage(states, labels, units, 1)
		plain, _ := rsa.RDM(mean, rsa.SqEuclideanPerUnit)
		for p := range plain {
			sumPlain[p] += plain[p]
		}
	}
	// Per-pair noise in the plain estimate: 2σ²/reps per unit = 0.1225.
	bias := 2 * sigma * sigma / reps
	for p, ij := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		truth := 0.0
		for u := range units {
			d := mu.At(ij[0], u) - mu.At(ij[1], u)
			truth += d * d / units
		}
		cv, plain := sumCV[p]/sets, sumPlain[p]/sets
		if !near(cv, truth, 0.05) {
			t.Errorf("pair %v: crossnobis mean %.4f, truth %.4f", ij, cv, truth)
		}
		if !near(plain, truth+bias, 0.05) {
			t.Errorf("pair %v: plain mean %.4f, truth+bias %.4f", ij, plain, truth+bias)
		}
	}
}

func TestNoisePrecision(t *testing.T) {
	// Two conditions, two units, one step, trials at mean ± residual: the
	// residuals (1,0),(−1,0),(0,2),(0,−2) give Σ̂ = diag(2, 8)/(4−2) = diag(1,4).
	states := [][]float64{{11, 0}, {9, 0}, {0, 7}, {0, 3}}
	labels := []int{0, 0, 1, 1}
	p, err := rsa.NoisePrecision(states, labels, 2, 1, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// Shrunk: 0.5·diag(1,4) + 0.5·(5/2)·I = diag(1.75, 3.25).
	want := []float64{1 / 1.75, 0, 0, 1 / 3.25}
	got := []float64{p.At(0, 0), p.At(0, 1), p.At(1, 0), p.At(1, 1)}
	checkSlice(t, "precision", got, want, 1e-14)
	if _, err := rsa.NoisePrecision(states, labels, 2, 1, 0); err == nil {
		t.Error("shrinkage 0: no error")
	}
}

func TestCompareHandComputed(t *testing.T) {
	// Tied data x = (1,2,2,3), y = (1,3,2,2). Pairs: (1,2) C, (1,3) C,
	// (1,4) C, (2,3) tie in x, (2,4) D, (3,4) tie in y: τ_a = (3−1)/6.
	// Ranks: x (1, 2.5, 2.5, 4), y (1, 4, 2.5, 2.5); centered (−1.5,0,0,1.5)
	// and (−1.5,1.5,0,0): r = 2.25/4.5 = 0.5.
	x, y := []float64{1, 2, 2, 3}, []float64{1, 3, 2, 2}
	cases := []struct {
		name string
		a, b []float64
		m    rsa.Method
		want float64
	}{
		{"kendall ties", x, y, rsa.KendallTauA, 1.0 / 3},
		{"spearman ties", x, y, rsa.Spearman, 0.5},
		{"kendall reversed", []float64{1, 2, 3}, []float64{3, 2, 1}, rsa.KendallTauA, -1},
		// τ_a, unlike τ_b, does not reach 1 with ties: (2 C of 3 pairs).
		{"kendall tie caps", []float64{1, 1, 2}, []float64{1, 2, 3}, rsa.KendallTauA, 2.0 / 3},
		{"spearman monotone", []float64{1, 2, 3, 4}, []float64{1, 8, 27, 64}, rsa.Spearman, 1},
		// Pearson of (1,2,3) and (2,4,7): 5/sqrt(2·114/9) = 15/sqrt(228).
		{"pearson", []float64{1, 2, 3}, []float64{2, 4, 7}, rsa.Pearson, 15 / math.Sqrt(228)},
		{"pearson affine", []float64{1, 5, 2}, []float64{-1, -9, -3}, rsa.Pearson, -1},
		{"cosine", []float64{1, 0, 1}, []float64{1, 1, 0}, rsa.Cosine, 0.5},
		{"cosine scale", []float64{1, 2, 3}, []float64{2, 4, 6}, rsa.Cosine, 1},
	}
	for _, c := range cases {
		got, err := rsa.Compare(c.a, c.b, c.m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !near(got, c.want, 1e-14) {
			t.Errorf("%s: got %.15g, want %.15g", c.name, got, c.want)
		}
	}
	if _, err := rsa.Compare([]float64{1, 1, 1}, []float64{1, 2, 3}, rsa.Pearson); err == nil {
		t.Error("Pearson with a constant RDM: no error")
	}
	if _, err := rsa.Compare([]float64{1, 2}, []float64{1, 2, 3}, rsa.Pearson); err == nil {
		t.Error("length mismatch: no error")
	}
}

func TestRanks(t *testing.T) {
	checkSlice(t, "ranks", rsa.Ranks([]float64{3, 1, 3, 2, 3}), []float64{4, 1, 4, 2, 4}, 0)
}

// Kendall τ_a against a brute-force definition on random data with many ties.
func TestKendallRandomTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, b := make([]float64, 40), make([]float64, 40)
	for i := range a {
		a[i], b[i] = float64(rng.IntN(5)), float64(rng.IntN(5))
	}
	c, d := 0, 0
	for i := range a {
		for j := range a {
			if i < j {
				p := (a[i] - a[j]) * (b[i] - b[j])
				if p > 0 {
					c++
				} else if p < 0 {
					d++
				}
			}
		}
	}
	got, _ := rsa.Compare(a, b, rsa.KendallTauA)
	if want := float64(c-d) / (40 * 39 / 2); !near(got, want, 1e-15) {
		t.Errorf("τ_a = %v, want %v", got, want)
	}
}

func TestCKAAndProcrustesInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][2]int{{16, 10}, {8, 20}} { // more samples than features, and fewer
		s, f := shape[0], shape[1]
		x := randMatrix(rng, s, f)
		q := randOrthogonal(rng, f)
		var rot mat.Dense
		rot.Mul(x, q)
		// Rotated, scaled by 3.5, translated, and zero-padded to f+3 features.
		y := mat.NewDense(s, f+3, nil)
		for i := range s {
			for j := range f {
				y.Set(i, j, 3.5*rot.At(i, j)+float64(j))
			}
		}
		cka, err := rsa.LinearCKA(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if !near(cka, 1, 1e-12) {
			t.Errorf("%v: CKA of a rotated copy = %.16g, want 1", shape, cka)
		}
		d, err := rsa.ProcrustesDistance(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if d > 1e-6 {
			t.Errorf("%v: Procrustes distance of a rotated copy = %g, want 0", shape, d)
		}
		ang, _ := rsa.ProcrustesAngle(x, y)
		if ang > 1e-6 {
			t.Errorf("%v: Procrustes angle of a rotated copy = %g, want 0", shape, ang)
		}

		// Isotropic scaling invariance against an unrelated Z.
		z := randMatrix(rng, s, 7)
		var x2 mat.Dense
		x2.Scale(-0.01, x)
		for _, fn := range []struct {
			name string
			f    func(a, b mat.Matrix) (float64, error)
		}{{"CKA", rsa.LinearCKA}, {"Procrustes", rsa.ProcrustesDistance}} {
			v1, _ := fn.f(x, z)
			v2, _ := fn.f(&x2, z)
			if !near(v1, v2, 1e-12) {
				t.Errorf("%v %s: %v for X, %v for −0.01·X", shape, fn.name, v1, v2)
			}
			if v1 < 1e-3 {
				t.Errorf("%v %s(X, Z) = %v: unrelated data look identical", shape, fn.name, v1)
			}
		}
	}
}

// colCenter returns X with column means removed, scaled to unit Frobenius norm.
func colCenter(x *mat.Dense, normalise bool) *mat.Dense {
	r, c := x.Dims()
	out := mat.DenseCopyOf(x)
	for j := range c {
		m := 0.0
		for i := range r {
			m += x.At(i, j)
		}
		for i := range r {
			out.Set(i, j, x.At(i, j)-m/float64(r))
		}
	}
	if normalise {
		out.Scale(1/mat.Norm(out, 2), out)
	}
	return out
}

// CKA and Procrustes against feature-space formulas: ‖YᵀX‖²/(‖XᵀX‖‖YᵀY‖)
// and the nuclear norm of X̃ᵀỸ from an SVD of that features × features
// matrix.
func TestCKAAndProcrustesAgainstFeatureSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][3]int{{12, 5, 9}, {10, 30, 4}, {6, 6, 6}} {
		x := randMatrix(rng, shape[0], shape[1])
		y := randMatrix(rng, shape[0], shape[2])
		// Correlate Y with X a little so the values are not near 0.
		for i := range shape[0] {
			y.Set(i, 0, y.At(i, 0)+2*x.At(i, 0))
		}
		xc, yc := colCenter(x, false), colCenter(y, false)
		var yx, xx, yy mat.Dense
		yx.Mul(yc.T(), xc)
		xx.Mul(xc.T(), xc)
		yy.Mul(yc.T(), yc)
		n := mat.Norm(&yx, 2)
		wantCKA := n * n / (mat.Norm(&xx, 2) * mat.Norm(&yy, 2))
		cka, err := rsa.LinearCKA(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if !near(cka, wantCKA, 1e-12) {
			t.Errorf("%v: CKA %.15g, feature space %.15g", shape, cka, wantCKA)
		}

		var cross mat.Dense
		cross.Mul(colCenter(x, true).T(), colCenter(y, true))
		var svd mat.SVD
		svd.Factorize(&cross, mat.SVDNone)
		nu := 0.0
		for _, v := range svd.Values(nil) {
			nu += v
		}
		got, err := rsa.ProcrustesNuclear(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, nu, 1e-12) {
			t.Errorf("%v: nuclear norm %.15g, feature-space SVD %.15g", shape, got, nu)
		}
		// d² = ‖X̃Q − Ỹ‖² at the optimal Q = UVᵀ from X̃ᵀỸ = U S Vᵀ.
		d, _ := rsa.ProcrustesDistance(x, y)
		if !near(d*d, 2-2*nu, 1e-12) {
			t.Errorf("%v: d² = %v, 2 − 2ν = %v", shape, d*d, 2-2*nu)
		}
	}
	if _, err := rsa.LinearCKA(mat.NewDense(3, 2, nil), mat.NewDense(4, 2, nil)); err == nil {
		t.Error("different sample counts: no error")
	}
	if _, err := rsa.LinearCKA(mat.NewDense(3, 2, nil), randMatrix(rng, 3, 2)); err == nil {
		t.Error("zero-variance X: no error")
	}
}

func TestClassicalMDSRecoversDistances(t *testing.T) {
	pts := [][2]float64{{0, 0}, {3, 0}, {0, 4}, {-1, 2}, {2, 5}, {1, -3}}
	n := len(pts)
	d := mat.NewSymDense(n, nil)
	dist := func(a, b []float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }
	for i := range n {
		for j := i; j < n; j++ {
			d.SetSym(i, j, dist(pts[i][:], pts[j][:]))
		}
	}
	res, err := rsa.ClassicalMDS(d, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for j := range n {
			got := dist(res.Coords.RawRowView(i), res.Coords.RawRowView(j))
			if !near(got, d.At(i, j), 1e-10) {
				t.Errorf("embedded distance (%d,%d) = %v, want %v", i, j, got, d.At(i, j))
			}
		}
	}
	for k, v := range res.Eigenvalues[2:] {
		if math.Abs(v) > 1e-10 {
			t.Errorf("eigenvalue %d = %v, want 0 for planar points", k+2, v)
		}
	}
	if res.NegativeFraction > 1e-12 {
		t.Errorf("NegativeFraction = %v for Euclidean distances", res.NegativeFraction)
	}
	// Asking for more dimensions than the data have leaves zero columns.
	res4, _ := rsa.ClassicalMDS(d, 4)
	for i := range n {
		for j := range n {
			got := math.Sqrt(sq(res4.Coords.RawRowView(i), res4.Coords.RawRowView(j)))
			if !near(got, d.At(i, j), 1e-7) {
				t.Errorf("4-D embedded distance (%d,%d) = %v, want %v", i, j, got, d.At(i, j))
			}
		}
	}

	// A non-Euclidean "distance" (triangle inequality violated) has a
	// negative eigenvalue, which is reported.
	bad := mat.NewSymDense(3, []float64{0, 1, 5, 1, 0, 1, 5, 1, 0})
	resBad, err := rsa.ClassicalMDS(bad, 2)
	if err != nil {
		t.Fatal(err)
	}
	if resBad.NegativeFraction <= 0 || resBad.Eigenvalues[2] >= 0 {
		t.Errorf("non-Euclidean D: eigenvalues %v, NegativeFraction %v", resBad.Eigenvalues, resBad.NegativeFraction)
	}
}

func sq(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

func TestSimilarityMatrixDeterministic(t *testing.T) {
	items := []float64{1, 2, 4, 8, 16}
	f := func(a, b float64) (float64, error) { return a*b + a + b, nil }
	s1, err := rsa.SimilarityMatrix(items, f, 3)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := rsa.SimilarityMatrix(items, f, 1)
	for i := range items {
		for j := range items {
			want, _ := f(items[i], items[j])
			if s1.At(i, j) != want || s2.At(i, j) != want {
				t.Errorf("(%d,%d): %v and %v, want %v", i, j, s1.At(i, j), s2.At(i, j), want)
			}
		}
	}
	errf := func(a, b float64) (float64, error) {
		if a == 4 && b == 8 {
			return 0, errTest
		}
		return 0, nil
	}
	if _, err := rsa.SimilarityMatrix(items, errf, 2); err == nil {
		t.Error("failing pair: no error")
	}
}

var errTest = testError("test failure")

type testError string

func (e testError) Error() string { return string(e) }

// randomSym returns a symmetric matrix with iid N(0,1) off-diagonal entries
// plus shift on same-label pairs.
func randomSym(rng *rand.Rand, labels []int, shift float64) *mat.SymDense {
	n := len(labels)
	s := mat.NewSymDense(n, nil)
	for i := range n {
		s.SetSym(i, i, 1)
		for j := i + 1; j < n; j++ {
			v := rng.NormFloat64()
			if labels[i] == labels[j] {
				v += shift
			}
			s.SetSym(i, j, v)
		}
	}
	return s
}

// Under the null (exchangeable items) p-values are uniform: Kolmogorov–
// Smirnov statistic of 200 p-values against U(0,1) below the 1% critical
// value 1.628/√200 ≈ 0.115. With a clear group effect p is at its floor.
func TestPermutationTestCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	labels := []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}
	const sets, perms = 200, 99
	ps := make([]float64, sets)
	for k := range ps {
		res, err := rsa.PermutationTest(randomSym(rng, labels, 0), labels, perms, rng)
		if err != nil {
			t.Fatal(err)
		}
		ps[k] = res.P
	}
	sort.Float64s(ps)
	ks := 0.0
	for i, p := range ps {
		// The empirical CDF jumps at p from i/n to (i+1)/n.
		ks = max(ks, math.Abs(float64(i+1)/sets-p), math.Abs(p-float64(i)/sets))
	}
	if crit := 1.628 / math.Sqrt(sets); ks > crit {
		t.Errorf("KS statistic %.4f above the 1%% critical value %.4f: p-values not uniform under the null", ks, crit)
	}
	t.Logf("null KS statistic %.4f", ks)

	res, err := rsa.PermutationTest(randomSym(rng, labels, 2), labels, 999, rng)
	if err != nil {
		t.Fatal(err)
	}
	if res.P >= 0.01 || res.Observed <= 1 {
		t.Errorf("clear group effect: p = %v, observed %v", res.P, res.Observed)
	}
	if !near(res.Observed, res.Within-res.Between, 1e-15) {
		t.Errorf("Observed %v ≠ Within − Between %v", res.Observed, res.Within-res.Between)
	}
}

func TestPermutationTestHandComputed(t *testing.T) {
	// Four items in groups {0,1}, {2,3}: within pairs (0,1)=5, (2,3)=3, mean 4;
	// between pairs 1, 2, 0, 1, mean 1; observed 3. The other two partitions
	// into pairs give within means (1+1)/2 = 1 and (2+0)/2 = 1, both below 3,
	// so p is (#shuffles giving the observed partition + 1)/(perms + 1).
	s := mat.NewSymDense(4, []float64{
		0, 5, 1, 2,
		5, 0, 0, 1,
		1, 0, 0, 3,
		2, 1, 3, 0,
	})
	res, err := rsa.PermutationTest(s, []int{7, 7, 9, 9}, 3000, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Within != 4 || res.Between != 1 || res.Observed != 3 {
		t.Errorf("within %v between %v observed %v", res.Within, res.Between, res.Observed)
	}
	// A random shuffle reproduces the partition with probability 1/3.
	if !near(res.P, 1.0/3, 0.03) {
		t.Errorf("p = %v, want ≈ 1/3", res.P)
	}
	if _, err := rsa.PermutationTest(s, []int{1, 1, 1, 1}, 10, rand.New(rand.NewPCG(1, 2))); err == nil {
		t.Error("one group: no error")
	}
}

// The prepared all-pairs versions agree with the pairwise functions.
func TestAllPairsMatchPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var rdms [][]float64
	var xs []mat.Matrix
	for k := range 5 {
		x := randMatrix(rng, 9, 4+k)
		xs = append(xs, x)
		r, err := rsa.RDM(&rsa.Responses{Conditions: []int{0, 1, 2}, Bins: 3, Units: 4 + k, Data: x.RawMatrix().Data}, rsa.SqEuclideanPerUnit)
		if err != nil {
			t.Fatal(err)
		}
		for i := range r {
			r[i] = math.Round(r[i] * 2) // coarse values give ties
		}
		rdms = append(rdms, r)
	}
	for _, m := range []rsa.Method{rsa.Spearman, rsa.KendallTauA, rsa.Pearson, rsa.Cosine} {
		all, err := rsa.CompareAll(rdms, m, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rdms {
			for j := range rdms {
				want, _ := rsa.Compare(rdms[i], rdms[j], m)
				if !near(all.At(i, j), want, 1e-12) {
					t.Errorf("%v (%d,%d): all-pairs %v, pairwise %v", m, i, j, all.At(i, j), want)
				}
			}
		}
	}
	pairwise := []struct {
		name string
		all  func() (*mat.SymDense, error)
		f    func(a, b mat.Matrix) (float64, error)
	}{
		{"cka", func() (*mat.SymDense, error) { return rsa.LinearCKAAll(xs, 2) }, rsa.LinearCKA},
		{"procrustes", func() (*mat.SymDense, error) { return rsa.ProcrustesAll(xs, false, 2) }, rsa.ProcrustesDistance},
		{"angle", func() (*mat.SymDense, error) { return rsa.ProcrustesAll(xs, true, 2) }, rsa.ProcrustesAngle},
	}
	for _, c := range pairwise {
		all, err := c.all()
		if err != nil {
			t.Fatal(err)
		}
		for i := range xs {
			for j := range xs {
				want, _ := c.f(xs[i], xs[j])
				if !near(all.At(i, j), want, 1e-12) {
					t.Errorf("%s (%d,%d): all-pairs %v, pairwise %v", c.name, i, j, all.At(i, j), want)
				}
			}
		}
	}
}
