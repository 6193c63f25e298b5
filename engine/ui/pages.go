package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// loginData is the content of the sign-in page.
type loginData struct {
	Next, Username, Error string
}

// loginPage answers GET /ui/login.
func (u *UI) loginPage(c *fiber.Ctx) error {
	p := u.newPage(c, tr(lang(c), "sign_in"))
	p.Data = loginData{Next: safeNext(c.Query("next"))}
	return u.render(c, fiber.StatusOK, "login", p)
}

// login answers POST /ui/login: the access service's Login issues a
// session token, kept in an HttpOnly, SameSite=Lax cookie (Secure over
// TLS).
func (u *UI) login(c *fiber.Ctx) error {
	username, password := c.FormValue("username"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	var tok string
	err := u.api.ThrottledSignIn(c, username, func() (err error) {
		tok, _, err = u.acc.Login(c.UserContext(), username, password)
		return err
	})
	if err != nil {
		status, msg := fiber.StatusUnauthorized, tr(lang(c), "bad_login")
		switch st, _, _ := api.Classify(err); {
		case st == fiber.StatusTooManyRequests:
			status, msg = st, tr(lang(c), "throttled", c.GetRespHeader(fiber.HeaderRetryAfter))
		case !errors.Is(err, access.ErrInvalidCredentials) && !errors.Is(err, access.ErrInvalid) && !errors.Is(err, access.ErrWeakPassword):
			return u.fail(c, err)
		}
		p := u.newPage(c, tr(lang(c), "sign_in"))
		p.Data = loginData{Next: next, Username: username, Error: msg}
		return u.render(c, status, "login", p)
	}
	setCookie(c, sessionCookie, tok, sessionTTL, fiber.CookieSameSiteLaxMode)
	setCookie(c, preCookie, "", -1, fiber.CookieSameSiteStrictMode)
	if usr, err := u.acc.GetUser(c.UserContext(), username); err == nil && supported(usr.Language) {
		setCookie(c, langCookie, usr.Language, 365*24*time.Hour, fiber.CookieSameSiteLaxMode) // the language the user chose before, on any browser
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// logout answers POST /ui/logout: the session's token is revoked and the
// cookie cleared.
func (u *UI) logout(c *fiber.Ctx) error {
	if p, ok := access.FromContext(c.UserContext()); ok && p.TokenID != "" {
		if err := u.acc.RevokeToken(c.UserContext(), p.TokenID); err != nil {
			return u.fail(c, err)
		}
	}
	setCookie(c, sessionCookie, "", -1, fiber.CookieSameSiteLaxMode)
	return c.Redirect("/ui/login?flash=signed_out", fiber.StatusSeeOther)
}

// setLang answers POST /ui/lang: the language chosen is remembered in a
// cookie for a year and, for a signed-in user, as their language (the
// one signing in picks on any browser, and the one of the reminders and
// notifications they get), and the page asked from is shown again.
func (u *UI) setLang(c *fiber.Ctx) error {
	l := c.FormValue("lang")
	if !supported(l) {
		return u.refuse(c, fiber.StatusBadRequest, "bad_language")
	}
	setCookie(c, langCookie, l, 365*24*time.Hour, fiber.CookieSameSiteLaxMode)
	if tok := c.Cookies(sessionCookie); tok != "" {
		if p, err := u.acc.Authenticate(c.UserContext(), tok); err == nil && p.UserID != "" {
			if _, err := u.acc.UpdateUser(c.UserContext(), p.UserID, access.UserUpdate{Language: &l}); err != nil {
				return u.fail(c, err)
			}
		}
	}
	back := c.FormValue("back")
	if back != "/ui/login" && !strings.HasPrefix(back, "/ui/login?") {
		back = safeNext(back)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// homeData is the content of the home page.
type homeData struct {
	Tiles []tile
	// Tasks wait for the user (approvals to decide, reminders due);
	// Inbox reports whether the platform has such a part.
	Tasks []taskView
	Inbox bool
	// Dashboard is the dashboard shown (the user's home unless they chose
	// another), Dashboards those they may switch to (reports part).
	Dashboard  *dashboardView
	Dashboards []DashboardInfo
}

// dashboardView is a dashboard with its widgets ready to show, and the
// name its copy would take (Copy).
type dashboardView struct {
	Name, Label, Copy string
	Own, Home         bool
	Widgets           []widgetView
}

// widgetView is a widget: a chart or table of a report (Query its
// parameters), a counter, or a list of records (Columns, Rows, More).
type widgetView struct {
	Widget
	Query      template.URL
	Columns    []string
	Rows       []listRow
	More       string
	Span       int
	Unreadable bool
}

// taskView is a task on the home page.
type taskView struct {
	Task
	Kind, Href, Since string
}

// tile is an object on the home page with the number of records the user
// may read.
type tile struct {
	Name, Label string
	Count       int64
	Capped      bool
	CanNew      bool
}

// home answers GET /ui/: every object the user may read with how many
// records they reach.
func (u *UI) home(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	var d homeData
	for _, o := range r.rights.Snapshot().Schema.Objects {
		s, err := r.scope(o.Name, metadata.ActionRead)
		if errors.Is(err, engine.ErrForbidden) {
			continue
		}
		if err != nil {
			return u.fail(c, err)
		}
		res, err := u.eng.List(r.ctx, o.Name, engine.ListOptions{Limit: 1, Total: true})
		if err != nil {
			return u.fail(c, err)
		}
		t := tile{Name: o.Name, Label: pluralTitle(o, r.lang), CanNew: s.Can(metadata.ActionCreate) == nil}
		if res.Total != nil {
			t.Count, t.Capped = *res.Total, res.TotalCapped
		}
		d.Tiles = append(d.Tiles, t)
	}
	if d.Tasks, err = u.tasks(r); err != nil {
		return u.fail(c, err)
	}
	d.Inbox = u.wf != nil || u.notes != nil
	if u.rep != nil {
		if d.Dashboards, err = u.rep.Dashboards(r.ctx); err != nil {
			return u.fail(c, err)
		}
		if d.Dashboard, err = u.dashboard(r, c.Query("dashboard")); err != nil {
			return u.fail(c, err)
		}
	}
	p := u.newPage(c, tr(r.lang, "home"))
	p.Section, p.Data = "home", d
	return u.render(c, fiber.StatusOK, "home", p)
}

// maxUnread is how many unread notifications the home page lists.
const maxUnread = 50

// tasks lists what waits for the user: the approvals to decide
// (Workflows.Waiting), then the unread notifications and reminders
// (Notifications.Unread), each linking to its record.
func (u *UI) tasks(r *rq) ([]taskView, error) {
	var tasks []Task
	if u.wf != nil {
		ts, err := u.wf.Waiting(r.ctx)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, ts...)
	}
	if u.notes != nil {
		ts, err := u.notes.Unread(r.ctx, maxUnread)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, ts...)
	}
	out := make([]taskView, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, taskView{Task: t, Kind: tr(r.lang, "task_"+t.Kind), Href: recordHref(t), Since: t.Since.In(r.loc).Format("2006-01-02 15:04")})
	}
	return out, nil
}

// markRead answers POST /ui/notifications/{id}/read: one of the user's
// notifications is marked read and the page it was marked on (the form's
// back: home, or the page of all notifications) shown again.
func (u *UI) markRead(c *fiber.Ctx) error {
	if u.notes == nil {
		return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path()))
	}
	if err := u.notes.MarkRead(c.UserContext(), c.Params("id")); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect(withFlash(c.FormValue("back"), "marked_read"), fiber.StatusSeeOther)
}

// dashboard reads one of the user's dashboards (their home when name is
// empty; nil when they have none), with the records of its lists shown as
// the user may read them.
func (u *UI) dashboard(r *rq, name string) (*dashboardView, error) {
	d, err := u.rep.Dashboard(r.ctx, name)
	if err != nil || d == nil {
		return nil, err
	}
	out := &dashboardView{Name: d.Name, Label: d.Label, Own: d.Own, Home: d.Home, Copy: d.Name}
	if !d.Own {
		out.Copy = "my_" + d.Name
	}
	for _, w := range d.Widgets {
		v := widgetView{Widget: w, Query: encodeParams(w.Params), Span: w.Width}
		if w.Table != nil {
			groupNumbers(w.Table)
		}
		if w.Type == "counter" {
			v.Value = metadata.GroupDigits(w.Value)
		}
		if w.Error != "" {
			v.Error = widgetError(r.lang, w)
		}
		if v.Span < 1 || v.Span > 12 {
			v.Span = 12
		}
		if w.Type == "list" && w.Error == "" {
			s, err := r.scope(w.Object, metadata.ActionRead)
			if err != nil {
				return nil, err
			}
			cols := visibleColumns(s, nil, u.layoutFor(r, s.Object()).ListColumns)
			for _, name := range cols {
				f, _ := fieldDef(s.Object(), name)
				v.Columns = append(v.Columns, f.Title(r.lang))
			}
			if v.Rows, err = r.rows(s, cols, w.Records); err != nil {
				return nil, err
			}
			if v.Title == "" {
				v.Title = pluralTitle(s.Object(), r.lang)
			}
			q := url.Values{}
			if w.Filter != "" {
				q.Set("filter", w.Filter)
			}
			if w.Sort != "" {
				q.Set("sort", w.Sort)
			}
			v.More = "/ui/o/" + w.Object + "?" + q.Encode()
		}
		out.Widgets = append(out.Widgets, v)
	}
	return out, nil
}

// saveDashboard answers POST /ui/dashboards: a copy of the dashboard
// from (one the user may see) saved as their own under name and label,
// their home when home is set ("Make it my home" saves their own one
// again as home).
func (u *UI) saveDashboard(c *fiber.Ctx) error {
	if u.rep == nil {
		return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path()))
	}
	name := strings.TrimSpace(c.FormValue("name"))
	err := u.rep.SaveDashboard(c.UserContext(), c.FormValue("from"), name, strings.TrimSpace(c.FormValue("label")), c.FormValue("home") == "true")
	if err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/?dashboard="+url.QueryEscape(name)+"&flash=dashboard_saved", fiber.StatusSeeOther)
}

// deleteDashboard answers POST /ui/dashboards/{name}/delete: one of the
// user's own.
func (u *UI) deleteDashboard(c *fiber.Ctx) error {
	if u.rep == nil {
		return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path()))
	}
	if err := u.rep.DeleteDashboard(c.UserContext(), c.Params("name")); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/?flash=dashboard_deleted", fiber.StatusSeeOther)
}

// saveView answers POST /ui/views/{object}: keeps the list's filter, sort
// and columns under a name, shared with a role when one is chosen.
func (u *UI) saveView(c *fiber.Ctx) error {
	object := c.Params("object")
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	v := savedView{Object: object, Name: strings.TrimSpace(c.FormValue("name")), Role: c.FormValue("role"),
		Filter: c.FormValue("filter"), Sort: c.FormValue("sort")}
	if cols := c.FormValue("cols"); cols != "" {
		v.Columns = visibleColumns(s, strings.Split(cols, ","), nil)
	}
	switch {
	case v.Name == "" || len([]rune(v.Name)) > maxViewName || metadata.TextProblem(v.Name) != "":
		return u.fail(c, &engine.ValidationError{Object: "view", Errors: []engine.FieldError{{Field: "name", Code: "invalid", Message: tr(r.lang, "view_name_needed")}}})
	case len(v.Filter) > maxViewFilter || metadata.TextProblem(v.Filter) != "":
		return u.fail(c, &engine.ValidationError{Object: "view", Errors: []engine.FieldError{{Field: "filter", Code: "invalid", Message: "the filter is too long"}}})
	case v.Role != "" && !contains(roleNames(r.rights.Snapshot().Schema), v.Role):
		return u.fail(c, &engine.ValidationError{Object: "view", Errors: []engine.FieldError{{Field: "role", Code: "invalid", Message: "unknown role " + v.Role}}})
	}
	if v.Filter != "" { // checked as the list will run it
		if _, err := u.eng.List(r.ctx, object, engine.ListOptions{Filter: v.Filter, Sort: v.Sort, Limit: 1}); err != nil {
			return u.fail(c, err)
		}
	}
	id, err := u.insertView(r.ctx, r.p, v)
	if err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/o/"+object+"?view="+url.QueryEscape(id)+"&flash=view_saved", fiber.StatusSeeOther)
}

// deleteView answers POST /ui/views/{object}/{id}/delete.
func (u *UI) deleteView(c *fiber.Ctx) error {
	p, _ := access.FromContext(c.UserContext())
	object := c.Params("object")
	if err := u.removeView(c.UserContext(), p, object, c.Params("id")); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/o/"+object+"?flash=view_deleted", fiber.StatusSeeOther)
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// urlQuery escapes a query parameter value.
func urlQuery(s string) string { return url.QueryEscape(s) }
