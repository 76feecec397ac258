package landscape

import (
	"context"
	"fmt"
	"math"
	"slices"

	"rulescape/core/rnn"
	"rulescape/core/stats"
)

// Settings tunes Analyze and Connect. The zero value works: every zero
// field takes the default written next to it.
type Settings struct {
	PCs int // principal axes the points are projected on. Default 3.
	// Delta is the initial displacement from a saddle along its unstable
	// eigenvector (state units). Default 1e-3.
	Delta float64
	// Step is the forward-Euler step of the flow dx/dt = F(x), in units of
	// the membrane time constant τ. Default 0.1.
	Step float64
	// Steps bounds the Euler steps per branch. Default 4000 (400 τ).
	Steps int
	// SettleQ: a branch has settled once ½‖F‖² < SettleQ. Default 1e-14.
	SettleQ float64
	// MatchTol is the largest distance between a branch's end point and
	// the stable fixed point it is matched to. Default 0.05.
	MatchTol float64
}

// withDefaults returns s with its zero fields set and checks the rest.
func (s Settings) withDefaults() (Settings, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if s.PCs == 0 {
		s.PCs = 3
	}
	if s.Steps == 0 {
		s.Steps = 4000
	}
	def(&s.Delta, 1e-3)
	def(&s.Step, 0.1)
	def(&s.SettleQ, 1e-14)
	def(&s.MatchTol, 0.05)
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case s.PCs < 1:
		return s, fmt.Errorf("landscape: PCs = %d: use at least 1 axis", s.PCs)
	case s.Steps < 1:
		return s, fmt.Errorf("landscape: Steps = %d: use at least 1 Euler step", s.Steps)
	case !pos(s.Delta):
		return s, fmt.Errorf("landscape: Delta = %v: use a small positive displacement, e.g. 1e-3", s.Delta)
	case !pos(s.Step) || s.Step >= 1:
		return s, fmt.Errorf("landscape: Step = %v: use a step in (0, 1) time constants, e.g. 0.1", s.Step)
	case !pos(s.SettleQ):
		return s, fmt.Errorf("landscape: SettleQ = %v: use a small positive speed, e.g. 1e-14", s.SettleQ)
	case !pos(s.MatchTol):
		return s, fmt.Errorf("landscape: MatchTol = %v: use a positive distance, e.g. 0.05", s.MatchTol)
	}
	return s, nil
}

// Point is one fixed or slow point found under a constant input.
type Point struct {
	X     []float64 // location, N values (clamped units at their values)
	Index int       // unstable dimensions; −1 when unknown
	Slow  bool      // a slow point, not a fixed point
}

// Input is the fixed points of a network under one named constant input.
type Input struct {
	Name   string
	U      []float64 // the input, M values
	Points []Point
}

// Map is the landscape of one network.
type Map struct {
	PCA    *stats.PCA // of the trajectory states
	Inputs []InputMap // in the order given to Analyze
}

// InputMap is the landscape of a network under one input.
type InputMap struct {
	Name string
	// Counts[k] is the number of fixed points (not slow points) of index k;
	// its length is one more than the largest index (empty without points).
	Counts []int
	Points []PointMap // in the order of Input.Points
	// Unfollowed counts the index-1 fixed points whose unstable direction
	// could not be computed (the Jacobian recomputed at the point has no
	// real positive eigenvalue — an eigenvalue within rounding of zero —
	// or its eigenvalue iteration failed); their Connects are None, None.
	Unfollowed int
}

// PointMap is one point placed in the landscape.
type PointMap struct {
	Point
	Coords []float64 // projection on the principal axes (PCA.Project)
	// Connects holds, for an index-1 fixed point, the points (indices into
	// InputMap.Points, stable fixed points) reached by the branches +v and
	// −v of its unstable manifold, None when a branch reaches none; nil for
	// other points.
	Connects []int
}

// Analyze maps the landscape of net: the PCA of the trajectory states
// (rows of N values), and for every input the counts by index, each
// point's coordinates and the attractors each index-1 fixed point
// connects. It returns ctx's error when cancelled.
func Analyze(ctx context.Context, net *rnn.Network, states [][]float64, inputs []Input, s Settings) (*Map, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("landscape: %w", err)
	}
	for _, in := range inputs {
		if len(in.U) != net.M {
			return nil, fmt.Errorf("landscape: input %q has %d values, the network %d inputs", in.Name, len(in.U), net.M)
		}
	}
	if len(states) < 2 {
		return nil, fmt.Errorf("landscape: PCA of %d states: need at least 2 — pass the trajectory states", len(states))
	}
	for i, x := range states {
		if len(x) != net.N {
			return nil, fmt.Errorf("landscape: state %d has %d values, want %d", i, len(x), net.N)
		}
	}
	pca, err := stats.FitPCA(states, s.PCs)
	if err != nil {
		return nil, fmt.Errorf("landscape: %w", err)
	}
	m := &Map{PCA: pca}
	for _, in := range inputs {
		im := InputMap{Name: in.Name}
		var stable [][]float64
		var stableAt []int
		for k, p := range in.Points {
			if len(p.X) != net.N {
				return nil, fmt.Errorf("landscape: input %q: point %d has %d coordinates, the network %d units", in.Name, k, len(p.X), net.N)
			}
			if p.Slow || p.Index < 0 {
				continue
			}
			for len(im.Counts) <= p.Index {
				im.Counts = append(im.Counts, 0)
			}
			im.Counts[p.Index]++
			if p.Index == 0 {
				stable = append(stable, p.X)
				stableAt = append(stableAt, k)
			}
		}
		for _, p := range in.Points {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			pm := PointMap{Point: p, Coords: pca.Project(p.X)}
			if !p.Slow && p.Index == 1 {
				pm.Connects = []int{None, None}
				br, err := Connect(net, in.U, p.X, stable, s)
				if err != nil {
					im.Unfollowed++ // sizes were checked: a numerical failure at this point
					im.Points = append(im.Points, pm)
					continue
				}
				for b := range br {
					if t := br[b].Target; t != None {
						pm.Connects[b] = stableAt[t]
					}
				}
			}
			im.Points = append(im.Points, pm)
		}
		m.Inputs = append(m.Inputs, im)
	}
	return m, nil
}

// Signature holds the topological invariants of one input's landscape
// (package documentation).
type Signature struct {
	Counts []int // fixed points by index
	// SaddleDegrees[d] is the number of index-1 fixed points whose branches
	// reach d distinct attractors (d = 0, 1, 2).
	SaddleDegrees [3]int
	// AttractorDegrees holds, for each attractor, the number of index-1
	// fixed points with a branch reaching it, sorted descending.
	AttractorDegrees []int
}

// Signature returns the input's topological invariants.
func (im *InputMap) Signature() Signature {
	sig := Signature{Counts: slices.Clone(im.Counts)}
	deg := map[int]int{}
	for k, p := range im.Points {
		if !p.Slow && p.Index == 0 {
			deg[k] += 0
		}
	}
	for _, p := range im.Points {
		if p.Connects == nil {
			continue
		}
		reached := map[int]bool{}
		for _, t := range p.Connects {
			if t != None {
				reached[t] = true
			}
		}
		sig.SaddleDegrees[len(reached)]++
		for t := range reached {
			deg[t]++
		}
	}
	for _, d := range deg {
		sig.AttractorDegrees = append(sig.AttractorDegrees, d)
	}
	slices.Sort(sig.AttractorDegrees)
	slices.Reverse(sig.AttractorDegrees)
	return sig
}

// Distance is the topology distance between two landscapes (package
// documentation).
type Distance struct {
	Index  float64 // mean L1 distance of the counts by index
	Graph  float64 // mean L1 distance of the saddle and attractor degrees
	Total  float64 // Index + Graph
	Inputs int     // inputs compared (those both maps have, by name)
}

// Compare returns the topology distance between a and b over the inputs
// both have. It fails when they share none.
func Compare(a, b *Map) (Distance, error) {
	var d Distance
	for i := range a.Inputs {
		ia := &a.Inputs[i]
		for j := range b.Inputs {
			ib := &b.Inputs[j]
			if ia.Name != ib.Name {
				continue
			}
			sa, sb := ia.Signature(), ib.Signature()
			d.Index += l1(sa.Counts, sb.Counts)
			d.Graph += l1(sa.SaddleDegrees[:], sb.SaddleDegrees[:]) + l1(sa.AttractorDegrees, sb.AttractorDegrees)
			d.Inputs++
			break
		}
	}
	if d.Inputs == 0 {
		return d, fmt.Errorf("landscape: the two maps share no input name: compare networks of the same task")
	}
	d.Index /= float64(d.Inputs)
	d.Graph /= float64(d.Inputs)
	d.Total = d.Index + d.Graph
	return d, nil
}

// l1 is the L1 distance of two integer vectors, the shorter zero-padded.
func l1(a, b []int) float64 {
	s := 0
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		s += abs(x - y)
	}
	return float64(s)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
