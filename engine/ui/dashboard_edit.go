package ui

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// dashboardEdit is the content of the editor of one of the user's own
// dashboards: the dashboard as edited, the reports and objects its
// widgets may show, and the problems of a refused save (Errors by input:
// "name", "label", "w<i>" for widget i; Other for the rest).
type dashboardEdit struct {
	Old     string
	D       DashboardDef
	Reports []Choice
	// Infos describes the reports of Reports by name (their parameters).
	Infos   map[string]ReportInfo
	Objects []navItem
	Types   []Choice
	Errors  map[string][]string
	Other   []string
}

// dashErrors are the problems of one input of the editor (ID its id).
type dashErrors struct {
	ID string
	M  []string
}

// editDashboardPage answers GET /ui/dashboards/{name}/edit: the editor of
// one of the user's own dashboards (another's, or one offered to them:
// 404).
func (u *UI) editDashboardPage(c *fiber.Ctx) error {
	d, err := u.rep.OwnDashboard(c.UserContext(), c.Params("name"))
	if err != nil {
		return u.fail(c, err)
	}
	return u.renderDashboardEdit(c, fiber.StatusOK, dashboardEdit{Old: d.Name, D: *d})
}

// editDashboard answers POST /ui/dashboards/{name}/edit: the dashboard
// as the form has it, after the button's operation (_op: save,
// remove:<i>, up:<i>, down:<i>), saved through Reports.PutDashboard
// (add shows the form again with a new widget to fill in, refresh with the
// parameters of the reports chosen, both unsaved); a
// refused save shows the form again with each problem next to its input
// (422) and saves nothing.
func (u *UI) editDashboard(c *fiber.Ctx) error {
	old := c.Params("name")
	if _, err := u.rep.OwnDashboard(c.UserContext(), old); err != nil {
		return u.fail(c, err)
	}
	d := DashboardDef{Name: strings.TrimSpace(c.FormValue("name")), Label: strings.TrimSpace(c.FormValue("label")), Home: c.FormValue("home") == "true"}
	n, _ := strconv.Atoi(c.FormValue("n"))
	for i := range min(n, 100) {
		d.Widgets = append(d.Widgets, widgetFromForm(c, i))
	}
	reps, err := u.rep.List(c.UserContext())
	if err != nil {
		return u.fail(c, err)
	}
	keepReportParams(d.Widgets, reps)
	op, arg, _ := strings.Cut(c.FormValue("_op", "save"), ":")
	i, _ := strconv.Atoi(arg)
	in := i >= 0 && i < len(d.Widgets)
	switch {
	case op == "add":
		// A new widget is filled in before it is saved.
		d.Widgets = append(d.Widgets, WidgetDef{From: -1, Type: c.FormValue("add_type", "chart"), Width: 6})
		return u.renderDashboardEdit(c, fiber.StatusOK, dashboardEdit{Old: old, D: d})
	case op == "refresh":
		// The parameters of the reports chosen, to fill in before saving.
		return u.renderDashboardEdit(c, fiber.StatusOK, dashboardEdit{Old: old, D: d})
	case op == "remove" && in:
		d.Widgets = slices.Delete(d.Widgets, i, i+1)
	case op == "up" && in && i > 0:
		d.Widgets[i-1], d.Widgets[i] = d.Widgets[i], d.Widgets[i-1]
	case op == "down" && in && i+1 < len(d.Widgets):
		d.Widgets[i+1], d.Widgets[i] = d.Widgets[i], d.Widgets[i+1]
	}
	if err := u.rep.PutDashboard(c.UserContext(), old, d); err != nil {
		ps, ok := errorsAs[metadata.Problems](err)
		if !ok {
			return u.fail(c, err)
		}
		e := dashboardEdit{Old: old, D: d, Errors: map[string][]string{}}
		for _, p := range ps {
			key := dashboardInput(p.Path)
			if key == "" {
				e.Other = append(e.Other, p.Message)
				continue
			}
			e.Errors[key] = append(e.Errors[key], p.Message)
		}
		return u.renderDashboardEdit(c, fiber.StatusUnprocessableEntity, e)
	}
	if op != "save" {
		return c.Redirect("/ui/dashboards/"+url.PathEscape(d.Name)+"/edit", fiber.StatusSeeOther)
	}
	return c.Redirect("/ui/?dashboard="+url.QueryEscape(d.Name)+"&flash=dashboard_saved", fiber.StatusSeeOther)
}

// widgetFromForm reads widget i of the editor's form.
func widgetFromForm(c *fiber.Ctx, i int) WidgetDef {
	v := func(key string) string { return strings.TrimSpace(c.FormValue(fmt.Sprintf("w%d_%s", i, key))) }
	// Only the inputs of the widget's kind are read: those of another
	// kind keep what the widget had before its kind was changed (and the
	// page hides them).
	w := WidgetDef{Type: v("type"), Title: v("title")}
	from, err := strconv.Atoi(v("from"))
	if err != nil {
		from = -1
	}
	w.From = from
	w.Width, _ = strconv.Atoi(v("width"))
	w.Width = min(max(w.Width, 1), 12)
	if w.Type == "list" {
		w.Object, w.Filter, w.Sort = v("object"), v("filter"), v("sort")
		w.Limit, _ = strconv.Atoi(v("limit"))
		return w
	}
	w.Report = v("report")
	if w.Type == "counter" {
		w.Value = v("value")
	}
	// Its report's parameters, one input each (w<i>_p_<name>); an empty
	// one leaves the parameter to the report's default.
	prefix := fmt.Sprintf("w%d_p_", i)
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		name, ok := strings.CutPrefix(string(k), prefix)
		if v := strings.TrimSpace(string(val)); ok && v != "" {
			if w.Params == nil {
				w.Params = map[string]string{}
			}
			w.Params[name] = v
		}
	})
	return w
}

// keepReportParams drops from each widget the parameters its report does
// not have: those of the report it showed before another was chosen.
func keepReportParams(ws []WidgetDef, reps []ReportInfo) {
	for i, w := range ws {
		j := slices.IndexFunc(reps, func(r ReportInfo) bool { return r.Name == w.Report })
		if j < 0 {
			continue
		}
		for name := range w.Params {
			if !slices.ContainsFunc(reps[j].Params, func(p ReportParam) bool { return p.Name == name }) {
				delete(ws[i].Params, name)
			}
		}
	}
}

// dashboardInput names the input of the editor a problem's JSON pointer
// points at ("" for none).
func dashboardInput(path string) string {
	switch {
	case path == "/name", path == "/label", strings.HasPrefix(path, "/label/"):
		return strings.Split(path, "/")[1]
	case strings.HasPrefix(path, "/widgets/"):
		i, _, _ := strings.Cut(strings.TrimPrefix(path, "/widgets/"), "/")
		return "w" + i
	}
	return ""
}

// renderDashboardEdit renders the editor with its choices.
func (u *UI) renderDashboardEdit(c *fiber.Ctx, status int, e dashboardEdit) error {
	p := u.newPage(c, tr(lang(c), "edit_dashboard_title", e.D.Label))
	reps, err := u.rep.List(c.UserContext())
	if err != nil {
		return u.fail(c, err)
	}
	e.Infos = make(map[string]ReportInfo, len(reps))
	for _, r := range reps {
		e.Reports = append(e.Reports, Choice{Value: r.Name, Label: r.Label})
		e.Infos[r.Name] = r
	}
	e.Objects = p.Nav
	for _, t := range []string{"counter", "chart", "table", "list"} {
		e.Types = append(e.Types, Choice{Value: t, Label: tr(p.Lang, "widget_"+t)})
	}
	p.Data = e
	return u.render(c, status, "dashboard_edit", p)
}

// ValuesOf lists the totals a counter widget may show: its report's
// aggregates, and the value it has when that is none of them (kept, and
// refused by the save's check).
func (e dashboardEdit) ValuesOf(w WidgetDef) []Choice {
	out := slices.Clip(e.Infos[w.Report].Aggregates)
	if w.Value != "" && !slices.ContainsFunc(out, func(c Choice) bool { return c.Value == w.Value }) {
		out = append(out, Choice{Value: w.Value, Label: w.Value})
	}
	return out
}

// widgetParam is an input of a widget's report parameter: the
// parameter, the widget's value for it, and the input's name; Hidden
// keeps a value the page cannot show (its report is not one the user may
// run now).
type widgetParam struct {
	ReportParam
	Value, Input string
	Hidden       bool
}

// ParamsOf lists the inputs of widget i's report parameters (none
// before a report is chosen; those of the report shown when the widget
// was last saved or refreshed). A value that is none of a choice's
// options (a user's id where the choice offers "me") is offered too, so
// saving keeps it.
func (e dashboardEdit) ParamsOf(i int, w WidgetDef) []widgetParam {
	input := func(name string) string { return fmt.Sprintf("w%d_p_%s", i, name) }
	info, ok := e.Infos[w.Report]
	if !ok {
		var out []widgetParam
		for _, name := range slices.Sorted(maps.Keys(w.Params)) {
			out = append(out, widgetParam{ReportParam: ReportParam{Name: name}, Value: w.Params[name], Input: input(name), Hidden: true})
		}
		return out
	}
	var out []widgetParam
	for _, p := range info.Params {
		v := w.Params[p.Name]
		if v != "" && len(p.Options) > 0 && !slices.ContainsFunc(p.Options, func(c Choice) bool { return c.Value == v }) {
			p.Options = append(slices.Clip(p.Options), Choice{Value: v, Label: v})
		}
		out = append(out, widgetParam{ReportParam: p, Value: v, Input: input(p.Name)})
	}
	return out
}
