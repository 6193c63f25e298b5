package layout

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/metadata"
)

// ListView is a named list of an object that a template ships (accounts
// not contacted last week, deals closing this month): a filter of the list
// filter language, a sort and columns (the layout's list columns when
// empty), for every user or for those holding one of Roles. It holds no
// records: opening it lists through the engine as the viewer, like any
// list, so each viewer sees only what they may read.
type ListView struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label"`
	Description metadata.Label `json:"description,omitempty"`
	Object      string         `json:"object"`
	Roles       []string       `json:"roles,omitempty"`
	Filter      string         `json:"filter,omitempty"`
	Sort        string         `json:"sort,omitempty"`
	Columns     []string       `json:"columns,omitempty"`
}

// For reports whether a user holding roles finds the view on its
// object's list.
func (v *ListView) For(roles []string) bool {
	return len(v.Roles) == 0 || slices.ContainsFunc(v.Roles, func(r string) bool { return slices.Contains(roles, r) })
}

// checkListView checks a list view against the schema: its object, its
// filter and sort in the filter language, its columns and its roles.
func checkListView(s *metadata.Schema, v *ListView) metadata.Problems {
	o, ok := s.Object(v.Object)
	if !ok {
		return metadata.Problems{{Path: "/object", Message: "no object " + v.Object}}
	}
	var ps metadata.Problems
	opt := query.Options{Dialect: metadata.DialectSQLite, Schema: s}
	if _, err := query.CompileFilter(v.Filter, o, opt); err != nil {
		ps = append(ps, metadata.Problem{Path: "/filter", Message: err.Error()})
	}
	if _, err := query.ParseSort(v.Sort, o, opt); err != nil {
		ps = append(ps, metadata.Problem{Path: "/sort", Message: err.Error()})
	}
	for i, c := range v.Columns {
		if _, ok := o.Field(c); !ok && !metadata.IsSystemField(c) {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/columns/%d", i), Message: fmt.Sprintf("no field %q in %s", c, o.Name)})
		}
	}
	for i, r := range v.Roles {
		if !slices.ContainsFunc(s.Roles, func(role *metadata.Role) bool { return role.Name == r }) {
			ps = append(ps, metadata.Problem{Path: fmt.Sprintf("/roles/%d", i), Message: "no role " + r})
		}
	}
	return ps
}
