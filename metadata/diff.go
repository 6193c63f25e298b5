package metadata

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// ChangeKind names one kind of schema change.
type ChangeKind string

// The kinds of change Diff finds.
const (
	AddObject    ChangeKind = "add_object"
	DropObject   ChangeKind = "drop_object"
	AddField     ChangeKind = "add_field"
	DropField    ChangeKind = "drop_field"
	ChangeType   ChangeKind = "change_type"
	AddUnique    ChangeKind = "add_unique"
	DropUnique   ChangeKind = "drop_unique"
	AddRequired  ChangeKind = "add_required"
	DropOptions  ChangeKind = "drop_options"
	ShrinkLength ChangeKind = "shrink_length"
	ChangeTarget ChangeKind = "change_target"
	AlterField   ChangeKind = "alter_field"
	AlterObject  ChangeKind = "alter_object"
	ChangeRoles  ChangeKind = "change_roles"
	// AddDocument, AlterDocument and DropDocument are changes to the
	// documents of the kinds other than objects and roles; they change no
	// table.
	AddDocument   ChangeKind = "add_document"
	AlterDocument ChangeKind = "alter_document"
	DropDocument  ChangeKind = "drop_document"
)

// Change is one difference between two schemas. Lossy changes may destroy
// data and are applied only when forced; others may still be refused by the
// store after looking at the data (an option still in use, duplicates for a
// new unique field).
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Object  string     `json:"object"`
	Field   string     `json:"field,omitempty"`
	Old     *Field     `json:"-"`
	New     *Field     `json:"-"`
	Options []string   `json:"options,omitempty"`
	Lossy   bool       `json:"lossy,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	// DocKind and Name name the document of a document change.
	DocKind string `json:"doc_kind,omitempty"`
	Name    string `json:"name,omitempty"`
}

// String describes the change in one line.
func (c Change) String() string {
	s := string(c.Kind) + " " + c.Object
	if c.DocKind != "" {
		s = string(c.Kind) + " " + c.DocKind + "/" + c.Name
	}
	if c.Field != "" {
		s += "." + c.Field
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// Diff compares two schemas and lists the changes that turn old into new,
// objects and fields in the order of new. A nil old is an empty schema.
func Diff(old, new *Schema) []Change {
	if old == nil {
		old = &Schema{}
	}
	var out []Change
	for _, o := range new.Objects {
		prev, ok := old.Object(o.Name)
		if !ok {
			out = append(out, Change{Kind: AddObject, Object: o.Name})
			continue
		}
		out = append(out, diffObject(prev, o)...)
	}
	for _, o := range old.Objects {
		if _, ok := new.Object(o.Name); !ok {
			out = append(out, Change{Kind: DropObject, Object: o.Name, Reason: "the table is archived, not dropped, until purged"})
		}
	}
	if !jsonEqual(old.Roles, new.Roles) {
		out = append(out, Change{Kind: ChangeRoles, Reason: "roles and their rights changed"})
	}
	return append(out, diffDocs(old, new)...)
}

// diffDocs compares the documents of the kinds other than objects and
// roles, by kind and then by name.
func diffDocs(old, new *Schema) []Change {
	kinds := map[string]bool{}
	for k := range old.Docs {
		kinds[k] = true
	}
	for k := range new.Docs {
		kinds[k] = true
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []Change
	for _, kind := range names {
		for _, d := range new.Docs[kind] {
			prev, ok := old.Document(kind, d.Name)
			switch {
			case !ok:
				out = append(out, Change{Kind: AddDocument, DocKind: kind, Name: d.Name})
			case !jsonEqual(prev.Raw, d.Raw):
				out = append(out, Change{Kind: AlterDocument, DocKind: kind, Name: d.Name})
			}
		}
		for _, d := range old.Docs[kind] {
			if _, ok := new.Document(kind, d.Name); !ok {
				out = append(out, Change{Kind: DropDocument, DocKind: kind, Name: d.Name})
			}
		}
	}
	return out
}

// diffObject compares two versions of one object.
func diffObject(old, new *Object) []Change {
	var out []Change
	for _, f := range new.Fields {
		prev, ok := old.Field(f.Name)
		if !ok {
			out = append(out, Change{Kind: AddField, Object: new.Name, Field: f.Name, New: f})
			continue
		}
		out = append(out, diffField(new.Name, prev, f)...)
	}
	for _, f := range old.Fields {
		if _, ok := new.Field(f.Name); !ok {
			out = append(out, Change{Kind: DropField, Object: new.Name, Field: f.Name, Old: f, Reason: "the column is archived, not dropped, until purged"})
		}
	}
	a, b := *old, *new
	a.Fields, b.Fields = nil, nil
	if !jsonEqual(a, b) {
		out = append(out, Change{Kind: AlterObject, Object: new.Name, Reason: "labels, rules or options of the object changed"})
	}
	return out
}

// diffField compares two versions of one field.
func diffField(object string, old, new *Field) []Change {
	base := Change{Object: object, Field: new.Name, Old: old, New: new}
	with := func(k ChangeKind, lossy bool, reason string, args ...any) Change {
		c := base
		c.Kind, c.Lossy, c.Reason = k, lossy, fmt.Sprintf(reason, args...)
		return c
	}
	var out []Change
	if old.Type != new.Type {
		if Widens(old.Type, new.Type) {
			out = append(out, with(ChangeType, false, "%s widens to %s", old.Type, new.Type))
		} else {
			out = append(out, with(ChangeType, true, "changing %s to %s can lose or alter values", old.Type, new.Type))
		}
		return out
	}
	if old.Target != new.Target {
		out = append(out, with(ChangeTarget, true, "the target changes from %s to %s; existing references would point at the wrong object", old.Target, new.Target))
	}
	if new.Unique && !old.Unique {
		out = append(out, with(AddUnique, false, "values must be unique"))
	}
	if old.Unique && !new.Unique {
		out = append(out, with(DropUnique, false, "values need no longer be unique"))
	}
	if new.Required && !old.Required {
		out = append(out, with(AddRequired, false, "the field becomes required"))
	}
	if new.MaxLength > 0 && (old.MaxLength == 0 || new.MaxLength < old.MaxLength) {
		out = append(out, with(ShrinkLength, false, "max_length becomes %d", new.MaxLength))
	}
	var removed []string
	for _, o := range old.Options {
		if _, ok := new.Option(o.Value); !ok {
			removed = append(removed, o.Value)
		}
	}
	if len(removed) > 0 {
		c := with(DropOptions, false, "options removed: %v", removed)
		c.Options = removed
		out = append(out, c)
	}
	if old.MasterDetail != new.MasterDetail {
		what := "becomes part of its target (master-detail): existing records keep their owners until written or their target is given away"
		if !new.MasterDetail {
			what = "is no longer master-detail"
		}
		out = append(out, with(AlterField, false, "the lookup %s", what))
	}
	if len(out) == 0 && !jsonEqual(old, new) {
		out = append(out, with(AlterField, false, "labels or options changed"))
	}
	return out
}

// jsonEqual compares two values by their JSON form.
func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}
