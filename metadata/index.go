package metadata

import "strings"

// MaxIndexFields is the most fields one declared index may have.
const MaxIndexFields = 8

// Index is an index an object declares on its table, so the lists and
// reports its users run often read in index order: a list of rep's open
// opportunities by amount wants {fields: [owner_id, stage, -amount]}.
// Fields name fields or system fields in index order, "-" before a name
// for descending (match the sort the lists use); the engine appends the
// id to every index that is not unique, so the order is total like the
// lists' order. A unique index refuses two records with the same values
// in all its fields (empty values never collide).
type Index struct {
	Fields []string `json:"fields"`
	Unique bool     `json:"unique,omitempty"`
}

// IndexField is one field of an index with its direction.
type IndexField struct {
	Name string
	Desc bool
}

// Parsed returns the fields of the index with their direction.
func (ix Index) Parsed() []IndexField {
	out := make([]IndexField, len(ix.Fields))
	for i, f := range ix.Fields {
		name, desc := strings.CutPrefix(f, "-")
		out[i] = IndexField{Name: name, Desc: desc}
	}
	return out
}

// validateIndexes checks the declared indexes of an object: each names
// one to MaxIndexFields sortable fields (or system fields) of the object,
// none twice, and no two indexes are the same.
func validateIndexes(o *Object) []Problem {
	var ps []Problem
	seen := map[string]bool{}
	for i, ix := range o.Indexes {
		at := func(p Problem) Problem {
			p.Path = pointer("indexes", i) + p.Path
			return p
		}
		if len(ix.Fields) == 0 || len(ix.Fields) > MaxIndexFields {
			ps = append(ps, at(Problemf("/fields", "an index has 1 to %d fields, not %d", MaxIndexFields, len(ix.Fields))))
			continue
		}
		names := map[string]bool{}
		for j, f := range ix.Parsed() {
			path := pointer("fields", j)
			def, ok := o.FieldOrSystem(f.Name)
			switch {
			case !ok:
				ps = append(ps, at(Problemf(path, "no field %q in object %q", f.Name, o.Name)))
			case !Sortable(def):
				ps = append(ps, at(Problemf(path, "%s is a %s field and cannot be indexed", f.Name, def.Type)))
			case names[f.Name]:
				ps = append(ps, at(Problemf(path, "%s appears twice in the index", f.Name)))
			}
			names[f.Name] = true
		}
		key := strings.Join(ix.Fields, ",")
		if ix.Unique {
			key += " unique"
		}
		if seen[key] {
			ps = append(ps, at(Problemf("/fields", "the same index is declared twice")))
		}
		seen[key] = true
	}
	return ps
}
