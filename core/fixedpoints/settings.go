package fixedpoints

import (
	"fmt"
	"math"
	"runtime"
)

// Settings tunes the search. The zero value works: every zero field takes
// the default written next to it.
type Settings struct {
	// Inits is the number of initial states SampleInits draws. Default 256.
	Inits int
	// Noise is the standard deviation of the Gaussian noise SampleInits adds
	// to each free coordinate of a sampled state. Default 0.1; negative means
	// no noise.
	Noise float64
	// Seed seeds SampleInits (PCG); 0 is a valid seed.
	Seed uint64

	// TolQ: an end point with q < TolQ is a fixed point. Default 1e-12.
	TolQ float64
	// TolSlow: an end point with TolQ ≤ q < TolSlow is a slow point.
	// Default 1e-4. Must be at least TolQ.
	TolSlow float64
	// TolUnique is the Euclidean distance below which two points are the
	// same. Default 1e-3.
	TolUnique float64
	// OutlierScale drops end points farther from the centroid of the initial
	// states than OutlierScale times the larger of their mean distance to it
	// and 1 (the scale on which tanh saturates). Default 10; negative
	// disables the rule.
	OutlierScale float64

	// MaxIter bounds the factorizations per descent. Default 200.
	MaxIter int
	// Vectors is the number of leading eigenvectors kept per point.
	// Default 3; negative keeps none (and skips computing them).
	Vectors int
	// Workers is the number of parallel descents. Default GOMAXPROCS.
	Workers int

	// Deflations is the number of deflated searches per initial state run
	// after the plain descents (package documentation, "Deflation"); 0
	// (the default) runs none.
	Deflations int
	// DeflationPower is the power p of the deflation operator. Default 3.
	DeflationPower float64
	// DeflationShift is the shift σ of the deflation operator. Default 1.
	DeflationShift float64

	// Alpha is α = dt/τ of the Euler map the network is simulated with,
	// for Point.MapUnstable; 0 (the default) leaves MapUnstable at −1.
	Alpha float64
}

// withDefaults returns s with its zero fields set and checks the rest.
func (s Settings) withDefaults() (Settings, error) {
	if s.Inits == 0 {
		s.Inits = 256
	}
	if s.Noise == 0 {
		s.Noise = 0.1
	}
	if s.Noise < 0 {
		s.Noise = 0
	}
	if s.TolQ == 0 {
		s.TolQ = 1e-12
	}
	if s.TolSlow == 0 {
		s.TolSlow = max(1e-4, s.TolQ)
	}
	if s.TolUnique == 0 {
		s.TolUnique = 1e-3
	}
	if s.OutlierScale == 0 {
		s.OutlierScale = 10
	}
	if s.MaxIter == 0 {
		s.MaxIter = 200
	}
	if s.Vectors == 0 {
		s.Vectors = 3
	}
	if s.Workers == 0 {
		s.Workers = runtime.GOMAXPROCS(0)
	}
	if s.DeflationPower == 0 {
		s.DeflationPower = 3
	}
	if s.DeflationShift == 0 {
		s.DeflationShift = 1
	}
	bad := func(x float64) bool { return !(x > 0) || math.IsInf(x, 0) }
	switch {
	case s.Inits < 0:
		return s, fmt.Errorf("fixedpoints: Inits = %d: must be positive (0 means 256)", s.Inits)
	case math.IsNaN(s.Noise) || math.IsInf(s.Noise, 0):
		return s, fmt.Errorf("fixedpoints: Noise = %v: must be a finite standard deviation", s.Noise)
	case bad(s.TolQ):
		return s, fmt.Errorf("fixedpoints: TolQ = %v: must be a positive finite number (0 means 1e-12)", s.TolQ)
	case bad(s.TolSlow) || s.TolSlow < s.TolQ:
		return s, fmt.Errorf("fixedpoints: TolSlow = %v: must be finite and at least TolQ = %v", s.TolSlow, s.TolQ)
	case bad(s.TolUnique):
		return s, fmt.Errorf("fixedpoints: TolUnique = %v: must be a positive finite distance (0 means 1e-3)", s.TolUnique)
	case math.IsNaN(s.OutlierScale) || math.IsInf(s.OutlierScale, 0):
		return s, fmt.Errorf("fixedpoints: OutlierScale = %v: must be finite (negative disables the rule)", s.OutlierScale)
	case s.MaxIter < 0:
		return s, fmt.Errorf("fixedpoints: MaxIter = %d: must be positive (0 means 200)", s.MaxIter)
	case s.Deflations < 0:
		return s, fmt.Errorf("fixedpoints: Deflations = %d: must be 0 (no deflation) or a number of deflated searches per initial state", s.Deflations)
	case bad(s.DeflationPower):
		return s, fmt.Errorf("fixedpoints: DeflationPower = %v: must be a positive finite power (0 means 3)", s.DeflationPower)
	case bad(s.DeflationShift):
		return s, fmt.Errorf("fixedpoints: DeflationShift = %v: must be a positive finite shift (0 means 1)", s.DeflationShift)
	case math.IsNaN(s.Alpha) || math.IsInf(s.Alpha, 0) || s.Alpha < 0:
		return s, fmt.Errorf("fixedpoints: Alpha = %v: must be dt/τ > 0 (0 skips the Euler-map index)", s.Alpha)
	case s.Workers < 0:
		return s, fmt.Errorf("fixedpoints: Workers = %d: must be positive (0 means GOMAXPROCS)", s.Workers)
	}
	if s.Vectors < 0 {
		s.Vectors = 0
	}
	return s, nil
}
