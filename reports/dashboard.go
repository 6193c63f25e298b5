package reports

import (
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/metadata"
)

// Dashboard is a grid of widgets (report charts and tables, counters and
// saved list views): a document of the kind "dashboards", offered to
// roles or users, or saved by a user for themselves.
type Dashboard struct {
	Name  string         `json:"name"`
	Label metadata.Label `json:"label,omitempty"`
	// Description says what it shows, per language like a label (a plain
	// text is English).
	Description metadata.Label `json:"description,omitempty"`
	// Roles and Users offer the dashboard to the users holding one of the
	// roles or named by username; to everyone when both are empty.
	Roles []string `json:"roles,omitempty"`
	Users []string `json:"users,omitempty"`
	// Home makes it the home dashboard of those it is offered to.
	Home    bool     `json:"home,omitempty"`
	Widgets []Widget `json:"widgets"`
}

// Widget types.
const (
	// WidgetChart draws a report's chart.
	WidgetChart = "chart"
	// WidgetTable shows a report's rows.
	WidgetTable = "table"
	// WidgetCounter shows one total of a report.
	WidgetCounter = "counter"
	// WidgetList shows a saved list view: records of an object with a
	// filter and a sort.
	WidgetList = "list"
)

// Widget is one cell of a dashboard's grid (12 columns wide).
type Widget struct {
	Type  string         `json:"type"`
	Title metadata.Label `json:"title,omitempty"`
	// Report names the report of a chart, table or counter; Params are its
	// parameters; Value is the total a counter shows (its first aggregate
	// when empty).
	Report string            `json:"report,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Value  string            `json:"value,omitempty"`
	// Object, Filter, Sort and Limit define a list view.
	Object string `json:"object,omitempty"`
	Filter string `json:"filter,omitempty"`
	Sort   string `json:"sort,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	// X, Y, W and H place the widget on the grid.
	X int `json:"x,omitempty"`
	Y int `json:"y,omitempty"`
	W int `json:"w,omitempty"`
	H int `json:"h,omitempty"`
}

// CheckDashboard checks the references of a dashboard: roles, reports,
// list views.
func CheckDashboard(s *metadata.Schema, d *Dashboard) metadata.Problems {
	return CheckOwnDashboard(s, d, nil)
}

// CheckOwnDashboard checks a dashboard a user saves for themselves as
// CheckDashboard does, its widgets' reports found among own (the reports
// that user saved) before the schema's, as the user's runs find them.
func CheckOwnDashboard(s *metadata.Schema, d *Dashboard, own []*Report) metadata.Problems {
	var ps metadata.Problems
	if d.Name == "home" {
		ps = append(ps, metadata.Problem{Path: "/name", Message: "home is the name under which every user finds their home dashboard; name the dashboard otherwise"})
	}
	for i, w := range d.Widgets {
		ps = append(ps, checkWidget(s, w, fmt.Sprintf("/widgets/%d", i), own)...)
	}
	return ps
}

// checkWidget checks one widget against the schema and the reports own
// (found first); path is its JSON pointer.
func checkWidget(s *metadata.Schema, w Widget, path string, own []*Report) metadata.Problems {
	bad := func(key, format string, args ...any) metadata.Problems {
		return metadata.Problems{{Path: path + "/" + key, Message: fmt.Sprintf(format, args...)}}
	}
	if w.X+max(w.W, 1) > 12 {
		return bad("w", "the widget does not fit the 12 columns of the grid (x %d, w %d)", w.X, w.W)
	}
	if w.Type == WidgetList {
		if w.Report != "" {
			return bad("report", "a list widget shows records of an object, not a report")
		}
		o, ok := s.Object(w.Object)
		if !ok {
			return bad("object", "a list widget needs an object; %q is not one", w.Object)
		}
		if _, err := query.CompileFilter(w.Filter, o, query.Options{Dialect: metadata.DialectSQLite, Schema: s}); err != nil {
			return bad("filter", "%v", err)
		}
		if _, err := query.ParseSort(w.Sort, o, query.Options{Dialect: metadata.DialectSQLite, Schema: s}); err != nil {
			return bad("sort", "%v", err)
		}
		return nil
	}
	if w.Object != "" || w.Filter != "" || w.Sort != "" {
		return bad("object", "object, filter and sort belong to list widgets")
	}
	r, ok := Reports.Get(s, w.Report)
	if i := slices.IndexFunc(own, func(o *Report) bool { return o.Name == w.Report }); i >= 0 {
		r, ok = own[i], true
	}
	if !ok {
		return bad("report", "unknown report %q", w.Report)
	}
	for name := range w.Params {
		if !slices.ContainsFunc(r.Parameters, func(p Parameter) bool { return p.Name == name }) {
			return bad("params", "report %s has no parameter %s", r.Name, name)
		}
	}
	if w.Type == WidgetChart && r.KindOrDefault() == Tabular {
		return bad("report", "report %s is tabular: a chart needs a summary or matrix report", r.Name)
	}
	if w.Value != "" && !slices.ContainsFunc(r.Aggregates, func(a Aggregate) bool { return a.Name == w.Value }) {
		return bad("value", "report %s has no aggregate %s", r.Name, w.Value)
	}
	if w.Type == WidgetCounter && len(r.Aggregates) == 0 {
		return bad("report", "report %s has no aggregate to count", r.Name)
	}
	return nil
}
