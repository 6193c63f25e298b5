package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires the UI.
type Config struct {
	Engine *engine.Engine
	Access *access.Service
	Logger *slog.Logger
	// Links, when set, gives the links a record's page shows (custom
	// links, package integration) as the user of ctx may see them.
	Links func(ctx context.Context, object, id string) ([]Link, error)
	// Workflows, when set, gives the state buttons and approvals of
	// record pages and the approvals waiting on the home page (package
	// workflows).
	Workflows Workflows
	// Notifications, when set, gives the user's unread notifications and
	// reminders on the home page and all of them on their own page
	// (package workflows/reminders).
	Notifications Notifications
	// Sales, when set, gives the conversion page (package sales).
	Sales Sales
	// Reports, when set, gives the report pages and the home dashboard
	// (package reports/routes).
	Reports Reports
	// Documents, when set, prints a record with the document templates
	// of its object (package documents/serve).
	Documents Documents
	// Mailings, when set, gives the page of campaigns' mailings (package
	// marketing/mailing).
	Mailings Mailings
	// Webhooks, when set, shows a webhook's deliveries in its editor
	// (package integration).
	Webhooks Webhooks
	// Templates, when set, gives the builder's templates page: install,
	// upgrade, export and compare solution templates (package templates).
	Templates Templates
}

// Link is a link to another system shown on a record's page.
type Link struct {
	Label, URL string
}

// UI serves the web pages. It holds no state of its own between requests
// but the parsed templates and assets; saved views live in the database.
type UI struct {
	api    *api.Server
	eng    *engine.Engine
	acc    *access.Service
	log    *slog.Logger
	links  func(ctx context.Context, object, id string) ([]Link, error)
	wf     Workflows
	notes  Notifications
	sales  Sales
	rep    Reports
	docs   Documents
	mail   Mailings
	hooks  Webhooks
	tpls   Templates
	pages  map[string]*template.Template
	assets map[string]asset
	// assetURL maps an asset's file name to its URL with a content hash,
	// so browsers may keep it for a year.
	assetURL map[string]string
}

// asset is one embedded static file.
type asset struct {
	data []byte
	typ  string
}

// New parses the templates, indexes the assets and creates the UI's
// table (saved views).
func New(ctx context.Context, cfg Config) (*UI, error) {
	u := &UI{eng: cfg.Engine, acc: cfg.Access, log: cfg.Logger, links: cfg.Links, wf: cfg.Workflows, notes: cfg.Notifications, sales: cfg.Sales, rep: cfg.Reports, docs: cfg.Documents, mail: cfg.Mailings, hooks: cfg.Webhooks, tpls: cfg.Templates, assets: map[string]asset{}, assetURL: map[string]string{}}
	if u.log == nil {
		u.log = slog.Default()
	}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		sum := sha256.Sum256(b)
		u.assets[name] = asset{data: b, typ: mime.TypeByExtension(path.Ext(name))}
		u.assetURL[name] = "/ui/static/" + name + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: assets: %w", err)
	}
	if u.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if err := migrateViews(ctx, u.eng.DB()); err != nil {
		return nil, err
	}
	if err := migrateUploads(ctx, u.eng.DB()); err != nil {
		return nil, err
	}
	return u, nil
}

// Register mounts the UI: / redirects to /ui/, the pages under /ui.
func (u *UI) Register(r fiber.Router, s *api.Server) {
	u.api = s
	r.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/ui/", fiber.StatusSeeOther) })
	r.Get("/ui/static/:file", u.static)
	pub := r.Group("/ui", u.secure)
	pub.Get("/login", u.loginPage)
	pub.Post("/login", u.csrf, u.login)
	pub.Post("/lang", u.csrf, u.setLang)
	g := r.Group("/ui", u.secure, u.auth, u.csrf)
	g.Post("/logout", u.logout)
	g.Get("/", u.home)
	g.Get("/notifications", u.notificationsPage)
	g.Post("/notifications/read-all", u.markAllRead)
	g.Post("/notifications/:id/read", u.markRead)
	g.Post("/dashboards", u.saveDashboard)
	g.Post("/dashboards/:name/delete", u.deleteDashboard)
	u.recordRoutes(g)
	u.builderRoutes(g)
	u.userRoutes(g)
	u.reportRoutes(g)
	u.importRoutes(g)
	g.Use(func(c *fiber.Ctx) error { return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path())) })
}

// static serves an embedded asset.
func (u *UI) static(c *fiber.Ctx) error {
	a, ok := u.assets[c.Params("file")]
	if !ok {
		return c.SendStatus(fiber.StatusNotFound)
	}
	c.Set(fiber.HeaderContentType, a.typ)
	c.Set("X-Content-Type-Options", "nosniff")
	if c.Query("v") != "" {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	}
	return c.Send(a.data)
}

// page is what every page template gets.
type page struct {
	Lang  string
	Title string
	User  *access.Principal
	Admin bool
	// Reports reports whether the report pages are there, Notices
	// whether the page of notifications is.
	Reports, Notices bool
	CSRF             string
	Nav              []navItem
	// Section names the navigation entry of the page (an object, "admin").
	Section string
	Assets  map[string]string
	Flash   string
	// Back is the page to come back to after switching language.
	Back string
	// Loc is the user's time zone.
	Loc  *time.Location
	Data any
}

// navItem is an entry of the navigation: an object the user may read.
type navItem struct {
	Name, Label string
}

// T returns the message key in the page's language.
func (p *page) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

// Local formats a time in the user's time zone.
func (p *page) Local(t time.Time) string { return t.In(p.Loc).Format("2006-01-02 15:04") }

// L returns a metadata label in the page's language.
func (p *page) L(l metadata.Label) string { return l.Get(p.Lang) }

// newPage builds the common part of a page for the request.
func (u *UI) newPage(c *fiber.Ctx, title string) *page {
	p := &page{Lang: lang(c), Title: title, CSRF: u.formCSRF(c), Assets: u.assetURL, Back: "/ui/", Loc: u.location(c)}
	if c.Method() == fiber.MethodGet {
		p.Back = requestURI(c)
	}
	if pr, ok := access.FromContext(c.UserContext()); ok {
		p.User = pr
		p.Admin = u.isAdmin(c)
		p.Reports, p.Notices = u.rep != nil, u.notes != nil
		if r, err := u.eng.Rights(c.UserContext(), pr); err == nil {
			for _, o := range r.Snapshot().Schema.Objects {
				if _, err := r.ScopeFor(o.Name, metadata.ActionRead); err == nil {
					p.Nav = append(p.Nav, navItem{Name: o.Name, Label: pluralTitle(o, p.Lang)})
				}
			}
		}
	}
	if f := c.Query("flash"); f != "" && hasMessage(f) {
		p.Flash = p.T(f)
	}
	return p
}

// isAdmin reports whether the request's principal administers the
// platform (every right on every object): the builder is theirs.
func (u *UI) isAdmin(c *fiber.Ctx) bool {
	pr, ok := access.FromContext(c.UserContext())
	if !ok {
		return false
	}
	d, err := u.acc.Decide(c.UserContext(), u.eng.Snapshot().Schema)
	return err == nil && d.CanAdminister(pr) == nil
}

// lang returns the language picked for the request.
func lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(localLang).(string); ok {
		return l
	}
	return "en"
}

// location returns the user's time zone (the browser's, sent as a
// cookie), else the server's default (the engine's, which reports and
// imports use too).
func (u *UI) location(c *fiber.Ctx) *time.Location {
	if l, ok := c.Locals(localLoc).(*time.Location); ok {
		return l
	}
	return u.eng.Location(c.UserContext())
}

// render writes a page (or, for an htmx request naming a fragment, only
// that template) with status.
func (u *UI) render(c *fiber.Ctx, status int, name string, p *page) error {
	t, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("ui: no template %s", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

// fragment writes one named template of a page's set (htmx swaps).
func (u *UI) fragment(c *fiber.Ctx, set, name string, data any) error {
	t, ok := u.pages[set]
	if !ok {
		return fmt.Errorf("ui: no template %s", set)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("ui: render %s/%s: %w", set, name, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Send(b.Bytes())
}

// errorData is the content of the error page.
type errorData struct {
	Status  int
	Code    string
	Message string
	Details []api.Detail
}

// fail answers an error as a page, with the status and code the API
// gives it (api.Classify); internal errors are logged, not shown.
func (u *UI) fail(c *fiber.Ctx, err error) error {
	status, code, details := api.Classify(err)
	msg := err.Error()
	if status >= 500 {
		u.log.Error("ui request failed", "method", c.Method(), "path", c.Path(), "request_id", c.GetRespHeader(fiber.HeaderXRequestID), "err", err)
		msg = ""
	}
	if status == fiber.StatusUnauthorized {
		return u.toLogin(c)
	}
	l := lang(c)
	p := u.newPage(c, tr(l, "error_"+codeKey(code)))
	shown := make([]api.Detail, len(details))
	for i, d := range details {
		d.Message = detailText(l, d)
		shown[i] = d
	}
	p.Data = errorData{Status: status, Code: code, Message: pageMessage(l, code, msg), Details: shown}
	if c.Get("HX-Request") != "" {
		c.Status(status)
		return u.fragment(c, "error", "error_box", p)
	}
	return u.render(c, status, "error", p)
}

// refuse answers a refused request (a failed CSRF check) with a page.
func (u *UI) refuse(c *fiber.Ctx, status int, key string) error {
	p := u.newPage(c, tr(lang(c), key))
	p.Data = errorData{Status: status, Code: "forbidden", Message: tr(lang(c), key)}
	return u.render(c, status, "error", p)
}

// codeKey maps an error code to the message key of its title.
func codeKey(code string) string {
	switch code {
	case "not_found", "forbidden", "conflict", "unavailable", "timeout", "invalid_record", "bad_query":
		return code
	}
	return "other"
}

// cleanMessage drops the package prefixes of engine errors ("engine: ")
// from a message shown to people.
func cleanMessage(m string) string {
	for _, p := range []string{"engine: ", "access: ", "store: ", "metadata: "} {
		m = strings.ReplaceAll(m, p, "")
	}
	return m
}

// failure returns what a form shows of a refused request: its status,
// message and details (field: message).
func failure(err error) (int, string, []string) {
	status, _, details := api.Classify(err)
	out := make([]string, 0, len(details))
	for _, dt := range details {
		out = append(out, dt.Field+": "+dt.Message)
	}
	return status, cleanMessage(err.Error()), out
}

// errorsAs is errors.As, kept short for the handlers.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
