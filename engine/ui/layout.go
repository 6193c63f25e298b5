package ui

import (
	"github.com/crmplatform/crm/metadata"
)

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
			if t, ok := metadata.LookupTarget(f); ok && t == o.Name {
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

// layoutFor returns the layout the request's user sees for obj.
func (u *UI) layoutFor(r *rq, obj *metadata.Object) *Layout {
	return defaultLayout(r.rights.Snapshot().Schema, obj)
}
