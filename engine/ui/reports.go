package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// reportRoutes mounts the pages of reports (when the reports part is
// wired).
func (u *UI) reportRoutes(g fiber.Router) {
	if u.rep == nil {
		return
	}
	g.Get("/reports", u.reportsPage)
	g.Get("/adhoc", u.adhocPage)
	g.Get("/dashboards/:name/edit", u.editDashboardPage)
	g.Post("/dashboards/:name/edit", u.editDashboard)
	g.Get("/adhoc/chart.svg", u.adhocChart)
	g.Get("/adhoc/drill", u.adhocDrill)
	g.Post("/adhoc/save", u.saveAdhoc)
	g.Post("/reports/:name/delete", u.deleteReport)
	g.Get("/reports/:name/edit", u.editReport)
	g.Get("/reports/:name", u.reportPage)
	g.Get("/reports/:name/chart.svg", u.reportChart)
	g.Get("/reports/:name/export", u.reportExport)
	g.Get("/reports/:name/drill", u.reportDrill)
}

// reportParamsReserved are query parameters of the report pages that are
// not the report's parameters.
var reportParamsReserved = map[string]bool{"aggregate": true, "format": true, "width": true, "group": true, "cursor": true, "flash": true}

// reportParams reads a report's parameters from the query string.
func reportParams(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if !reportParamsReserved[string(k)] {
			out[string(k)] = string(v)
		}
	})
	return out
}

// encodeParams writes parameters as a query string, a URL the pages
// append after "?" or "&" as it is (a plain string there would be escaped
// again, "=" and "&" included, and the parameters lost).
func encodeParams(ps map[string]string) template.URL {
	q := url.Values{}
	for k, v := range ps {
		q.Set(k, v)
	}
	return template.URL(q.Encode()) // url.Values.Encode escapes every value
}

// reportsPage answers GET /ui/reports: the reports the user may run.
func (u *UI) reportsPage(c *fiber.Ctx) error {
	items, err := u.rep.List(c.UserContext())
	if err != nil {
		return u.fail(c, err)
	}
	p := u.newPage(c, tr(lang(c), "reports"))
	p.Section, p.Data = "reports", items
	return u.render(c, fiber.StatusOK, "reports", p)
}

// deleteReport answers POST /ui/reports/{name}/delete: one of the user's
// own reports.
func (u *UI) deleteReport(c *fiber.Ctx) error {
	if err := u.rep.DeleteReport(c.UserContext(), c.Params("name")); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/reports?flash=report_deleted", fiber.StatusSeeOther)
}

// reportData is the content of a report's page.
type reportData struct {
	*ReportTable
	Params []paramView
	// Query is the report's parameters as a query string.
	Query template.URL
	// ChartWide and ChartNarrow are the chart's addresses for wide and
	// narrow screens ("" without a chart).
	ChartWide, ChartNarrow string
	Error                  string
	Details                []string
	Rows                   []reportRowView
}

// reportResult is a report's result (chart, rows, totals or the error)
// with its page, for the shared template.
type reportResult struct {
	P *page
	D *reportData
}

// setChart sets the chart's addresses from its path and query.
func (d *reportData) setChart(path string, query template.URL) {
	d.ChartWide, d.ChartNarrow = path+"?width=1000", path+"?width=360"
	if query != "" {
		d.ChartWide += "&" + string(query)
		d.ChartNarrow += "&" + string(query)
	}
}

// paramView is an input of a report's parameter form.
type paramView struct {
	ReportParam
	Value string
}

// reportRowView is a row of a report with its link: the records behind a
// group, or a tabular row's record; Links links each aggregate's cell of
// a group row to the records that aggregate counted there ("" for the
// other cells).
type reportRowView struct {
	ReportRow
	Href     string
	Links    []string
	Subtotal bool
}

// reportPage answers GET /ui/reports/{name}?…parameters: the parameter
// form, the chart, the rows (group rows drill down to their records)
// and the exports the user may make.
func (u *UI) reportPage(c *fiber.Ctx) error {
	ctx, name := c.UserContext(), c.Params("name")
	in, err := u.rep.Info(ctx, name)
	if err != nil {
		return u.fail(c, err)
	}
	ps := reportParams(c)
	d := reportData{ReportTable: &ReportTable{ReportInfo: *in}, Query: encodeParams(ps)}
	for _, rp := range in.Params {
		v, ok := ps[rp.Name]
		if !ok {
			v = rp.Default
		}
		d.Params = append(d.Params, paramView{ReportParam: rp, Value: v})
	}
	status := fiber.StatusOK
	res, err := u.rep.Run(ctx, name, ps)
	if err != nil {
		st, _, _ := api.Classify(err)
		if st >= 500 || st == fiber.StatusNotFound {
			return u.fail(c, err)
		}
		d.Error, status = cleanMessage(err.Error()), st
	} else {
		if in.Chart {
			d.setChart("/ui/reports/"+name+"/chart.svg", d.Query)
		}
		d.ReportTable = groupNumbers(res)
		d.Own = in.Own
		d.Rows = rowViews(res, res.Object, func(group, aggregate string) string { return drillHref(name, ps, group, aggregate, "") })
	}
	p := u.newPage(c, in.Label)
	p.Section, p.Data = "reports", &d
	return u.render(c, status, "report", p)
}

// rowViews links a report's rows: a record's row to the record of
// object, a group row and each of its aggregates' cells to their
// drill-down (drill of the group's address and the aggregate, "" for the
// row's own link).
func rowViews(t *ReportTable, object string, drill func(group, aggregate string) string) []reportRowView {
	levels := 0
	for _, row := range t.Rows {
		levels = max(levels, row.Level)
	}
	out := make([]reportRowView, 0, len(t.Rows))
	for _, row := range t.Rows {
		v := reportRowView{ReportRow: row, Subtotal: row.Level > 0 && row.Level < levels}
		switch {
		case row.ID != "":
			v.Href = "/ui/o/" + object + "/" + row.ID
		case row.Level > 0:
			// A group row's address is never empty (a group whose one
			// key is no value has "*none"): an empty one would mean the
			// whole report, so it gets no link.
			if row.Group != "" {
				v.Href = drill(row.Group, "")
			}
			v.Links = make([]string, len(row.Cells))
			for i, col := range t.Columns {
				if g := row.Group + col.Across; col.Aggregate != "" && g != "" && i < len(v.Links) {
					v.Links[i] = drill(g, col.Aggregate)
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// groupNumbers puts thousands separators into the numbers of t's
// numeric columns.
func groupNumbers(t *ReportTable) *ReportTable {
	group := func(cells []string) {
		for i := range cells {
			if i < len(t.Columns) && t.Columns[i].Numeric {
				cells[i] = metadata.GroupDigits(cells[i])
			}
		}
	}
	for _, row := range t.Rows {
		group(row.Cells)
	}
	group(t.Totals)
	return t
}

// reportChart answers GET /ui/reports/{name}/chart.svg?width=…: the
// report's chart, drawn for the user.
func (u *UI) reportChart(c *fiber.Ctx) error {
	width, err := strconv.Atoi(c.Query("width", "800"))
	if err != nil {
		return u.fail(c, &engine.RequestError{Message: "width is a number of pixels"})
	}
	svg, err := u.rep.Chart(c.UserContext(), c.Params("name"), reportParams(c), width)
	if err != nil {
		return u.fail(c, err)
	}
	return sendSVG(c, svg)
}

// sendSVG answers a chart drawn for the user: never cached, no script.
func sendSVG(c *fiber.Ctx, svg []byte) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	return c.Send(svg)
}

// reportExport answers GET /ui/reports/{name}/export?format=csv|xlsx: the
// report as a file (the export right is needed).
func (u *UI) reportExport(c *fiber.Ctx) error {
	f, err := u.rep.Export(c.UserContext(), c.Params("name"), reportParams(c), c.Query("format"))
	if err != nil {
		return u.fail(c, err)
	}
	return sendFile(c, f)
}

// sendFile sends a file as an attachment.
func sendFile(c *fiber.Ctx, f *File) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	c.Set(fiber.HeaderContentType, f.Type)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName(f.Name), url.PathEscape(f.Name)))
	return c.Send(f.Data)
}

// asciiName keeps the ASCII letters, digits and ._- of a file name for
// the plain filename parameter.
func asciiName(s string) string {
	b := []byte{}
	for _, r := range s {
		if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b = append(b, byte(r))
		}
	}
	if len(b) == 0 {
		return "export"
	}
	return string(b)
}

// drillData is the content of a drill-down: the records behind a group.
type drillData struct {
	Back    string
	Columns []string
	Rows    []listRow
	Total   int64
	Next    string
}

// reportDrill answers GET /ui/reports/{name}/drill?group=…: the records
// behind a group of the report, as the user may read them, a page at a
// time.
func (u *UI) reportDrill(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	name, ps := c.Params("name"), reportParams(c)
	in, err := u.rep.Info(r.ctx, name)
	if err != nil {
		return u.fail(c, err)
	}
	group, aggregate := c.Query("group"), c.Query("aggregate")
	object, res, err := u.rep.Drill(r.ctx, name, ps, group, aggregate, drillPage(c))
	if err != nil {
		return u.fail(c, err)
	}
	return u.showDrill(c, r, in.Label, "/ui/reports/"+name+"?"+string(encodeParams(ps)), object, res,
		func(cursor string) string { return drillHref(name, ps, group, aggregate, cursor) })
}

// drillPage is the page of records a drill-down request asks for.
func drillPage(c *fiber.Ctx) engine.ListOptions {
	return engine.ListOptions{Cursor: c.Query("cursor"), Limit: listPageSize, Total: true}
}

// showDrill renders the records behind a group of the report labelled
// report (res, of object), in the object's list columns, with a link back
// to the report and next giving the address of the page at a cursor.
func (u *UI) showDrill(c *fiber.Ctx, r *rq, report, back, object string, res *engine.ListResult, next func(cursor string) string) error {
	s, err := r.scope(object, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	cols := visibleColumns(s, nil, u.layoutFor(r, s.Object()).ListColumns)
	d := drillData{Back: back}
	for _, name := range cols {
		f, _ := fieldDef(s.Object(), name)
		d.Columns = append(d.Columns, f.Title(r.lang))
	}
	if d.Rows, err = r.rows(s, cols, res.Items); err != nil {
		return u.fail(c, err)
	}
	if res.Total != nil {
		d.Total = *res.Total
	}
	if res.NextCursor != "" {
		d.Next = next(res.NextCursor)
	}
	p := u.newPage(c, tr(r.lang, "drill_title", report))
	p.Section, p.Data = "reports", d
	return u.render(c, fiber.StatusOK, "report_drill", p)
}

// drillHref is the address of the drill-down into group of report name
// with its parameters, limited to what aggregate counted when given, at
// cursor when given.
func drillHref(name string, ps map[string]string, group, aggregate, cursor string) string {
	q := url.Values{}
	for k, v := range ps {
		q.Set(k, v)
	}
	q.Set("group", group)
	for k, v := range map[string]string{"aggregate": aggregate, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return "/ui/reports/" + name + "/drill?" + q.Encode()
}
