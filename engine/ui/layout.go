package ui

import (
	"slices"

	"github.com/crmplatform/crm/engine/ui/layout"
	"github.com/crmplatform/crm/metadata"
)

// Layout arranges an object's pages (the document kind of package layout).
type Layout = layout.Layout

// LayoutSection is a titled group of fields, in order.
type LayoutSection = layout.Section

// RelatedList lists the records of an object whose lookup points at the
// record shown.
type RelatedList = layout.Related

// Layouts reads the documents of kind "layouts": Layouts.All(s),
// Layouts.Get(s, name).
var Layouts = layout.Layouts

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
	for _, sec := range []LayoutSection{{Label: sectionDetails, Fields: details}, {Label: sectionComputed, Fields: computed}, {Label: sectionMore, Fields: more}} {
		if len(sec.Fields) > 0 {
			l.Sections = append(l.Sections, sec)
		}
	}
	l.ListColumns = defaultColumns(o)
	for _, other := range s.Objects {
		for _, f := range other.Fields {
			if layout.PointsAt(f, o.Name) {
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
	title := o.NamingField()
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
