package ui

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/internal/csvcell"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// listPageSize is how many records a list page shows.
const listPageSize = 50

// listData is the content of a list page.
type listData struct {
	Object     *metadata.Object
	Label      string
	Columns    []column
	Rows       []listRow
	Conditions []conditionRow
	// Fields are the fields the builder offers (readable ones).
	Fields []fieldChoice
	Typed  string
	Sort   string
	Filter string
	Error  string
	Next   string
	Cursor string
	Total  int64
	Capped bool
	CanNew bool
	// CanUpdate and CanDelete offer the selected records' mass update
	// and delete (rows get a checkbox when either is set).
	CanUpdate, CanDelete bool
	// CanImport and Export are the import page and the list's CSV export,
	// for users holding those rights.
	CanImport bool
	Export    string
	// Labels are the object's label sheets, each printing the records of
	// the list (its query): a link (Href) and its label (Text).
	Labels []cell
	// Board and Calendar say whether the object has a picklist and a
	// date to show its records by.
	Board    bool
	Calendar bool
	Views    []savedView
	ViewID   string
	Roles    []string
	ColNames string
	// Query is the list's query string without cursor, for links: a
	// template.URL, which html/template does not escape a second time
	// (url.Values.Encode escapes every value).
	Query template.URL
}

// column is a list column.
type column struct {
	Name, Label string
	Sortable    bool
	// Dir is "asc" or "desc" when the list is sorted on the column.
	Dir string
	// SortHref sorts on the column (the other way when sorted on it).
	SortHref string
}

// listRow is one record of a list.
type listRow struct {
	ID    string
	Href  string
	Cells []cell
}

// fieldChoice is a field the filter builder offers.
type fieldChoice struct {
	Name, Label string
}

// conditionRow is one row of the filter builder as shown.
type conditionRow struct {
	Index  int
	Field  string
	Op     string
	Value  string
	Fields []fieldChoice
	Ops    []opChoice
	// Options are the values of a picklist or boolean field.
	Options []optionView
	Unary   bool
	Object  string
	Lang    string
}

// T returns a message in the row's language.
func (row conditionRow) T(key string, args ...any) string { return tr(row.Lang, key, args...) }

// opChoice is an operator the builder offers for a field.
type opChoice struct {
	Name, Label string
}

// listQuery is what a list request asks for.
type listQuery struct {
	conds   []condition
	typed   string
	sort    string
	cursor  string
	cols    []string
	viewID  string
	explict bool
}

// parseListQuery reads the list's query string: builder rows (ff, fo, fv
// repeated), the typed filter, sort, cursor, columns and saved view.
func parseListQuery(c *fiber.Ctx) listQuery {
	args := c.Context().QueryArgs()
	ff, fo, fv := args.PeekMulti("ff"), args.PeekMulti("fo"), args.PeekMulti("fv")
	q := listQuery{typed: c.Query("filter"), sort: c.Query("sort"), cursor: c.Query("cursor"), viewID: c.Query("view")}
	for i := range ff {
		cd := condition{Field: string(ff[i])}
		if i < len(fo) {
			cd.Op = string(fo[i])
		}
		if i < len(fv) {
			cd.Value = string(fv[i])
		}
		q.conds = append(q.conds, cd)
	}
	if cols := c.Query("cols"); cols != "" {
		q.cols = strings.Split(cols, ",")
	}
	q.explict = len(ff) > 0 || q.typed != "" || q.sort != "" || q.cols != nil
	return q
}

// values writes the query back as a query string (without cursor).
func (q listQuery) values() url.Values {
	v := url.Values{}
	for _, cd := range q.conds {
		v.Add("ff", cd.Field)
		v.Add("fo", cd.Op)
		v.Add("fv", cd.Value)
	}
	if q.typed != "" {
		v.Set("filter", q.typed)
	}
	if q.sort != "" {
		v.Set("sort", q.sort)
	}
	if len(q.cols) > 0 {
		v.Set("cols", strings.Join(q.cols, ","))
	}
	if q.viewID != "" {
		v.Set("view", q.viewID)
	}
	return v
}

// listPage answers GET /ui/o/{object}: a page of the records the user may
// read (engine.List with the filter language), with columns, the filter
// builder, sorting, keyset paging and saved views.
func (u *UI) listPage(c *fiber.Ctx) error {
	object := c.Params("object")
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	q := parseListQuery(c)
	d := listData{Object: obj, Label: pluralTitle(obj, r.lang), CanNew: s.Can(metadata.ActionCreate) == nil, ViewID: q.viewID,
		CanUpdate: s.Can(metadata.ActionUpdate) == nil, CanDelete: s.Can(metadata.ActionDelete) == nil}
	if _, err := r.scope(object, metadata.ActionImport); err == nil && u.sales != nil {
		d.CanImport = d.CanNew
	}
	layout := u.layoutFor(r, obj)
	if d.Views, err = u.listViews(r.ctx, r.p, object); err != nil {
		return u.fail(c, err)
	}
	d.Views = append(templateViews(r.rights.Snapshot().Schema, object, r.p.Roles, r.lang), d.Views...)
	if q.viewID != "" && !q.explict {
		i := slices.IndexFunc(d.Views, func(v savedView) bool { return v.ID == q.viewID })
		if i < 0 {
			return u.fail(c, fmt.Errorf("%w: no view %s", engine.ErrNotFound, q.viewID))
		}
		v := d.Views[i]
		q.typed, q.sort, q.cols = v.Filter, v.Sort, v.Columns
	}
	d.Roles = roleNames(r.rights.Snapshot().Schema)
	d.Board = len(boardFields(s, r.lang)) > 0
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Kind().Temporal() && s.Readable(f.Name) {
			d.Calendar = true
		}
	}
	cols := visibleColumns(s, q.cols, layout.ListColumns)
	d.ColNames = strings.Join(cols, ",")
	d.Fields = fieldChoices(s, r.lang)
	d.Typed, d.Sort, d.Cursor = q.typed, q.sort, q.cursor
	for i, cd := range q.conds {
		d.Conditions = append(d.Conditions, u.conditionRow(r, s, i, cd))
	}
	if len(d.Conditions) == 0 {
		d.Conditions = append(d.Conditions, u.conditionRow(r, s, 0, condition{}))
	}
	base := q.values()
	base.Del("cursor")
	d.Query = template.URL(base.Encode())
	if _, err := r.scope(object, metadata.ActionExport); err == nil {
		ev := q.values()
		ev.Del("cursor")
		ev.Set("cols", strings.Join(cols, ","))
		d.Export = "/ui/o/" + object + "/export?" + ev.Encode()
	}
	if u.docs != nil {
		for _, doc := range u.docs.For(object, r.lang) {
			if doc.List {
				d.Labels = append(d.Labels, cell{Text: doc.Label, Href: "/ui/o/" + object + "/labels/" + doc.Name + ".pdf?" + string(d.Query)})
			}
		}
	}
	sortField, desc := strings.TrimPrefix(q.sort, "-"), strings.HasPrefix(q.sort, "-")
	for _, name := range cols {
		f, _ := fieldDef(obj, name)
		col := column{Name: name, Label: f.Title(r.lang), Sortable: metadata.Sortable(f)}
		next := name
		if sortField == name {
			col.Dir = map[bool]string{false: "asc", true: "desc"}[desc]
			if !desc {
				next = "-" + name
			}
		}
		sv := q.values()
		sv.Set("sort", next)
		col.SortHref = "/ui/o/" + object + "?" + sv.Encode()
		d.Columns = append(d.Columns, col)
	}
	status := fiber.StatusOK
	filter, err := buildFilter(s, q.conds, q.typed, r.loc)
	if err != nil {
		d.Error, status = tr(r.lang, "filter_refused", err.Error()), fiber.StatusBadRequest
	} else {
		d.Filter = filter
		res, err := u.eng.List(r.ctx, object, engine.ListOptions{Filter: filter, Sort: q.sort, Cursor: q.cursor, Limit: listPageSize, Total: true})
		if err != nil {
			if st, _, _ := api.Classify(err); st != fiber.StatusBadRequest {
				return u.fail(c, err)
			}
			d.Error, status = tr(r.lang, "filter_refused", cleanMessage(err.Error())), fiber.StatusBadRequest
		} else {
			if d.Rows, err = r.rows(s, cols, res.Items); err != nil {
				return u.fail(c, err)
			}
			if res.NextCursor != "" {
				nv := q.values()
				nv.Set("cursor", res.NextCursor)
				d.Next = "/ui/o/" + object + "?" + nv.Encode()
			}
			if res.Total != nil {
				d.Total, d.Capped = *res.Total, res.TotalCapped
			}
		}
	}
	p := u.newPage(c, d.Label)
	p.Section, p.Data = object, d
	return u.render(c, status, "list", p)
}

// rows shows records of the scope's object in a table of columns cols
// (lookups expanded as the principal), each row linking to its record.
func (r *rq) rows(s *engine.Scope, cols []string, recs []engine.Record) ([]listRow, error) {
	t, err := r.enrich(s, recs, cols)
	if err != nil {
		return nil, err
	}
	obj := s.Object()
	out := make([]listRow, 0, len(recs))
	for _, rec := range recs {
		id, _ := rec[idField].(string)
		row := listRow{ID: id, Href: "/ui/o/" + obj.Name + "/" + id}
		for _, name := range cols {
			row.Cells = append(row.Cells, r.display(obj, name, rec, t))
		}
		out = append(out, row)
	}
	return out, nil
}

// visibleColumns picks the list's columns: those asked for, else the
// layout's, keeping only fields the principal may read (hidden fields are
// never shown, whatever a saved view or a URL names).
func visibleColumns(s *engine.Scope, asked, layout []string) []string {
	src := asked
	if len(src) == 0 {
		src = layout
	}
	var out []string
	for _, name := range src {
		f, ok := fieldDef(s.Object(), name)
		if ok && s.Readable(name) && !slices.Contains(out, name) && metadata.FormInput(f).Kind != metadata.InputTextarea {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		for _, name := range defaultColumns(s.Object()) {
			if s.Readable(name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// fieldChoices lists the fields the principal may read, for the filter
// builder and the column chooser: the object's, then owner and times.
func fieldChoices(s *engine.Scope, lang string) []fieldChoice {
	var out []fieldChoice
	for _, f := range s.Object().Fields {
		if s.Readable(f.Name) && len(opsFor(f)) > 0 {
			out = append(out, fieldChoice{Name: f.Name, Label: f.Title(lang)})
		}
	}
	for _, name := range []string{metadata.OwnerField, "created_at", "updated_at"} {
		if f, ok := metadata.SystemField(name); ok && s.Readable(name) {
			out = append(out, fieldChoice{Name: name, Label: f.Title(lang)})
		}
	}
	return out
}

// conditionRow builds one row of the filter builder.
func (u *UI) conditionRow(r *rq, s *engine.Scope, i int, cd condition) conditionRow {
	row := conditionRow{Index: i, Field: cd.Field, Op: cd.Op, Value: cd.Value, Fields: fieldChoices(s, r.lang), Object: s.Object().Name, Lang: r.lang}
	f, ok := filterField(s, cd.Field)
	if !ok {
		return row
	}
	for _, op := range opsFor(f) {
		row.Ops = append(row.Ops, opChoice{Name: op.Name, Label: tr(r.lang, "op_"+op.Name)})
		if op.Name == cd.Op {
			row.Unary = op.Unary
		}
	}
	if cd.Op == "" && len(row.Ops) > 0 {
		row.Op = row.Ops[0].Name
	}
	in := metadata.FormInput(f)
	switch in.Kind {
	case metadata.InputSelect, metadata.InputMultiSelect:
		for _, o := range f.Options {
			row.Options = append(row.Options, optionView{Value: o.Value, Label: o.Label.Get(r.lang), Selected: o.Value == cd.Value})
		}
	case metadata.InputCheckbox:
		row.Options = []optionView{{Value: "true", Label: tr(r.lang, "yes"), Selected: cd.Value == "true"}, {Value: "false", Label: tr(r.lang, "no"), Selected: cd.Value == "false"}}
	}
	return row
}

// filterRow answers GET /ui/o/{object}/filter-row (htmx): one builder row
// for the field chosen, with its operators and value input.
func (u *UI) filterRow(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	i := c.QueryInt("i")
	cd := condition{Field: c.Query("ff"), Op: c.Query("fo"), Value: c.Query("fv")}
	return u.fragment(c, "list", "condition_row", u.conditionRow(r, s, i, cd))
}

// roleNames lists the roles of a schema.
func roleNames(sc *metadata.Schema) []string {
	out := make([]string, 0, len(sc.Roles))
	for _, r := range sc.Roles {
		out = append(out, r.Name)
	}
	return out
}

// stamp writes a date and time for an export: in the user's time zone, to
// the second (what the page shows to the minute), so that importing the
// file back keeps it.
func (r *rq) stamp(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(r.loc).Format(time.DateTime)
}

// maxExportRows is the most records a list's CSV export holds.
const maxExportRows = 50000

// exportList answers GET /ui/o/{object}/export?…: the list as the user
// sees it (filter, sort, columns; shown values) as a CSV file in UTF-8
// with a byte order mark, for users holding the export right; at most
// maxExportRows records.
func (u *UI) exportList(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionExport)
	if err != nil {
		return u.fail(c, err)
	}
	obj := s.Object()
	q := parseListQuery(c)
	filter, err := buildFilter(s, q.conds, q.typed, r.loc)
	if err != nil {
		return u.fail(c, &engine.RequestError{Message: err.Error()})
	}
	cols := visibleColumns(s, q.cols, u.layoutFor(r, obj).ListColumns)
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	header := make([]string, len(cols))
	numeric := make([]bool, len(cols))
	stamp := make([]bool, len(cols)) // a date and time, written to the second
	for i, name := range cols {
		f, _ := fieldDef(obj, name)
		header[i] = f.Title(r.lang)
		numeric[i] = metadata.TypeOf(f).Kind().Numeric()
		stamp[i] = metadata.FormInput(f).Kind == metadata.InputDateTime
	}
	if err := w.Write(header); err != nil {
		return u.fail(c, err)
	}
	opt := engine.ListOptions{Filter: filter, Sort: q.sort, Limit: engine.MaxLimit}
	for n := 0; n < maxExportRows; {
		res, err := u.eng.List(r.ctx, obj.Name, opt)
		if err != nil {
			return u.fail(c, err)
		}
		rows, err := r.rows(s, cols, res.Items)
		if err != nil {
			return u.fail(c, err)
		}
		for j, row := range rows {
			rec := make([]string, len(row.Cells))
			for i, cl := range row.Cells {
				rec[i] = cl.Text
				if stamp[i] {
					rec[i] = r.stamp(res.Items[j][cols[i]])
				} else if !numeric[i] {
					rec[i] = csvcell.Text(cl.Text) // a value stays text, never a formula
				}
			}
			if err := w.Write(rec); err != nil {
				return u.fail(c, err)
			}
		}
		n += len(rows)
		if res.NextCursor == "" {
			break
		}
		opt.Cursor = res.NextCursor
	}
	w.Flush()
	return sendFile(c, &File{Name: pluralTitle(obj, r.lang) + ".csv", Type: "text/csv; charset=utf-8", Data: buf.Bytes()})
}
