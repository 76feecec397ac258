package dsa_test

import (
	"fmt"
	"math"

	"rulescape/core/dsa"
)

// Two damped rotations with the same spectrum in different coordinates are
// at DSA distance 0; a damped rotation and a pure decay are not.
func ExampleDistance() {
	// x_{t+1} = M x_t for a damped rotation, from two initial states.
	run := func(m [4]float64, x, y float64) []float64 {
		var tr []float64
		for range 40 {
			tr = append(tr, x, y)
			x, y = m[0]*x+m[1]*y, m[2]*x+m[3]*y
		}
		return tr
	}
	c, s := 0.95*math.Cos(0.3), 0.95*math.Sin(0.3)
	rot := [4]float64{c, -s, s, c}
	rotT := [4]float64{c, s, -s, c} // the same map, reflected coordinates
	decay := [4]float64{0.9, 0, 0, 0.5}
	st := dsa.Settings{Delays: 1, Interval: 1, Rank: 2}
	fit := func(m [4]float64) *dsa.Operator {
		op, err := dsa.Fit([][]float64{run(m, 1, 0), run(m, 0, 1)}, 2, st)
		if err != nil {
			panic(err)
		}
		return op
	}
	a, b, d := fit(rot), fit(rotT), fit(decay)
	same, _ := dsa.Distance(a, b, dsa.DefaultOptimizer())
	diff, _ := dsa.Distance(a, d, dsa.DefaultOptimizer())
	fmt.Printf("rotation vs reflected rotation: %.3f rad\n", same.Angular)
	fmt.Printf("rotation vs decay: %.3f rad\n", diff.Angular)
	// Output:
	// rotation vs reflected rotation: 0.000 rad
	// rotation vs decay: 0.406 rad
}
