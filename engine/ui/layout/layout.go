// Package layout is the document kind layouts: how an object's pages are
// arranged (sections of the detail page and form, list columns, related
// lists), for every user or for some roles, and the kind list_views: the
// lists of an object a template ships. It imports only metadata and the
// filter language (engine/query), so every program that loads templates
// (defaults, crm validate) knows the kinds; engine/ui renders them.
package layout

import (
	_ "embed"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/metadata"
)

// The kinds' JSON Schemas.
var (
	//go:embed layout.schema.json
	layoutSchema []byte
	//go:embed list_view.schema.json
	listViewSchema []byte
)

// Layouts reads the documents of kind "layouts" (folder layouts/ of a
// template, /api/meta/layouts): Layouts.All(s), Layouts.Get(s, name).
// ListViews reads those of kind "list_views" (folder list_views/,
// /api/meta/list_views).
var (
	Layouts   metadata.Docs[Layout]
	ListViews metadata.Docs[ListView]
)

// init registers the kinds layouts and list_views, readable by every
// signed-in user.
func init() {
	Layouts = metadata.RegisterKind(metadata.KindSpec[Layout]{Name: "layouts", Schema: layoutSchema, Public: true, Check: checkLayout})
	ListViews = metadata.RegisterKind(metadata.KindSpec[ListView]{Name: "list_views", Schema: listViewSchema, Public: true, Check: checkListView})
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
		if !ok || !PointsAt(f, o.Name) {
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
	Roles    []string  `json:"roles,omitempty"`
	Sections []Section `json:"sections"`
	// ListColumns are the fields a list shows, in order.
	ListColumns []string `json:"list_columns,omitempty"`
	// Related are the lists of records pointing at the record.
	Related []Related `json:"related,omitempty"`
}

// Section is a titled group of fields, in order.
type Section struct {
	Label  metadata.Label `json:"label"`
	Fields []string       `json:"fields"`
}

// Related lists the records of Object whose lookup Field points at
// the record shown.
type Related struct {
	Object  string         `json:"object"`
	Field   string         `json:"field"`
	Label   metadata.Label `json:"label,omitempty"`
	Columns []string       `json:"columns,omitempty"`
}

// PointsAt reports whether f is a lookup to object.
func PointsAt(f *metadata.Field, object string) bool {
	t, ok := metadata.LookupTarget(f)
	return ok && t == object
}
