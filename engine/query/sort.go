package query

import (
	"strings"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// SortKey is one column of an ORDER BY.
type SortKey struct {
	// Field is a field or system column of the object.
	Field string
	// Desc sorts from the largest value down.
	Desc bool
}

// spec writes the keys back as a sort parameter ("-amount,name,id").
func spec(keys []SortKey) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if k.Desc {
			b.WriteByte('-')
		}
		b.WriteString(k.Field)
	}
	return b.String()
}

// ParseSort reads a sort parameter: field names separated by commas, each
// optionally prefixed with "-" for descending ("+" for ascending is also
// accepted), such as "-amount,name". The id is appended as the final
// ascending key unless the parameter names it, so that the order is total
// and keyset pagination is exact. An empty src sorts by id.
func ParseSort(src string, obj *metadata.Object, opt Options) ([]SortKey, error) {
	var keys []SortKey
	seen := map[string]bool{}
	hasID := false
	off := 0
	for _, part := range strings.Split(src, ",") {
		p := off
		off += len(part) + 1
		name := strings.TrimSpace(part)
		p += strings.Index(part, name)
		if name == "" {
			if strings.TrimSpace(src) == "" {
				break
			}
			return nil, errorf(runeOffset(src, p), "", "empty field name in the sort")
		}
		desc := false
		switch name[0] {
		case '-':
			desc, name = true, strings.TrimSpace(name[1:])
		case '+':
			name = strings.TrimSpace(name[1:])
		}
		at := runeOffset(src, p)
		if hasID {
			return nil, errorf(at, name, "no field can follow id in a sort: the id is unique")
		}
		f, ok := obj.FieldOrSystem(name)
		if !ok {
			return nil, errorf(at, name, "unknown field %q on %s", name, obj.Name)
		}
		if err := opt.check(obj.Name, name, at); err != nil {
			return nil, err
		}
		if !metadata.Sortable(f) {
			return nil, errorf(at, name, "%s is a %s field and cannot be sorted on", name, f.Type)
		}
		if seen[name] {
			return nil, errorf(at, name, "%s appears twice in the sort", name)
		}
		seen[name] = true
		if len(keys) == MaxSortKeys {
			return nil, errorf(at, name, "too many sort fields (at most %d)", MaxSortKeys)
		}
		keys = append(keys, SortKey{Field: name, Desc: desc})
		hasID = hasID || name == "id"
	}
	if !hasID {
		keys = append(keys, SortKey{Field: "id"})
	}
	return keys, nil
}

// runeOffset converts a byte offset of s into a character offset.
func runeOffset(s string, b int) int {
	if b > len(s) {
		b = len(s)
	}
	return len([]rune(s[:b]))
}

// OrderBy returns the body of the ORDER BY clause for keys: quoted,
// unqualified columns, each with its direction and NULLS LAST (which both
// SQLite and PostgreSQL accept), so that empty values come last whatever
// the direction.
func OrderBy(keys []SortKey) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(store.Ident(k.Field))
		if k.Desc {
			b.WriteString(" DESC")
		} else {
			b.WriteString(" ASC")
		}
		if k.Field != "id" {
			b.WriteString(" NULLS LAST")
		}
	}
	return b.String()
}
