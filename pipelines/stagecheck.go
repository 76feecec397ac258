package pipelines

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"rulescape/core/sensitivity"
)

// DefaultStages returns the stage settings a campaign plans for a stage
// section left empty (e.g. `stages: {rsa: {}}`); the analysis stages are
// off, as in a campaign without their sections.
func DefaultStages() Stages { return defaultStages() }

// SettingError is an out-of-range setting of an analysis stage.
type SettingError struct {
	Key   string // the setting's key, e.g. "max_iters"
	Value any
	Want  string // what the setting takes, e.g. "at least 1 iteration"
}

// Error returns "key = value: want …".
func (e *SettingError) Error() string {
	if s, ok := e.Value.(string); ok {
		return fmt.Sprintf("%s = %q: want %s", e.Key, s, e.Want)
	}
	return fmt.Sprintf("%s = %v: want %s", e.Key, e.Value, e.Want)
}

// Validate checks the settings a campaign file's parser checks (the same
// bounds), as a *SettingError.
func (s FixedPointsStage) Validate() error {
	switch {
	case s.Inits < 1:
		return &SettingError{"inits", s.Inits, "at least 1 initial state per input"}
	case s.MaxIters < 1:
		return &SettingError{"max_iters", s.MaxIters, "at least 1 iteration"}
	case !(s.Tol > 0) || math.IsInf(s.Tol, 0):
		return &SettingError{"tol", s.Tol, "a positive speed, e.g. 1e-6"}
	case s.Deflation < 0:
		return &SettingError{"deflation", s.Deflation, "0 (off) or a number of rounds of deflated searches, e.g. 4"}
	case !(s.DeflationPower >= 0) || math.IsInf(s.DeflationPower, 0):
		return &SettingError{"deflation_power", s.DeflationPower, fmt.Sprintf("a positive power, e.g. %g (0 means %g)", DefaultDeflationPower, DefaultDeflationPower)}
	case !(s.DeflationShift >= 0) || math.IsInf(s.DeflationShift, 0):
		return &SettingError{"deflation_shift", s.DeflationShift, fmt.Sprintf("a positive shift, e.g. %g (0 means %g)", DefaultDeflationShift, DefaultDeflationShift)}
	}
	return nil
}

// Validate checks the settings a campaign file's parser checks, as a
// *SettingError.
func (s SensitivityStage) Validate() error {
	switch {
	case s.Perturbations < 1:
		return &SettingError{"perturbations", s.Perturbations, "at least 1 random direction"}
	case !(s.Scale > 0) || math.IsInf(s.Scale, 0):
		return &SettingError{"scale", s.Scale, fmt.Sprintf("a positive relative size, e.g. %g (the default keeps the probes linear)", sensitivity.DefaultScale)}
	}
	return nil
}

// Validate checks the settings a campaign file's parser checks, as a
// *SettingError.
func (s RSAStage) Validate() error {
	switch {
	case s.Metric != "correlation" && s.Metric != "euclidean":
		return &SettingError{"metric", s.Metric, "correlation or euclidean"}
	case s.Permutations < 0:
		return &SettingError{"permutations", s.Permutations, "0 (no test) or more"}
	}
	return nil
}

// Validate checks the settings a campaign file's parser checks, as a
// *SettingError. Whether rank and the delays fit the networks and trials
// is checked against each task (DSASettings.Validate of core/dsa).
func (s DSAStage) Validate() error {
	switch {
	case s.Delays < 1:
		return &SettingError{"n_delays", s.Delays, "at least 1 state per delay vector (1 = no delay embedding)"}
	case s.DelayInterval < 1:
		return &SettingError{"delay_interval", s.DelayInterval, "at least 1 step between delayed states"}
	case s.Rank < 1:
		return &SettingError{"rank", s.Rank, "at least 1 dimension, at most n_delays × units"}
	case s.Restarts < 1:
		return &SettingError{"restarts", s.Restarts, "at least 1 start of the search over orthogonal matrices (the default is 16)"}
	case s.Permutations < 0:
		return &SettingError{"permutations", s.Permutations, "0 (no test) or more"}
	}
	for _, d := range s.Distances {
		if d != DistanceDSA && d != DistanceSpectral {
			return &SettingError{"distances", d, "a list of dsa and spectral, e.g. [spectral] for the cheap distance only"}
		}
	}
	return nil
}

// Validate checks the settings a campaign file's parser checks, as a
// *SettingError. Whether a weighted distance's stage is in the campaign is
// checked by Parse.
func (s AtlasStage) Validate() error {
	some := false
	for _, d := range slices.Sorted(maps.Keys(s.Weights)) {
		w := s.Weights[d]
		if !slices.Contains(AtlasDistances, d) {
			return &SettingError{"weights", d, "weights of dsa, spectral and topology"}
		}
		if !(w >= 0) || math.IsInf(w, 0) {
			return &SettingError{"weights." + d, w, "a finite weight ≥ 0 (0 leaves the distance out)"}
		}
		some = some || w > 0
	}
	if !some {
		return &SettingError{"weights", "all 0", "a positive weight on at least one distance, e.g. {spectral: 1, topology: 1}"}
	}
	switch {
	case s.MinFamilies < 2:
		return &SettingError{"min_families", s.MinFamilies, "2 or more (one family is the outcome when no cut reaches min_silhouette)"}
	case s.MaxFamilies < s.MinFamilies:
		return &SettingError{"max_families", s.MaxFamilies, fmt.Sprintf("at least min_families = %d", s.MinFamilies)}
	case !(s.MinSilhouette >= -1 && s.MinSilhouette <= 1):
		return &SettingError{"min_silhouette", s.MinSilhouette, "a silhouette in [-1, 1], e.g. 0.25"}
	case s.Resamples < 1:
		return &SettingError{"resamples", s.Resamples, "at least 1 subsample, e.g. 20"}
	case !(s.Fraction > 0 && s.Fraction < 1):
		return &SettingError{"fraction", s.Fraction, "a share in (0, 1), e.g. 0.8"}
	case s.Permutations < 0:
		return &SettingError{"permutations", s.Permutations, "0 (no test) or more"}
	}
	return nil
}

// Weight returns the stage's weight of a distance (0 when unset).
func (s AtlasStage) Weight(distance string) float64 { return s.Weights[distance] }

// Validate checks the settings a campaign file's parser checks, as a
// *SettingError.
func (s LandscapeStage) Validate() error {
	d := defaultStages().Landscape
	switch {
	case s.PCs < 1:
		return &SettingError{"pcs", s.PCs, fmt.Sprintf("at least 1 principal axis (the campaign default is %d)", d.PCs)}
	case s.ConnectSteps < 1:
		return &SettingError{"connect_steps", s.ConnectSteps, fmt.Sprintf("at least 1 Euler step per saddle branch (the campaign default is %d)", d.ConnectSteps)}
	case s.Permutations < 0:
		return &SettingError{"permutations", s.Permutations, "0 (no test) or more"}
	}
	return nil
}
