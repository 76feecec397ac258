package kern_test

import (
	"fmt"

	"rulescape/core/internal/kern"
)

// The product of a 2×3 matrix A with the transpose of a 2×3 matrix B, written
// into a 2×2 block of a 2×3 array (stride 3) whose last column is untouched.
func ExampleMulABt() {
	a := []float64{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float64{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	c := []float64{
		9, 9, 9,
		9, 9, 9,
	}
	kern.MulABt(2, 2, 3, a, 3, b, 3, c, 3)
	fmt.Println(c[0:3])
	fmt.Println(c[3:6])
	// Output:
	// [-2 3 9]
	// [-2 7.5 9]
}
