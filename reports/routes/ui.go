package routes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
	"github.com/crmplatform/crm/reports/chart"
	"github.com/crmplatform/crm/reports/run"
)

// pages gives the web pages the reports and dashboards (ui.Reports), run
// as the principal of each call's context by the same runner as the
// routes.
type pages struct{ h *handlers }

var _ ui.Reports = pages{}

// plan returns the caller's rights and the plan of a report they may run.
func (p pages) plan(ctx context.Context, name string) (*engine.Rights, *reports.Plan, error) {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return nil, nil, err
	}
	plan, err := p.h.plan(ctx, rights, name)
	return rights, plan, err
}

// List implements ui.Reports.
func (p pages) List(ctx context.Context) ([]ui.ReportInfo, error) {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return nil, err
	}
	offers, err := p.h.reportOffers(ctx, rights)
	if err != nil {
		return nil, err
	}
	var out []ui.ReportInfo
	for _, o := range offers {
		if o.err != nil {
			// A saved report its metadata no longer fits: listed, to be
			// deleted, not run.
			out = append(out, ui.ReportInfo{Name: o.def.Name, Label: labelOr(o.def.Label, engine.Language(ctx), o.def.Name), Object: o.def.Object,
				Kind: o.def.KindOrDefault(), Own: true, Problem: o.err.Error()})
			continue
		}
		in := info(ctx, rights, o.plan)
		in.Own = o.source == sourceUser
		out = append(out, in)
	}
	return out, nil
}

// Info implements ui.Reports.
func (p pages) Info(ctx context.Context, name string) (*ui.ReportInfo, error) {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return nil, err
	}
	own, err := p.h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	plan, mine, err := p.h.resolve(ctx, rights, own, name)
	if err != nil {
		return nil, err
	}
	in := info(ctx, rights, plan)
	in.Own = mine
	return &in, nil
}

// info describes a plan for the caller.
func info(ctx context.Context, rights *engine.Rights, plan *reports.Plan) ui.ReportInfo {
	lang := engine.Language(ctx)
	r := plan.Report
	in := ui.ReportInfo{Name: r.Name, Label: labelOr(r.Label, lang, r.Name), Description: r.Description.Get(lang), Object: r.Object,
		Kind: plan.Kind, Chart: plan.Kind != reports.Tabular && r.Chart != nil}
	if s, err := rights.Scope(plan.Object.Name); err == nil {
		in.Export = s.Can(metadata.ActionExport) == nil
	}
	for _, a := range plan.Aggs {
		in.Aggregates = append(in.Aggregates, ui.Choice{Value: a.Def.Name, Label: labelOr(a.Def.Label, lang, a.Def.Name)})
	}
	for _, pa := range plan.Params {
		d := pa.Def
		rp := ui.ReportParam{Name: d.Name, Label: labelOr(d.Label, lang, pa.Ref.Field.Title(lang)), Default: d.Default}
		switch d.Type {
		case reports.ParamPeriod:
			for _, v := range reports.Periods {
				rp.Options = append(rp.Options, ui.Choice{Value: v, Label: periodName(v, lang)})
			}
		case reports.ParamBucket:
			for _, b := range metadata.Buckets(pa.Ref.Field) {
				rp.Options = append(rp.Options, ui.Choice{Value: string(b), Label: periodName(string(b), lang)})
			}
		case reports.ParamUser:
			rp.Options = []ui.Choice{{Value: "me", Label: map[bool]string{true: "我", false: "me"}[lang == "zh"]}}
		case reports.ParamIdleDays:
			rp.Number = true
		default:
			for _, o := range pa.Ref.Field.Options {
				rp.Options = append(rp.Options, ui.Choice{Value: o.Value, Label: o.Label.Get(lang)})
			}
		}
		in.Params = append(in.Params, rp)
	}
	return in
}

// Run implements ui.Reports.
func (p pages) Run(ctx context.Context, name string, params map[string]string) (*ui.ReportTable, error) {
	rights, plan, err := p.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	res, err := p.h.run.Run(ctx, rights, plan, params)
	if err != nil {
		return nil, err
	}
	return table(ctx, info(ctx, rights, plan), res), nil
}

// table turns a result into text in the caller's language.
func table(ctx context.Context, in ui.ReportInfo, res *run.Result) *ui.ReportTable {
	lang := engine.Language(ctx)
	t := &ui.ReportTable{ReportInfo: in, Truncated: res.Truncated}
	header, rows := res.Text(lang)
	for i, c := range res.Columns {
		col := ui.ReportColumn{Label: header[i], Numeric: c.Role == "aggregate" || c.Role == "calculation" || numeric(c.Type)}
		if c.Role == "aggregate" {
			col.Aggregate, col.Across = cmp.Or(c.Aggregate, c.Name), c.DrillSuffix()
		}
		t.Columns = append(t.Columns, col)
	}
	for i, cells := range rows {
		if i >= len(res.Rows) {
			t.Totals = cells
			break
		}
		row := res.Rows[i]
		rr := ui.ReportRow{Cells: cells}
		rr.Group, _ = row["_group"].(string)
		rr.ID, _ = row["_id"].(string)
		if l, ok := row["_level"].(int); ok {
			rr.Level = l
		}
		t.Rows = append(t.Rows, rr)
	}
	return t
}

// numeric reports whether values of a column type are numbers.
func numeric(typ string) bool {
	switch typ {
	case "integer", "decimal", "currency", "percent", "number":
		return true
	}
	return false
}

// Chart implements ui.Reports.
func (p pages) Chart(ctx context.Context, name string, params map[string]string, width int) ([]byte, error) {
	rights, plan, err := p.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	if plan.Kind == reports.Tabular {
		return nil, fmt.Errorf("%w: report %s is tabular and has no chart", engine.ErrNotFound, name)
	}
	return p.draw(ctx, rights, plan, params, width)
}

// draw runs a summary or matrix plan and draws its chart, width pixels
// wide (kept within the charts' limits).
func (p pages) draw(ctx context.Context, rights *engine.Rights, plan *reports.Plan, params map[string]string, width int) ([]byte, error) {
	width = min(max(width, chart.MinWidth), chart.MaxWidth)
	res, err := p.h.run.Run(ctx, rights, plan, params)
	if err != nil {
		return nil, err
	}
	return chart.SVG(res.Draw(width)), nil
}

// adhocName names the reports defined on the ad-hoc report page, and
// adhocLabel titles them (their charts).
const adhocName = "adhoc"

var adhocLabel = metadata.Label{"en": "Ad-hoc report", "zh": "临时报表"}

// adhocReport is the report document of an ad-hoc definition, in the
// caller's language.
func adhocReport(ctx context.Context, def ui.AdhocReport) *reports.Report {
	lang := engine.Language(ctx)
	r := &reports.Report{Name: adhocName, Label: adhocLabel, Object: def.Object, Kind: def.Kind, Filter: def.Filter, Sort: def.Sort}
	for _, c := range def.Columns {
		r.Columns = append(r.Columns, reports.Column{Field: c})
	}
	groups := func(gs []ui.AdhocGroup) []reports.Group {
		var out []reports.Group
		for _, g := range gs {
			out = append(out, reports.Group{Field: g.Field, Bucket: metadata.Bucket(g.Bucket)})
		}
		return out
	}
	r.GroupBy, r.Across = groups(def.GroupBy), groups(def.Across)
	for _, a := range def.Aggregates {
		agg := reports.Aggregate{Name: a.Name, Func: a.Func, Field: a.Field}
		if a.Label != "" {
			agg.Label = metadata.Label{lang: a.Label}
		}
		r.Aggregates = append(r.Aggregates, agg)
	}
	if def.Chart != "" {
		r.Chart = &reports.Chart{Type: def.Chart}
	}
	return r
}

// RunAdhoc implements ui.Reports: the checks of POST /api/reports/run,
// then the run under the caller's rights.
func (p pages) RunAdhoc(ctx context.Context, def ui.AdhocReport) (*ui.ReportTable, error) {
	rights, plan, err := p.h.adhocPlan(ctx, adhocReport(ctx, def))
	if err != nil {
		return nil, err
	}
	res, err := p.h.run.Run(ctx, rights, plan, nil)
	if err != nil {
		return nil, err
	}
	return table(ctx, info(ctx, rights, plan), res), nil
}

// ChartAdhoc implements ui.Reports.
func (p pages) ChartAdhoc(ctx context.Context, def ui.AdhocReport, width int) ([]byte, error) {
	rights, plan, err := p.h.adhocPlan(ctx, adhocReport(ctx, def))
	if err != nil {
		return nil, err
	}
	if plan.Kind == reports.Tabular {
		return nil, &engine.RequestError{Message: "a tabular report has no chart"}
	}
	return p.draw(ctx, rights, plan, nil, width)
}

// DrillAdhoc implements ui.Reports: the drill-down of an ad-hoc report,
// checked as POST /api/reports/run checks it.
func (p pages) DrillAdhoc(ctx context.Context, def ui.AdhocReport, group, aggregate string, opt engine.ListOptions) (*engine.ListResult, error) {
	rights, plan, err := p.h.adhocPlan(ctx, adhocReport(ctx, def))
	if err != nil {
		return nil, err
	}
	return p.h.run.Drill(ctx, rights, plan, nil, group, aggregate, opt)
}

// SaveAdhoc implements ui.Reports: the report the page defines, named
// and labelled, parsed and saved as PUT /api/reports/{name} does.
func (p pages) SaveAdhoc(ctx context.Context, def ui.AdhocReport, name, label string) error {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return err
	}
	r := adhocReport(ctx, def)
	r.Name, r.Label = name, nil
	if label != "" {
		r.Label = metadata.Label{engine.Language(ctx): label}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("reports: report %s: %w", name, err)
	}
	parsed, ps := reports.Reports.Kind().Parse("report", raw)
	if len(ps) > 0 {
		return ps
	}
	return p.h.saveReport(ctx, rights, parsed.Value.(*reports.Report))
}

// OwnReport implements ui.Reports: a saved report the ad-hoc page can
// show is one adhocReport makes again from what the page shows, its
// aggregates named as the page names them.
func (p pages) OwnReport(ctx context.Context, name string) (ui.AdhocReport, string, error) {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return ui.AdhocReport{}, "", err
	}
	r, err := p.h.ownReport(ctx, rights, name)
	if err != nil {
		return ui.AdhocReport{}, "", err
	}
	def := ui.AdhocReport{Object: r.Object, Kind: r.KindOrDefault(), Filter: r.Filter, Sort: r.Sort}
	for _, c := range r.Columns {
		def.Columns = append(def.Columns, c.Field)
	}
	groups := func(gs []reports.Group) []ui.AdhocGroup {
		var out []ui.AdhocGroup
		for _, g := range gs {
			out = append(out, ui.AdhocGroup{Field: g.Field, Bucket: string(g.Bucket)})
		}
		return out
	}
	def.GroupBy, def.Across = groups(r.GroupBy), groups(r.Across)
	lang := engine.Language(ctx)
	for _, a := range r.Aggregates {
		def.Aggregates = append(def.Aggregates, ui.AdhocAggregate{Name: a.Name, Func: a.Func, Field: a.Field, Label: a.Label.Get(lang)})
	}
	if r.Chart != nil {
		def.Chart = r.Chart.Type
	}
	again := adhocReport(ctx, def)
	again.Name, again.Label = r.Name, r.Label
	for i := range again.Aggregates {
		again.Aggregates[i].Label = r.Aggregates[i].Label
	}
	want, _ := json.Marshal(r)
	got, _ := json.Marshal(again)
	fits := bytes.Equal(want, got) && len(def.GroupBy) <= 2 && len(def.Across) <= 1 && len(def.Aggregates) <= 3
	for _, a := range r.Aggregates {
		fits = fits && a.Name == strings.TrimSuffix(a.Func+"_"+a.Field, "_")
	}
	if !fits {
		return ui.AdhocReport{}, "", &engine.RequestError{Message: fmt.Sprintf("report %s uses more than the ad-hoc report page shows (parameters, row formulas, calculations, subtotals, a limit, labels or a description, more groupings or values, or values named otherwise): change it through PUT /api/reports/%s", name, name)}
	}
	return def, labelOr(r.Label, lang, ""), nil
}

// DeleteReport implements ui.Reports.
func (p pages) DeleteReport(ctx context.Context, name string) error {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return err
	}
	return p.h.ownReports.delete(ctx, rights.Principal().UserID, name)
}

// Export implements ui.Reports.
func (p pages) Export(ctx context.Context, name string, params map[string]string, format string) (*ui.File, error) {
	rights, plan, err := p.plan(ctx, name)
	if err != nil {
		return nil, err
	}
	s, err := rights.Scope(plan.Object.Name)
	if err != nil {
		return nil, err
	}
	if err := s.Can(metadata.ActionExport); err != nil {
		return nil, err
	}
	res, err := p.h.run.Run(ctx, rights, plan, params)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	f := &ui.File{Name: name + "." + format}
	switch format {
	case "csv":
		err, f.Type = res.WriteCSV(&buf, engine.Language(ctx)), "text/csv; charset=utf-8"
	case "xlsx":
		err, f.Type = res.WriteXLSX(&buf, engine.Language(ctx)), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	default:
		return nil, &engine.RequestError{Message: "format is csv or xlsx, not " + format}
	}
	f.Data = buf.Bytes()
	return f, err
}

// Drill implements ui.Reports.
func (p pages) Drill(ctx context.Context, name string, params map[string]string, group, aggregate string, opt engine.ListOptions) (string, *engine.ListResult, error) {
	rights, plan, err := p.plan(ctx, name)
	if err != nil {
		return "", nil, err
	}
	res, err := p.h.run.Drill(ctx, rights, plan, params, group, aggregate, opt)
	return plan.Object.Name, res, err
}

// Dashboards implements ui.Reports: the caller's saved dashboards and
// those offered to them.
func (p pages) Dashboards(ctx context.Context) ([]ui.DashboardInfo, error) {
	_, offers, home, err := p.h.offersOf(ctx)
	if err != nil {
		return nil, err
	}
	lang := engine.Language(ctx)
	out := make([]ui.DashboardInfo, 0, len(offers))
	for _, o := range offers {
		out = append(out, ui.DashboardInfo{Name: o.d.Name, Label: labelOr(o.d.Label, lang, o.d.Name), Own: o.source == "user", Home: o.d.Name == home})
	}
	return out, nil
}

// SaveDashboard implements ui.Reports: a copy of a dashboard offered to
// the caller saved as their own (PUT /api/dashboards/{name} checks).
func (p pages) SaveDashboard(ctx context.Context, from, name, label string, home bool) error {
	rights, offers, _, err := p.h.offersOf(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(offers, func(o offer) bool { return o.d.Name == from })
	if i < 0 {
		return fmt.Errorf("%w: no dashboard %s", engine.ErrNotFound, from)
	}
	d := *offers[i].d
	d.Name, d.Roles, d.Users, d.Home = name, nil, nil, home
	if label != "" {
		d.Label = metadata.Label{engine.Language(ctx): label}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	parsed, ps := reports.Dashboards.Kind().Parse("dashboard", raw)
	if len(ps) > 0 {
		return ps
	}
	return p.h.save(ctx, rights, parsed.Value.(*reports.Dashboard))
}

// DeleteDashboard implements ui.Reports: one of the caller's own.
func (p pages) DeleteDashboard(ctx context.Context, name string) error {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return err
	}
	return p.h.ownDashboards.delete(ctx, rights.Principal().UserID, name)
}

// Dashboard implements ui.Reports: one of the caller's dashboards (their
// home when name is empty) with the data of each widget computed under
// their rights (a widget they may not see says why instead).
func (p pages) Dashboard(ctx context.Context, name string) (*ui.Dashboard, error) {
	rights, offers, home, err := p.h.offersOf(ctx)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = home
	}
	i := slices.IndexFunc(offers, func(o offer) bool { return o.d.Name == name })
	if i < 0 {
		if name == home {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: no dashboard %s", engine.ErrNotFound, name)
	}
	d := offers[i].d
	lang := engine.Language(ctx)
	out := &ui.Dashboard{Name: d.Name, Label: labelOr(d.Label, lang, d.Name), Own: offers[i].source == "user", Home: d.Name == home}
	ws := slices.Clone(d.Widgets)
	slices.SortStableFunc(ws, func(a, b reports.Widget) int {
		if a.Y != b.Y {
			return a.Y - b.Y
		}
		return a.X - b.X
	})
	own, err := p.h.ownReports.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		a := p.h.widget(ctx, rights, own, w)
		uw := ui.Widget{Type: w.Type, Title: w.Title.Get(lang), Report: w.Report, Params: w.Params, Object: w.Object, Filter: w.Filter, Sort: w.Sort, Width: w.W}
		if a.Error != nil {
			uw.Error, uw.ErrorCode = a.Error.Message, a.Error.Code
		}
		switch data := a.Data.(type) {
		case *engine.ListResult:
			uw.Records = data.Items
		case *run.Result:
			uw.Table = table(ctx, info(ctx, rights, a.plan), data)
		case map[string]any:
			uw.Value = fmt.Sprint(data["value"])
			if data["value"] == nil {
				uw.Value = "0"
			}
			if uw.Title == "" {
				uw.Title = fmt.Sprint(data["label"])
			}
		}
		if uw.Title == "" && uw.Table != nil {
			uw.Title = uw.Table.Label
		}
		out.Widgets = append(out.Widgets, uw)
	}
	return out, nil
}

// periodZh names the relative periods and the date buckets in Chinese.
var periodZh = map[string]string{
	"today": "今天", "yesterday": "昨天", "this_week": "本周", "last_week": "上周", "next_week": "下周",
	"this_month": "本月", "last_month": "上月", "next_month": "下月",
	"this_quarter": "本季度", "last_quarter": "上季度", "next_quarter": "下季度",
	"this_year": "今年", "last_year": "去年", "next_year": "明年",
	"day": "按日", "week": "按周", "month": "按月", "quarter": "按季度", "year": "按年",
}

// periodName is a relative period's or a bucket's name in lang.
func periodName(v, lang string) string {
	if zh, ok := periodZh[v]; ok && lang == "zh" {
		return zh
	}
	return strings.ReplaceAll(v, "_", " ")
}

// OwnDashboard implements ui.Reports: one of the caller's saved
// dashboards as saved.
func (p pages) OwnDashboard(ctx context.Context, name string) (*ui.DashboardDef, error) {
	d, err := p.own(ctx, name)
	if err != nil {
		return nil, err
	}
	lang := engine.Language(ctx)
	out := &ui.DashboardDef{Name: d.Name, Label: d.Label.Get(lang), Home: d.Home}
	for i, w := range d.Widgets {
		out.Widgets = append(out.Widgets, ui.WidgetDef{From: i, Type: w.Type, Title: w.Title.Get(lang), Report: w.Report, Value: w.Value, Params: w.Params,
			Object: w.Object, Filter: w.Filter, Sort: w.Sort, Limit: w.Limit, Width: max(w.W, 1)})
	}
	return out, nil
}

// own returns one of the caller's saved dashboards.
func (p pages) own(ctx context.Context, name string) (*reports.Dashboard, error) {
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return nil, err
	}
	mine, err := p.h.ownDashboards.list(ctx, rights.Principal().UserID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(mine, func(d *reports.Dashboard) bool { return d.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: you have no saved dashboard %s", engine.ErrNotFound, name)
	}
	return mine[i], nil
}

// widgetHeight is the height of a widget added on the page.
const widgetHeight = 4

// PutDashboard implements ui.Reports: the dashboard as edited (widgets
// laid out in order, row after row of the 12-column grid, each as high as
// it was), parsed and saved as PUT /api/dashboards/{name} does; renamed,
// the old one is deleted after. Labels in the caller's language replace
// theirs only: a label or widget title keeps its other languages.
func (p pages) PutDashboard(ctx context.Context, old string, def ui.DashboardDef) error {
	prev, err := p.own(ctx, old)
	if err != nil {
		return err
	}
	rights, err := p.h.run.Rights(ctx)
	if err != nil {
		return err
	}
	if def.Name != old {
		if _, err := p.own(ctx, def.Name); err == nil {
			return metadata.Problems{{Path: "/name", Message: fmt.Sprintf("you have a dashboard named %s already", def.Name)}}
		}
	}
	lang := engine.Language(ctx)
	label := func(l metadata.Label, s string) metadata.Label {
		out := maps.Clone(l)
		if out == nil {
			out = metadata.Label{}
		}
		if s == "" {
			delete(out, lang)
		} else {
			out[lang] = s
		}
		return out
	}
	d := reports.Dashboard{Name: def.Name, Label: label(prev.Label, def.Label), Description: prev.Description, Home: def.Home, Widgets: []reports.Widget{}}
	x, y, rowH := 0, 0, 0
	for _, w := range def.Widgets {
		// A widget saved before keeps its titles in other languages and
		// its height.
		var title metadata.Label
		h := widgetHeight
		if w.From >= 0 && w.From < len(prev.Widgets) {
			title, h = prev.Widgets[w.From].Title, max(prev.Widgets[w.From].H, 1)
		}
		rw := reports.Widget{Type: w.Type, Title: label(title, w.Title), Report: w.Report, Params: w.Params, Value: w.Value,
			Object: w.Object, Filter: w.Filter, Sort: w.Sort, Limit: w.Limit, W: w.Width, H: h}
		if x > 0 && x+max(w.Width, 1) > 12 {
			x, y, rowH = 0, y+rowH, 0
		}
		rw.X, rw.Y, rowH = x, y, max(rowH, rw.H)
		x += max(w.Width, 1)
		d.Widgets = append(d.Widgets, rw)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("reports: dashboard %s: %w", def.Name, err)
	}
	parsed, ps := reports.Dashboards.Kind().Parse("dashboard", raw)
	if len(ps) > 0 {
		return ps
	}
	if err := p.h.save(ctx, rights, parsed.Value.(*reports.Dashboard)); err != nil {
		return err
	}
	if old != def.Name {
		_, err = p.h.ownDashboards.remove(ctx, rights.Principal().UserID, old)
	}
	return err
}
