package atlas_test

import (
	"context"
	"fmt"
	"math"

	"rulescape/core/atlas"
)

// Six networks on a line: two tight groups far apart.
func ExampleCluster() {
	pos := []float64{0, 0.1, 0.2, 5, 5.1, 5.3}
	n := len(pos)
	raw := make([]float64, n*n)
	for i := range n {
		for j := range n {
			raw[i*n+j] = math.Abs(pos[i] - pos[j])
		}
	}
	d, err := atlas.NewDistances(n, raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := atlas.Cluster(context.Background(), d, atlas.Settings{MaxFamilies: 4, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("families:", res.Families, "labels:", res.Labels, "medoids:", res.Medoids)
	// Output: families: 2 labels: [0 0 0 1 1 1] medoids: [1 4]
}
