package ui

import (
	"fmt"
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
// (add shows the form again with a new widget to fill in, unsaved); a
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
		w, err := widgetFromForm(c, i)
		if err != nil {
			return u.fail(c, err)
		}
		d.Widgets = append(d.Widgets, w)
	}
	op, arg, _ := strings.Cut(c.FormValue("_op", "save"), ":")
	i, _ := strconv.Atoi(arg)
	in := i >= 0 && i < len(d.Widgets)
	switch {
	case op == "add":
		// A new widget is filled in before it is saved.
		d.Widgets = append(d.Widgets, WidgetDef{From: -1, Type: c.FormValue("add_type", "chart"), Width: 6})
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
func widgetFromForm(c *fiber.Ctx, i int) (WidgetDef, error) {
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
		return w, nil
	}
	w.Report = v("report")
	if w.Type == "counter" {
		w.Value = v("value")
	}
	if p := v("params"); p != "" {
		q, err := url.ParseQuery(p)
		if err != nil {
			return w, fmt.Errorf("ui: widget %d: parameters: %w", i+1, err)
		}
		w.Params = map[string]string{}
		for k := range q {
			w.Params[k] = q.Get(k)
		}
	}
	return w, nil
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
	for _, r := range reps {
		e.Reports = append(e.Reports, Choice{Value: r.Name, Label: r.Label})
	}
	e.Objects = p.Nav
	for _, t := range []string{"counter", "chart", "table", "list"} {
		e.Types = append(e.Types, Choice{Value: t, Label: tr(p.Lang, "widget_"+t)})
	}
	p.Data = e
	return u.render(c, status, "dashboard_edit", p)
}

// ParamsOf writes a widget's parameters as the editor's query string.
func (e dashboardEdit) ParamsOf(w WidgetDef) string {
	q := url.Values{}
	for k, v := range w.Params {
		q.Set(k, v)
	}
	return q.Encode()
}
