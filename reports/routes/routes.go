// Package routes serves reports and dashboards over HTTP (mounted on the
// API through an api.Registrar) and keeps the dashboards users save for
// themselves. It decides nothing itself: package run runs every report
// under the caller's rights.
package routes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
	"github.com/crmplatform/crm/reports/chart"
	"github.com/crmplatform/crm/reports/run"
	"github.com/gofiber/fiber/v2"
)

// Part is the reports part of the server: its routes (Routes) and what
// the web pages show (UI).
type Part struct{ h *handlers }

// Wire prepares the reports part of the server on a platform (the tables
// of the dashboards and reports users save).
func Wire(ctx context.Context, p *platform.Platform) (*Part, error) {
	h := &handlers{run: run.New(p.Engine, p.Access),
		ownDashboards: &savedDocs[reports.Dashboard]{db: p.DB, table: tableSavedDashboards, what: "dashboard"},
		ownReports:    &savedDocs[reports.Report]{db: p.DB, table: tableSavedReports, what: "report"}}
	if err := h.ownDashboards.migrate(ctx); err != nil {
		return nil, err
	}
	if err := h.ownReports.migrate(ctx); err != nil {
		return nil, err
	}
	return &Part{h}, nil
}

// Routes mounts the routes of reports and dashboards (an api.Registrar).
func (p *Part) Routes(r fiber.Router, s *api.Server) { p.h.register(r, s) }

// UI gives the web pages the reports and dashboards.
func (p *Part) UI() ui.Reports { return pages{p.h} }

// handlers serves the routes.
type handlers struct {
	run *run.Runner
	// ownDashboards and ownReports are those users saved for themselves.
	ownDashboards *savedDocs[reports.Dashboard]
	ownReports    *savedDocs[reports.Report]
}

// register mounts the routes.
func (h *handlers) register(r fiber.Router, s *api.Server) {
	g := r.Group("/api/reports", s.Authenticate, s.RequireJSON)
	g.Get("/", h.list)
	g.Post("/run", h.adhoc)
	g.Get("/:name/run", h.stored)
	g.Get("/:name/drill", h.drill)
	g.Get("/:name/chart.svg", h.chart)
	g.Get("/:name", h.definition)
	g.Put("/:name", h.putReport)
	g.Delete("/:name", h.deleteReport)
	d := r.Group("/api/dashboards", s.Authenticate, s.RequireJSON)
	d.Get("/", h.dashboards)
	d.Get("/:name", h.dashboard)
	d.Put("/:name", h.saveDashboard)
	d.Delete("/:name", h.deleteDashboard)
}

// reserved are the query parameters that are not report parameters.
var reserved = map[string]bool{"format": true, "width": true, "group": true, "limit": true, "cursor": true, "sort": true, "total": true, "aggregate": true}

// params reads the report parameters of the query string.
func params(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if !reserved[string(k)] {
			out[string(k)] = string(v)
		}
	})
	return out
}

// summary describes a report in the list.
type summary struct {
	Name        string              `json:"name"`
	Label       string              `json:"label"`
	Description string              `json:"description,omitempty"`
	Object      string              `json:"object"`
	Kind        string              `json:"kind"`
	Parameters  []reports.Parameter `json:"parameters,omitempty"`
	Chart       *reports.Chart      `json:"chart,omitempty"`
	// Source is "user" for a report the caller saved, "metadata" for one
	// an administrator defined.
	Source string `json:"source"`
}

// list answers GET /api/reports: the reports the caller may run, their
// own saved ones first.
func (h *handlers) list(c *fiber.Ctx) error {
	ctx := c.UserContext()
	offers, err := h.callerReports(ctx)
	if err != nil {
		return err
	}
	lang := engine.Language(ctx)
	items := []summary{}
	for _, o := range offers {
		r := o.def
		items = append(items, summary{Name: r.Name, Label: labelOr(r.Label, lang, r.Name), Description: r.Description.Get(lang), Object: r.Object,
			Kind: r.KindOrDefault(), Parameters: r.Parameters, Chart: r.Chart, Source: o.source})
	}
	return c.JSON(fiber.Map{"items": items})
}

// storedPlan returns the caller's rights and the plan of the report the
// path names (404 when they may not run it).
func (h *handlers) storedPlan(c *fiber.Ctx) (*engine.Rights, *reports.Plan, error) {
	rights, err := h.run.Rights(c.UserContext())
	if err != nil {
		return nil, nil, err
	}
	p, err := h.plan(c.UserContext(), rights, c.Params("name"))
	return rights, p, err
}

// stored answers GET /api/reports/{name}/run.
func (h *handlers) stored(c *fiber.Ctx) error {
	rights, p, err := h.storedPlan(c)
	if err != nil {
		return err
	}
	return h.answer(c, rights, p)
}

// adhoc answers POST /api/reports/run: a definition sent as the body,
// checked like a stored one.
func (h *handlers) adhoc(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return err
	}
	parsed, err := parseBody(c, reports.Reports.Kind())
	if err != nil {
		return err
	}
	p, err := h.run.Compile(rights, parsed.Value.(*reports.Report))
	if err != nil {
		return err
	}
	return h.answer(c, rights, p)
}

// adhocPlan checks an ad-hoc definition as adhoc checks a body (its
// kind's JSON Schema, then the report's compiler) and returns the
// caller's rights and its plan.
func (h *handlers) adhocPlan(ctx context.Context, r *reports.Report) (*engine.Rights, *reports.Plan, error) {
	rights, err := h.run.Rights(ctx)
	if err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, nil, fmt.Errorf("reports: ad-hoc report: %w", err)
	}
	var doc any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("reports: ad-hoc report: %w", err)
	}
	parsed, err := parseValue(reports.Reports.Kind(), doc)
	if err != nil {
		return nil, nil, err
	}
	p, err := h.run.Compile(rights, parsed.Value.(*reports.Report))
	return rights, p, err
}

// parseBody reads the body as a document of kind, checked against the
// kind's JSON Schema (422 invalid_metadata with JSON pointers).
func parseBody(c *fiber.Ctx, kind *metadata.DocKind) (*metadata.Document, error) {
	var doc any
	d := json.NewDecoder(bytes.NewReader(c.Body()))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil, &engine.RequestError{Message: fmt.Sprintf("the body must be a %s document as JSON: %v", kind.Name(), err)}
	}
	return parseValue(kind, doc)
}

// parseValue reads a decoded JSON document of kind, checked against the
// kind's JSON Schema (metadata.Problems with JSON pointers).
func parseValue(kind *metadata.DocKind, doc any) (*metadata.Document, error) {
	parsed, ps := kind.ParseValue("request", doc)
	if len(ps) > 0 {
		return nil, ps
	}
	return parsed, nil
}

// answer runs a plan and answers as JSON, CSV or XLSX (?format=).
func (h *handlers) answer(c *fiber.Ctx, rights *engine.Rights, p *reports.Plan) error {
	ctx := c.UserContext()
	format := c.Query("format", "json")
	switch format {
	case "json", "csv", "xlsx":
	default:
		return &engine.RequestError{Message: "format is json, csv or xlsx, not " + format,
			Details: []engine.FieldError{{Field: "format", Code: "invalid", Message: "json, csv or xlsx"}}}
	}
	if format != "json" {
		s, err := rights.Scope(p.Object.Name)
		if err != nil {
			return err
		}
		if err := s.Can(metadata.ActionExport); err != nil {
			return err
		}
	}
	res, err := h.run.Run(ctx, rights, p, params(c))
	if err != nil {
		return err
	}
	lang := engine.Language(ctx)
	var buf bytes.Buffer
	switch format {
	case "csv":
		if err := res.WriteCSV(&buf, lang); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	case "xlsx":
		if err := res.WriteXLSX(&buf, lang); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	default:
		if res.Rows == nil {
			res.Rows = []run.Row{}
		}
		return c.JSON(res)
	}
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.%s"; filename*=UTF-8''%s.%s`, p.Report.Name, format, url.PathEscape(res.Label), format))
	return c.Send(buf.Bytes())
}

// drill answers GET /api/reports/{name}/drill?group=…: the records behind
// a group, as a page of the object's list.
func (h *handlers) drill(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rights, p, err := h.storedPlan(c)
	if err != nil {
		return err
	}
	opt := engine.ListOptions{Sort: c.Query("sort"), Cursor: c.Query("cursor")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return &engine.RequestError{Message: "limit must be a positive whole number", Details: []engine.FieldError{{Field: "limit", Code: "invalid", Message: l}}}
		}
		opt.Limit = n
	}
	if t := c.Query("total"); !opt.SetTotal(t) {
		return &engine.RequestError{Message: "total must be true, false or exact", Details: []engine.FieldError{{Field: "total", Code: "invalid", Message: t}}}
	}
	res, err := h.run.Drill(ctx, rights, p, params(c), c.Query("group"), c.Query("aggregate"), opt)
	if err != nil {
		return err
	}
	if res.Items == nil {
		res.Items = []engine.Record{}
	}
	return c.JSON(res)
}

// chart answers GET /api/reports/{name}/chart.svg?width=….
func (h *handlers) chart(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rights, p, err := h.storedPlan(c)
	if err != nil {
		return err
	}
	if p.Kind == reports.Tabular {
		return &engine.RequestError{Message: fmt.Sprintf("report %s is tabular: only summary and matrix reports have charts", p.Report.Name)}
	}
	width := chart.DefaultWidth
	if w := c.Query("width"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < chart.MinWidth || n > chart.MaxWidth {
			return &engine.RequestError{Message: fmt.Sprintf("width is a whole number of pixels from %d to %d", chart.MinWidth, chart.MaxWidth),
				Details: []engine.FieldError{{Field: "width", Code: "invalid", Message: w}}}
		}
		width = n
	}
	res, err := h.run.Run(ctx, rights, p, params(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	return c.Send(chart.SVG(res.Draw(width)))
}

// chartURL is the path of a report's chart with parameters.
func chartURL(name string, ps map[string]string) string {
	q := url.Values{}
	for k, v := range ps {
		q.Set(k, v)
	}
	u := "/api/reports/" + name + "/chart.svg"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return strings.TrimSpace(u)
}
