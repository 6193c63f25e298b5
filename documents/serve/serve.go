// Package serve prints document templates for users: it reads the
// record, its table's related records and its lookups under the user's
// rights (through the engine's one permission decision: a record out of
// reach is 404, a hidden field prints empty, related records the user
// may not read are left out) and answers the PDF or the printable HTML.
// It also attaches a generated PDF to a file field of the record.
package serve

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/documents"
	"github.com/crmplatform/crm/documents/render"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/ui"
	"github.com/crmplatform/crm/marketing/fill"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// MaxRows bounds the table of a document and the records of a label
// sheet.
const MaxRows = 2000

// Server prints documents.
type Server struct {
	eng *engine.Engine
}

// New returns the document server of an engine; mount its Routes.
func New(eng *engine.Engine) *Server { return &Server{eng: eng} }

// Routes mounts the document routes.
func (sv *Server) Routes(r fiber.Router, s *api.Server) {
	r.Get("/api/records/:object/:id/documents/:file", s.Authenticate, sv.recordRoute)
	r.Post("/api/records/:object/:id/documents/:template/attach", s.Authenticate, s.RequireJSON, sv.attachRoute)
	r.Get("/api/documents/:file", s.Authenticate, sv.listRoute)
}

// template returns a compiled document template of the object.
func (sv *Server) template(name, object string) (*documents.Template, error) {
	compiled, _ := sv.eng.Snapshot().Compiled(documents.KindDocumentTemplates).(documents.Compiled)
	t, ok := compiled[name]
	if !ok || (object != "" && t.Object != object) {
		return nil, fmt.Errorf("%w: no document template %q for %s", engine.ErrNotFound, name, object)
	}
	return t, nil
}

// split reads "name.pdf" or "name.html".
func split(file string) (name, format string, err error) {
	name, format, ok := strings.Cut(file, ".")
	if !ok || (format != "pdf" && format != "html") {
		return "", "", fmt.Errorf("%w: ask for {template}.pdf or {template}.html", engine.ErrNotFound)
	}
	return name, format, nil
}

// language is ?lang, else the request's language.
func language(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "en" || l == "zh" {
		return l
	}
	return engine.Language(c.UserContext())
}

// recordRoute answers GET /api/records/{object}/{id}/documents/{template}.pdf
// (or .html).
func (sv *Server) recordRoute(c *fiber.Ctx) error {
	name, format, err := split(c.Params("file"))
	if err != nil {
		return err
	}
	doc, err := sv.printRecord(c.UserContext(), c.Params("object"), c.Params("id"), name, language(c), format)
	if err != nil {
		return err
	}
	return send(c, doc, name, format)
}

// printRecord fills template name of object, one that prints a record,
// with record id as the principal of ctx may read it (Document).
func (sv *Server) printRecord(ctx context.Context, object, id, name, lang, format string) (*documents.Doc, error) {
	t, err := sv.template(name, object)
	if err != nil {
		return nil, err
	}
	if t.IsLabels() {
		return nil, &engine.RequestError{Message: fmt.Sprintf("%s prints labels for a list: GET /api/documents/%s.%s?filter=…", name, name, format)}
	}
	return sv.Document(ctx, t, id, lang)
}

// listRoute answers GET /api/documents/{template}.pdf?filter=…&sort=…:
// labels for the records of the list the user may read.
func (sv *Server) listRoute(c *fiber.Ctx) error {
	name, format, err := split(c.Params("file"))
	if err != nil {
		return err
	}
	doc, err := sv.printList(c.UserContext(), "", name, c.Query("filter"), c.Query("sort"), language(c), format)
	if err != nil {
		return err
	}
	return send(c, doc, name, format)
}

// printList fills template name, a label sheet (of object's records when
// object is not ""), with the records matching filter in sort order that
// the principal of ctx may read.
func (sv *Server) printList(ctx context.Context, object, name, filter, sort, lang, format string) (*documents.Doc, error) {
	t, err := sv.template(name, object)
	if err != nil {
		return nil, err
	}
	if !t.IsLabels() {
		return nil, &engine.RequestError{Message: fmt.Sprintf("%s prints one record: GET /api/records/%s/{id}/documents/%s.%s", name, t.Object, name, format)}
	}
	recs, err := sv.list(ctx, t.Object, filter, sort)
	if err != nil {
		return nil, err
	}
	vals, err := fill.Values(ctx, sv.eng, t.Object, t.Paths(), lang, recs)
	if err != nil {
		return nil, err
	}
	return t.Fill(sv.eng.Snapshot().Schema, lang, documents.Values{Rows: vals}), nil
}

// send answers a document in its format.
func send(c *fiber.Ctx, d *documents.Doc, name, format string) error {
	out, typ, err := printed(d, format)
	if err != nil {
		return err
	}
	c.Set("Content-Type", typ)
	if format == "pdf" {
		c.Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.pdf"`, name))
	}
	return c.Send(out)
}

// printed writes a document as format ("pdf", else the printable HTML
// page) and returns it with its content type.
func printed(d *documents.Doc, format string) ([]byte, string, error) {
	if format == "html" {
		out, err := render.HTML(d)
		return out, "text/html; charset=utf-8", err
	}
	out, err := render.PDF(d)
	return out, "application/pdf", err
}

// UI returns what the web UI prints records with (ui.Documents).
func (sv *Server) UI() ui.Documents { return uiDocuments{sv} }

// uiDocuments prints records for the web UI.
type uiDocuments struct{ sv *Server }

// For implements ui.Documents: the object's templates, by label.
func (d uiDocuments) For(object, lang string) []ui.DocumentInfo {
	compiled, _ := d.sv.eng.Snapshot().Compiled(documents.KindDocumentTemplates).(documents.Compiled)
	var out []ui.DocumentInfo
	for name, t := range compiled {
		if t.Object != object {
			continue
		}
		label := t.Label.Get(lang)
		if label == "" {
			label = name
		}
		out = append(out, ui.DocumentInfo{Name: name, Label: label, List: t.IsLabels()})
	}
	slices.SortFunc(out, func(a, b ui.DocumentInfo) int {
		return cmp.Or(strings.Compare(a.Label, b.Label), strings.Compare(a.Name, b.Name))
	})
	return out
}

// Print implements ui.Documents.
func (d uiDocuments) Print(ctx context.Context, object, id, name, lang, format string) (*ui.File, error) {
	doc, err := d.sv.printRecord(ctx, object, id, name, lang, format)
	return uiFile(doc, err, name, format)
}

// Attach implements ui.Documents.
func (d uiDocuments) Attach(ctx context.Context, object, id, name, field, lang string) error {
	_, err := d.sv.Attach(ctx, object, id, name, field, lang)
	return err
}

// PrintList implements ui.Documents.
func (d uiDocuments) PrintList(ctx context.Context, object, name, filter, sort, lang, format string) (*ui.File, error) {
	doc, err := d.sv.printList(ctx, object, name, filter, sort, lang, format)
	return uiFile(doc, err, name, format)
}

// uiFile writes a filled document (or passes on the failure to fill it)
// as the UI's file name.format.
func uiFile(doc *documents.Doc, err error, name, format string) (*ui.File, error) {
	if err != nil {
		return nil, err
	}
	out, typ, err := printed(doc, format)
	if err != nil {
		return nil, err
	}
	return &ui.File{Name: name + "." + format, Type: typ, Data: out}, nil
}

// list reads up to MaxRows records of object the principal of ctx may
// read that match filter, in sort order.
func (sv *Server) list(ctx context.Context, object, filter, sort string) ([]engine.Record, error) {
	var out []engine.Record
	cursor := ""
	for len(out) < MaxRows {
		page, err := sv.eng.List(ctx, object, engine.ListOptions{Filter: filter, Sort: sort, Limit: engine.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	return out[:min(len(out), MaxRows)], nil
}

// Document fills a template with record id as the principal of ctx may
// read it: 404 when out of reach; hidden fields print empty; the table
// holds the related records the principal may read (none when it may not
// read their object).
func (sv *Server) Document(ctx context.Context, t *documents.Template, id, lang string) (*documents.Doc, error) {
	rec, err := sv.eng.Get(ctx, t.Object, id)
	if err != nil {
		return nil, err
	}
	vals, err := fill.Values(ctx, sv.eng, t.Object, t.Paths(), lang, []engine.Record{rec})
	if err != nil {
		return nil, err
	}
	v := documents.Values{Record: vals[0], Sums: map[string]string{}}
	if tb := t.Table; tb != nil {
		filter := tb.Field + " == " + strconv.Quote(id)
		if tb.Filter != "" {
			filter += " && (" + tb.Filter + ")"
		}
		rows, err := sv.list(ctx, tb.Object, filter, tb.Sort)
		if errors.Is(err, engine.ErrForbidden) {
			rows, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		if v.Rows, err = fill.Values(ctx, sv.eng, tb.Object, t.ColumnPaths(), lang, rows); err != nil {
			return nil, err
		}
		for _, tot := range t.DocumentTemplate.Totals {
			if tot.Sum != "" {
				v.Sums[tot.Sum] = total(rows, tot.Sum)
			}
		}
	}
	return t.Fill(sv.eng.Snapshot().Schema, lang, v), nil
}

// total adds a column's values exactly (decimal text, no binary
// floating point), written with the most decimals a value had and its
// thousands grouped as the values are (metadata.Display); empty
// when no row has a value (the column hidden, say).
func total(rows []engine.Record, field string) string {
	sum, scale, seen := new(big.Rat), 0, false
	for _, r := range rows {
		s := metadata.Display(nil, r[field], "en", nil)
		if s == "" {
			continue
		}
		x, ok := new(big.Rat).SetString(s)
		if !ok {
			continue
		}
		seen = true
		sum.Add(sum, x)
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = max(scale, len(s)-i-1)
		}
	}
	if !seen {
		return ""
	}
	return metadata.GroupDigits(sum.FloatString(scale))
}

// attachRoute answers POST /api/records/{object}/{id}/documents/{template}/attach
// {"field": "contract_pdf"}: the PDF is generated as the user may read
// the record, uploaded and set on the record's file field, as the user
// (who must be allowed to edit the field); answers the updated record.
func (sv *Server) attachRoute(c *fiber.Ctx) error {
	var in struct {
		Field string `json:"field"`
	}
	if err := c.BodyParser(&in); err != nil || in.Field == "" {
		return &engine.RequestError{Message: `send {"field": "<a file field of the record>"}`, Details: []engine.FieldError{{Field: "field", Code: "required", Message: "a file field"}}}
	}
	rec, err := sv.Attach(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("template"), in.Field, language(c))
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// Attach prints record id of object with template name in lang as a PDF,
// as the principal of ctx may read the record, uploads it and sets it on
// the record's file field, as the principal (who must be allowed to edit
// the field), and returns the updated record.
func (sv *Server) Attach(ctx context.Context, object, id, name, field, lang string) (engine.Record, error) {
	doc, err := sv.printRecord(ctx, object, id, name, lang, "pdf")
	if err != nil {
		return nil, err
	}
	out, err := render.PDF(doc)
	if err != nil {
		return nil, err
	}
	ref, err := sv.eng.Upload(ctx, object, field, name+".pdf", bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, engine.ErrUnauthenticated
	}
	var rec engine.Record
	err = sv.eng.Tx(ctx, p, func(w *engine.Writer) error {
		var err error
		rec, err = w.Update(ctx, object, id, map[string]any{field: map[string]any{"id": ref.ID, "name": ref.Name, "size": ref.Size, "content_type": ref.ContentType}})
		return err
	})
	return rec, err
}
