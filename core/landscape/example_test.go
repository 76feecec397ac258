package landscape_test

import (
	"context"
	"fmt"

	"rulescape/core/landscape"
	"rulescape/core/rnn"
)

// Two independent bistable units (x = 2 tanh x): four attractors at the
// corners (±x*, ±x*), four index-1 saddles on the edges, one unstable point
// at the origin. Each saddle joins the two corners next to it.
func ExampleAnalyze() {
	net, _ := rnn.NewNetwork(2, 0, 1)
	net.W[0], net.W[3] = 2, 2
	const xs = 1.9150080 // root of x = 2 tanh x
	var pts []landscape.Point
	for _, a := range []float64{-xs, 0, xs} {
		for _, b := range []float64{-xs, 0, xs} {
			index := 0
			for _, v := range []float64{a, b} {
				if v == 0 {
					index++
				}
			}
			pts = append(pts, landscape.Point{X: []float64{a, b}, Index: index})
		}
	}
	states := [][]float64{{-1, -1}, {1, 1}, {1, -1}, {-1, 1}, {0.5, 0}}
	m, err := landscape.Analyze(context.Background(), net, states, []landscape.Input{{Name: "none", Points: pts}}, landscape.Settings{})
	if err != nil {
		panic(err)
	}
	im := m.Inputs[0]
	fmt.Println("counts by index:", im.Counts)
	for _, p := range im.Points {
		if p.Index == 1 {
			a, b := im.Points[p.Connects[0]].X, im.Points[p.Connects[1]].X
			fmt.Printf("saddle (%.2f, %.2f) joins (%.2f, %.2f) and (%.2f, %.2f)\n", p.X[0], p.X[1], min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
		}
	}
	fmt.Printf("signature: %+v\n", im.Signature())
	// Output:
	// counts by index: [4 4 1]
	// saddle (-1.92, 0.00) joins (-1.92, -1.92) and (-1.92, 1.92)
	// saddle (0.00, -1.92) joins (-1.92, -1.92) and (1.92, -1.92)
	// saddle (0.00, 1.92) joins (-1.92, 1.92) and (1.92, 1.92)
	// saddle (1.92, 0.00) joins (1.92, -1.92) and (1.92, 1.92)
	// signature: {Counts:[4 4 1] SaddleDegrees:[0 0 4] AttractorDegrees:[2 2 2 2]}
}

// Two landscapes under one input: a bistable one (two attractors joined by
// a saddle) and one with a third attractor reached by a second saddle.
func ExampleCompare() {
	pt := func(index int, connects ...int) landscape.PointMap {
		return landscape.PointMap{Point: landscape.Point{Index: index}, Connects: connects}
	}
	two := &landscape.Map{Inputs: []landscape.InputMap{{Name: "none", Counts: []int{2, 1},
		Points: []landscape.PointMap{pt(0), pt(0), pt(1, 0, 1)}}}}
	three := &landscape.Map{Inputs: []landscape.InputMap{{Name: "none", Counts: []int{3, 2},
		Points: []landscape.PointMap{pt(0), pt(0), pt(0), pt(1, 0, 1), pt(1, 1, 2)}}}}
	d, err := landscape.Compare(two, three)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", d)
	same, _ := landscape.Compare(two, two)
	fmt.Println("to itself:", same.Total)
	// Output:
	// {Index:2 Graph:3 Total:5 Inputs:1}
	// to itself: 0
}
