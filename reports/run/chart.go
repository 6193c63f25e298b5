package run

import (
	"github.com/crmplatform/crm/reports"
	"github.com/crmplatform/crm/reports/chart"
)

// Draw returns the chart of a summary or matrix result: the report's
// chart (a bar chart of the first aggregate when it defines none) over the
// detail rows, categories from the first dimension; a second dimension (or
// a matrix's column dimensions) makes the series of a stacked bar or line
// chart.
func (res *Result) Draw(width int) chart.Chart {
	p := res.plan
	def := p.Report.Chart
	if def == nil {
		def = &reports.Chart{Type: reports.ChartBar}
	}
	values := def.Values
	if len(values) == 0 && len(p.Aggs) > 0 {
		values = []string{p.Aggs[0].Def.Name}
	}
	c := chart.Chart{Type: def.Type, Title: res.Label, Width: width}
	label := func(name string) string {
		for _, col := range res.Columns {
			if col.Name == name {
				return col.Label
			}
		}
		return name
	}
	if len(p.Groups) > 0 {
		c.XLabel = label(p.Groups[0].Name)
	}
	if len(values) > 0 {
		c.YLabel = label(values[0])
	}
	rowLabel := func(row Row, i int) string {
		if i < len(p.Groups) {
			if l, ok := rowLabels(row).Get(p.Groups[i].Name); ok {
				return l
			}
		}
		return ""
	}
	var detail []Row
	for _, row := range res.Rows {
		if lvl, ok := row["_level"].(int); !ok || lvl == len(p.Groups) {
			detail = append(detail, row)
		}
	}
	switch {
	case p.Kind == reports.Matrix:
		for _, row := range detail {
			c.Categories = append(c.Categories, rowLabel(row, 0))
		}
		for _, col := range res.Columns {
			if col.Aggregate != values[0] || len(col.Across) == 0 {
				continue
			}
			s := chart.Series{Name: joinLabels(col.AcrossLabels)}
			for _, row := range detail {
				s.Values = append(s.Values, number(row[col.Name]))
			}
			c.Series = append(c.Series, s)
		}
		if c.Type != chart.StackedBar && c.Type != chart.Line && c.Type != chart.Bar {
			c.Series = c.Series[:min(1, len(c.Series))]
		}
	case len(p.Groups) >= 2 && (def.Type == reports.ChartStackedBar || def.Type == reports.ChartLine || def.Type == reports.ChartBar && len(values) == 1):
		index := map[string]int{}
		series := map[string]int{}
		for _, row := range detail {
			cat, ser := rowLabel(row, 0), rowLabel(row, 1)
			if _, ok := index[cat]; !ok {
				index[cat] = len(c.Categories)
				c.Categories = append(c.Categories, cat)
			}
			if _, ok := series[ser]; !ok {
				series[ser] = len(c.Series)
				c.Series = append(c.Series, chart.Series{Name: ser})
			}
		}
		for i := range c.Series {
			c.Series[i].Values = make([]float64, len(c.Categories))
		}
		for _, row := range detail {
			c.Series[series[rowLabel(row, 1)]].Values[index[rowLabel(row, 0)]] += number(row[values[0]])
		}
	default:
		for _, row := range detail {
			c.Categories = append(c.Categories, rowLabel(row, 0))
		}
		for _, v := range values {
			s := chart.Series{Name: label(v)}
			for _, row := range detail {
				s.Values = append(s.Values, number(row[v]))
			}
			c.Series = append(c.Series, s)
		}
	}
	return c
}

// number reads a value as floating point for drawing.
func number(v any) float64 {
	if r := ratOf(v); r != nil {
		f, _ := r.Float64()
		return f
	}
	return 0
}

// joinLabels joins the labels of several keys.
func joinLabels(ls []string) string {
	out := ""
	for i, l := range ls {
		if i > 0 {
			out += " / "
		}
		out += l
	}
	return out
}
