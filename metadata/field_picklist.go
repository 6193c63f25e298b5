package metadata

import (
	"encoding/json"
	"fmt"
	"sort"
)

// picklistType stores one option value as TEXT.
type picklistType struct{}

// multiPicklistType stores a set of option values as a JSON array in TEXT,
// sorted, so equal sets are equal strings.
type multiPicklistType struct{}

func init() {
	RegisterFieldType(picklistType{})
	RegisterFieldType(multiPicklistType{})
}

// Name implements FieldType.
func (picklistType) Name() string { return "picklist" }

// Kind implements FieldType.
func (picklistType) Kind() Kind { return KindString }

// Column implements FieldType.
func (picklistType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (picklistType) Check(f *Field) []Problem { return checkOptions(f) }

// Normalize implements FieldType.
func (picklistType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, nil
	}
	if _, ok := f.Option(s); !ok {
		return nil, fmt.Errorf("%q is not one of the options", s)
	}
	return s, nil
}

// Output implements FieldType.
func (picklistType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asString(v)
}

// Name implements FieldType.
func (multiPicklistType) Name() string { return "multi_picklist" }

// Kind implements FieldType.
func (multiPicklistType) Kind() Kind { return KindStringList }

// Column implements FieldType.
func (multiPicklistType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (multiPicklistType) Check(f *Field) []Problem { return checkOptions(f) }

// Normalize accepts a list of option values and stores it as sorted JSON.
func (multiPicklistType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var values []string
	switch x := v.(type) {
	case []string:
		values = append(values, x...)
	case []any:
		for _, e := range x {
			s, err := asString(e)
			if err != nil {
				return nil, err
			}
			values = append(values, s)
		}
	case string:
		if err := json.Unmarshal([]byte(x), &values); err != nil {
			return nil, fmt.Errorf("expected a list of options, got %q", x)
		}
	default:
		return nil, fmt.Errorf("expected a list of options, got %s", describe(v))
	}
	if len(values) == 0 {
		return nil, nil
	}
	sort.Strings(values)
	out := values[:0]
	for i, s := range values {
		if _, ok := f.Option(s); !ok {
			return nil, fmt.Errorf("%q is not one of the options", s)
		}
		if i == 0 || values[i-1] != s {
			out = append(out, s)
		}
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

// Output implements FieldType.
func (multiPicklistType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	var values []string
	if err := json.Unmarshal([]byte(s), &values); err != nil {
		return nil, fmt.Errorf("stored value %q is not a list: %w", s, err)
	}
	return values, nil
}

// checkOptions requires at least one option and unique values.
func checkOptions(f *Field) []Problem {
	if len(f.Options) == 0 {
		return []Problem{problemf("/options", "a %s needs at least one option", f.Type)}
	}
	var ps []Problem
	seen := map[string]bool{}
	for i, o := range f.Options {
		if o.Value == "" {
			ps = append(ps, problemf(pointer("options", i, "value"), "an option needs a value"))
		}
		if seen[o.Value] {
			ps = append(ps, problemf(pointer("options", i, "value"), "duplicate option value %q", o.Value))
		}
		seen[o.Value] = true
	}
	return ps
}

// Compile-time checks that the types implement FieldType.
var _ FieldType = multiPicklistType{}
var _ FieldType = picklistType{}
