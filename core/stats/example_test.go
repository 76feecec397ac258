package stats_test

import (
	"fmt"

	"rulescape/core/stats"
)

// The median and quartiles of four values, by linear interpolation.
func ExampleQuantile() {
	xs := []float64{4, 1, 3, 2}
	fmt.Println(stats.Quantile(xs, 0.25), stats.Quantile(xs, 0.5), stats.Quantile(xs, 0.75))
	// Output: 1.75 2.5 3.25
}

// Points along the diagonal of the plane: one principal axis carries all
// the variance.
func ExampleFitPCA() {
	p, err := stats.FitPCA([][]float64{{0, 0}, {1, 1}, {2, 2}}, 2)
	if err != nil {
		panic(err)
	}
	fmt.Printf("variance %.2f, point (2, 2) at %.3f\n", p.Variance[0], p.Project([]float64{2, 2})[0])
	// Output: variance 2.00, point (2, 2) at 1.414
}
