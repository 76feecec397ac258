package schemas

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind names a dataset kind; it is the value of the rulescape.schema metadata key.
type Kind string

// The dataset kinds.
const (
	LearningCurves Kind = "learning_curves"
	Networks       Kind = "networks"
	Trajectories   Kind = "trajectories"
	MetaoptHistory Kind = "metaopt_history"
	FixedPoints    Kind = "fixed_points"
	RDMs           Kind = "rdms"
	RSAPairs       Kind = "rsa_pairs"
	Sensitivity    Kind = "sensitivity"
	Landscape      Kind = "landscape"
	LandscapePairs Kind = "landscape_pairs"
	DSAOperators   Kind = "dsa_operators"
	DSAPairs       Kind = "dsa_pairs"
	AtlasNetworks  Kind = "atlas_networks"
	AtlasFamilies  Kind = "atlas_families"
	AtlasRules     Kind = "atlas_rules"
)

// Kinds returns every dataset kind in a fixed order.
func Kinds() []Kind {
	return []Kind{LearningCurves, Networks, Trajectories, MetaoptHistory, FixedPoints, RDMs, RSAPairs, Sensitivity, Landscape, LandscapePairs, DSAOperators, DSAPairs, AtlasNetworks, AtlasFamilies, AtlasRules}
}

// Version returns the current schema version of the kind, or 0 for an
// unknown kind.
func (k Kind) Version() int {
	switch k {
	case LearningCurves, Networks, Trajectories, RDMs, RSAPairs, Landscape, LandscapePairs, DSAOperators, DSAPairs, AtlasNetworks, AtlasFamilies, AtlasRules:
		return 1
	case Sensitivity: // 2: sensitivity.top_fraction, delta_s_*
		return 2
	case FixedPoints: // 2: count; 3: deflated, index_map, the dynamics measures and the set_* completeness columns
		return 3
	case MetaoptHistory: // 2: without wall_seconds, so that a history is the same bytes on any workers; 3: a final row (the final Θ and its held-out J; j, grad, grad_norm and lr null there)
		return 3
	}
	return 0
}

// ID returns "kind@version", the string stored in a dataset reference.
func (k Kind) ID() string { return fmt.Sprintf("%s@%d", k, k.Version()) }

// Metadata keys stored in every file's schema.
const (
	MetaSchema        = "rulescape.schema"
	MetaSchemaVersion = "rulescape.schema_version"
	MetaCampaign      = "rulescape.campaign"
	MetaParamsSHA256  = "rulescape.params_sha256"
	MetaEngineVersion = "rulescape.engine_version"
)

// Meta is the provenance written into every dataset.
type Meta struct {
	Campaign      string // campaign ID
	ParamsSHA256  string // hex SHA-256 of the unit's canonical parameters (64 hex digits, or empty)
	EngineVersion string // version of the engine that computed the data
}

// Validate checks that ParamsSHA256 is empty or 64 hex digits.
func (m Meta) Validate() error {
	if m.ParamsSHA256 == "" {
		return nil
	}
	if _, err := hex.DecodeString(m.ParamsSHA256); err != nil || len(m.ParamsSHA256) != 64 {
		return fmt.Errorf("schemas: params_sha256 %q: want 64 hex digits (a SHA-256)", m.ParamsSHA256)
	}
	return nil
}

// Info is what a file says about itself: its kind, version and provenance.
type Info struct {
	Kind    Kind
	Version int
	Meta
}

func (m Meta) metadata(k Kind) arrow.Metadata {
	return arrow.NewMetadata(
		[]string{MetaSchema, MetaSchemaVersion, MetaCampaign, MetaParamsSHA256, MetaEngineVersion},
		[]string{string(k), strconv.Itoa(k.Version()), m.Campaign, m.ParamsSHA256, m.EngineVersion})
}

// infoFrom reads Info from schema metadata and checks it against the kind
// the caller expects; get returns the value of a metadata key or "".
func infoFrom(get func(key string) string, want Kind) (Info, error) {
	info := Info{Kind: Kind(get(MetaSchema)), Meta: Meta{
		Campaign: get(MetaCampaign), ParamsSHA256: get(MetaParamsSHA256), EngineVersion: get(MetaEngineVersion)}}
	if info.Kind == "" {
		return info, fmt.Errorf("schemas: file has no %s metadata: not written by rulescape, or its metadata was stripped", MetaSchema)
	}
	if info.Kind != want {
		return info, fmt.Errorf("schemas: file holds %s, want %s", info.Kind, want)
	}
	v, err := strconv.Atoi(get(MetaSchemaVersion))
	if err != nil {
		return info, fmt.Errorf("schemas: %s = %q: want an integer", MetaSchemaVersion, get(MetaSchemaVersion))
	}
	info.Version = v
	if v != want.Version() {
		return info, fmt.Errorf("schemas: %s file has schema version %d, this build reads version %d: recompute the dataset (its content key changes with the engine version) or read it with the build that wrote it",
			want, v, want.Version())
	}
	return info, nil
}
