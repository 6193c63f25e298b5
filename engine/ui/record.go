package ui

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// recordRoutes mounts the pages of records.
func (u *UI) recordRoutes(g fiber.Router) {
	g.Get("/o/:object", u.listPage)
	g.Get("/o/:object/filter-row", u.filterRow)
	g.Get("/o/:object/new", u.newForm)
	g.Get("/o/:object/export", u.exportList)
	g.Get("/o/:object/labels/:file", u.printLabels)
	g.Post("/o/:object/mass", u.mass)
	g.Post("/o/:object", u.create)
	g.Get("/o/:object/:id", u.detailPage)
	g.Get("/o/:object/:id/edit", u.editForm)
	g.Post("/o/:object/:id", u.update)
	g.Post("/o/:object/:id/delete", u.remove)
	g.Post("/o/:object/:id/actions/:action", u.runAction)
	g.Post("/o/:object/:id/state", u.changeState)
	g.Get("/o/:object/:id/convert", u.convertPage)
	g.Post("/o/:object/:id/convert", u.convert)
	g.Get("/o/:object/:id/files/:field", u.download)
	g.Get("/o/:object/:id/print/:file", u.printDocument)
	g.Post("/o/:object/:id/print/:template/attach", u.attachDocument)
	g.Get("/o/:object/:id/shares", u.sharesPage)
	g.Post("/o/:object/:id/shares", u.share)
	g.Post("/o/:object/:id/shares/:user/delete", u.unshare)
	g.Get("/lookup/:object/:field", u.lookupOptions)
	g.Get("/cascade/:object/:field", u.cascadeOptions)
	g.Get("/board/:object", u.boardPage)
	g.Post("/board/:object/:id", u.moveCard)
	g.Get("/calendar/:object", u.calendarPage)
	g.Post("/views/:object", u.saveView)
	g.Post("/views/:object/:id/delete", u.deleteView)
	if u.mail != nil {
		g.Get("/o/:object/:id/"+u.mail.Action(), u.mailingPage)
		g.Post("/o/:object/:id/"+u.mail.Action(), u.mailing)
	}
}

// lookupChoices is how many records a lookup input offers at once.
const lookupChoices = 20

// formField is one input of a generated form.
type formField struct {
	Name, ID, Label, Help string
	Kind                  metadata.InputKind
	Required              bool
	// Disabled marks a field the user may read but not change.
	Disabled bool
	// Computed marks a field the system fills (formula, auto number).
	Computed  bool
	Value     string
	Values    []string
	Options   []optionView
	Step      string
	Min, Max  string
	MaxLength int
	Scale     int
	Target    string
	Multiple  bool
	// DependsOn is the name of the field controlling a cascade.
	DependsOn string
	Display   cell
	Error     string
	Accept    string
	Object    string
	HasValue  bool
}

// optionView is one choice of a select.
type optionView struct {
	Value, Label string
	Selected     bool
}

// formSection is a titled group of inputs.
type formSection struct {
	Label  string
	Fields []formField
}

// formData is the content of a create or edit form.
type formData struct {
	Object    *metadata.Object
	Label     string
	ID        string
	Version   string
	Sections  []formSection
	Errors    []string
	Conflict  bool
	Action    string
	Cancel    string
	Multipart bool
	New       bool
	// Duplicates are the records the new one duplicates (those the user
	// may read link to them); AllowDuplicate offers to create it anyway
	// (the rule only warns).
	Duplicates     []cell
	AllowDuplicate bool
}

// buildForm lays out the inputs of the fields the principal may see (the
// engine's Describe: hidden fields are absent), with vals as their values
// and errs next to them; rec is the stored record when editing.
func (r *rq) buildForm(s *engine.Scope, vals formValues, errs map[string]string, rec engine.Record) (*formData, error) {
	obj := s.Object()
	view := s.Describe()
	byName := map[string]engine.FieldView{}
	for _, fv := range view.Fields {
		byName[fv.Name] = fv
	}
	d := &formData{Object: obj, Label: obj.Title(r.lang), New: rec == nil}
	var t titles
	if rec != nil {
		var err error
		if t, err = r.enrich(s, []engine.Record{rec}, fieldNames(view)); err != nil {
			return nil, err
		}
	}
	for _, sec := range r.u.layoutFor(r, obj).Sections {
		fs := formSection{Label: sec.Label.Get(r.lang)}
		for _, name := range sec.Fields {
			fv, ok := byName[name]
			if !ok {
				continue // hidden from this user: absent
			}
			ff, err := r.formField(obj, fv, vals, errs[name], rec, t)
			if err != nil {
				return nil, err
			}
			if ff.Computed && rec == nil {
				continue // computed after save
			}
			if ff.Kind == metadata.InputFile {
				d.Multipart = true
			}
			fs.Fields = append(fs.Fields, ff)
		}
		if len(fs.Fields) > 0 {
			d.Sections = append(d.Sections, fs)
		}
	}
	return d, nil
}

// fieldNames lists the names of a view's fields.
func fieldNames(v *engine.ObjectView) []string {
	out := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		out[i] = f.Name
	}
	return out
}

// formField builds the input of one field from its form input
// (metadata.FormInput) and the user's access to it.
func (r *rq) formField(obj *metadata.Object, fv engine.FieldView, vals formValues, errMsg string, rec engine.Record, t titles) (formField, error) {
	f := fv.Field
	in := metadata.FormInput(f)
	ff := formField{Name: f.Name, ID: "f_" + f.Name, Label: f.Title(r.lang), Help: f.Help.Get(r.lang), Kind: in.Kind,
		Required: f.Required && !metadata.Computed(f) && (rec != nil || f.DefaultFormula == ""), Disabled: fv.Access != engine.AccessEdit, Computed: in.ReadOnly,
		Value: vals.first(f.Name), Values: vals[f.Name], Step: in.Step, MaxLength: in.MaxLength, Target: in.Target,
		Multiple: in.Multiple, DependsOn: f.DependsOn, Error: errMsg, Object: obj.Name}
	if in.Scale != nil {
		ff.Scale = *in.Scale
	}
	if f.Min != nil {
		ff.Min = strconv.FormatFloat(*f.Min, 'f', -1, 64)
	}
	if f.Max != nil {
		ff.Max = strconv.FormatFloat(*f.Max, 'f', -1, 64)
	}
	for i, a := range in.Accept {
		if i > 0 {
			ff.Accept += ","
		}
		ff.Accept += a
	}
	if rec != nil {
		ff.Display = r.display(obj, f.Name, rec, t)
		ff.HasValue = rec[f.Name] != nil
	}
	switch in.Kind {
	case metadata.InputSelect, metadata.InputMultiSelect:
		opts := in.Options
		if f.DependsOn != "" {
			if ctrl, ok := obj.Field(f.DependsOn); ok {
				opts = f.OptionsFor(controlValue(ctrl, vals[f.DependsOn], r.loc))
			}
		}
		ff.Options = optionViews(opts, ff.Values, r.lang)
	case metadata.InputLookup:
		opts, err := r.lookupChoices(in.Target, ff.Values, "")
		if err != nil {
			return ff, err
		}
		ff.Options = opts
	}
	return ff, nil
}

// optionViews turns options into choices in lang, marking the selected.
func optionViews(opts []metadata.Option, selected []string, lang string) []optionView {
	out := make([]optionView, 0, len(opts))
	for _, o := range opts {
		l := o.Label.Get(lang)
		if l == "" {
			l = o.Value
		}
		out = append(out, optionView{Value: o.Value, Label: l, Selected: slices.Contains(selected, o.Value)})
	}
	return out
}

// lookupChoices lists what a lookup input offers: the records selected
// (named as far as the principal may read them), then up to lookupChoices
// records of target the principal may read whose title contains search.
func (r *rq) lookupChoices(target string, selected []string, search string) ([]optionView, error) {
	s, err := r.scope(target, metadata.ActionRead)
	if errors.Is(err, engine.ErrForbidden) {
		var out []optionView
		for _, id := range selected {
			out = append(out, optionView{Value: id, Label: id, Selected: true})
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	names, err := r.recordTitles(target, selected)
	if err != nil {
		return nil, err
	}
	var out []optionView
	for _, id := range uniq(selected) {
		n, ok := names[id]
		if !ok {
			n = tr(r.lang, "no_access_record")
		}
		out = append(out, optionView{Value: id, Label: n, Selected: true})
	}
	opt := engine.ListOptions{Limit: lookupChoices}
	if tf := s.Object().NamingField(); tf != nil && s.Readable(tf.Name) {
		opt.Sort = tf.Name
		if search != "" {
			opt.Filter = tf.Name + " contains " + strconv.Quote(search)
		}
	}
	res, err := r.u.eng.List(r.ctx, target, opt)
	if err != nil {
		return nil, err
	}
	for _, rec := range res.Items {
		id, _ := rec[idField].(string)
		if !slices.Contains(selected, id) {
			out = append(out, optionView{Value: id, Label: titleOf(s.Object(), rec)})
		}
	}
	return out, nil
}

// newForm answers GET /ui/o/{object}/new: the create form, with defaults
// and any values given in the query (a related list's "new").
func (u *UI) newForm(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionCreate)
	if err != nil {
		return u.fail(c, err)
	}
	vals := formValues{}
	for _, f := range s.Object().Fields {
		if f.Default != nil {
			vals[f.Name] = toForm(f, f.Default, r.loc)
		}
		if q := c.Query(f.Name); q != "" && s.Editable(f.Name) {
			vals[f.Name] = []string{q}
		}
	}
	return u.showForm(c, r, s, vals, nil, nil, fiber.StatusOK)
}

// showForm renders the form of s with vals and problems.
func (u *UI) showForm(c *fiber.Ctx, r *rq, s *engine.Scope, vals formValues, verr error, rec engine.Record, status int) error {
	errs := map[string]string{}
	var general []string
	conflict := false
	if verr != nil {
		conflict = errors.Is(verr, engine.ErrConflict)
		general = fieldErrors(verr, s, errs, r.lang)
	}
	d, err := r.buildForm(s, vals, errs, rec)
	if err != nil {
		return u.fail(c, err)
	}
	d.Errors, d.Conflict = general, conflict
	if dup, ok := errorsAs[*engine.DuplicateError](verr); ok {
		d.Conflict, d.Errors, d.AllowDuplicate = false, []string{tr(r.lang, "duplicate_found")}, dup.Allowed && u.sales != nil
		for _, m := range dup.Matches {
			cl := cell{Text: tr(r.lang, "record_hidden")}
			if m.ID != "" {
				cl = cell{Text: m.ID, Href: "/ui/o/" + dup.Object + "/" + m.ID}
				for _, v := range m.Title {
					cl.Text = fmt.Sprint(v)
				}
			}
			d.Duplicates = append(d.Duplicates, cl)
		}
	}
	obj := s.Object().Name
	d.Action, d.Cancel = "/ui/o/"+obj, "/ui/o/"+obj
	title := tr(r.lang, "new_record", d.Label)
	if rec != nil {
		d.ID, _ = rec[idField].(string)
		d.Version = vals.first("version")
		if d.Version == "" {
			d.Version = scalarString(rec["version"])
		}
		d.Action, d.Cancel = "/ui/o/"+obj+"/"+d.ID, "/ui/o/"+obj+"/"+d.ID
		title = tr(r.lang, "edit_record", titleOf(s.Object(), rec))
	}
	p := u.newPage(c, title)
	p.Section, p.Data = obj, d
	return u.render(c, status, "form", p)
}

// fieldErrors sorts the problems of a refused write: those of a field the
// form shows go next to it (errs), the others are returned for the top of
// the form.
func fieldErrors(err error, s *engine.Scope, errs map[string]string, lang string) []string {
	var general []string
	add := func(field, msg string) {
		if field != "" && s.Readable(field) {
			if _, shown := errs[field]; !shown {
				errs[field] = msg
				return
			}
			errs[field] += "; " + msg
			return
		}
		general = append(general, msg)
	}
	field := func(name string) *metadata.Field {
		if name == "" {
			return nil
		}
		f, _ := fieldDef(s.Object(), name)
		return f
	}
	if ve, ok := errorsAs[*engine.ValidationError](err); ok {
		for _, fe := range ve.Errors {
			add(fe.Field, fieldErrorText(lang, field(fe.Field), fe.Code, fe.Message))
		}
		return general
	}
	if errors.Is(err, engine.ErrConflict) {
		return []string{tr(lang, "conflict_explained")}
	}
	_, _, details := api.Classify(err)
	if len(details) > 0 {
		for _, d := range details {
			add(d.Field, fieldErrorText(lang, field(d.Field), d.Code, d.Message))
		}
		return general
	}
	st, code, _ := api.Classify(err)
	if st < 500 {
		return []string{pageMessage(lang, code, err.Error())}
	}
	return []string{cleanMessage(err.Error())}
}

// readForm reads the submitted values of the fields the principal may
// edit, uploading chosen files first; it returns the form values and the
// record data for the engine.
func (u *UI) readForm(c *fiber.Ctx, r *rq, s *engine.Scope) (formValues, map[string]any, error) {
	form := url.Values{}
	if mf, err := c.MultipartForm(); err == nil {
		for k, v := range mf.Value {
			form[k] = v
		}
	} else {
		c.Request().PostArgs().VisitAll(func(k, v []byte) { form.Add(string(k), string(v)) })
	}
	var editable []string
	for _, fv := range s.Describe().Fields {
		if fv.Access == engine.AccessEdit && !metadata.Computed(fv.Field) {
			editable = append(editable, fv.Name)
		}
	}
	vals := formOf(form, append(editable, "version"))
	data := map[string]any{}
	for _, name := range editable {
		f, _ := s.Object().Field(name)
		if metadata.IsFile(f) {
			ref, err := u.uploadPart(c, r, s.Object().Name, f)
			if err != nil {
				return vals, nil, err
			}
			if ref != nil {
				data[name] = *ref
			} else if form.Get(name+"__remove") == "true" {
				data[name] = nil
			}
			continue
		}
		v, err := fromForm(f, vals[name], r.loc)
		if err != nil {
			return vals, nil, &engine.ValidationError{Object: s.Object().Name, Errors: []engine.FieldError{{Field: name, Code: "invalid", Message: err.Error()}}}
		}
		data[name] = v
	}
	return vals, data, nil
}

// uploadPart stores the file chosen for field f, if any (engine.Upload
// checks the type and size).
func (u *UI) uploadPart(c *fiber.Ctx, r *rq, object string, f *metadata.Field) (*metadata.FileRef, error) {
	fh, err := c.FormFile(f.Name)
	if err != nil || fh.Size == 0 {
		return nil, nil
	}
	if msg := metadata.TextProblem(fh.Filename); msg != "" {
		return nil, &engine.ValidationError{Object: object, Errors: []engine.FieldError{{Field: f.Name, Code: "invalid", Message: "the file name " + msg}}}
	}
	fl, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	ref, err := u.eng.Upload(r.ctx, object, f.Name, fh.Filename, fl)
	if err != nil {
		if _, isVE := errorsAs[*engine.ValidationError](err); isVE {
			return nil, err
		}
		st, _, _ := api.Classify(err)
		if st == fiber.StatusUnprocessableEntity || st == fiber.StatusRequestEntityTooLarge || st == fiber.StatusBadRequest {
			return nil, &engine.ValidationError{Object: object, Errors: []engine.FieldError{{Field: f.Name, Code: "invalid", Message: cleanMessage(err.Error())}}}
		}
		return nil, err
	}
	return ref, nil
}

// create answers POST /ui/o/{object}: engine.Create with the form's
// values; problems are shown next to their fields.
func (u *UI) create(c *fiber.Ctx) error {
	object := c.Params("object")
	r, s, err := u.scoped(c, metadata.ActionCreate)
	if err != nil {
		return u.fail(c, err)
	}
	vals, data, err := u.readForm(c, r, s)
	if err == nil {
		for k, v := range data {
			if v == nil {
				delete(data, k)
			}
		}
		ctx := r.ctx
		if c.FormValue("allow_duplicate") == "true" && u.sales != nil {
			ctx = u.sales.AllowDuplicates(ctx)
		}
		var rec engine.Record
		if rec, err = u.eng.Create(ctx, object, data); err == nil {
			id, _ := rec[idField].(string)
			if _, readable := rec["version"]; !readable {
				return c.Redirect("/ui/o/"+object+"?flash=created_not_visible", fiber.StatusSeeOther)
			}
			return c.Redirect("/ui/o/"+object+"/"+id+"?flash=saved", fiber.StatusSeeOther)
		}
	}
	return u.formProblem(c, r, s, vals, err, nil)
}

// formProblem shows the form again after a refused write, or fails the
// page for an error that is not about the values.
func (u *UI) formProblem(c *fiber.Ctx, r *rq, s *engine.Scope, vals formValues, err error, rec engine.Record) error {
	status, _, _ := api.Classify(err)
	switch status {
	case fiber.StatusUnprocessableEntity, fiber.StatusBadRequest, fiber.StatusConflict, fiber.StatusForbidden, fiber.StatusRequestEntityTooLarge:
		if _, notFound := errorsAs[*access.FieldError](err); status != fiber.StatusForbidden || notFound {
			return u.showForm(c, r, s, vals, err, rec, status)
		}
	}
	return u.fail(c, err)
}

// editForm answers GET /ui/o/{object}/{id}/edit.
func (u *UI) editForm(c *fiber.Ctx) error {
	object, id := c.Params("object"), c.Params("id")
	r, s, err := u.scoped(c, metadata.ActionUpdate)
	if err != nil {
		return u.fail(c, err)
	}
	rec, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	vals := recordValues(s.Describe(), rec, r.loc)
	return u.showForm(c, r, s, vals, nil, rec, fiber.StatusOK)
}

// update answers POST /ui/o/{object}/{id}: engine.Update with the fields
// the user changed and the version the form was read at, so a record
// changed meanwhile is a conflict (409) explained on the form.
func (u *UI) update(c *fiber.Ctx) error {
	object, id := c.Params("object"), c.Params("id")
	r, s, err := u.scoped(c, metadata.ActionUpdate)
	if err != nil {
		return u.fail(c, err)
	}
	cur, err := u.eng.Get(r.ctx, object, id)
	if err != nil {
		return u.fail(c, err)
	}
	vals, data, err := u.readForm(c, r, s)
	if err == nil {
		old := recordValues(s.Describe(), cur, r.loc)
		for name := range data {
			f, _ := s.Object().Field(name)
			if !metadata.IsFile(f) && slices.Equal(normalized(old[name]), normalized(vals[name])) {
				delete(data, name) // unchanged: not sent
			}
		}
		v, perr := strconv.ParseInt(vals.first("version"), 10, 64)
		if perr != nil || v < 1 {
			return u.fail(c, &engine.RequestError{Message: tr(lang(c), "no_version_form")})
		}
		data["version"] = v
		if _, err = u.eng.Update(r.ctx, object, id, data); err == nil {
			return c.Redirect("/ui/o/"+object+"/"+id+"?flash=saved", fiber.StatusSeeOther)
		}
	}
	return u.formProblem(c, r, s, vals, err, cur)
}

// normalized drops empty strings from form values, for comparing them.
func normalized(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// remove answers POST /ui/o/{object}/{id}/delete.
func (u *UI) remove(c *fiber.Ctx) error {
	object, id := c.Params("object"), c.Params("id")
	if err := u.eng.Delete(c.UserContext(), object, id); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/o/"+object+"?flash=deleted", fiber.StatusSeeOther)
}

// download answers GET /ui/o/{object}/{id}/files/{field}.
func (u *UI) download(c *fiber.Ctx) error {
	f, err := u.eng.Download(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("field"))
	if err != nil {
		return u.fail(c, err)
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, "attachment; filename*=UTF-8''"+url.PathEscape(f.Name))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Send(f.Data)
}

// printDocument answers GET /ui/o/{object}/{id}/print/{template}.pdf (or
// .html): the record printed with a document template of its object as
// the user may read it (Config.Documents).
func (u *UI) printDocument(c *fiber.Ctx) error {
	return u.printed(c, func(r *rq, s *engine.Scope, name, format string) (*File, error) {
		return u.docs.Print(r.ctx, s.Object().Name, c.Params("id"), name, r.lang, format)
	})
}

// attachDocument answers POST /ui/o/{object}/{id}/print/{template}/attach
// (field): the record printed with the template as a PDF, kept in its
// file field (Documents.Attach: as the user, who may read the record and
// edit the field).
func (u *UI) attachDocument(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	if u.docs == nil {
		return u.fail(c, engine.ErrNotFound)
	}
	object, id := c.Params("object"), c.Params("id")
	if err := u.docs.Attach(r.ctx, object, id, c.Params("template"), c.FormValue("field"), r.lang); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect("/ui/o/"+object+"/"+id+"?flash=document_attached", fiber.StatusSeeOther)
}

// printLabels answers GET /ui/o/{object}/labels/{template}.pdf (or .html)
// with the list page's query: a label sheet of the object for the records
// of the list the user may read (Config.Documents).
func (u *UI) printLabels(c *fiber.Ctx) error {
	return u.printed(c, func(r *rq, s *engine.Scope, name, format string) (*File, error) {
		q := parseListQuery(c)
		filter, err := buildFilter(s, q.conds, q.typed, r.loc)
		if err != nil {
			return nil, &engine.RequestError{Message: err.Error()}
		}
		return u.docs.PrintList(r.ctx, s.Object().Name, name, filter, q.sort, r.lang, format)
	})
}

// printed answers the document print prints, given the user's read scope
// of the route's object and its {template}.{pdf|html}, shown in the
// browser: its viewer for the PDF, the printable page, whose own styles
// it allows, for the HTML.
func (u *UI) printed(c *fiber.Ctx, print func(r *rq, s *engine.Scope, name, format string) (*File, error)) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	name, format, _ := strings.Cut(c.Params("file"), ".")
	if u.docs == nil || (format != "pdf" && format != "html") {
		return u.fail(c, fmt.Errorf("%w: no document %s", engine.ErrNotFound, c.Params("file")))
	}
	f, err := print(r, s, name, format)
	if err != nil {
		return u.fail(c, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, f.Type)
	c.Set(fiber.HeaderContentDisposition, "inline; filename*=UTF-8''"+url.PathEscape(f.Name))
	if format == "html" {
		c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	} else {
		c.Response().Header.Del("Content-Security-Policy") // the browser's PDF viewer runs under the document's policy
	}
	return c.Send(f.Data)
}

// lookupOptions answers GET /ui/lookup/{object}/{field}?_q= (htmx): the
// choices of a lookup input whose title contains _q, limited to records
// the user may read; the ids still selected (sent as the field's values)
// stay first.
func (u *UI) lookupOptions(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	name := c.Params("field")
	f, ok := s.Object().Field(name)
	if !ok || !s.Readable(name) {
		return u.fail(c, fmt.Errorf("%w: no field %s", engine.ErrNotFound, name))
	}
	in := metadata.FormInput(f)
	if in.Kind != metadata.InputLookup {
		return u.fail(c, fmt.Errorf("%w: %s is not a lookup", engine.ErrNotFound, name))
	}
	var selected []string
	for _, v := range c.Context().QueryArgs().PeekMulti(name) {
		selected = append(selected, string(v))
	}
	opts, err := r.lookupChoices(in.Target, selected, c.Query("_q"))
	if err != nil {
		return u.fail(c, err)
	}
	return u.fragment(c, "form", "options", optionsData{Options: opts, Empty: !in.Multiple, Lang: r.lang})
}

// optionsData is the content of an options fragment.
type optionsData struct {
	Options []optionView
	// Empty adds the empty choice first.
	Empty bool
	Lang  string
}

// T returns a message in the fragment's language.
func (d optionsData) T(key string, args ...any) string { return tr(d.Lang, key, args...) }

// cascadeOptions answers GET /ui/cascade/{object}/{field} (htmx) with the
// options of a dependent picklist while its controlling field has the
// value sent (Field.OptionsFor, the rule the engine's record check
// applies), keeping the value chosen when it is still allowed.
func (u *UI) cascadeOptions(c *fiber.Ctx) error {
	r, s, err := u.scoped(c, metadata.ActionRead)
	if err != nil {
		return u.fail(c, err)
	}
	name := c.Params("field")
	f, ok := s.Object().Field(name)
	if !ok || !s.Readable(name) || f.DependsOn == "" {
		return u.fail(c, fmt.Errorf("%w: no dependent field %s", engine.ErrNotFound, name))
	}
	ctrl, _ := s.Object().Field(f.DependsOn)
	var ctrlVals, selected []string
	for _, v := range c.Context().QueryArgs().PeekMulti(ctrl.Name) {
		ctrlVals = append(ctrlVals, string(v))
	}
	for _, v := range c.Context().QueryArgs().PeekMulti(name) {
		selected = append(selected, string(v))
	}
	opts := optionViews(f.OptionsFor(controlValue(ctrl, ctrlVals, r.loc)), selected, r.lang)
	return u.fragment(c, "form", "options", optionsData{Options: opts, Empty: !metadata.FormInput(f).Multiple, Lang: r.lang})
}
