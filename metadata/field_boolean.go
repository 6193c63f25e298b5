package metadata

// booleanType stores true/false (SQLite keeps it as 0/1).
type booleanType struct{}

func init() { RegisterFieldType(booleanType{}) }

func (booleanType) Name() string { return "boolean" }
func (booleanType) Kind() Kind   { return KindBool }
func (booleanType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "BOOLEAN", "BOOLEAN")
}
func (booleanType) Check(f *Field) []Problem { return nil }

func (booleanType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asBool(v)
}

func (booleanType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asBool(v)
}
