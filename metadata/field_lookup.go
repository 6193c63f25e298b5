package metadata

import (
	"fmt"
)

// lookupType is a many-to-one reference: a TEXT column holding the id of a
// record of the target object, with an index and, where the dialect allows,
// a foreign key.
type lookupType struct{}

// manyToManyType links records through a link table; it has no column. Its
// JSON form is the list of linked ids.
type manyToManyType struct{}

// On-delete behaviours of a lookup.
const (
	OnDeleteRestrict = "restrict"
	OnDeleteSetNull  = "set_null"
	OnDeleteCascade  = "cascade"
)

func init() {
	RegisterFieldType(lookupType{})
	RegisterFieldType(manyToManyType{})
}

// Name implements FieldType.
func (lookupType) Name() string { return "lookup" }

// Kind implements FieldType.
func (lookupType) Kind() Kind { return KindRef }

// Column implements FieldType.
func (lookupType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (lookupType) Check(f *Field) []Problem {
	var ps []Problem
	if f.Target == "" {
		ps = append(ps, Problemf("/target", "a lookup needs a target object"))
	}
	switch f.OnDelete {
	case "", OnDeleteRestrict, OnDeleteSetNull, OnDeleteCascade:
	default:
		ps = append(ps, Problemf("/on_delete", "must be restrict, set_null or cascade, not %q", f.OnDelete))
	}
	if f.OnDelete == OnDeleteSetNull && f.Required {
		ps = append(ps, Problemf("/on_delete", "a required lookup cannot be set to null on delete"))
	}
	return ps
}

// OnDeleteOf returns the effective on-delete behaviour of a lookup.
func OnDeleteOf(f *Field) string {
	if f.OnDelete == "" {
		return OnDeleteRestrict
	}
	return f.OnDelete
}

// Normalize implements FieldType.
func (lookupType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, fmt.Errorf("expected a record id, got %s", describe(v))
	}
	if s == "" {
		return nil, nil
	}
	if !ValidID(s) {
		return nil, fmt.Errorf("%q is not a record id", s)
	}
	return s, nil
}

// Output implements FieldType.
func (lookupType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return outString(v)
}

// References implements Referencer.
func (lookupType) References(f *Field) string { return f.Target }

// Name implements FieldType.
func (manyToManyType) Name() string { return "many_to_many" }

// Kind implements FieldType.
func (manyToManyType) Kind() Kind { return KindRefList }

// Column implements FieldType.
func (manyToManyType) Column(dialect string, f *Field) string {
	return ""
}

// Check implements FieldType.
func (manyToManyType) Check(f *Field) []Problem {
	var ps []Problem
	if f.Target == "" {
		ps = append(ps, Problemf("/target", "a many_to_many needs a target object"))
	}
	if f.Unique {
		ps = append(ps, Problemf("/unique", "a many_to_many cannot be unique"))
	}
	return ps
}

// Normalize accepts a list of ids; the storage form is []string.
func (manyToManyType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return []string{}, nil
	}
	var in []any
	switch x := v.(type) {
	case []any:
		in = x
	case []string:
		for _, s := range x {
			in = append(in, s)
		}
	default:
		return nil, fmt.Errorf("expected a list of record ids, got %s", describe(v))
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, e := range in {
		s, err := asString(e)
		if err != nil || !ValidID(s) {
			return nil, fmt.Errorf("%v is not a record id", e)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// Output implements FieldType.
func (manyToManyType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return []string{}, nil
	}
	ids, ok := v.([]string)
	if !ok {
		return nil, fmt.Errorf("expected a list of ids, got %T", v)
	}
	return ids, nil
}

// References implements Referencer.
func (manyToManyType) References(f *Field) string { return f.Target }

// InLinkTable implements Linker.
func (manyToManyType) InLinkTable(f *Field) bool { return true }

// ValidID reports whether s has the shape of a record id (a UUID).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Compile-time checks that the types implement FieldType and their
// optional abilities.
var (
	_ FieldType  = lookupType{}
	_ Referencer = lookupType{}
	_ FieldType  = manyToManyType{}
	_ Linker     = manyToManyType{}
)
