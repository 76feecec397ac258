package schemas

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column describes one column of a dataset kind.
type Column struct {
	Name string
	// Type is "string", "int32", "int64", "float64", "bool",
	// "fixed_size_list<E>" (length fixed per dataset) or "list<E>".
	Type string
	// Nullable is true for columns that may hold nulls (NaN in Go).
	Nullable bool
}

// Columns returns the columns of a kind in file order.
func Columns(k Kind) ([]Column, error) {
	switch k {
	case LearningCurves:
		return describe[LearningCurveRow](), nil
	case Networks:
		return describe[NetworkRow](), nil
	case Trajectories:
		return describe[TrajectoryRow](), nil
	case MetaoptHistory:
		return describe[MetaoptRow](), nil
	case FixedPoints:
		return describe[FixedPointRow](), nil
	case RDMs:
		return describe[RDMRow](), nil
	case RSAPairs:
		return describe[RSAPairRow](), nil
	case Sensitivity:
		return describe[SensitivityRow](), nil
	case Landscape:
		return describe[LandscapeRow](), nil
	case LandscapePairs:
		return describe[LandscapePairRow](), nil
	case DSAOperators:
		return describe[DSAOperatorRow](), nil
	case DSAPairs:
		return describe[DSAPairRow](), nil
	case AtlasNetworks:
		return describe[AtlasNetworkRow](), nil
	case AtlasFamilies:
		return describe[AtlasFamilyRow](), nil
	case AtlasRules:
		return describe[AtlasRuleRow](), nil
	}
	return nil, fmt.Errorf("schemas: unknown dataset kind %q: want one of %v", k, Kinds())
}

func describe[R Row[R]]() []Column {
	var zero R
	var out []Column
	for _, c := range zero.columns() {
		out = append(out, Column{Name: c.name, Type: typeName(c.typ(1)), Nullable: c.nullable})
	}
	return out
}

func typeName(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.FixedSizeListType:
		return "fixed_size_list<" + typeName(t.Elem()) + ">"
	case *arrow.ListType:
		return "list<" + typeName(t.Elem()) + ">"
	case *arrow.StringType:
		return "string"
	}
	return t.String()
}
