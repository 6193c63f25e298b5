package documents

import (
	"strings"

	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
)

// Doc is a document filled with the values of a record (or of a list of
// records, for labels), ready to print as PDF or HTML.
type Doc struct {
	Lang   string
	Page   PageSpec
	Title  string
	Header []string
	Fields []Pair
	Table  *TableData
	Totals []Pair
	Text   []string
	Footer string
	// Labels holds the lines of each label (records of a list).
	Labels [][]string
	// Columns and Rows are the label grid per page.
	Columns, Rows int
}

// Pair is a label and its value.
type Pair struct{ Label, Value string }

// TableData is a filled table.
type TableData struct {
	Label   string
	Columns []string
	// Widths are the columns' relative widths.
	Widths []float64
	// Right marks the columns of numbers, aligned right.
	Right []bool
	Rows  [][]string
}

// PageSpec is the paper in millimetres.
type PageSpec struct {
	Width, Height, Margin float64
}

// Values are what fills a template: the texts of the record's
// placeholders and fields by path, the table's rows (each by column
// path), the sums of table columns by field (formatted).
type Values struct {
	Record map[string]string
	Rows   []map[string]string
	Sums   map[string]string
}

// paper sizes in millimetres (portrait).
var paper = map[string][2]float64{"A4": {210, 297}, "A5": {148, 210}, "Letter": {215.9, 279.4}}

// page returns the template's paper: A4 portrait by default, a margin of
// 15 mm (none for labels, whose sheets are cut to the edge).
func (t *Template) page() PageSpec {
	size, landscape, margin := "A4", false, 15.0
	if t.Labels != nil {
		margin = 0
	}
	if p := t.Page; p != nil {
		if p.Size != "" {
			size = p.Size
		}
		landscape = p.Orientation == "landscape"
		if p.Margin != nil {
			margin = *p.Margin
		}
	}
	wh := paper[size]
	if landscape {
		wh[0], wh[1] = wh[1], wh[0]
	}
	return PageSpec{Width: wh[0], Height: wh[1], Margin: margin}
}

// IsLabels reports whether the template prints labels for a list of
// records.
func (t *Template) IsLabels() bool { return t.Labels != nil }

// Paths returns the placeholders and fields read of the printed record
// (or of each labelled record), each once.
func (t *Template) Paths() []*marketing.Path {
	seen := map[string]bool{}
	var out []*marketing.Path
	add := func(ps ...*marketing.Path) {
		for _, p := range ps {
			if p != nil && !seen[p.Path] {
				seen[p.Path] = true
				out = append(out, p)
			}
		}
	}
	for _, texts := range []map[string]*marketing.Text{t.title, t.header, t.text, t.footer} {
		for _, x := range texts {
			add(x.Paths()...)
		}
	}
	for _, l := range t.lines {
		add(l.Paths()...)
	}
	add(t.fields...)
	add(t.totals...)
	return out
}

// ColumnPaths returns the fields read of the table's records.
func (t *Template) ColumnPaths() []*marketing.Path { return t.columns }

// text renders a text in lang (else English, else any language).
func text(texts map[string]*marketing.Text, lang string, values map[string]string) string {
	if x := marketing.Pick(texts, lang); x != nil {
		return x.Render(values, false)
	}
	return ""
}

// fieldLabel returns the label of a path: the field's label in lang, its
// target's for a lookup path (account.name → "Account"), or the path.
func fieldLabel(s *metadata.Schema, object string, p *marketing.Path, given metadata.Label, lang string) string {
	if len(given) > 0 {
		return given.Get(lang)
	}
	obj, ok := s.Object(object)
	if !ok {
		return p.Path
	}
	f, ok := obj.FieldOrSystem(p.Field)
	if !ok || len(f.Label) == 0 {
		return p.Path
	}
	return f.Label.Get(lang)
}

// Fill fills the template in lang with the values of one record (for a
// document) or of a list (for labels: one Values.Record per label, in
// Values.Rows).
func (t *Template) Fill(s *metadata.Schema, lang string, v Values) *Doc {
	d := &Doc{Lang: lang, Page: t.page()}
	if t.Labels != nil {
		d.Columns, d.Rows = t.Labels.Columns, t.Labels.Rows
		for _, r := range v.Rows {
			var lines []string
			for _, l := range t.lines {
				if line := strings.TrimSpace(l.Render(r, true)); line != "" {
					lines = append(lines, line)
				}
			}
			d.Labels = append(d.Labels, lines)
		}
		return d
	}
	d.Title = text(t.title, lang, v.Record)
	if h := text(t.header, lang, v.Record); h != "" {
		d.Header = strings.Split(h, "\n")
	}
	for i, p := range t.fields {
		d.Fields = append(d.Fields, Pair{Label: fieldLabel(s, t.Object, p, t.DocumentTemplate.Fields[i].Label, lang), Value: v.Record[p.Path]})
	}
	if tb := t.Table; tb != nil {
		td := &TableData{Label: tb.Label.Get(lang)}
		tobj, _ := s.Object(tb.Object)
		for i, p := range t.columns {
			td.Columns = append(td.Columns, fieldLabel(s, tb.Object, p, tb.Columns[i].Label, lang))
			w := tb.Columns[i].Width
			if w <= 0 {
				w = 1
			}
			td.Widths = append(td.Widths, w)
			right := false
			if f, ok := tobj.FieldOrSystem(p.Field); ok && p.TargetObject == "" && !p.Owner {
				right = numeric(f)
			}
			td.Right = append(td.Right, right)
		}
		for _, r := range v.Rows {
			row := make([]string, len(t.columns))
			for i, p := range t.columns {
				row[i] = r[p.Path]
			}
			td.Rows = append(td.Rows, row)
		}
		d.Table = td
	}
	for i, tot := range t.DocumentTemplate.Totals {
		label := tot.Label.Get(lang)
		if tot.Sum != "" {
			if label == "" {
				label = "Σ " + tot.Sum
			}
			d.Totals = append(d.Totals, Pair{Label: label, Value: v.Sums[tot.Sum]})
			continue
		}
		p := t.totals[i]
		d.Totals = append(d.Totals, Pair{Label: fieldLabel(s, t.Object, p, tot.Label, lang), Value: v.Record[p.Path]})
	}
	if x := text(t.text, lang, v.Record); x != "" {
		d.Text = strings.Split(x, "\n")
	}
	d.Footer = text(t.footer, lang, v.Record)
	return d
}
