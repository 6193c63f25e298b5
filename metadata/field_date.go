package metadata

import (
	"fmt"
	"time"
)

// dateType stores a calendar day: DATE in PostgreSQL, "YYYY-MM-DD" text in
// SQLite (which sorts and compares correctly as text). The storage form is
// the "YYYY-MM-DD" string in both.
type dateType struct{}

// dateTimeType stores an instant in UTC: TIMESTAMPTZ in PostgreSQL,
// fixed-width RFC 3339 text in SQLite. The storage form is a time.Time in
// UTC; the store formats it for SQLite.
type dateTimeType struct{}

func init() {
	RegisterFieldType(dateType{})
	RegisterFieldType(dateTimeType{})
}

// Name implements FieldType.
func (dateType) Name() string { return "date" }

// Kind implements FieldType.
func (dateType) Kind() Kind { return KindDate }

// Column implements FieldType.
func (dateType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "TEXT", "DATE")
}

// Check implements FieldType.
func (dateType) Check(f *Field) []Problem { return nil }

// Normalize implements FieldType.
func (dateType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t, ok := v.(time.Time); ok {
		return t.Format(DateLayout), nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return nil, fmt.Errorf("expected a date as YYYY-MM-DD, got %q", s)
	}
	return t.Format(DateLayout), nil
}

// Output implements FieldType.
func (dateType) Output(f *Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.Format(DateLayout), nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if len(s) > len(DateLayout) {
		s = s[:len(DateLayout)]
	}
	return s, nil
}

// Name implements FieldType.
func (dateTimeType) Name() string { return "datetime" }

// Kind implements FieldType.
func (dateTimeType) Kind() Kind { return KindDateTime }

// Column implements FieldType.
func (dateTimeType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "TEXT", "TIMESTAMPTZ")
}

// Check implements FieldType.
func (dateTimeType) Check(f *Field) []Problem { return nil }

// Normalize implements FieldType.
func (dateTimeType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, nil
	}
	t, err := asTime(v)
	if err != nil {
		return nil, err
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// Output implements FieldType.
func (dateTimeType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t, err := asTime(v)
	if err != nil {
		return nil, err
	}
	return t.UTC().Format(DateTimeLayout), nil
}

// Compile-time checks that the types implement FieldType.
var _ FieldType = dateTimeType{}
var _ FieldType = dateType{}
