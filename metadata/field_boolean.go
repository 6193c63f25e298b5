package metadata

import "strconv"

// booleanType stores true/false (SQLite keeps it as 0/1).
type booleanType struct{}

func init() { RegisterFieldType(booleanType{}) }

// Name implements FieldType.
func (booleanType) Name() string { return "boolean" }

// Kind implements FieldType.
func (booleanType) Kind() Kind { return KindBool }

// Column implements FieldType.
func (booleanType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "BOOLEAN", "BOOLEAN")
}

// Check implements FieldType.
func (booleanType) Check(f *Field) []Problem { return nil }

// Normalize implements FieldType.
func (booleanType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asBool(v)
}

// Output implements FieldType.
func (booleanType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asBool(v)
}

// ControlValues implements Controller: a dependent picklist names the
// values true and false.
func (booleanType) ControlValues(f *Field) []string { return []string{"true", "false"} }

// ControlValue implements Controller.
func (booleanType) ControlValue(f *Field, v any) string {
	b, err := asBool(v)
	if v == nil || err != nil {
		return ""
	}
	return strconv.FormatBool(b)
}

// Compile-time checks that the type implements FieldType and its optional
// abilities.
var (
	_ FieldType  = booleanType{}
	_ Controller = booleanType{}
)
