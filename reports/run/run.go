package run

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// Runner runs reports for the principal of a context, under the rights
// the engine decides for them.
type Runner struct {
	eng    *engine.Engine
	access *access.Service
	zones  zones
}

// New returns a Runner over an engine and its access service (which tells
// administrators, who may run every report).
func New(eng *engine.Engine, svc *access.Service) *Runner { return &Runner{eng: eng, access: svc} }

// Engine returns the engine reports run on.
func (r *Runner) Engine() *engine.Engine { return r.eng }

// Column describes a column of a result.
type Column struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Type is the type of the values: a field type (currency, integer,
	// decimal, percent, text, picklist, lookup, date, datetime, boolean …),
	// "user" for user ids, or "text" for date buckets.
	Type   string          `json:"type"`
	Scale  *int            `json:"scale,omitempty"`
	Role   string          `json:"role"` // field, group, aggregate, calculation
	Bucket metadata.Bucket `json:"bucket,omitempty"`
	// Aggregate, Across and AcrossLabels describe a matrix cell column:
	// the aggregate and the keys of the column dimensions.
	Aggregate    string   `json:"aggregate,omitempty"`
	Across       []any    `json:"across,omitempty"`
	AcrossLabels []string `json:"across_labels,omitempty"`
}

// Row is a row of a result: values by column name, plus "_labels" (the
// labels of group keys, lookups and picklists in the user's language, a
// *Labels),
// "_group" (the drill-down path of a group row), "_level" (the number of
// dimensions a summary row has keys for: fewer for subtotals) and "_id"
// (the record of a tabular row).
type Row map[string]any

// Result is a report's answer.
type Result struct {
	Report  string         `json:"report"`
	Label   string         `json:"label"`
	Kind    string         `json:"kind"`
	Columns []Column       `json:"columns"`
	Rows    []Row          `json:"rows"`
	Totals  map[string]any `json:"totals"`
	// Truncated is set when a tabular report had more records than its
	// limit.
	Truncated bool           `json:"truncated,omitempty"`
	Chart     *reports.Chart `json:"chart,omitempty"`
	// plan is the plan that ran (for charts and exports).
	plan *reports.Plan
	// loc is the user's time zone (the request's X-Timezone, else the
	// server's), in which exports show datetimes.
	loc *time.Location
}

// Plan returns the plan that produced the result.
func (res *Result) Plan() *reports.Plan { return res.plan }

// Rights returns the permission decision of the principal of ctx.
func (r *Runner) Rights(ctx context.Context) (*engine.Rights, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	return r.eng.Rights(ctx, p)
}

// Plan returns the compiled plan of the stored report name, if the
// principal may run it (ErrNotFound otherwise, as for a report that does
// not exist).
func (r *Runner) Plan(ctx context.Context, rights *engine.Rights, name string) (*reports.Plan, error) {
	plans, _ := rights.Snapshot().Compiled("reports").(map[string]*reports.Plan)
	p := plans[name]
	if p == nil || !r.offered(ctx, rights, p) {
		return nil, fmt.Errorf("%w: no report %s", engine.ErrNotFound, name)
	}
	return p, nil
}

// offered reports whether a report is offered to the principal: it may
// read the base object and holds one of the report's roles (if it names
// any), or is an administrator.
func (r *Runner) offered(ctx context.Context, rights *engine.Rights, p *reports.Plan) bool {
	s, err := rights.Scope(p.Object.Name)
	if err != nil || s.Can(metadata.ActionRead) != nil {
		return false
	}
	if len(p.Report.Roles) == 0 || slices.ContainsFunc(p.Report.Roles, rights.Principal().HasRole) {
		return true
	}
	return r.IsAdmin(ctx, rights)
}

// IsAdmin reports whether the principal holds an administrator role.
func (r *Runner) IsAdmin(ctx context.Context, rights *engine.Rights) bool {
	d, err := r.access.Decide(ctx, rights.Snapshot().Schema)
	return err == nil && d.CanAdminister(rights.Principal()) == nil
}

// List returns the stored reports the principal may run, by name.
func (r *Runner) List(ctx context.Context, rights *engine.Rights) []*reports.Plan {
	plans, _ := rights.Snapshot().Compiled("reports").(map[string]*reports.Plan)
	var out []*reports.Plan
	for _, p := range plans {
		if r.offered(ctx, rights, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *reports.Plan) int { return strings.Compare(a.Report.Name, b.Report.Name) })
	return out
}

// Compile checks an ad-hoc definition against the principal's metadata
// version (problems are a metadata.Problems error).
func (r *Runner) Compile(rights *engine.Rights, def *reports.Report) (*reports.Plan, error) {
	p, ps := reports.Compile(rights.Snapshot().Schema, def)
	if len(ps) > 0 {
		return nil, ps
	}
	return p, nil
}

// Run runs a plan with parameters for the principal of rights: every count
// and sum covers only the records it may read, and a field it may not read
// is refused (422 invalid_report).
func (r *Runner) Run(ctx context.Context, rights *engine.Rights, p *reports.Plan, params map[string]string) (*Result, error) {
	b, filter, err := r.checked(ctx, rights, p, params)
	if err != nil {
		return nil, err
	}
	res := &Result{Report: p.Report.Name, Label: p.Report.Label.Get(b.lang), Kind: p.Kind, Chart: p.Report.Chart, plan: p, loc: r.eng.Location(ctx)}
	if res.Label == "" {
		res.Label = p.Report.Name
	}
	switch p.Kind {
	case reports.Tabular:
		err = r.tabular(ctx, b, filter, res)
	default:
		err = r.grouped(ctx, b, filter, res)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Check reports whether the principal of rights may run a plan as it is
// (with its parameters' defaults), as Run checks it before it runs: the
// right to read its base object and every field it reads or filters by
// (422 invalid_report naming a hidden one). It runs nothing.
func (r *Runner) Check(ctx context.Context, rights *engine.Rights, p *reports.Plan) error {
	s, err := rights.Scope(p.Object.Name)
	if err != nil {
		return err
	}
	if err := s.Can(metadata.ActionRead); err != nil {
		return err
	}
	b, filter, err := r.checked(ctx, rights, p, nil)
	if err != nil {
		return err
	}
	_, err = b.compile(filter)
	return err
}

// checked starts the SQL of a run (prepare) once every field the plan
// reads passed the principal's field rights.
func (r *Runner) checked(ctx context.Context, rights *engine.Rights, p *reports.Plan, params map[string]string) (*builder, string, error) {
	b, filter, err := r.prepare(ctx, rights, p, params)
	if err != nil {
		return nil, "", err
	}
	for _, v := range p.Columns {
		if err := b.checkValue(v); err != nil {
			return nil, "", err
		}
	}
	for _, d := range append(append([]*reports.Dim(nil), p.Groups...), p.Across...) {
		if err := b.checkValue(d.Value); err != nil {
			return nil, "", err
		}
	}
	for _, a := range p.Aggs {
		if a.Value != nil {
			if err := b.checkValue(a.Value); err != nil {
				return nil, "", err
			}
		}
	}
	for _, pa := range p.Params {
		if err := b.checkRef(pa.Ref); err != nil {
			return nil, "", err
		}
	}
	if err := b.compileAggFilters(); err != nil {
		return nil, "", err
	}
	return b, filter, nil
}

// prepare starts the SQL of a run and writes its filter with the
// parameters.
func (r *Runner) prepare(ctx context.Context, rights *engine.Rights, p *reports.Plan, params map[string]string) (*builder, string, error) {
	filter, err := Filter(p, params, rights.Principal().UserID, engine.Language(ctx))
	if err != nil {
		return nil, "", err
	}
	b, err := newBuilder(ctx, r.eng, &r.zones, rights, withBuckets(p, params))
	return b, filter, err
}

// withBuckets returns the plan with the buckets its bucket parameters
// choose (checked by Filter).
func withBuckets(p *reports.Plan, params map[string]string) *reports.Plan {
	set := func(dims []*reports.Dim, pa *reports.Param, b metadata.Bucket) []*reports.Dim {
		out := make([]*reports.Dim, len(dims))
		for i, d := range dims {
			out[i] = d
			if d.Value.Ref != nil && d.Value.Ref.Path == pa.Ref.Path && d.Bucket != "" {
				out[i] = &reports.Dim{Value: d.Value, Bucket: b}
			}
		}
		return out
	}
	for _, pa := range p.Params {
		if pa.Def.Type != reports.ParamBucket {
			continue
		}
		v, ok := params[pa.Def.Name]
		if !ok {
			v = pa.Def.Default
		}
		if v == "" {
			continue
		}
		cp := *p
		cp.Groups, cp.Across = set(p.Groups, pa, metadata.Bucket(v)), set(p.Across, pa, metadata.Bucket(v))
		p = &cp
	}
	return p
}

// Filter returns the report's filter with its parameters' conditions, in
// the list filter language; params missing take their defaults. A bad
// value is an error said in lang.
func Filter(p *reports.Plan, params map[string]string, me, lang string) (string, error) {
	var parts []string
	if strings.TrimSpace(p.Report.Filter) != "" {
		parts = append(parts, "("+p.Report.Filter+")")
	}
	for name := range params {
		if !slices.ContainsFunc(p.Params, func(pa *reports.Param) bool { return pa.Def.Name == name }) {
			msg := metadata.Label{"en": fmt.Sprintf("report %s has no parameter %s", p.Report.Name, name), "zh": fmt.Sprintf("报表 %s 没有参数 %s", p.Report.Name, name)}.Get(lang)
			return "", &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: name, Code: "unknown", Message: msg}}}
		}
	}
	for _, pa := range p.Params {
		v, ok := params[pa.Def.Name]
		if !ok {
			v = pa.Def.Default
		}
		cond, err := reports.ParamFilter(pa, v, me)
		var pe *reports.ParamError
		if errors.As(err, &pe) {
			msg := pe.Message.Get(lang)
			return "", &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: pa.Def.Name, Code: "invalid", Message: msg}}}
		}
		if err != nil {
			return "", err
		}
		if cond != "" {
			parts = append(parts, "("+cond+")")
		}
	}
	return strings.Join(parts, " && "), nil
}

// valueType is the type of a column showing a value.
func valueType(v *reports.Value) colType {
	f := v.Field
	if v.Ref != nil && reports.IsUserField(f.Name) {
		return colType{Type: "user"}
	}
	if metadata.TypeOf(f).Kind() == metadata.KindMoney {
		s := f.ScaleOr(metadata.DefaultCurrencyScale)
		return colType{Type: "currency", Scale: &s}
	}
	if f.Scale != nil {
		return colType{Type: f.Type, Scale: f.Scale}
	}
	return colType{Type: f.Type}
}

// label of a value in the user's language.
func (b *builder) label(v *reports.Value) string {
	if l := v.Label.Get(b.lang); l != "" {
		return l
	}
	return v.Name
}

// tabular runs a tabular report: one row per record.
func (r *Runner) tabular(ctx context.Context, b *builder, filter string, res *Result) error {
	p := b.plan
	sel := []string{b.table() + `."id"`}
	type labelCol struct {
		name string
		at   int
	}
	var labels []labelCol
	for _, v := range p.Columns {
		sel = append(sel, b.value(v))
		t := valueType(v)
		res.Columns = append(res.Columns, Column{Name: v.Name, Label: b.label(v), Type: t.Type, Scale: t.Scale, Role: "field"})
	}
	for _, v := range p.Columns {
		if title := b.title(v); title != "" {
			labels = append(labels, labelCol{v.Name, len(sel)})
			sel = append(sel, title)
		}
	}
	where, args, err := b.where(filter)
	if err != nil {
		return err
	}
	limit := p.Report.Limit
	if limit == 0 {
		limit = reports.DefaultTabularRows
	}
	order, err := tabularOrder(p)
	if err != nil {
		return err
	}
	stmt := "SELECT " + strings.Join(sel, ", ") + b.from() + where + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit+1)
	rows, err := b.query(ctx, stmt, append(append([]any(nil), b.args...), args...))
	if err != nil {
		return err
	}
	if len(rows) > limit {
		rows, res.Truncated = rows[:limit], true
	}
	res.Rows = make([]Row, 0, len(rows))
	for _, raw := range rows {
		row := Row{"_id": raw[0]}
		lbl := &Labels{}
		for i, v := range p.Columns {
			out, err := metadata.TypeOf(v.Field).Output(v.Field, raw[i+1])
			if err != nil {
				return fmt.Errorf("report %s: %s: %w", p.Report.Name, v.Name, err)
			}
			row[v.Name] = out
			if l, ok := b.optionLabel(v, out); ok {
				lbl.add(v.Name, l)
			}
		}
		// A lookup that refers to no record has no label (nor a value).
		for _, l := range labels {
			switch title := raw[l.at].(type) {
			case nil:
			case string:
				lbl.add(l.name, title)
			default:
				lbl.add(l.name, fmt.Sprint(title))
			}
		}
		if len(lbl.names) > 0 {
			row["_labels"] = lbl
		}
		res.Rows = append(res.Rows, row)
	}
	res.Totals = map[string]any{}
	if len(p.Aggs) == 0 {
		return nil
	}
	aggSel, aggArgs := aggsSQL(b)
	tot, err := b.query(ctx, "SELECT "+strings.Join(aggSel, ", ")+b.from()+where, append(append(aggArgs, b.args...), args...))
	if err != nil {
		return err
	}
	i := 0
	for _, a := range p.Aggs {
		var s state
		if s, i, err = scanState(a, tot[0], i); err != nil {
			return err
		}
		res.Totals[a.Def.Name] = resultJSON(a, s)
	}
	for _, a := range p.Aggs {
		t := aggType(a)
		res.Columns = append(res.Columns, Column{Name: a.Def.Name, Label: aggLabel(b, a), Type: t.Type, Scale: t.Scale, Role: "aggregate"})
	}
	return nil
}

// tabularOrder is the ORDER BY of a tabular report: its sort keys by
// position in the SELECT list (empty values last), then the id.
func tabularOrder(p *reports.Plan) (string, error) {
	var keys []string
	for _, k := range p.Report.Sort {
		name := strings.TrimPrefix(k, "-")
		i := slices.IndexFunc(p.Columns, func(v *reports.Value) bool { return v.Name == name })
		if i < 0 {
			return "", &engine.RequestError{Message: fmt.Sprintf("report %s sorts by %s, which is not one of its columns", p.Report.Name, name)}
		}
		dir := " ASC"
		if strings.HasPrefix(k, "-") {
			dir = " DESC"
		}
		keys = append(keys, strconv.Itoa(i+2)+dir+" NULLS LAST")
	}
	return strings.Join(append(keys, "1"), ", "), nil
}

// optionLabel is the label of a picklist or boolean value, or the labels
// of a multi-picklist's options joined by commas.
func (b *builder) optionLabel(v *reports.Value, out any) (string, bool) {
	switch x := out.(type) {
	case string:
		if _, ok := v.Field.Option(x); ok && metadata.SingleOption(v.Field) {
			return v.Field.OptionLabel(x, b.lang), true
		}
	case []string: // a multi-picklist's options, each by its label
		labels := make([]string, len(x))
		for i, value := range x {
			labels[i] = v.Field.OptionLabel(value, b.lang)
		}
		return strings.Join(labels, ", "), true
	case bool:
		if b.lang == "zh" {
			return map[bool]string{true: "是", false: "否"}[x], true
		}
		return map[bool]string{true: "Yes", false: "No"}[x], true
	}
	return "", false
}

// aggLabel is the label of an aggregate.
func aggLabel(b *builder, a *reports.Agg) string {
	if l := a.Def.Label.Get(b.lang); l != "" {
		return l
	}
	return a.Def.Name
}

// ratOf reads back a number written by formatNumber or an aggregate.
func ratOf(v any) *big.Rat {
	switch x := v.(type) {
	case *big.Rat:
		return x
	case int64:
		return new(big.Rat).SetInt64(x)
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil
		}
		return r
	case fmt.Stringer:
		r, ok := new(big.Rat).SetString(x.String())
		if ok {
			return r
		}
	}
	return nil
}
