package dsa

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// DistanceAll returns the DSA angular and Frobenius distances of every
// pair of ops (zero diagonal), on workers goroutines (0 = GOMAXPROCS).
// Every pair uses o, so the result does not depend on workers or on the
// order in which pairs are computed. It stops early with ctx's error when
// ctx is done (checked before every pair).
func DistanceAll(ctx context.Context, ops []*Operator, o Optimizer, workers int) (angular, frobenius *mat.SymDense, err error) {
	if err := checkOps(ops); err != nil {
		return nil, nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	n := len(ops)
	angular, frobenius = mat.NewSymDense(n, nil), mat.NewSymDense(n, nil)
	err = pairs(ctx, n, workers, func(i, j int) error {
		c, err := Distance(ops[i], ops[j], o)
		if err != nil {
			return fmt.Errorf("dsa: operators %d and %d: %w", i, j, err)
		}
		angular.SetSym(i, j, c.Angular)
		frobenius.SetSym(i, j, c.Frobenius)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return angular, frobenius, nil
}

// SpectralAll returns the spectral distance of every pair of ops (zero
// diagonal), on workers goroutines (0 = GOMAXPROCS); it stops early with
// ctx's error when ctx is done.
func SpectralAll(ctx context.Context, ops []*Operator, workers int) (*mat.SymDense, error) {
	if err := checkOps(ops); err != nil {
		return nil, err
	}
	n := len(ops)
	out := mat.NewSymDense(n, nil)
	err := pairs(ctx, n, workers, func(i, j int) error {
		d, err := Spectral(ops[i], ops[j])
		if err != nil {
			return fmt.Errorf("dsa: operators %d and %d: %w", i, j, err)
		}
		out.SetSym(i, j, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkOps(ops []*Operator) error {
	if len(ops) == 0 {
		return fmt.Errorf("dsa: no operators to compare")
	}
	for k, op := range ops {
		if op == nil {
			return fmt.Errorf("dsa: operator %d is nil", k)
		}
		if op.Rank != ops[0].Rank {
			return fmt.Errorf("dsa: operator %d has rank %d, operator 0 has %d: fit every network with the same rank", k, op.Rank, ops[0].Rank)
		}
	}
	return nil
}

// pairs calls f(i, j) for every i < j < n on workers goroutines, row by
// row; it returns ctx's error when ctx is done, else the error of the
// lowest row that failed. SymDense writes to distinct (i, j) entries do not
// race.
func pairs(ctx context.Context, n, workers int, f func(i, j int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				for j := i + 1; j < n; j++ {
					if err := ctx.Err(); err != nil {
						errs[i] = err
						break
					}
					if err := f(i, j); err != nil {
						errs[i] = err
						break
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
