package landscape_test

import (
	"testing"

	"rulescape/core/landscape"
)

// BenchmarkConnect follows both branches of one index-1 saddle of a
// 100-unit network: the hot path of Analyze (O(Steps·N²) per branch). The
// network is the bistable cube embedded in 100 units (97 decaying units
// with weak random coupling), so the branches settle at corners.
func BenchmarkConnect(b *testing.B) {
	const n = 100
	net := bistable(b, false)
	big := randomNetwork(b, n, 0.3, 1)
	for i := range n {
		big.B[i], big.Win[i] = 0, 0
		for j := range n {
			if i < 3 || j < 3 {
				big.W[i*n+j] = 0
			}
		}
	}
	for i := range 3 {
		big.W[i*n+i] = net.W[i*3+i]
	}
	const xs = 1.9150080
	saddle := make([]float64, n)
	saddle[1], saddle[2] = xs, -xs
	var stable [][]float64
	for _, s := range []float64{xs, -xs} {
		x := make([]float64, n)
		x[0], x[1], x[2] = s, xs, -xs
		stable = append(stable, x)
	}
	b.ResetTimer()
	for b.Loop() {
		br, err := landscape.Connect(big, []float64{0}, saddle, stable, landscape.Settings{MatchTol: 0.5})
		if err != nil || br[0].Target == landscape.None || br[1].Target == landscape.None {
			b.Fatalf("%v %+v", err, br)
		}
	}
}
