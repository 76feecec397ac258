package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// centeredGram returns K = X_c X_cᵀ for X with its column means removed.
func centeredGram(x mat.Matrix, name string) (*mat.SymDense, error) {
	r, c := x.Dims()
	if r < 2 || c < 1 {
		return nil, fmt.Errorf("rsa: %s is %d×%d: need at least 2 samples (rows) and 1 feature", name, r, c)
	}
	xc := mat.DenseCopyOf(x)
	raw := xc.RawMatrix()
	mean := make([]float64, c)
	for i := range r {
		for j, v := range raw.Data[i*raw.Stride : i*raw.Stride+c] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(r)
	}
	for i := range r {
		row := raw.Data[i*raw.Stride : i*raw.Stride+c]
		for j := range row {
			row[j] -= mean[j]
		}
	}
	k := mat.NewSymDense(r, nil)
	k.SymOuterK(1, xc)
	return k, nil
}

func gramPair(x, y mat.Matrix) (kx, ky *mat.SymDense, err error) {
	rx, _ := x.Dims()
	ry, _ := y.Dims()
	if rx != ry {
		return nil, nil, fmt.Errorf("rsa: X has %d samples and Y %d: rows must be the same stimuli", rx, ry)
	}
	if kx, err = centeredGram(x, "X"); err != nil {
		return nil, nil, err
	}
	if ky, err = centeredGram(y, "Y"); err != nil {
		return nil, nil, err
	}
	return kx, ky, nil
}

// frob returns the Frobenius inner product ⟨A, B⟩ of two symmetric matrices.
func frob(a, b *mat.SymDense) float64 {
	n := a.SymmetricDim()
	s := 0.0
	for i := range n {
		for j := range n {
			s += a.At(i, j) * b.At(i, j)
		}
	}
	return s
}

// LinearCKA returns the linear centered kernel alignment of X and Y, two
// samples × features response matrices over the same samples (the feature
// counts may differ):
//
//	CKA = ⟨K, L⟩_F / (‖K‖_F ‖L‖_F),   K = X_c X_cᵀ,  L = Y_c Y_cᵀ,
//
// with X_c, Y_c column-centered; equivalently ‖Y_cᵀX_c‖²_F /
// (‖X_cᵀX_c‖_F ‖Y_cᵀY_c‖_F), the normalised HSIC. It lies in [0, 1], is 1
// when Y is a rotation, reflection or isotropic scaling of X (plus a
// translation), and costs O(samples² · features).
func LinearCKA(x, y mat.Matrix) (float64, error) {
	kx, ky, err := gramPair(x, y)
	if err != nil {
		return 0, err
	}
	kk, ll := frob(kx, kx), frob(ky, ky)
	if kk == 0 || ll == 0 {
		return 0, fmt.Errorf("rsa: CKA is undefined: a response matrix has no variance across samples")
	}
	return frob(kx, ky) / math.Sqrt(kk*ll), nil
}

// ProcrustesNuclear returns ν = ‖X̃ᵀỸ‖_*, the nuclear norm (sum of singular
// values) of the cross-product of the centered, Frobenius-normalised
// responses X̃ = X_c/‖X_c‖_F and Ỹ = Y_c/‖Y_c‖_F: the largest ⟨X̃Q, Ỹ⟩ over
// orthogonal Q (Y with fewer features is zero-padded, which leaves ν
// unchanged). 0 ≤ ν ≤ 1, with ν = 1 exactly when Y is a rotated, reflected,
// scaled and translated copy of X.
//
// It is computed in sample space: with K = X̃X̃ᵀ = U_x Λ_x U_xᵀ, the factor
// A_x = U_x Λ_x^{1/2} (eigenvalues below 10⁻¹³·λ_max dropped) satisfies
// X̃ = A_x W_xᵀ for orthonormal W_x, so ν is the nuclear norm of the small
// matrix A_xᵀA_y. This costs O(samples²·features + samples³).
func ProcrustesNuclear(x, y mat.Matrix) (float64, error) {
	kx, ky, err := gramPair(x, y)
	if err != nil {
		return 0, err
	}
	ax, err := sampleFactor(kx, "X")
	if err != nil {
		return 0, err
	}
	ay, err := sampleFactor(ky, "Y")
	if err != nil {
		return 0, err
	}
	return nuclear(ax, ay)
}

// nuclear returns min(‖AᵀB‖_*, 1).
func nuclear(a, b *mat.Dense) (float64, error) {
	var m mat.Dense
	m.Mul(a.T(), b)
	var svd mat.SVD
	if !svd.Factorize(&m, mat.SVDNone) {
		return 0, fmt.Errorf("rsa: SVD of the Procrustes cross-product did not converge")
	}
	nu := 0.0
	for _, s := range svd.Values(nil) {
		nu += s
	}
	return min(nu, 1), nil
}

// sampleFactor returns A with A Aᵀ = K / tr K, keeping only the numerically
// nonzero eigen-directions of K.
func sampleFactor(k *mat.SymDense, name string) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(k, true) {
		return nil, fmt.Errorf("rsa: eigendecomposition of %s's Gram matrix did not converge", name)
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	tr, top := 0.0, vals[len(vals)-1]
	for _, v := range vals {
		tr += max(v, 0)
	}
	if top <= 0 {
		return nil, fmt.Errorf("rsa: %s has no variance across samples: Procrustes distance is undefined", name)
	}
	var keep []int
	for i, v := range vals {
		if v > 1e-13*top {
			keep = append(keep, i)
		}
	}
	n := len(vals)
	a := mat.NewDense(n, len(keep), nil)
	for c, i := range keep {
		s := math.Sqrt(vals[i] / tr)
		for r := range n {
			a.Set(r, c, vecs.At(r, i)*s)
		}
	}
	return a, nil
}

// ProcrustesDistance returns the orthogonal Procrustes shape distance
//
//	d = min_Q ‖X̃Q − Ỹ‖_F = sqrt(2 − 2ν),   ν = ProcrustesNuclear(X, Y),
//
// between centered, Frobenius-normalised responses (Euclidean form, in
// [0, √2]). It is 0 for a rotated, reflected, scaled or translated copy; near
// 0, rounding in ν (≈ 10⁻¹⁶) shows up as d ≈ 10⁻⁸. ProcrustesAngle gives the
// angular form arccos ν (Williams et al. 2021), which is a metric as well.
func ProcrustesDistance(x, y mat.Matrix) (float64, error) {
	nu, err := ProcrustesNuclear(x, y)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(max(2-2*nu, 0)), nil
}

// ProcrustesAngle returns the angular Procrustes shape distance arccos ν in
// [0, π/2] (see ProcrustesDistance).
func ProcrustesAngle(x, y mat.Matrix) (float64, error) {
	nu, err := ProcrustesNuclear(x, y)
	if err != nil {
		return 0, err
	}
	return math.Acos(nu), nil
}
