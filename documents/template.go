package documents

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"

	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/metadata"
)

// KindDocumentTemplates is the name of the kind (its template folder and
// API path /api/meta/document_templates).
const KindDocumentTemplates = "document_templates"

// DocumentTemplate is a printable document of one object's records: a
// quote with its lines, a contract with its payment plan, a dunning
// letter, or address labels for a list of records.
type DocumentTemplate struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	// Object is the object whose records the document prints.
	Object string `json:"object"`
	Page   *Page  `json:"page,omitempty"`
	// Title, Header, Text and Footer are texts per language with
	// placeholders ({{field}}, {{lookup.field}}, {{owner.name}}): the
	// title on top, header lines above it, paragraphs after the totals,
	// a footer line on every page (with the page number).
	Title  metadata.Label `json:"title,omitempty"`
	Header metadata.Label `json:"header,omitempty"`
	// Fields are printed as label and value pairs under the title.
	Fields []FieldRef     `json:"fields,omitempty"`
	Table  *Table         `json:"table,omitempty"`
	Totals []Total        `json:"totals,omitempty"`
	Text   metadata.Label `json:"text,omitempty"`
	Footer metadata.Label `json:"footer,omitempty"`
	Labels *LabelGrid     `json:"labels,omitempty"`
}

// Page is the paper: size (A4, A5, Letter), orientation and margin (mm).
type Page struct {
	Size        string   `json:"size,omitempty"`
	Orientation string   `json:"orientation,omitempty"`
	Margin      *float64 `json:"margin,omitempty"`
}

// FieldRef is a value printed with its label: a field of the record, or
// through one lookup (account.name), or of its owner (owner.name).
type FieldRef struct {
	Field string         `json:"field"`
	Label metadata.Label `json:"label,omitempty"`
}

// Table is a table of related records: those of Object whose lookup
// Field points to the printed record (and match Filter), in Sort order.
type Table struct {
	Label   metadata.Label `json:"label,omitempty"`
	Object  string         `json:"object"`
	Field   string         `json:"field"`
	Filter  string         `json:"filter,omitempty"`
	Sort    string         `json:"sort,omitempty"`
	Columns []Column       `json:"columns"`
}

// Column is a column of a table: a field of the related object (or
// through one of its lookups), a label, and a relative width.
type Column struct {
	Field string         `json:"field"`
	Label metadata.Label `json:"label,omitempty"`
	Width float64        `json:"width,omitempty"`
}

// Total is a line under the table: a field of the record, or the sum of
// a table column.
type Total struct {
	Label metadata.Label `json:"label,omitempty"`
	Field string         `json:"field,omitempty"`
	Sum   string         `json:"sum,omitempty"`
}

// LabelGrid prints the records of a list as labels: Columns × Rows per
// page, each with its Lines (texts with placeholders; an empty line is
// left out).
type LabelGrid struct {
	Columns int      `json:"columns"`
	Rows    int      `json:"rows"`
	Lines   []string `json:"lines"`
}

//go:embed document_template.schema.json
var documentTemplateSchema []byte

// DocumentTemplates reads the document templates of a schema.
var DocumentTemplates metadata.Docs[DocumentTemplate]

func init() {
	DocumentTemplates = metadata.RegisterKind(metadata.KindSpec[DocumentTemplate]{
		Name:    KindDocumentTemplates,
		Schema:  documentTemplateSchema,
		Public:  true,
		Check:   checkTemplate,
		Compile: compileTemplates,
	})
}

// checkTemplate checks one document template against the schema.
func checkTemplate(s *metadata.Schema, t *DocumentTemplate) metadata.Problems {
	_, ps := build(s, t)
	return ps
}

// Compiled holds the compiled document templates of a metadata version,
// by name: engine.Snapshot.Compiled(KindDocumentTemplates).
type Compiled map[string]*Template

// compileTemplates compiles the templates of a schema that passed every
// check.
func compileTemplates(s *metadata.Schema) (any, metadata.Problems) {
	out := Compiled{}
	ps := DocumentTemplates.Each(s, func(t *DocumentTemplate) metadata.Problems {
		c, ps := build(s, t)
		if c != nil {
			out[t.Name] = c
		}
		return ps
	})
	return out, ps
}

// Template is a compiled document template.
type Template struct {
	*DocumentTemplate
	title, header, text, footer map[string]*marketing.Text
	lines                       []*marketing.Text
	fields                      []*marketing.Path
	columns                     []*marketing.Path
	totals                      []*marketing.Path
}

// texts parses a text per language.
func texts(s *metadata.Schema, obj *metadata.Object, l metadata.Label, path string, ps *metadata.Problems) map[string]*marketing.Text {
	out := map[string]*marketing.Text{}
	for _, lang := range slices.Sorted(maps.Keys(l)) {
		t, err := marketing.ParseText(s, obj, l[lang])
		if err != nil {
			*ps = append(*ps, metadata.Problemf(path+"/"+lang, "%v", err))
			continue
		}
		out[lang] = t
	}
	return out
}

// build checks a template and compiles it; nil when it has problems.
func build(s *metadata.Schema, t *DocumentTemplate) (*Template, metadata.Problems) {
	obj, ok := s.Object(t.Object)
	if !ok {
		return nil, metadata.Problems{metadata.Problemf("/object", "no object %q", t.Object)}
	}
	var ps metadata.Problems
	c := &Template{DocumentTemplate: t}
	c.title = texts(s, obj, t.Title, "/title", &ps)
	c.header = texts(s, obj, t.Header, "/header", &ps)
	c.text = texts(s, obj, t.Text, "/text", &ps)
	c.footer = texts(s, obj, t.Footer, "/footer", &ps)
	for i, f := range t.Fields {
		p, err := marketing.ResolvePath(s, obj, f.Field)
		if err != nil {
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/fields/%d/field", i), "%v", err))
			continue
		}
		c.fields = append(c.fields, p)
	}
	if t.Labels != nil {
		if t.Table != nil || len(t.Totals) > 0 {
			ps = append(ps, metadata.Problemf("/labels", "labels print a list of records: no table or totals"))
		}
		for i, line := range t.Labels.Lines {
			l, err := marketing.ParseText(s, obj, line)
			if err != nil {
				ps = append(ps, metadata.Problemf(fmt.Sprintf("/labels/lines/%d", i), "%v", err))
				continue
			}
			c.lines = append(c.lines, l)
		}
	}
	sums := map[string]bool{}
	if tb := t.Table; tb != nil {
		tobj, ok := s.Object(tb.Object)
		if !ok {
			return nil, append(ps, metadata.Problemf("/table/object", "no object %q", tb.Object))
		}
		if f, ok := tobj.Field(tb.Field); !ok || !pointsTo(f, t.Object) {
			ps = append(ps, metadata.Problemf("/table/field", "%s has no lookup %q to %s", tb.Object, tb.Field, t.Object))
		}
		for i, col := range tb.Columns {
			p, err := marketing.ResolvePath(s, tobj, col.Field)
			if err != nil {
				ps = append(ps, metadata.Problemf(fmt.Sprintf("/table/columns/%d/field", i), "%v", err))
				continue
			}
			c.columns = append(c.columns, p)
			if p.TargetObject == "" && !p.Owner {
				if f, _ := tobj.FieldOrSystem(p.Field); f != nil && numeric(f) {
					sums[p.Field] = true
				}
			}
		}
	}
	for i, tot := range t.Totals {
		switch {
		case (tot.Field == "") == (tot.Sum == ""):
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/totals/%d", i), "a total is either a field of the record or the sum of a number column of the table"))
		case tot.Sum != "" && !sums[tot.Sum]:
			ps = append(ps, metadata.Problemf(fmt.Sprintf("/totals/%d/sum", i), "%q is not a number column of the table", tot.Sum))
		case tot.Field != "":
			p, err := marketing.ResolvePath(s, obj, tot.Field)
			if err != nil {
				ps = append(ps, metadata.Problemf(fmt.Sprintf("/totals/%d/field", i), "%v", err))
				continue
			}
			c.totals = append(c.totals, p)
		default:
			c.totals = append(c.totals, nil)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// pointsTo reports whether f is a lookup to the object.
func pointsTo(f *metadata.Field, object string) bool {
	target, ok := metadata.LookupTarget(f)
	return ok && target == object
}

// numeric reports whether a field holds numbers that add up.
func numeric(f *metadata.Field) bool {
	return metadata.TypeOf(f).Kind().Numeric()
}
