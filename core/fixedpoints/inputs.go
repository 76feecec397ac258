package fixedpoints

import (
	"context"
	"fmt"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Landscape is the result of Find under one named constant input.
type Landscape struct {
	Input string    // the input's name (tasks.ConstantInput.Name)
	U     []float64 // its values
	*Result
}

// FindInputs runs Find under each of a task's constant inputs
// (Task.FixedPointInputs) from the same initial states, in order.
func FindInputs(ctx context.Context, net *rnn.Network, inputs []tasks.ConstantInput, inits [][]float64, s Settings) ([]Landscape, error) {
	out := make([]Landscape, 0, len(inputs))
	for _, in := range inputs {
		res, err := Find(ctx, net, in.U, inits, s)
		if err != nil {
			return nil, fmt.Errorf("fixedpoints: input %q: %w", in.Name, err)
		}
		out = append(out, Landscape{Input: in.Name, U: in.U, Result: res})
	}
	return out, nil
}
