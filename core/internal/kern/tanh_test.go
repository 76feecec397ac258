package kern

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// ulpDist returns the number of float64 values between a and b (0 when they
// are the same value, counting +0 and −0 as one), or MaxUint64 when exactly
// one is NaN.
func ulpDist(a, b float64) uint64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		if math.IsNaN(a) && math.IsNaN(b) {
			return 0
		}
		return math.MaxUint64
	}
	// Map the bits to integers ordered like the values.
	ord := func(v float64) int64 {
		u := int64(math.Float64bits(v))
		if u < 0 {
			u = math.MinInt64 - u
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

// tanhInputs returns the test points: special values, dense sweeps near 0,
// around the branch point 0.625 and the saturation at 19.06, subnormals,
// every binade of both signs, and random values.
func tanhInputs() []float64 {
	xs := []float64{
		0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff0000000000001), // NaNs with payloads
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 0x1p-1022, 0x1p-1023, -0x1p-1030,
		math.MaxFloat64, -math.MaxFloat64, 0.625, -0.625, 20, -20, 19.06, 44, 88, 710, 1e300,
	}
	// Dense sweeps: every float within 2000 steps of the points, and even
	// spacing over intervals.
	for _, c := range []float64{0.625, 19.0615, 20, 0x1p-26, 0x1p-27, 1, 0.5, 1e-8} {
		for _, s := range []float64{c, -c} {
			v, w := s, s
			for range 2000 {
				v = math.Nextafter(v, math.Inf(1))
				w = math.Nextafter(w, math.Inf(-1))
				xs = append(xs, v, w)
			}
		}
	}
	for _, iv := range [][3]float64{{-1, 1, 1e-5}, {-25, 25, 1e-4}, {0.6, 0.65, 1e-7}, {18.5, 19.5, 1e-6}} {
		for x := iv[0]; x <= iv[1]; x += iv[2] {
			xs = append(xs, x)
		}
	}
	// Every binade, 64 random mantissas each, both signs (subnormals included).
	rng := rand.New(rand.NewPCG(11, 12))
	for e := uint64(0); e < 2047; e++ {
		for range 64 {
			bits := e<<52 | rng.Uint64()>>12
			xs = append(xs, math.Float64frombits(bits), -math.Float64frombits(bits))
		}
	}
	for range 200000 {
		xs = append(xs, 8*rng.NormFloat64())
	}
	return xs
}

// TestTanhAccuracy sweeps the float64 range against math.Tanh and asserts
// the documented bound TanhMaxULP, exact special values and identical
// values in the rational branch and in saturation.
func TestTanhAccuracy(t *testing.T) {
	xs := tanhInputs()
	for _, im := range impls() {
		got := make([]float64, len(xs))
		tanhSlice(im, got, xs)
		var worst uint64
		var worstX float64
		hist := map[uint64]int{}
		for i, x := range xs {
			want := math.Tanh(x)
			d := ulpDist(got[i], want)
			hist[d]++
			if d > worst {
				worst, worstX = d, x
			}
			if d > TanhMaxULP {
				t.Errorf("%s: tanh(%v) = %v, math.Tanh gives %v: %d ulp apart, bound %d", im, x, got[i], want, d, TanhMaxULP)
			}
			if z := math.Abs(x); (z < tanhSmall || z >= 19.1) && d != 0 {
				t.Errorf("%s: tanh(%v) = %v, math.Tanh gives %v: must be identical for |x| < 0.625 and |x| ≥ 19.1", im, x, got[i], want)
			}
			if !math.IsNaN(x) && math.Signbit(got[i]) != math.Signbit(x) {
				t.Errorf("%s: tanh(%v) = %v has the wrong sign", im, x, got[i])
			}
			if math.IsNaN(x) && math.Float64bits(got[i]) != math.Float64bits(x) {
				t.Errorf("%s: tanh(NaN %#x) = %#x: a NaN must come back unchanged", im, math.Float64bits(x), math.Float64bits(got[i]))
			}
		}
		t.Logf("%s: %d inputs, worst %d ulp at x = %v; ulp histogram %v", im, len(xs), worst, worstX, hist)
	}
}

// TestTanhSpecial pins the special cases.
func TestTanhSpecial(t *testing.T) {
	negZero := math.Copysign(0, -1)
	cases := []struct{ x, want float64 }{
		{0, 0}, {negZero, negZero}, {math.Inf(1), 1}, {math.Inf(-1), -1},
		{math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64}, {-0x1p-1000, -0x1p-1000},
		{25, 1}, {-1e300, -1}, {19.1, 1},
	}
	for _, im := range impls() {
		// Pad to 4 values so the assembly lanes see each case too.
		for _, c := range cases {
			src := []float64{c.x, c.x, c.x, c.x, c.x}
			dst := make([]float64, len(src))
			tanhSlice(im, dst, src)
			for i, v := range dst {
				if math.Float64bits(v) != math.Float64bits(c.want) {
					t.Errorf("%s: tanh(%v)[%d] = %v, want %v", im, c.x, i, v, c.want)
				}
			}
		}
		src := []float64{math.NaN(), 1, math.NaN(), -1, math.NaN()}
		tanhSlice(im, src, src) // in place
		if !math.IsNaN(src[0]) || !math.IsNaN(src[2]) || !math.IsNaN(src[4]) || src[1] != math.Tanh(1) || src[3] != -src[1] {
			t.Errorf("%s: tanh in place of NaN, 1, NaN, −1, NaN = %v", im, src)
		}
	}
}

// TestTanhKernelsAgree checks that the assembly and the portable Go code
// give the same bits for every input and every slice length (the tail of
// fewer than 4 values goes through the Go code), so that results do not
// depend on the CPU.
func TestTanhKernelsAgree(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2/FMA on this CPU: only the portable kernel runs here (TestTanhAccuracy covers it)")
	}
	xs := tanhInputs()
	a, b := make([]float64, len(xs)), make([]float64, len(xs))
	tanhSlice(implGo, a, xs)
	diff := 0
	for _, im := range impls()[1:] {
		tanhSlice(im, b, xs)
		for i := range xs {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				if diff++; diff <= 10 {
					t.Errorf("tanh(%v): Go %v (%#x), %s %v (%#x)", xs[i], a[i], math.Float64bits(a[i]), im, b[i], math.Float64bits(b[i]))
				}
			}
		}
	}
	if diff > 0 {
		t.Errorf("%d of %d values differ between the kernels", diff, len(xs))
	}
	// Every length and offset: lane position must not matter.
	for n := 0; n <= 13; n++ {
		for off := 0; off < 4; off++ {
			src := xs[1000+off : 1000+off+n]
			want := make([]float64, n+1)
			got := make([]float64, n+1)
			want[n], got[n] = sentinel, sentinel
			tanhSlice(implGo, want[:n], src)
			Tanh(got, src)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("n=%d off=%d: dst[%d] = %v, want %v", n, off, i, got[i], want[i])
				}
			}
		}
	}
}

func TestTanhPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Tanh with a short dst: want a panic")
		}
	}()
	Tanh(make([]float64, 3), make([]float64, 4))
}

// FuzzTanh checks both kernels against each other and against math.Tanh.
func FuzzTanh(f *testing.F) {
	for _, x := range []float64{0, 0.625, 19.06, -3, math.Inf(1), 1e-300} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		src := []float64{x, -x, x / 2, x * 3}
		for _, im := range impls() {
			dst := make([]float64, len(src))
			tanhSlice(im, dst, src)
			for i, v := range dst {
				if want := math.Tanh(src[i]); ulpDist(v, want) > TanhMaxULP {
					t.Fatalf("%s: tanh(%v) = %v, math.Tanh %v", im, src[i], v, want)
				}
				if g := tanh1(src[i]); math.Float64bits(g) != math.Float64bits(v) {
					t.Fatalf("%s: tanh(%v) = %#x, portable kernel %#x", im, src[i], math.Float64bits(v), math.Float64bits(g))
				}
			}
		}
	})
}

// exactTanh returns tanh(x) for 1e-9 ≤ |x| ≤ 30 to about 300 bits, as
// (e^{2x} − 1)/(e^{2x} + 1) with e^{2|x|} summed as its Taylor series.
func exactTanh(x float64) *big.Float {
	const prec = 320
	y := new(big.Float).SetPrec(prec).SetFloat64(2 * math.Abs(x))
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -prec)
	for n := int64(1); ; n++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Quo(term, sum).Cmp(eps) < 0 {
			break
		}
	}
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	num := new(big.Float).SetPrec(prec).Sub(sum, one)
	den := new(big.Float).SetPrec(prec).Add(sum, one)
	t := num.Quo(num, den)
	if x < 0 {
		t.Neg(t)
	}
	return t
}

// ulpErr returns |v − exact| in units of the last place of exact.
func ulpErr(v float64, exact *big.Float) float64 {
	e, _ := exact.Float64()
	ulp := math.Nextafter(math.Abs(e), math.Inf(1)) - math.Abs(e)
	d := new(big.Float).SetPrec(exact.Prec()).SetFloat64(v)
	d.Sub(d, exact)
	f, _ := d.Float64()
	return math.Abs(f) / ulp
}

// TestTanhAgainstExact measures the error of Tanh and of math.Tanh against
// tanh computed to 300 bits, on points dense around the branch point and
// spread over [1e-9, 25]: Tanh must stay within TanhExactULP.
func TestTanhAgainstExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var xs []float64
	for range 3000 {
		xs = append(xs, 0.625+0.05*rng.Float64(), 0.6+0.05*rng.Float64(), 25*rng.Float64(), math.Exp(-20*rng.Float64()))
	}
	for i := range xs {
		if i%2 == 1 {
			xs[i] = -xs[i]
		}
	}
	got := make([]float64, len(xs))
	Tanh(got, xs)
	var worst, worstStd float64
	for i, x := range xs {
		ex := exactTanh(x)
		e, es := ulpErr(got[i], ex), ulpErr(math.Tanh(x), ex)
		worst, worstStd = max(worst, e), max(worstStd, es)
		if e > TanhExactULP {
			t.Errorf("tanh(%v) = %v: %.2f ulp from the exact value, bound %v", x, got[i], e, TanhExactULP)
		}
	}
	t.Logf("%d points: Tanh within %.3f ulp of exact, math.Tanh within %.3f ulp", len(xs), worst, worstStd)
}
