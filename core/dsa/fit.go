package dsa

import (
	"cmp"
	"fmt"
	"math"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Settings are the delay embedding and rank of Fit.
type Settings struct {
	Delays   int // n_delays: delay vectors stack this many states (≥ 1)
	Interval int // delay_interval: steps between stacked states (≥ 1)
	Rank     int // rank: dimension r of the operator (1 ≤ r ≤ Delays·units)
}

// DefaultSettings are 10 delays one step apart and rank 10.
func DefaultSettings() Settings { return Settings{Delays: 10, Interval: 1, Rank: 10} }

// Span returns the steps a delay vector covers, (Delays−1)·Interval + 1.
func (s Settings) Span() int { return (s.Delays-1)*s.Interval + 1 }

// Validate checks s against trajectories of units units and steps steps.
// steps ≤ 0 or units ≤ 0 skip the checks that need them.
func (s Settings) Validate(units, steps int) error {
	if s.Delays < 1 {
		return fmt.Errorf("dsa: n_delays = %d: must be at least 1 (1 = no delay embedding)", s.Delays)
	}
	if s.Interval < 1 {
		return fmt.Errorf("dsa: delay_interval = %d: must be at least 1 step", s.Interval)
	}
	if s.Rank < 1 {
		return fmt.Errorf("dsa: rank = %d: must be at least 1", s.Rank)
	}
	if steps > 0 && s.Span()+1 > steps {
		return fmt.Errorf("dsa: n_delays = %d with delay_interval = %d spans %d steps, but trials have %d: need (n_delays−1)·delay_interval ≤ %d (trial length − 2); lower n_delays or delay_interval",
			s.Delays, s.Interval, s.Span(), steps, steps-2)
	}
	if units > 0 && s.Rank > s.Delays*units {
		return fmt.Errorf("dsa: rank = %d exceeds the embedding dimension n_delays × units = %d × %d = %d: lower rank or raise n_delays",
			s.Rank, s.Delays, units, s.Delays*units)
	}
	return nil
}

// Operator is the linear operator Fit finds for one network.
type Operator struct {
	Rank int       // r
	A    []float64 // r × r, row-major: z_{t+1} ≈ A z_t in principal delay coordinates
	// Effective is the number of principal directions with variance
	// (singular value > 1e-10 of the largest); rows and columns of A past
	// it are zero.
	Effective int
	// Singular holds the top r singular values of the centred Hankel
	// matrix, descending (zero past the data's rank).
	Singular []float64
	// Eigen holds A's r eigenvalues, sorted by descending modulus, then by
	// ascending argument.
	Eigen []complex128
	// R2 is the fraction of the variance of z_{t+1} the affine one-step
	// fit explains, 1 − ‖Z₊ − Ẑ₊‖²_F / ‖Z₊ − mean‖²_F (NaN without
	// variance).
	R2 float64
}

// relTol is the relative singular value below which a principal direction
// carries no variance.
const relTol = 1e-10

// Fit fits the operator of one network from its condition trajectories:
// trajectories[c] holds condition c's T states of units units, row-major
// (T·units values; every condition the same T). See the package comment for
// the embedding and the fit.
func Fit(trajectories [][]float64, units int, s Settings) (*Operator, error) {
	if len(trajectories) == 0 {
		return nil, fmt.Errorf("dsa: no trajectories: pass at least one condition")
	}
	if units <= 0 {
		return nil, fmt.Errorf("dsa: units = %d: must be positive", units)
	}
	n0 := len(trajectories[0])
	if n0 == 0 || n0%units != 0 {
		return nil, fmt.Errorf("dsa: trajectory 0 has %d values: want a positive multiple of units = %d", n0, units)
	}
	for c, tr := range trajectories {
		if len(tr) != n0 {
			return nil, fmt.Errorf("dsa: trajectory %d has %d values, trajectory 0 has %d: all conditions need the same length", c, len(tr), n0)
		}
		for _, v := range tr {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("dsa: trajectory %d holds %v: states must be finite (did the network diverge?)", c, v)
			}
		}
	}
	steps := n0 / units
	if err := s.Validate(units, steps); err != nil {
		return nil, err
	}
	dim := s.Delays * units
	per := steps - s.Span() + 1 // delay vectors per condition (≥ 2)
	rows := per * len(trajectories)
	h := mat.NewDense(rows, dim, nil)
	for c, tr := range trajectories {
		for k := range per {
			t := s.Span() - 1 + k
			row := h.RawRowView(c*per + k)
			for j := range s.Delays {
				src := tr[(t-j*s.Interval)*units : (t-j*s.Interval+1)*units]
				copy(row[j*units:(j+1)*units], src)
			}
		}
	}
	// Remove the mean delay vector.
	mean := make([]float64, dim)
	for i := range rows {
		for j, v := range h.RawRowView(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(rows)
	}
	for i := range rows {
		row := h.RawRowView(i)
		for j := range row {
			row[j] -= mean[j]
		}
	}
	var svd mat.SVD
	if !svd.Factorize(h, mat.SVDThinV) {
		return nil, fmt.Errorf("dsa: the SVD of the %d × %d Hankel matrix did not converge", rows, dim)
	}
	sv := svd.Values(nil)
	r := s.Rank
	op := &Operator{Rank: r, A: make([]float64, r*r), Singular: make([]float64, r)}
	copy(op.Singular, sv)
	if len(sv) == 0 || sv[0] == 0 {
		return nil, fmt.Errorf("dsa: the trajectories do not move (every delay vector equals their mean): there are no dynamics to fit")
	}
	k := 0
	for k < min(r, len(sv)) && sv[k] > relTol*sv[0] {
		k++
	}
	op.Effective = k
	var v mat.Dense
	svd.VTo(&v)
	var z mat.Dense
	z.Mul(h, v.Slice(0, dim, 0, k)) // rows × k principal coordinates
	// One step is fitted as an affine map z_{t+1} ≈ A z_t + b: the constant
	// column of Z₋ absorbs the offset, so translating the states changes b
	// only.
	pairs := (per - 1) * len(trajectories)
	zm := mat.NewDense(pairs, k+1, nil)
	zp := mat.NewDense(pairs, k, nil)
	for c := range trajectories {
		for i := range per - 1 {
			row := zm.RawRowView(c*(per-1) + i)
			copy(row, z.RawRowView(c*per+i))
			row[k] = 1
			copy(zp.RawRowView(c*(per-1)+i), z.RawRowView(c*per+i+1))
		}
	}
	// [Aᵀ; bᵀ] = Z₋⁺ Z₊ via the SVD of Z₋, dropping directions without
	// variance.
	var sm mat.SVD
	if !sm.Factorize(zm, mat.SVDThin) {
		return nil, fmt.Errorf("dsa: the SVD of the %d × %d lagged coordinates did not converge", pairs, k+1)
	}
	s2 := sm.Values(nil)
	var u2, v2 mat.Dense
	sm.UTo(&u2)
	sm.VTo(&v2)
	var utz mat.Dense
	utz.Mul(u2.T(), zp)
	for i, sig := range s2 {
		row := utz.RawRowView(i)
		if sig <= relTol*s2[0] {
			for j := range row {
				row[j] = 0
			}
			continue
		}
		for j := range row {
			row[j] /= sig
		}
	}
	var at mat.Dense
	at.Mul(&v2, &utz) // (k+1) × k: Aᵀ over bᵀ
	for i := range k {
		for j := range k {
			op.A[i*r+j] = at.At(j, i)
		}
	}
	// R² of the one-step fit.
	var pred mat.Dense
	pred.Mul(zm, &at)
	res, tot := 0.0, 0.0
	colMean := make([]float64, k)
	for i := range pairs {
		for j, x := range zp.RawRowView(i) {
			colMean[j] += x / float64(pairs)
		}
	}
	for i := range pairs {
		for j, x := range zp.RawRowView(i) {
			d := x - pred.At(i, j)
			res += d * d
			e := x - colMean[j]
			tot += e * e
		}
	}
	op.R2 = math.NaN()
	if tot > 0 {
		op.R2 = 1 - res/tot
	}
	op.Eigen = eigenvalues(op.A, r)
	return op, nil
}

// eigenvalues returns the eigenvalues of the r × r matrix a, sorted by
// descending modulus, then ascending argument.
func eigenvalues(a []float64, r int) []complex128 {
	var e mat.Eigen
	out := make([]complex128, r)
	if !e.Factorize(mat.NewDense(r, r, slices.Clone(a)), mat.EigenNone) {
		for i := range out {
			out[i] = cmplx.NaN()
		}
		return out
	}
	e.Values(out)
	SortEigen(out)
	return out
}

// SortEigen sorts eigenvalues by descending modulus, then ascending
// argument (the order of Operator.Eigen), in place.
func SortEigen(ev []complex128) {
	slices.SortStableFunc(ev, func(a, b complex128) int {
		if c := cmp.Compare(cmplx.Abs(b), cmplx.Abs(a)); c != 0 {
			return c
		}
		return cmp.Compare(cmplx.Phase(a), cmplx.Phase(b))
	})
}
