package kern

import (
	"fmt"
	"math"
)

// Tanh sets dst[i] = tanh(src[i]) for i < len(src). dst may be src itself
// but must not otherwise overlap it. It panics if dst is shorter than src.
//
// The result is the same bit for bit on every machine: the AVX2/FMA kernel
// (4 values per instruction) and the portable Go loop perform the same IEEE
// operations in the same order, the Go loop using math.FMA where the
// assembly fuses a multiply and an add and explicit conversions where it
// does not, so that no compiler may fuse them.
//
// # Algorithm
//
// With z = |x|:
//
//   - z < 0.625: the rational approximation of Cephes, as in math.Tanh:
//     z + z·s·P(s)/Q(s) with s = z², P of degree 2 and Q of degree 3,
//     evaluated with separate multiplies and adds in math.Tanh's order, so
//     that these values equal math.Tanh's on amd64 bit for bit.
//   - z ≥ 0.625: 1 − 2/(e^{2z'} + 1) with z' = min(z, 20), where
//     e^y = 2^k·p(r), k = round(y/ln 2), r = y − k·ln 2 in two fused steps
//     (ln 2 split into its double and the remainder), and p the Taylor
//     polynomial of degree 13, exact to 5e-18 for |r| ≤ ln 2 / 2, in
//     Horner form with fused multiply-adds. Above z = 19.06 the result
//     rounds to 1, so clamping at 20 saturates without a branch.
//
// The sign is copied from x at the end (tanh is odd and rounding to
// nearest is symmetric), so Tanh(−0) = −0, Tanh(±Inf) = ±1 and subnormal x
// give x; a NaN is returned unchanged.
//
// # Accuracy
//
// Against math.Tanh the result differs by at most TanhMaxULP units in the
// last place over the whole float64 range (TestTanhAccuracy sweeps it); for
// |x| < 0.625, and for |x| ≥ 19.1, it is identical.
func Tanh(dst, src []float64) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("kern: len(dst)=%d is less than len(src)=%d", len(dst), len(src)))
	}
	tanhSlice(defaultImpl, dst[:len(src)], src)
}

// TanhMaxULP bounds the distance, in units in the last place, between
// Tanh's values and math.Tanh's for every float64 input.
const TanhMaxULP = 2

// tanhSlice is Tanh with the implementation im, for len(dst) == len(src).
func tanhSlice(im impl, dst, src []float64) {
	if im == implAVX512 {
		n8 := len(src) &^ 7
		if n8 > 0 {
			tanhAVX512(dst[:n8], src[:n8])
		}
		dst, src = dst[n8:], src[n8:]
	}
	if im >= implAVX2 {
		n4 := len(src) &^ 3
		if n4 > 0 {
			tanhAVX2(dst[:n4], src[:n4])
		}
		if r := len(src) - n4; r > 0 {
			// The last 1–3 values go through the kernel too, padded with
			// zeros: lanes are independent, and a vector call is cheaper
			// than tanh1 on a few values (N = 30 leaves 2 at every step).
			var buf [4]float64
			copy(buf[:], src[n4:])
			tanhAVX2(buf[:], buf[:])
			copy(dst[n4:len(src)], buf[:r])
		}
		return
	}
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = tanh1(x)
	}
}

// Constants of the tanh kernel, shared by tanh1 and (through tanhTab) the
// assembly.
const (
	tanhSmall = 0.625 // below: the rational branch
	tanhZMax  = 20.0  // the argument is clamped here; tanh(z) rounds to 1 from 19.06

	// Cephes' (and math.Tanh's) rational approximation on [0, 0.625).
	tanhP0 = -9.64399179425052238628e-1
	tanhP1 = -9.92877231001918586564e1
	tanhP2 = -1.61468768441708447952e3
	tanhQ0 = 1.12811678491632931402e2
	tanhQ1 = 2.23548839060100448583e3
	tanhQ2 = 4.84406305325125486048e3

	expLog2e   = 1.44269504088896340735992468100189213742664595415299 // 1/ln 2
	expShifter = 0x1.8p52                                             // adding it rounds |v| < 2^51 to an integer, held in the low mantissa bits
	expOneBits = 0x3ff0000000000000                                   // the bits of 1.0: 2^k has the bits (k << 52) + expOneBits
	expLn2Hi   = 0x1.62e42fefa39efp-1                                 // ln 2 rounded to a double
	expLn2Lo   = 0x1.abc9e3b39803fp-56                                // ln 2 − expLn2Hi, rounded
)

// expC holds 1/n! for n = 0…13, the Taylor coefficients of e^r.
var expC = [14]float64{
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
	1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
}

// tanh1 is the portable kernel for one value, operation for operation the
// assembly's lane (kern_amd64.s); see Tanh.
func tanh1(x float64) float64 {
	if x != x {
		return x
	}
	z := math.Abs(x)
	var t float64
	if z < tanhSmall {
		s := float64(z * z)
		p := float64(float64(float64(tanhP0*s)+tanhP1)*s) + tanhP2
		q := s + tanhQ0
		q = float64(q*s) + tanhQ1
		q = float64(q*s) + tanhQ2
		num := float64(float64(z*s) * p)
		t = z + num/q
	} else {
		zc := z
		if zc > tanhZMax {
			zc = tanhZMax
		}
		y := zc + zc
		kb := float64(y*expLog2e) + expShifter
		scale := math.Float64frombits(math.Float64bits(kb)<<52 + expOneBits)
		k := kb - expShifter
		r := math.FMA(-k, expLn2Hi, y)
		r = math.FMA(-k, expLn2Lo, r)
		p := expC[13]
		for n := 12; n >= 0; n-- {
			p = math.FMA(p, r, expC[n])
		}
		s := float64(p * scale)
		t = 1 - 2/(s+1)
	}
	return math.Copysign(t, x)
}

// Rows of tanhTab, the constants of the assembly kernel, each repeated in
// the 4 lanes of a vector. kern_amd64.s addresses them by these indices
// times 32 (the TAB_ macros there).
const (
	tabAbs = iota
	tabSign
	tabSmall
	tabP0
	tabP1
	tabP2
	tabQ0
	tabQ1
	tabQ2
	tabZMax
	tabLog2e
	tabShifter
	tabOneBits
	tabLn2Hi
	tabLn2Lo
	tabOne
	tabTwo
	tabExp0 // 1/0! … 1/13! in the next 14 rows
	tabLen  = tabExp0 + len(expC)
)

// tanhTab is filled once from the constants above and never written again.
var tanhTab = func() (tab [tabLen][4]uint64) {
	set := func(row int, bits uint64) {
		tab[row] = [4]uint64{bits, bits, bits, bits}
	}
	f := math.Float64bits
	set(tabAbs, 1<<63-1)
	set(tabSign, 1<<63)
	set(tabSmall, f(tanhSmall))
	set(tabP0, f(tanhP0))
	set(tabP1, f(tanhP1))
	set(tabP2, f(tanhP2))
	set(tabQ0, f(tanhQ0))
	set(tabQ1, f(tanhQ1))
	set(tabQ2, f(tanhQ2))
	set(tabZMax, f(tanhZMax))
	set(tabLog2e, f(expLog2e))
	set(tabShifter, f(expShifter))
	set(tabOneBits, expOneBits)
	set(tabLn2Hi, f(expLn2Hi))
	set(tabLn2Lo, f(expLn2Lo))
	set(tabOne, f(1))
	set(tabTwo, f(2))
	for n, c := range expC {
		set(tabExp0+n, f(c))
	}
	return tab
}()

// TanhExactULP bounds the error of Tanh, in units in the last place,
// against tanh computed exactly (TestTanhAgainstExact).
const TanhExactULP = 2
