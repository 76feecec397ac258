package rsa_test

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
)

// benchNetworks returns 100 response sets of 16 stimuli (conditions × bins)
// by 200 units.
func benchNetworks() []*rsa.Responses {
	rng := rand.New(rand.NewPCG(1, 1))
	nets := make([]*rsa.Responses, 100)
	for k := range nets {
		r := &rsa.Responses{Conditions: []int{0, 1, 2, 3}, Bins: 4, Units: 200, Data: make([]float64, 16*200)}
		for i := range r.Data {
			r.Data[i] = rng.NormFloat64()
		}
		nets[k] = r
	}
	return nets
}

// BenchmarkPopulation100 is the RSA comparison of 100 networks (16 stimuli ×
// 200 units): correlation RDMs, the all-pairs Spearman comparison of RDMs and
// the all-pairs linear CKA.
func BenchmarkPopulation100(b *testing.B) {
	nets := benchNetworks()
	b.Run("rdm+compare-spearman", func(b *testing.B) {
		for b.Loop() {
			rdms := make([][]float64, len(nets))
			for k, r := range nets {
				var err error
				if rdms[k], err = rsa.RDM(r, rsa.Correlation); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := rsa.SimilarityMatrix(rdms, func(x, y []float64) (float64, error) {
				return rsa.Compare(x, y, rsa.Spearman)
			}, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, m := range []rsa.Method{rsa.Spearman, rsa.KendallTauA} {
		b.Run("rdm+compareall-"+m.String(), func(b *testing.B) {
			for b.Loop() {
				rdms := make([][]float64, len(nets))
				for k, r := range nets {
					rdms[k], _ = rsa.RDM(r, rsa.Correlation)
				}
				if _, err := rsa.CompareAll(rdms, m, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	mats := make([]mat.Matrix, len(nets))
	for k, r := range nets {
		mats[k] = r.Matrix()
	}
	b.Run("cka", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.SimilarityMatrix(mats, func(x, y mat.Matrix) (float64, error) {
				return rsa.LinearCKA(x, y)
			}, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ckaall", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.LinearCKAAll(mats, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("procrustesall", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.ProcrustesAll(mats, false, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("procrustes", func(b *testing.B) {
		for b.Loop() {
			if _, err := rsa.SimilarityMatrix(mats, func(x, y mat.Matrix) (float64, error) {
				return rsa.ProcrustesDistance(x, y)
			}, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
