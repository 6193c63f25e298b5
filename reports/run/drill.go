package run

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// Drill returns the records behind a group of a summary or matrix report
// as a page of the object's list (engine.List, with its rights, sort and
// cursor): those matching the report's filter and parameters whose
// dimensions have the keys of group, a path as the rows' "_group" gives
// ("qualify/2026-03": one segment per dimension, rows then columns; "*"
// for any key of a dimension, an empty segment or NoValue for records
// without a value, NoValue alone for a group of one key without one; an
// empty group for the whole report; fewer segments than dimensions leave
// the last ones open). The
// cell's condition is the report's own SQL, so the records are exactly
// those counted in the cell. With aggregate (the name of one of the
// report's aggregates) they are further limited by that aggregate's
// filter: the records it counted in the cell.
func (r *Runner) Drill(ctx context.Context, rights *engine.Rights, p *reports.Plan, params map[string]string, group, aggregate string, opt engine.ListOptions) (*engine.ListResult, error) {
	if p.Kind == reports.Tabular {
		return nil, &engine.RequestError{Message: fmt.Sprintf("report %s is tabular: its rows are records already", p.Report.Name)}
	}
	b, filter, err := r.prepare(ctx, rights, p, params)
	if err != nil {
		return nil, err
	}
	if aggregate != "" {
		i := slices.IndexFunc(p.Aggs, func(a *reports.Agg) bool { return a.Def.Name == aggregate })
		if i < 0 {
			return nil, &engine.RequestError{Message: fmt.Sprintf("report %s has no aggregate %s", p.Report.Name, aggregate),
				Details: []engine.FieldError{{Field: "aggregate", Code: "unknown", Message: "not an aggregate of the report"}}}
		}
		if f := p.Aggs[i].Def.Filter; f != "" {
			if filter != "" {
				filter += " && "
			}
			filter += "(" + f + ")"
		}
	}
	all := dims(b.plan)
	keys, err := parsePath(group, len(all))
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	for i, k := range keys {
		if k.any {
			continue
		}
		d := all[i]
		if err := b.checkValue(d.Value); err != nil {
			return nil, err
		}
		expr, err := b.dim(d)
		if err != nil {
			return nil, err
		}
		if k.null {
			conds = append(conds, expr+" IS NULL")
			continue
		}
		arg, err := keyArg(d, k.text)
		if err != nil {
			return nil, &engine.RequestError{Message: fmt.Sprintf("group: %q is not a key of %s: %v", k.text, d.Name, err),
				Details: []engine.FieldError{{Field: "group", Code: "invalid", Message: err.Error()}}}
		}
		conds = append(conds, expr+" = ?")
		args = append(args, metadata.DBValue(b.dialect, arg))
	}
	opt.Filter = filter
	if len(conds) > 0 {
		id := b.table() + "." + store.Ident("id")
		sub := "SELECT " + id + b.from() + " WHERE " + strings.Join(conds, " AND ")
		opt.Where = query.Predicate{SQL: id + " IN (" + sub + ")", Args: append(append([]any(nil), b.args...), args...)}
	}
	return r.eng.List(ctx, p.Object.Name, opt)
}

// segment is one key of a drill-down path.
type segment struct {
	text      string
	null, any bool
}

// parsePath reads a drill-down path of at most n keys.
func parsePath(group string, n int) ([]segment, error) {
	if group == "" && n > 0 {
		return nil, nil
	}
	parts := strings.Split(group, "/")
	if len(parts) > n {
		return nil, &engine.RequestError{Message: fmt.Sprintf("group has %d keys; the report has %d dimensions", len(parts), n),
			Details: []engine.FieldError{{Field: "group", Code: "invalid", Message: "too many keys"}}}
	}
	out := make([]segment, len(parts))
	for i, s := range parts {
		switch s {
		case "*":
			out[i].any = true
		case "", NoValue:
			out[i].null = true
		default:
			t, err := url.PathUnescape(s)
			if err != nil {
				return nil, &engine.RequestError{Message: "group: bad escape in " + s, Details: []engine.FieldError{{Field: "group", Code: "invalid", Message: err.Error()}}}
			}
			out[i].text = t
		}
	}
	return out, nil
}

// keyArg converts a key of a dimension from its text to the value the
// dimension's SQL gives: the bucket's text, or the field's storage value.
func keyArg(d *reports.Dim, text string) (any, error) {
	if d.Bucket != "" {
		return text, nil
	}
	var in any = text
	switch metadata.TypeOf(d.Field).Kind() {
	case metadata.KindBool:
		switch text {
		case "true":
			in = true
		case "false":
			in = false
		}
	case metadata.KindInt, metadata.KindFloat, metadata.KindMoney:
		in = json.Number(text)
	}
	return metadata.TypeOf(d.Field).Normalize(d.Field, in)
}
