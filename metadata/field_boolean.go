package metadata

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

// Compile-time check that the type implements FieldType.
var _ FieldType = booleanType{}
