package run

import (
	"context"
	"slices"
	"strings"
)

// matrix lays the groups of a matrix report out as a pivot table: a row
// per combination of row keys, a column per combination of column keys
// and aggregate (named "<aggregate>@<keys path>"), a row-total column per
// aggregate (named by the aggregate), and totals per column.
func (r *Runner) matrix(ctx context.Context, b *builder, where string, args []any, detail []*grp, total *grp, res *Result) error {
	p := b.plan
	nr, na := len(p.Groups), len(p.Across)
	rowIdx, colIdx := make([]int, nr), make([]int, na)
	for i := range rowIdx {
		rowIdx[i] = i
	}
	for i := range colIdx {
		colIdx[i] = nr + i
	}
	rows, err := r.level(ctx, b, where, args, detail, rowIdx)
	if err != nil {
		return err
	}
	cols, err := r.level(ctx, b, where, args, detail, colIdx)
	if err != nil {
		return err
	}
	cells := map[string]*grp{}
	for _, g := range detail {
		finishGroup(p, g, false)
		cells[g.prefix(len(g.keys))] = g
	}
	for _, g := range rows {
		finishGroup(p, g, true)
	}
	for _, g := range cols {
		finishGroup(p, g, false)
	}
	res.Totals = map[string]any{}
	for _, c := range cols {
		for _, a := range p.Aggs {
			t := aggType(a)
			name := a.Def.Name + "@" + path(c.keys)
			res.Columns = append(res.Columns, Column{Name: name, Label: strings.Join(c.labels, " / ") + " · " + aggLabel(b, a),
				Type: t.Type, Scale: t.Scale, Role: "aggregate", Aggregate: a.Def.Name, Across: c.keys, AcrossLabels: c.labels})
			res.Totals[name] = c.out[a.Def.Name]
		}
	}
	for _, a := range p.Aggs {
		t := aggType(a)
		res.Columns = append(res.Columns, Column{Name: a.Def.Name, Label: aggLabel(b, a), Type: t.Type, Scale: t.Scale, Role: "aggregate", Aggregate: a.Def.Name})
		res.Totals[a.Def.Name] = total.out[a.Def.Name]
	}
	if err := sortRows(p, rows, nr, false); err != nil {
		return err
	}
	if p.Report.Limit > 0 && len(rows) > p.Report.Limit {
		rows = rows[:p.Report.Limit]
	}
	names := dimNames(dims(p))
	for _, g := range rows {
		row := groupRow(names, g)
		for _, c := range cols {
			cell := cells[path(append(slices.Clone(g.keys), c.keys...))]
			for _, a := range p.Aggs {
				name := a.Def.Name + "@" + path(c.keys)
				if cell != nil {
					row[name] = cell.out[a.Def.Name]
				} else {
					row[name] = resultJSON(a, state{})
				}
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return nil
}

// DrillSuffix is what a matrix cell column adds to a row's "_group" to
// drill into one cell: "/" and the path of its column keys ("" for any
// other column).
func (c Column) DrillSuffix() string {
	if c.Across == nil {
		return ""
	}
	return "/" + path(c.Across)
}
