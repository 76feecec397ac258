package atlas

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Merge is one step of a dendrogram: clusters A and B, each named by its
// smallest member, join at Height (the average distance between their
// members) into a cluster of Size members named min(A, B).
type Merge struct {
	A, B   int
	Height float64
	Size   int
}

// Distances is a symmetric n×n matrix of distances, row-major.
type Distances struct {
	N int
	D []float64
}

// NewDistances checks d (row-major, n×n) and wraps it: every entry finite
// and ≥ 0, a zero diagonal and symmetry to a relative 1e-12.
func NewDistances(n int, d []float64) (Distances, error) {
	if n < 1 {
		return Distances{}, fmt.Errorf("atlas: %d networks: need at least 1", n)
	}
	if len(d) != n*n {
		return Distances{}, fmt.Errorf("atlas: %d distances for %d networks: want n² = %d", len(d), n, n*n)
	}
	for i := range n {
		if d[i*n+i] != 0 {
			return Distances{}, fmt.Errorf("atlas: distance of network %d to itself is %g, want 0", i, d[i*n+i])
		}
		for j := i + 1; j < n; j++ {
			a, b := d[i*n+j], d[j*n+i]
			if math.IsNaN(a) || math.IsInf(a, 0) || a < 0 {
				return Distances{}, fmt.Errorf("atlas: distance (%d, %d) = %g: want a finite value ≥ 0", i, j, a)
			}
			if math.Abs(a-b) > 1e-12*math.Max(math.Abs(a), math.Abs(b)) {
				return Distances{}, fmt.Errorf("atlas: distances (%d, %d) = %g and (%d, %d) = %g differ: the matrix must be symmetric", i, j, a, j, i, b)
			}
		}
	}
	return Distances{N: n, D: d}, nil
}

// At returns the distance between networks i and j.
func (d Distances) At(i, j int) float64 { return d.D[i*d.N+j] }

// sub returns the distances among the networks idx, in that order.
func (d Distances) sub(idx []int) Distances {
	m := len(idx)
	out := make([]float64, m*m)
	for a, i := range idx {
		for b, j := range idx {
			out[a*m+b] = d.D[i*d.N+j]
		}
	}
	return Distances{N: m, D: out}
}

// AverageLinkage returns the n−1 merges of the average-linkage (UPGMA)
// dendrogram of d in order of increasing height (ties in the order the
// nearest-neighbour chain found them). Average linkage is reducible, so the
// nearest-neighbour-chain algorithm finds the same dendrogram as the naive
// closest-pair search, in O(n²) time.
func AverageLinkage(d Distances) []Merge {
	n := d.N
	if n < 2 {
		return nil
	}
	w := slices.Clone(d.D) // cluster-to-cluster average distances, updated in place
	size := make([]int, n)
	active := make([]bool, n)
	for i := range n {
		size[i], active[i] = 1, true
	}
	merges := make([]Merge, 0, n-1)
	chain := make([]int, 0, n)
	next := 0 // smallest index that may still be active
	for len(merges) < n-1 {
		if len(chain) == 0 {
			for !active[next] {
				next++
			}
			chain = append(chain, next)
		}
		a := chain[len(chain)-1]
		prev := -1
		if len(chain) > 1 {
			prev = chain[len(chain)-2]
		}
		// The nearest active neighbour of a; on a tie the chain's previous
		// element wins (which guarantees termination), then the smallest index.
		b, best := -1, math.Inf(1)
		if prev >= 0 {
			b, best = prev, w[a*n+prev]
		}
		for c := range n {
			if c == a || !active[c] {
				continue
			}
			if v := w[a*n+c]; v < best {
				b, best = c, v
			}
		}
		if b != prev {
			chain = append(chain, b)
			continue
		}
		chain = chain[:len(chain)-2]
		lo, hi := min(a, b), max(a, b)
		sa, sb := float64(size[lo]), float64(size[hi])
		for c := range n {
			if !active[c] || c == lo || c == hi {
				continue
			}
			v := (sa*w[lo*n+c] + sb*w[hi*n+c]) / (sa + sb)
			w[lo*n+c], w[c*n+lo] = v, v
		}
		active[hi] = false
		size[lo] += size[hi]
		merges = append(merges, Merge{A: lo, B: hi, Height: best, Size: size[lo]})
	}
	slices.SortStableFunc(merges, func(x, y Merge) int { return cmp.Compare(x.Height, y.Height) })
	return merges
}

// Cut applies the first n−k merges of a sorted dendrogram of n items and
// returns each item's cluster, numbered 0…k−1 in the order of the clusters'
// smallest members.
func Cut(merges []Merge, n, k int) ([]int, error) {
	if k < 1 || k > n {
		return nil, fmt.Errorf("atlas: cut into %d clusters of %d items: want 1 to %d", k, n, n)
	}
	if len(merges) != n-1 {
		return nil, fmt.Errorf("atlas: %d merges for %d items: want %d", len(merges), n, n-1)
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, m := range merges[:n-k] {
		ra, rb := find(m.A), find(m.B)
		if ra == rb {
			return nil, fmt.Errorf("atlas: merge of %d and %d joins a cluster with itself: not a dendrogram", m.A, m.B)
		}
		parent[max(ra, rb)] = min(ra, rb)
	}
	labels := make([]int, n)
	ids := map[int]int{}
	for i := range n {
		r := find(i)
		id, ok := ids[r]
		if !ok {
			id = len(ids)
			ids[r] = id
		}
		labels[i] = id
	}
	return labels, nil
}
