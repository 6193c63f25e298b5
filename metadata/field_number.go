package metadata

import (
	"fmt"
	"math"
)

// integerType stores whole numbers as BIGINT.
type integerType struct{}

// floatType implements decimal and percent, stored as double precision:
// they are measures, not money (see currency for exact amounts).
// A decimal and a percent widen to each other.
type floatType struct {
	name   string
	widens string
}

func init() {
	RegisterFieldType(integerType{})
	RegisterFieldType(floatType{name: "decimal", widens: "percent"})
	RegisterFieldType(floatType{name: "percent", widens: "decimal"})
}

// Name implements FieldType.
func (integerType) Name() string { return "integer" }

// Kind implements FieldType.
func (integerType) Kind() Kind { return KindInt }

// Column implements FieldType.
func (integerType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "INTEGER", "BIGINT")
}

// Check implements FieldType.
func (integerType) Check(f *Field) []Problem { return checkMinMax(f) }

// Normalize implements FieldType.
func (integerType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	i, err := asInt64(v)
	if err != nil {
		return nil, err
	}
	if err := checkRange(f, float64(i)); err != nil {
		return nil, err
	}
	return i, nil
}

// Output implements FieldType.
func (integerType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if _, ok := v.(int64); ok {
		return v, nil // not boxed again
	}
	return asInt64(v)
}

// WidensTo implements Widener: every whole number is a decimal.
func (integerType) WidensTo(to string) bool { return to == "decimal" || to == "percent" }

// Name implements FieldType.
func (t floatType) Name() string { return t.name }

// WidensTo implements Widener.
func (t floatType) WidensTo(to string) bool { return to == t.widens }

// Kind implements FieldType.
func (floatType) Kind() Kind { return KindFloat }

// Column implements FieldType.
func (floatType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "REAL", "DOUBLE PRECISION")
}

// Check implements FieldType.
func (floatType) Check(f *Field) []Problem {
	ps := checkMinMax(f)
	if f.Scale != nil && (*f.Scale < 0 || *f.Scale > 10) {
		ps = append(ps, Problemf("/scale", "must be between 0 and 10"))
	}
	return ps
}

// Normalize implements FieldType.
func (floatType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	x, err := asFloat(v)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, fmt.Errorf("must be a finite number")
	}
	if f.Scale != nil {
		p := math.Pow10(*f.Scale)
		x = math.Round(x*p) / p
	}
	if err := checkRange(f, x); err != nil {
		return nil, err
	}
	return x, nil
}

// Output implements FieldType.
func (floatType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asFloat(v)
}

// checkMinMax checks that min is not above max.
func checkMinMax(f *Field) []Problem {
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		return []Problem{Problemf("/min", "min %v is greater than max %v", *f.Min, *f.Max)}
	}
	return nil
}

// Compile-time checks that the types implement FieldType and their
// optional abilities.
var (
	_ FieldType = floatType{}
	_ Widener   = floatType{}
	_ FieldType = integerType{}
	_ Widener   = integerType{}
)
