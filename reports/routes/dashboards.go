package routes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
	"github.com/gofiber/fiber/v2"
)

// Home is the name under which /api/dashboards/home answers the caller's
// home dashboard; no dashboard may take it.
const Home = "home"

// tableSavedDashboards is the table of the dashboards users saved for
// themselves.
const tableSavedDashboards = "crm_user_dashboards"

// putDashboard saves a user's dashboard; when it is their home, no other
// of theirs stays home.
func (h *handlers) putDashboard(ctx context.Context, user string, d *reports.Dashboard) error {
	var before func(tx *sql.Tx) error
	if d.Home {
		before = func(tx *sql.Tx) error {
			return h.ownDashboards.rewrite(ctx, tx, user, func(o *reports.Dashboard) bool {
				was := o.Home
				o.Home = false
				return was
			})
		}
	}
	return h.ownDashboards.put(ctx, user, d.Name, d, before)
}

// offer is a dashboard as offered to one user.
type offer struct {
	d *reports.Dashboard
	// source is "user" (saved by the user), or "metadata".
	source string
}

// offers lists the dashboards of the caller: their saved ones, then the
// metadata ones offered to them (to one of their roles, to them by
// username, or to everyone), a saved one hiding a metadata one of the same
// name; and the name of their home: their saved home, else a home offered
// to them by username, else by role, else to everyone, else the first.
func (h *handlers) offers(ctx context.Context, rights *engine.Rights) ([]offer, string, error) {
	p := rights.Principal()
	mine, err := h.ownDashboards.list(ctx, p.UserID)
	if err != nil {
		return nil, "", err
	}
	var out []offer
	for _, d := range mine {
		out = append(out, offer{d, "user"})
	}
	home, rank := "", 0
	for _, d := range mine {
		if d.Home {
			home, rank = d.Name, 4
		}
	}
	for _, d := range reports.Dashboards.All(rights.Snapshot().Schema) {
		if slices.ContainsFunc(mine, func(m *reports.Dashboard) bool { return m.Name == d.Name }) {
			continue
		}
		byUser, byRole := slices.Contains(d.Users, p.Username), slices.ContainsFunc(d.Roles, p.HasRole)
		everyone := len(d.Users) == 0 && len(d.Roles) == 0
		if !byUser && !byRole && !everyone {
			continue
		}
		out = append(out, offer{d, "metadata"})
		r := 1
		if byUser {
			r = 3
		} else if byRole {
			r = 2
		}
		if d.Home && r > rank {
			home, rank = d.Name, r
		}
	}
	if home == "" && len(out) > 0 {
		home = out[0].d.Name
	}
	return out, home, nil
}

// dashboardItem describes a dashboard in the list.
type dashboardItem struct {
	Name   string `json:"name"`
	Label  string `json:"label"`
	Source string `json:"source"`
	Home   bool   `json:"home"`
}

// callerOffers returns the caller's rights, the dashboards offered to
// them and their home.
func (h *handlers) callerOffers(c *fiber.Ctx) (*engine.Rights, []offer, string, error) {
	return h.offersOf(c.UserContext())
}

// offersOf returns the rights of the principal of ctx, the dashboards
// offered to them and their home.
func (h *handlers) offersOf(ctx context.Context) (*engine.Rights, []offer, string, error) {
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	offers, home, err := h.offers(ctx, rights)
	return rights, offers, home, err
}

// dashboards answers GET /api/dashboards.
func (h *handlers) dashboards(c *fiber.Ctx) error {
	ctx := c.UserContext()
	_, offers, home, err := h.callerOffers(c)
	if err != nil {
		return err
	}
	lang := engine.Language(ctx)
	items := []dashboardItem{}
	for _, o := range offers {
		items = append(items, dashboardItem{Name: o.d.Name, Label: labelOr(o.d.Label, lang, o.d.Name), Source: o.source, Home: o.d.Name == home})
	}
	return c.JSON(fiber.Map{"home": home, "items": items})
}

// labelOr is a label in lang, or fallback.
func labelOr(l metadata.Label, lang, fallback string) string {
	if s := l.Get(lang); s != "" {
		return s
	}
	return fallback
}

// widgetAnswer is a widget with its data.
type widgetAnswer struct {
	reports.Widget
	// Data is what the widget shows, under the caller's rights: a report's
	// result (chart, table), {"value", "label"} (counter) or a page of
	// records (list); absent with Error when the caller may not see it.
	Data  any         `json:"data,omitempty"`
	Chart string      `json:"chart,omitempty"`
	Error *widgetFail `json:"error,omitempty"`
	// plan is the plan of the widget's report, when it ran.
	plan *reports.Plan
}

// widgetFail says why a widget has no data.
type widgetFail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// dashboard answers GET /api/dashboards/{name} (home: the caller's home
// dashboard): the layout with each widget's data under the caller's rights.
func (h *handlers) dashboard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rights, offers, home, err := h.callerOffers(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	if name == Home {
		name = home
	}
	i := slices.IndexFunc(offers, func(o offer) bool { return o.d.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: no dashboard %s", engine.ErrNotFound, c.Params("name"))
	}
	o := offers[i]
	lang := engine.Language(ctx)
	own, err := h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return err
	}
	widgets := make([]widgetAnswer, len(o.d.Widgets))
	for j, w := range o.d.Widgets {
		widgets[j] = h.widget(ctx, rights, own, w)
	}
	return c.JSON(fiber.Map{"name": o.d.Name, "label": labelOr(o.d.Label, lang, o.d.Name), "description": o.d.Description.Get(lang),
		"source": o.source, "home": o.d.Name == home, "widgets": widgets})
}

// widget computes a widget's data, its report found among own (the
// user's saved reports) and the metadata ones; a refusal becomes the
// widget's error, never another user's data.
func (h *handlers) widget(ctx context.Context, rights *engine.Rights, own []*reports.Report, w reports.Widget) widgetAnswer {
	a := widgetAnswer{Widget: w}
	fail := func(err error) widgetAnswer {
		code := "failed"
		switch {
		case errors.Is(err, engine.ErrNotFound):
			code = "not_found"
		case errors.Is(err, engine.ErrForbidden):
			code = "forbidden"
		default:
			var ve *engine.ValidationError
			if errors.As(err, &ve) {
				code = "invalid_report"
			}
		}
		a.Error = &widgetFail{Code: code, Message: err.Error()}
		return a
	}
	if w.Type == reports.WidgetList {
		limit := w.Limit
		if limit == 0 {
			limit = 10
		}
		res, err := h.run.Engine().List(ctx, w.Object, engine.ListOptions{Filter: w.Filter, Sort: w.Sort, Limit: limit})
		if err != nil {
			return fail(err)
		}
		if res.Items == nil {
			res.Items = []engine.Record{}
		}
		a.Data = res
		return a
	}
	p, _, err := h.resolve(ctx, rights, own, w.Report)
	if err != nil {
		return fail(err)
	}
	a.plan = p
	res, err := h.run.Run(ctx, rights, p, w.Params)
	if err != nil {
		return fail(err)
	}
	switch w.Type {
	case reports.WidgetCounter:
		value := w.Value
		if value == "" {
			value = p.Aggs[0].Def.Name
		}
		label := value
		for _, col := range res.Columns {
			if col.Name == value {
				label = col.Label
			}
		}
		a.Data = map[string]any{"value": res.Totals[value], "label": label}
	case reports.WidgetChart:
		a.Chart = chartURL(p.Report.Name, w.Params)
		a.Data = res
	default:
		a.Data = res
	}
	return a
}

// saveDashboard answers PUT /api/dashboards/{name}: the caller saves a
// dashboard for themselves (roles and users are not theirs to give).
func (h *handlers) saveDashboard(c *fiber.Ctx) error {
	return putOwn(h, c, reports.Dashboards.Kind(), func(d *reports.Dashboard) string { return d.Name }, h.save)
}

// save saves a dashboard (parsed through its kind) as the caller's own,
// after the checks of metadata dashboards (its widgets may show the
// caller's saved reports); roles and users are not the caller's to give.
func (h *handlers) save(ctx context.Context, rights *engine.Rights, d *reports.Dashboard) error {
	switch {
	case d.Name == Home:
		return metadata.Problems{{Path: "/name", Message: "home names the home dashboard: choose another name"}}
	case len(d.Roles) > 0 || len(d.Users) > 0:
		return metadata.Problems{{Path: "/roles", Message: "a dashboard you save is yours: roles and users are set by an administrator in metadata"}}
	}
	own, err := h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return err
	}
	if ps := reports.CheckOwnDashboard(rights.Snapshot().Schema, d, own); len(ps) > 0 {
		return ps
	}
	return h.putDashboard(ctx, rights.Principal().UserID, d)
}

// deleteDashboard answers DELETE /api/dashboards/{name}: the caller's own.
func (h *handlers) deleteDashboard(c *fiber.Ctx) error { return deleteOwn(h, c, h.ownDashboards) }
