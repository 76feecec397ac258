package atlas

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Settings are the atlas's choices; the zero value of a field means its
// default.
type Settings struct {
	MinFamilies   int     // smallest number of families tried (default 2)
	MaxFamilies   int     // largest number tried (default 10, at most n−1)
	MinSilhouette float64 // below this best mean silhouette: one family (default 0.25)
	Resamples     int     // subsamples of the stability check (default 20)
	Fraction      float64 // share of the networks in each subsample (default 0.8)
	Seed          uint64  // seed of the subsamples
}

func (s Settings) withDefaults() Settings {
	if s.MinFamilies == 0 {
		s.MinFamilies = 2
	}
	if s.MaxFamilies == 0 {
		s.MaxFamilies = 10
	}
	if s.MinSilhouette == 0 {
		s.MinSilhouette = 0.25
	}
	if s.Resamples == 0 {
		s.Resamples = 20
	}
	if s.Fraction == 0 {
		s.Fraction = 0.8
	}
	return s
}

// Check reports the first invalid setting in one line naming it and the fix.
func (s Settings) Check() error {
	s = s.withDefaults()
	switch {
	case s.MinFamilies < 2:
		return fmt.Errorf("atlas: min_families = %d: want 2 or more (one family is the outcome when no cut reaches min_silhouette)", s.MinFamilies)
	case s.MaxFamilies < s.MinFamilies:
		return fmt.Errorf("atlas: max_families = %d is below min_families = %d: raise max_families", s.MaxFamilies, s.MinFamilies)
	case math.IsNaN(s.MinSilhouette) || s.MinSilhouette < -1 || s.MinSilhouette > 1:
		return fmt.Errorf("atlas: min_silhouette = %g: want a value in [−1, 1], e.g. 0.25", s.MinSilhouette)
	case s.Resamples < 1:
		return fmt.Errorf("atlas: resamples = %d: want 1 or more, e.g. 20", s.Resamples)
	case !(s.Fraction > 0 && s.Fraction < 1):
		return fmt.Errorf("atlas: fraction = %g: want a share in (0, 1), e.g. 0.8", s.Fraction)
	}
	return nil
}

// Result is a clustering of networks into families.
type Result struct {
	Families   int       // number of families
	Labels     []int     // family of each network, 0…Families−1
	Silhouette []float64 // mean silhouette of the cut into MinFamilies+i families
	Tried      []int     // the numbers of families those silhouettes belong to
	Stability  []float64 // per family: mean best Jaccard over subsamples (≥ 0.75 stable, ≤ 0.5 dissolved)
	Rand       float64   // mean adjusted Rand index of the subsamples' clusterings against the full one
	Medoids    []int     // per family: the member with the least total distance to the others
	Sizes      []int     // per family: its number of networks
	Merges     []Merge   // the dendrogram
}

// Cluster groups the networks of d into families (see the package
// comment). It needs at least 3 networks.
func Cluster(ctx context.Context, d Distances, s Settings) (*Result, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	n := d.N
	if n < 3 {
		return nil, fmt.Errorf("atlas: %d networks: need at least 3 to compare clusterings", n)
	}
	merges := AverageLinkage(d)
	res := &Result{Merges: merges, Families: 1, Labels: make([]int, n)}
	best := math.Inf(-1)
	for k := s.MinFamilies; k <= min(s.MaxFamilies, n-1); k++ {
		labels, err := Cut(merges, n, k)
		if err != nil {
			return nil, err
		}
		sil := Silhouette(d, labels)
		res.Tried = append(res.Tried, k)
		res.Silhouette = append(res.Silhouette, sil)
		if sil > best && sil >= s.MinSilhouette {
			best, res.Families, res.Labels = sil, k, labels
		}
	}
	res.Sizes = make([]int, res.Families)
	for _, l := range res.Labels {
		res.Sizes[l]++
	}
	res.Medoids = Medoids(d, res.Labels, res.Families)
	if err := stability(ctx, d, s, res); err != nil {
		return nil, err
	}
	return res, nil
}

// stability fills Stability and Rand by clustering Resamples subsamples of
// ⌈Fraction·n⌉ networks, each cut into the same number of families.
func stability(ctx context.Context, d Distances, s Settings, res *Result) error {
	n, k := d.N, res.Families
	m := max(int(math.Ceil(s.Fraction*float64(n))), 2)
	rng := rand.New(rand.NewPCG(s.Seed, 0x61746c6173)) // "atlas"
	jac := make([]float64, k)
	count := make([]int, k)
	perm := make([]int, n)
	for b := range s.Resamples {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("atlas: stability, subsample %d: %w", b, err)
		}
		for i := range perm {
			perm[i] = i
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		idx := slices.Clone(perm[:m])
		slices.Sort(idx)
		sub := d.sub(idx)
		labels, err := Cut(AverageLinkage(sub), m, min(k, m))
		if err != nil {
			return err
		}
		full := make([]int, m)
		for a, i := range idx {
			full[a] = res.Labels[i]
		}
		res.Rand += AdjustedRand(full, labels)
		for f := range k {
			var in []int
			for a := range m {
				if full[a] == f {
					in = append(in, a)
				}
			}
			if len(in) == 0 {
				continue
			}
			bestJ := 0.0
			for c := range min(k, m) {
				inter, union := 0, len(in)
				for a := range m {
					if labels[a] == c {
						if full[a] == f {
							inter++
						} else {
							union++
						}
					}
				}
				bestJ = max(bestJ, float64(inter)/float64(union))
			}
			jac[f] += bestJ
			count[f]++
		}
	}
	res.Rand /= float64(s.Resamples)
	res.Stability = make([]float64, k)
	for f := range k {
		res.Stability[f] = math.NaN()
		if count[f] > 0 {
			res.Stability[f] = jac[f] / float64(count[f])
		}
	}
	return nil
}

// Silhouette returns the mean silhouette width of a clustering
// (Rousseeuw 1987), the mean of SilhouetteWidths; 0 for one cluster.
func Silhouette(d Distances, labels []int) float64 {
	w := SilhouetteWidths(d, labels)
	if w == nil {
		return 0
	}
	total := 0.0
	for _, v := range w {
		total += v
	}
	return total / float64(len(w))
}

// SilhouetteWidths returns each item's silhouette width (Rousseeuw 1987):
// (b − a)/max(a, b) with a its mean distance to the rest of its cluster
// and b the least mean distance to another cluster; 0 for an item alone in
// its cluster or when a = b = 0. It returns nil for a single cluster, where
// the width is undefined.
func SilhouetteWidths(d Distances, labels []int) []float64 {
	n := d.N
	k := slices.Max(labels) + 1
	size := make([]int, k)
	for _, l := range labels {
		size[l]++
	}
	if k < 2 {
		return nil
	}
	sum := make([]float64, k)
	out := make([]float64, n)
	for i := range n {
		clear(sum)
		for j := range n {
			sum[labels[j]] += d.D[i*d.N+j]
		}
		own := labels[i]
		if size[own] == 1 {
			continue
		}
		a := sum[own] / float64(size[own]-1)
		b := math.Inf(1)
		for c := range k {
			if c != own && size[c] > 0 {
				b = min(b, sum[c]/float64(size[c]))
			}
		}
		if den := max(a, b); den > 0 {
			out[i] = (b - a) / den
		}
	}
	return out
}

// Medoids returns, per cluster 0…k−1, the member with the least total
// distance to the other members (the smallest index on a tie), or −1 for an
// empty cluster.
func Medoids(d Distances, labels []int, k int) []int {
	med := make([]int, k)
	best := make([]float64, k)
	for c := range k {
		med[c], best[c] = -1, math.Inf(1)
	}
	for i, li := range labels {
		s := 0.0
		for j, lj := range labels {
			if lj == li {
				s += d.D[i*d.N+j]
			}
		}
		if s < best[li] {
			med[li], best[li] = i, s
		}
	}
	return med
}

// AdjustedRand is the adjusted Rand index of two clusterings of the same
// items (Hubert and Arabie 1985): 1 for identical partitions, about 0 for
// independent ones. Two single-cluster partitions give 1.
func AdjustedRand(x, y []int) float64 {
	type pair struct{ a, b int }
	nij := map[pair]int{}
	ai, bj := map[int]int{}, map[int]int{}
	for i := range x {
		nij[pair{x[i], y[i]}]++
		ai[x[i]]++
		bj[y[i]]++
	}
	c2 := func(v int) float64 { return float64(v) * float64(v-1) / 2 }
	var index, sa, sb float64
	for _, v := range nij {
		index += c2(v)
	}
	for _, v := range ai {
		sa += c2(v)
	}
	for _, v := range bj {
		sb += c2(v)
	}
	expected := sa * sb / c2(len(x))
	maxIndex := (sa + sb) / 2
	if maxIndex == expected {
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}
