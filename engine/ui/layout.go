package ui

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/metadata"
)

//go:embed layout.schema.json
var layoutSchema []byte

// Layouts reads the documents of kind "layouts" (folder layouts/ of a
// template, /api/meta/layouts): Layouts.All(s), Layouts.Get(s, name).
var Layouts metadata.Docs[Layout]

// init registers the layouts kind.
func init() {
	Layouts = metadata.RegisterKind(metadata.KindSpec[Layout]{
		Name:   "layouts",
		Schema: layoutSchema,
		Public: true,
		Check:  checkLayout,
	})
}

// checkLayout checks a layout against the schema: its object, the fields
// of its sections and columns, its related lists (a lookup of the other
// object pointing at this one) and its roles exist; a field is placed
// once; two layouts of an object do not claim the same role.
func checkLayout(s *metadata.Schema, l *Layout) metadata.Problems {
	var ps metadata.Problems
	o, ok := s.Object(l.Object)
	if !ok {
		return metadata.Problems{{Path: "/object", Message: "no object " + l.Object}}
	}
	known := func(name string) bool {
		_, ok := o.Field(name)
		return ok || metadata.IsSystemField(name)
	}
	placed := map[string]bool{}
	for i, sec := range l.Sections {
		for j, f := range sec.Fields {
			path := fmt.Sprintf("/sections/%d/fields/%d", i, j)
			switch {
			case !known(f):
				ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("no field %q in %s", f, o.Name)})
			case placed[f]:
				ps = append(ps, metadata.Problem{Path: path, Message: fmt.Sprintf("field %q is placed twice", f)})
			}
			placed[f] = true
		}
	}
	for i, f := range l.ListColumns {
		if !known(f) {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/list_columns/%d", i), Message: fmt.Sprintf("no field %q in %s", f, o.Name)})
		}
	}
	for i, rl := range l.Related {
		other, ok := s.Object(rl.Object)
		if !ok {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/related/%d/object", i), Message: "no object " + rl.Object})
			continue
		}
		f, ok := other.Field(rl.Field)
		if !ok || !pointsAt(f, o.Name) {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/related/%d/field", i), Message: fmt.Sprintf("%s.%s is not a lookup to %s", rl.Object, rl.Field, o.Name)})
			continue
		}
		for j, c := range rl.Columns {
			if _, ok := other.Field(c); !ok && !metadata.IsSystemField(c) {
				ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/related/%d/columns/%d", i, j), Message: fmt.Sprintf("no field %q in %s", c, other.Name)})
			}
		}
	}
	roles := map[string]bool{}
	for _, r := range s.Roles {
		roles[r.Name] = true
	}
	for i, r := range l.Roles {
		if !roles[r] {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/roles/%d", i), Message: "no role " + r})
		}
		for _, other := range Layouts.All(s) {
			if other.Name != l.Name && other.Object == l.Object && slices.Contains(other.Roles, r) {
				ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/roles/%d", i), Message: fmt.Sprintf("layout %s already lays out %s for role %s", other.Name, l.Object, r)})
			}
		}
	}
	if len(l.Roles) == 0 {
		for _, other := range Layouts.All(s) {
			if other.Name != l.Name && other.Object == l.Object && len(other.Roles) == 0 {
				ps = append(ps, metadata.Problem{Path: "/roles", Message: fmt.Sprintf("layout %s is already the default of %s; name roles", other.Name, l.Object)})
			}
		}
	}
	return ps
}

// Layout arranges an object's pages: the sections of its detail page and
// form, the columns of its lists and the related lists of its detail page,
// for every user or for some roles.
type Layout struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	// Object is the object laid out.
	Object string `json:"object"`
	// Roles limits the layout to users holding one of these roles; a
	// layout without roles is the object's default.
	Roles    []string        `json:"roles,omitempty"`
	Sections []LayoutSection `json:"sections"`
	// ListColumns are the fields a list shows, in order.
	ListColumns []string `json:"list_columns,omitempty"`
	// Related are the lists of records pointing at the record.
	Related []RelatedList `json:"related,omitempty"`
}

// LayoutSection is a titled group of fields, in order.
type LayoutSection struct {
	Label  metadata.Label `json:"label"`
	Fields []string       `json:"fields"`
}

// RelatedList lists the records of Object whose lookup Field points at
// the record shown.
type RelatedList struct {
	Object  string         `json:"object"`
	Field   string         `json:"field"`
	Label   metadata.Label `json:"label,omitempty"`
	Columns []string       `json:"columns,omitempty"`
}

// maxDefaultColumns is how many columns a generated list shows.
const maxDefaultColumns = 5

// Labels of the generated sections.
var (
	sectionDetails  = metadata.Label{"en": "Details", "zh": "详细信息"}
	sectionComputed = metadata.Label{"en": "Computed", "zh": "自动计算"}
	sectionMore     = metadata.Label{"en": "Notes and files", "zh": "备注和附件"}
	sectionOther    = metadata.Label{"en": "Other fields", "zh": "其他字段"}
)

// defaultLayout generates the layout of an object that has none: its
// fields in order, computed fields apart, long texts and files last; the
// title field and the next few short fields as list columns; every lookup
// pointing at the object as a related list.
func defaultLayout(s *metadata.Schema, o *metadata.Object) *Layout {
	l := &Layout{Name: o.Name + "_default", Object: o.Name}
	var details, computed, more []string
	for _, f := range o.Fields {
		in := metadata.FormInput(f)
		switch {
		case metadata.Computed(f):
			computed = append(computed, f.Name)
		case in.Kind == metadata.InputTextarea || in.Kind == metadata.InputFile:
			more = append(more, f.Name)
		default:
			details = append(details, f.Name)
		}
	}
	for _, sec := range []LayoutSection{{sectionDetails, details}, {sectionComputed, computed}, {sectionMore, more}} {
		if len(sec.Fields) > 0 {
			l.Sections = append(l.Sections, sec)
		}
	}
	l.ListColumns = defaultColumns(o)
	for _, other := range s.Objects {
		for _, f := range other.Fields {
			if pointsAt(f, o.Name) {
				cols := defaultColumns(other)
				l.Related = append(l.Related, RelatedList{Object: other.Name, Field: f.Name, Columns: cols[:min(3, len(cols))]})
			}
		}
	}
	return l
}

// defaultColumns are the title field and the next short fields of o, with
// only its first lookup (lists stay narrow).
func defaultColumns(o *metadata.Object) []string {
	var cols []string
	title := titleField(o)
	if title != nil {
		cols = append(cols, title.Name)
	}
	lookup := false
	for _, f := range o.Fields {
		if len(cols) >= maxDefaultColumns {
			break
		}
		in := metadata.FormInput(f)
		if in.Kind == metadata.InputTextarea || in.Kind == metadata.InputFile || in.Multiple || f == title || (in.Kind == metadata.InputLookup && lookup) {
			continue
		}
		lookup = lookup || in.Kind == metadata.InputLookup
		cols = append(cols, f.Name)
	}
	return cols
}

// layoutFor returns the layout the request's user sees for obj: the
// object's layout naming one of the user's roles, else its layout naming
// none, else the generated default. Readable fields a layout leaves out
// are added in a last section, so no field a user may need (a required
// one) is ever missing from a form.
func (u *UI) layoutFor(r *rq, obj *metadata.Object) *Layout {
	sc := r.rights.Snapshot().Schema
	var chosen *Layout
	for _, l := range Layouts.All(sc) {
		if l.Object != obj.Name {
			continue
		}
		if len(l.Roles) == 0 && chosen == nil {
			chosen = l
		}
		for _, role := range r.p.Roles {
			if slices.Contains(l.Roles, role) {
				return completeLayout(l, obj)
			}
		}
	}
	if chosen == nil {
		return defaultLayout(sc, obj)
	}
	return completeLayout(chosen, obj)
}

// completeLayout returns l with the object's fields it does not place in
// a last section.
func completeLayout(l *Layout, obj *metadata.Object) *Layout {
	placed := map[string]bool{}
	for _, sec := range l.Sections {
		for _, f := range sec.Fields {
			placed[f] = true
		}
	}
	var rest []string
	for _, f := range obj.Fields {
		if !placed[f.Name] {
			rest = append(rest, f.Name)
		}
	}
	if len(rest) == 0 {
		return l
	}
	c := *l
	c.Sections = append(slices.Clone(l.Sections), LayoutSection{Label: sectionOther, Fields: rest})
	return &c
}

// pointsAt reports whether f is a lookup to object.
func pointsAt(f *metadata.Field, object string) bool {
	t, ok := metadata.LookupTarget(f)
	return ok && t == object
}
