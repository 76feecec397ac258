package stats_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"rulescape/core/stats"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol || (math.IsNaN(a) && math.IsNaN(b)) }

// TestQuantileNumPy checks Quantile against numpy.quantile's (default,
// method="linear") outputs, worked out by hand from h = (n−1)p.
func TestQuantileNumPy(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		// np.quantile([1, 2, 3, 4], [.25, .5, .75]) = [1.75, 2.5, 3.25]
		{"q25 of four", []float64{4, 1, 3, 2}, 0.25, 1.75},
		{"median of four", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"q75 of four", []float64{4, 1, 3, 2}, 0.75, 3.25},
		{"median odd", []float64{3, 1, 2}, 0.5, 2},
		// np.quantile(np.arange(1, 11), 0.9) = 9.1
		{"p90 of 1…10", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.9, 9.1},
		// np.percentile([15, 20, 35, 40, 50], 40) = 29.0
		{"p40 of five", []float64{15, 20, 35, 40, 50}, 0.4, 29},
		// np.quantile([7, 15, 36, 39, 40, 41], 0.25) = 20.25
		{"q25 of six", []float64{41, 7, 40, 15, 39, 36}, 0.25, 20.25},
		// np.quantile([0, 10, 20, 30, 40], 0.1) = 4.0
		{"p10 of five", []float64{40, 0, 20, 10, 30}, 0.1, 4},
		{"max", []float64{5, 7}, 1, 7},
		{"min", []float64{5, 7}, 0, 5},
		{"one value", []float64{9}, 0.25, 9},
		{"NaN left out", []float64{nan, 1, nan, 3}, 0.5, 2},
		{"all NaN", []float64{nan}, 0.5, nan},
		{"empty", nil, 0.5, nan},
		{"p below 0", []float64{5, 7}, -0.5, 5},
		{"p above 1", []float64{5, 7}, 2, 7},
		{"p NaN", []float64{5, 7}, nan, nan},
		// np.quantile([1, 2, np.inf], 0.5) = 2.0 (an order statistic; not 2 + 0·∞)
		{"median beside +Inf", []float64{1, math.Inf(1), 2}, 0.5, 2},
		{"median beside -Inf", []float64{math.Inf(-1), 2, 3}, 0.5, 2},
	} {
		xs := slices.Clone(c.xs)
		if got := stats.Quantile(xs, c.p); !near(got, c.want, 1e-12) {
			t.Errorf("%s: Quantile(%v, %v) = %v, want %v", c.name, c.xs, c.p, got, c.want)
		}
		if !slices.EqualFunc(xs, c.xs, func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }) {
			t.Errorf("%s: Quantile modified its input: %v", c.name, xs)
		}
	}
}

// TestQuantileIsNotGonumLinInterp documents why Quantile exists: gonum's
// stat.Quantile with LinInterp is Hyndman & Fan type 4 (p·n), which gives
// another first quartile of 1, 2, 3, 4 than R and NumPy.
func TestQuantileIsNotGonumLinInterp(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	g := stat.Quantile(0.25, stat.LinInterp, xs, nil)
	if q := stats.Quantile(xs, 0.25); q != 1.75 || g == q {
		t.Errorf("Quantile = %v, gonum LinInterp = %v: want 1.75 and something else", q, g)
	}
}

// TestPCAClosedForm: points spread along (1, 1, 0)/√2 with a smaller
// spread along (0, 0, 1), around (1, 2, 3). The axes, variances and
// projections are known in closed form.
func TestPCAClosedForm(t *testing.T) {
	s := 1 / math.Sqrt2
	along := []float64{-2, -1, 0, 1, 2} // coordinate on axis 1: variance 10/4 = 2.5
	off := []float64{0.5, -0.5, 0, -0.5, 0.5}
	var x [][]float64
	for i := range along {
		x = append(x, []float64{1 + along[i]*s, 2 + along[i]*s, 3 + off[i]})
	}
	p, err := stats.FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for j, m := range []float64{1, 2, 3} {
		if !near(p.Mean[j], m, 1e-12) {
			t.Errorf("mean %v, want [1 2 3]", p.Mean)
		}
	}
	// Σ off² = 1, /(n−1) = 0.25; the total variance is 2.75.
	if len(p.Variance) != 2 || !near(p.Variance[0], 2.5, 1e-12) || !near(p.Variance[1], 0.25, 1e-12) {
		t.Errorf("variances %v, want [2.5 0.25]", p.Variance)
	}
	if !near(p.Explained[0], 2.5/2.75, 1e-12) || !near(p.Explained[1], 0.25/2.75, 1e-12) {
		t.Errorf("explained %v, want [%v %v]", p.Explained, 2.5/2.75, 0.25/2.75)
	}
	// The largest-magnitude entry of each axis is positive (a tie on axis
	// 1 goes to the first entry).
	for c, w := range [][]float64{{s, s, 0}, {0, 0, 1}} {
		for j := range w {
			if !near(p.Axes[c][j], w[j], 1e-9) {
				t.Errorf("axis %d = %v, want %v", c, p.Axes[c], w)
				break
			}
		}
	}
	for i := range x {
		got := p.Project(x[i])
		if !near(got[0], along[i], 1e-9) || !near(got[1], off[i], 1e-9) {
			t.Errorf("point %d projects to %v, want [%v %v]", i, got, along[i], off[i])
		}
	}
}

func TestPCARejects(t *testing.T) {
	for name, x := range map[string][][]float64{
		"one point":        {{1, 2, 3}},
		"no coordinates":   {{}, {}},
		"ragged":           {{1, 2}, {1}},
		"no points at all": nil,
	} {
		if _, err := stats.FitPCA(x, 2); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := stats.FitPCA([][]float64{{1}, {2}}, 0); err == nil {
		t.Error("no axes: no error")
	}
}

// The PCA agrees with an eigen-decomposition of the covariance matrix
// written out with loops.
func TestPCAMatchesCovarianceEigen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, samples = 5, 200
	mix := make([]float64, n*n)
	for i := range mix {
		mix[i] = rng.NormFloat64()
	}
	states := make([][]float64, samples)
	for s := range states {
		z := make([]float64, n)
		for i := range z {
			z[i] = rng.NormFloat64() * float64(n-i)
		}
		x := make([]float64, n)
		for i := range n {
			x[i] = 3
			for j := range n {
				x[i] += mix[i*n+j] * z[j]
			}
		}
		states[s] = x
	}
	p, err := stats.FitPCA(states, 3)
	if err != nil {
		t.Fatal(err)
	}
	mean := make([]float64, n)
	for _, x := range states {
		for i := range n {
			mean[i] += x[i] / samples
		}
	}
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s := 0.0
			for _, x := range states {
				s += (x[i] - mean[i]) * (x[j] - mean[j])
			}
			cov.SetSym(i, j, s/(samples-1))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		t.Fatal("eigen-decomposition failed")
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	total := 0.0
	for _, v := range vals {
		total += v
	}
	for a := range 3 {
		k := n - 1 - a
		if math.Abs(p.Variance[a]-vals[k]) > 1e-9*vals[k] {
			t.Errorf("axis %d: variance %v, want %v", a, p.Variance[a], vals[k])
		}
		if math.Abs(p.Explained[a]-vals[k]/total) > 1e-12 {
			t.Errorf("axis %d: explained %v, want %v", a, p.Explained[a], vals[k]/total)
		}
		dot := 0.0
		for i := range n {
			dot += p.Axes[a][i] * vecs.At(i, k)
		}
		if math.Abs(math.Abs(dot)-1) > 1e-9 {
			t.Errorf("axis %d: |cos| with the eigenvector = %v, want 1", a, math.Abs(dot))
		}
	}
	// Projection: coordinates of the mean are zero, of mean + axis 1 are e1.
	x := slices.Clone(mean)
	for i := range n {
		x[i] += 2 * p.Axes[1][i]
	}
	c := p.Project(x)
	if math.Abs(c[0]) > 1e-12 || math.Abs(c[1]-2) > 1e-12 || math.Abs(c[2]) > 1e-12 {
		t.Errorf("projection of mean + 2·axis₁ = %v, want [0 2 0]", c)
	}
}
