package ui

import (
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// adhocAggregates is how many aggregate rows the ad-hoc form offers.
const adhocAggregates = 3

// adhocData is the content of the ad-hoc report page: the form (Form,
// the request's query) with the choices the user has, and the result.
type adhocData struct {
	Form url.Values
	// Objects are the objects the user may read.
	Objects []navItem
	// Fields are the fields of the chosen object the user may read.
	Fields []adhocField
	// Rows numbers the aggregate rows (1…adhocAggregates).
	Rows   []int
	Kinds  []Choice
	Funcs  []Choice
	Charts []Choice
	// Buckets are the date buckets a date dimension takes.
	Buckets []Choice
	Result  *reportData
}

// adhocField is a field the ad-hoc form offers: Numeric ones are summed
// and averaged, Date ones grouped by a bucket, Group ones grouped by.
type adhocField struct {
	Name, Label          string
	Numeric, Date, Group bool
}

// adhocChoices are the options of a field select of the ad-hoc form: the
// fields F, V selected.
type adhocChoices struct {
	P *page
	F []adhocField
	V string
}

// Groupable are the fields a report may group by.
func (d adhocData) Groupable() []adhocField {
	return slices.DeleteFunc(slices.Clone(d.Fields), func(f adhocField) bool { return !f.Group })
}

// Numeric are the fields a report may sum and average.
func (d adhocData) Numeric() []adhocField {
	return slices.DeleteFunc(slices.Clone(d.Fields), func(f adhocField) bool { return !f.Numeric })
}

// Carried are the form's fields that define the report, in order, for
// the hidden inputs of the form that saves it.
func (d adhocData) Carried() []Choice {
	var out []Choice
	for _, k := range slices.Sorted(maps.Keys(d.Form)) {
		if k == "run" || k == "name" || k == "label" || k == "_csrf" {
			continue
		}
		for _, v := range d.Form[k] {
			out = append(out, Choice{Value: v, Label: k})
		}
	}
	return out
}

// Has reports whether the form has value v for key (a checked box).
func (d adhocData) Has(key, v string) bool { return slices.Contains(d.Form[key], v) }

// Get returns the form's value for key, numbered by i when i > 0
// (af1, ax2 …).
func (d adhocData) Get(key string, i int) string {
	if i > 0 {
		key += strconv.Itoa(i)
	}
	return d.Form.Get(key)
}

// adhocFields lists the fields of s the principal may read, with what a
// report may do with each.
func adhocFields(s *engine.Scope, lang string) []adhocField {
	var out []adhocField
	fields := slices.Clone(s.Object().Fields)
	for _, name := range []string{"owner_id", "created_at"} {
		if f, ok := metadata.SystemField(name); ok {
			fields = append(fields, f)
		}
	}
	for _, f := range fields {
		if !s.Readable(f.Name) {
			continue
		}
		k := metadata.TypeOf(f).Kind()
		af := adhocField{Name: f.Name, Label: f.Title(lang),
			Numeric: k.Numeric(), Date: k.Temporal()}
		af.Group = k != metadata.KindFile && k != metadata.KindRefList && k != metadata.KindStringList && metadata.FormInput(f).Kind != metadata.InputTextarea
		out = append(out, af)
	}
	return out
}

// adhocDefinition reads the report the form defines; labels name its
// aggregates in lang.
func adhocDefinition(q url.Values, s *engine.Scope, lang string) AdhocReport {
	def := AdhocReport{Object: q.Get("object"), Kind: q.Get("kind"), Filter: strings.TrimSpace(q.Get("filter")), Chart: q.Get("chart")}
	if def.Kind == "" {
		def.Kind = "summary"
	}
	group := func(field, bucket string) []AdhocGroup {
		if field == "" {
			return nil
		}
		// A date is grouped by month unless told otherwise; other
		// fields take no bucket.
		date := false
		if f, ok := fieldDef(s.Object(), field); ok {
			date = metadata.TypeOf(f).Kind().Temporal()
		}
		switch {
		case !date:
			bucket = ""
		case bucket == "":
			bucket = "month"
		}
		return []AdhocGroup{{Field: field, Bucket: bucket}}
	}
	switch def.Kind {
	case "tabular":
		def.Columns, def.Chart = q["col"], ""
	default:
		def.GroupBy = append(group(q.Get("g1"), q.Get("b1")), group(q.Get("g2"), q.Get("b2"))...)
		if def.Kind == "matrix" {
			def.Across = group(q.Get("a1"), q.Get("ab1"))
		}
		for i := 1; i <= adhocAggregates; i++ {
			fn, field := q.Get("af"+strconv.Itoa(i)), q.Get("ax"+strconv.Itoa(i))
			if fn == "" {
				continue
			}
			def.Aggregates = append(def.Aggregates, adhocAggregate(fn, field, s, lang))
		}
		if len(def.Aggregates) == 0 {
			def.Aggregates = []AdhocAggregate{adhocAggregate("count", "", s, lang)}
		}
	}
	def.Sort = strings.FieldsFunc(q.Get("sort"), func(r rune) bool { return r == ',' || r == ' ' })
	return def
}

// adhocAggregate names and labels an aggregate of the form: count of
// records is "count", the others "<func>_<field>".
func adhocAggregate(fn, field string, s *engine.Scope, lang string) AdhocAggregate {
	a := AdhocAggregate{Func: fn, Field: field, Name: fn}
	if field == "" {
		a.Label = tr(lang, "adhoc_records")
		return a
	}
	a.Name += "_" + field
	label := field
	if f, ok := fieldDef(s.Object(), field); ok && s.Readable(field) {
		label = f.Title(lang)
	}
	a.Label = tr(lang, "adhoc_agg_"+fn, label)
	return a
}

// adhocPage answers GET /ui/adhoc?object=…&kind=…&run=1: the ad-hoc
// report form (the objects and fields the user may read) and, with run,
// the report it defines run as the user, unsaved.
func (u *UI) adhocPage(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	p := u.newPage(c, tr(r.lang, "adhoc_report"))
	q, err := url.ParseQuery(string(c.Context().QueryArgs().QueryString()))
	if err != nil {
		return u.fail(c, &engine.RequestError{Message: "bad query string: " + err.Error()})
	}
	d := adhocData{Form: q, Objects: p.Nav, Rows: []int{1, 2, 3}}
	for _, k := range []string{"summary", "matrix", "tabular"} {
		d.Kinds = append(d.Kinds, Choice{Value: k, Label: tr(r.lang, "adhoc_kind_"+k)})
	}
	for _, f := range []string{"count", "sum", "avg", "min", "max"} {
		d.Funcs = append(d.Funcs, Choice{Value: f, Label: tr(r.lang, "adhoc_func_"+f)})
	}
	for _, ch := range []string{"bar", "stacked_bar", "line", "pie", "funnel"} {
		d.Charts = append(d.Charts, Choice{Value: ch, Label: tr(r.lang, "adhoc_chart_"+ch)})
	}
	for _, b := range []string{"day", "week", "month", "quarter", "year"} {
		d.Buckets = append(d.Buckets, Choice{Value: b, Label: tr(r.lang, "adhoc_bucket_"+b)})
	}
	status := fiber.StatusOK
	if object := q.Get("object"); object != "" {
		s, err := r.scope(object, metadata.ActionRead)
		if err != nil {
			return u.fail(c, err)
		}
		d.Fields = adhocFields(s, r.lang)
		if q.Get("run") != "" {
			if status, d.Result, err = u.runAdhoc(r, s, q); err != nil {
				return u.fail(c, err)
			}
		}
	}
	p.Section, p.Data = "reports", d
	return u.render(c, status, "adhoc", p)
}

// runAdhoc runs the report the form defines and returns the page's
// status and the result, or why the definition was refused; an error
// the page cannot show by the form (a server error, an object out of
// reach) is returned.
func (u *UI) runAdhoc(r *rq, s *engine.Scope, q url.Values) (int, *reportData, error) {
	def := adhocDefinition(q, s, r.lang)
	res := &reportData{ReportTable: &ReportTable{ReportInfo: ReportInfo{Label: tr(r.lang, "adhoc_report")}}}
	t, err := u.rep.RunAdhoc(r.ctx, def)
	if err != nil {
		var status int
		if status, res.Error, res.Details = failure(err); status >= 500 || status == fiber.StatusNotFound {
			return 0, nil, err
		}
		return status, res, nil
	}
	t.Label = res.Label
	res.ReportTable = groupNumbers(t)
	res.Rows = rowViews(t, def.Object, func(group, aggregate string) string { return adhocDrillHref(q, group, aggregate, "") })
	if def.Chart != "" && def.Kind != "tabular" {
		q := maps.Clone(q)
		delete(q, "width")
		res.setChart("/ui/adhoc/chart.svg", template.URL(q.Encode())) // url.Values.Encode escapes every value
	}
	return fiber.StatusOK, res, nil
}

// saveAdhoc answers POST /ui/adhoc/save: the report the posted form
// defines (the ad-hoc page's fields) saved as the user's own under name
// and label, then shown.
func (u *UI) saveAdhoc(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	q, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		return u.fail(c, &engine.RequestError{Message: "bad form: " + err.Error()})
	}
	s, err := r.scope(q.Get("object"), metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	name := strings.TrimSpace(q.Get("name"))
	if err := u.rep.SaveAdhoc(r.ctx, adhocDefinition(q, s, r.lang), name, strings.TrimSpace(q.Get("label"))); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/reports/"+url.PathEscape(name)+"?flash=report_saved", fiber.StatusSeeOther)
}

// adhocQuery is the ad-hoc page's form filled in with def (what
// adhocDefinition reads back).
func adhocQuery(def AdhocReport) url.Values {
	q := url.Values{"object": {def.Object}, "kind": {def.Kind}}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	for i, g := range def.GroupBy {
		set("g"+strconv.Itoa(i+1), g.Field)
		set("b"+strconv.Itoa(i+1), g.Bucket)
	}
	for _, g := range def.Across {
		set("a1", g.Field)
		set("ab1", g.Bucket)
	}
	for i, a := range def.Aggregates {
		set("af"+strconv.Itoa(i+1), a.Func)
		set("ax"+strconv.Itoa(i+1), a.Field)
	}
	if len(def.Columns) > 0 {
		q["col"] = def.Columns
	}
	set("filter", def.Filter)
	set("sort", strings.Join(def.Sort, ","))
	set("chart", def.Chart)
	return q
}

// editReport answers GET /ui/reports/{name}/edit: one of the user's own
// reports opened on the ad-hoc page, run, with its name and title filled
// in to save it again.
func (u *UI) editReport(c *fiber.Ctx) error {
	name := c.Params("name")
	def, label, err := u.rep.OwnReport(c.UserContext(), name)
	if err != nil {
		return u.fail(c, err)
	}
	q := adhocQuery(def)
	q.Set("run", "1")
	q.Set("name", name)
	q.Set("label", label)
	return c.Redirect("/ui/adhoc?"+q.Encode(), fiber.StatusSeeOther)
}

// adhocDrillHref is the address of the drill-down into group of the
// ad-hoc report q defines, limited to what aggregate counted when given,
// at cursor when given.
func adhocDrillHref(q url.Values, group, aggregate, cursor string) string {
	q = maps.Clone(q)
	for _, k := range []string{"run", "width", "group", "aggregate", "cursor"} {
		delete(q, k)
	}
	q.Set("group", group)
	for k, v := range map[string]string{"aggregate": aggregate, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return "/ui/adhoc/drill?" + q.Encode()
}

// adhocDrill answers GET /ui/adhoc/drill?…&group=…&aggregate=…: the
// records behind a group of the ad-hoc report the query defines, as the
// user may read them, a page at a time.
func (u *UI) adhocDrill(c *fiber.Ctx) error {
	r, q, s, err := u.adhocRequest(c)
	if err != nil {
		return u.fail(c, err)
	}
	group, aggregate := q.Get("group"), q.Get("aggregate")
	res, err := u.rep.DrillAdhoc(r.ctx, adhocDefinition(q, s, r.lang), group, aggregate, drillPage(c))
	if err != nil {
		return u.fail(c, err)
	}
	back := maps.Clone(q)
	for _, k := range []string{"group", "aggregate", "cursor"} {
		delete(back, k)
	}
	back.Set("run", "1")
	return u.showDrill(c, r, tr(r.lang, "adhoc_report"), "/ui/adhoc?"+back.Encode(), s.Object().Name, res,
		func(cursor string) string { return adhocDrillHref(q, group, aggregate, cursor) })
}

// adhocRequest reads an ad-hoc report's request: the query that defines
// it and the scope of its object, which the user must be able to read.
func (u *UI) adhocRequest(c *fiber.Ctx) (*rq, url.Values, *engine.Scope, error) {
	r, err := u.req(c)
	if err != nil {
		return nil, nil, nil, err
	}
	q, err := url.ParseQuery(string(c.Context().QueryArgs().QueryString()))
	if err != nil {
		return nil, nil, nil, &engine.RequestError{Message: "bad query string: " + err.Error()}
	}
	s, err := r.scope(q.Get("object"), metadata.ActionRead)
	if err != nil {
		return nil, nil, nil, err
	}
	return r, q, s, nil
}

// adhocChart answers GET /ui/adhoc/chart.svg?…&width=…: the chart of the
// ad-hoc report the query defines.
func (u *UI) adhocChart(c *fiber.Ctx) error {
	r, q, s, err := u.adhocRequest(c)
	if err != nil {
		return u.fail(c, err)
	}
	width, err := strconv.Atoi(c.Query("width", "800"))
	if err != nil {
		return u.fail(c, &engine.RequestError{Message: "width is a number of pixels"})
	}
	svg, err := u.rep.ChartAdhoc(r.ctx, adhocDefinition(q, s, r.lang), width)
	if err != nil {
		return u.fail(c, err)
	}
	return sendSVG(c, svg)
}
