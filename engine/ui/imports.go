package ui

import (
	"fmt"
	"io"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// maxImportFile is the largest CSV file the import page takes: the
// API's (POST /api/import/{object} takes a body of api.MaxUploadBody, a
// file of metadata.MaxFileSize with room for its multipart headers).
const maxImportFile = metadata.MaxFileSize

// checkLines is how many lines of the file the preview's dry run checks.
const checkLines = 1000

// sampleRows is how many rows the import page previews.
const sampleRows = 5

// importData is the content of the import page.
type importData struct {
	Object *metadata.Object
	Label  string
	// Upload is the id of the file uploaded, kept between the steps.
	Upload  string
	Key     string
	Keys    []fieldChoice
	Fields  []fieldChoice
	Columns []importColumn
	Rows    [][]string
	// Checked is the dry run of the file as mapped (of its first
	// CheckLines lines when Partial).
	Checked    *ImportResult
	Partial    bool
	CheckLines int
	Error      string
	Max        int
}

// importColumn is a column of the file with the field it fills.
type importColumn struct {
	Index         int
	Header, Field string
}

// importRoutes mounts the import pages (when the sales part is wired).
func (u *UI) importRoutes(g fiber.Router) {
	if u.sales == nil {
		return
	}
	g.Get("/import/:object", u.importPage)
	g.Post("/import/:object", u.importFile)
	g.Get("/imports/:id", u.importStatus)
}

// importScope returns the request and the principal's import scope of the
// object of the path.
func (u *UI) importScope(c *fiber.Ctx) (*rq, *importData, error) {
	r, s, err := u.scoped(c, metadata.ActionImport)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Can(metadata.ActionCreate); err != nil {
		return nil, nil, err
	}
	obj := s.Object()
	d := &importData{Object: obj, Label: pluralTitle(obj, r.lang), Max: maxImportFile >> 20}
	for _, f := range obj.Fields {
		if s.Editable(f.Name) && !metadata.Computed(f) {
			fc := fieldChoice{Name: f.Name, Label: f.Title(r.lang)}
			d.Fields = append(d.Fields, fc)
			switch metadata.FormInput(f).Kind {
			case metadata.InputText, metadata.InputEmail, metadata.InputTel, metadata.InputURL:
				d.Keys = append(d.Keys, fc)
			}
		}
	}
	return r, d, nil
}

// importPage answers GET /ui/import/{object}: the file to upload.
func (u *UI) importPage(c *fiber.Ctx) error {
	r, d, err := u.importScope(c)
	if err != nil {
		return u.fail(c, err)
	}
	p := u.newPage(c, tr(r.lang, "import_title", d.Label))
	p.Section, p.Data = d.Object.Name, d
	return u.render(c, fiber.StatusOK, "import", p)
}

// importFile answers POST /ui/import/{object}: step "preview" keeps the
// file (crm_ui_uploads) and shows the columns with the fields they fill
// (to change), the first rows and a dry run's report on the first
// checkLines lines; step "import" queues the import of the file as mapped
// (the API's background import) and shows its progress.
func (u *UI) importFile(c *fiber.Ctx) error {
	r, d, err := u.importScope(c)
	if err != nil {
		return u.fail(c, err)
	}
	object := d.Object.Name
	data, err := u.uploaded(c, r, d)
	if err != nil {
		return u.fail(c, err)
	}
	d.Key = c.FormValue("key")
	sample, err := u.sales.ImportSample(r.ctx, object, data, nil, sampleRows)
	if err != nil {
		return u.fail(c, err)
	}
	mapping := map[string]string{}
	for i, h := range sample.Header {
		if v, ok := formValue(c, "m_"+strconv.Itoa(i)); ok {
			mapping[h] = v
		}
	}
	if len(mapping) > 0 {
		if sample, err = u.sales.ImportSample(r.ctx, object, data, mapping, sampleRows); err != nil {
			return u.fail(c, err)
		}
	}
	for i, h := range sample.Header {
		d.Columns = append(d.Columns, importColumn{Index: i, Header: h, Field: sample.Fields[i]})
	}
	d.Rows = sample.Rows
	opt := ImportOptions{Mapping: mapping, Key: d.Key, DryRun: true}
	var id string
	if c.FormValue("step") == "import" {
		opt.DryRun = false
		if id, err = u.sales.StartImport(r.ctx, object, data, opt); err == nil {
			if err := u.dropUpload(r.ctx, r.p, d.Upload); err != nil {
				return u.fail(c, err)
			}
			return c.Redirect("/ui/imports/"+id, fiber.StatusSeeOther)
		}
	} else {
		start := fileStart(data, checkLines)
		d.Partial, d.CheckLines = len(start) < len(data), checkLines
		d.Checked, err = u.sales.Import(r.ctx, object, start, opt)
	}
	status := fiber.StatusOK
	if err != nil {
		st, _, details := api.Classify(err)
		if st >= 500 || st == fiber.StatusNotFound {
			return u.fail(c, err)
		}
		d.Error, status = cleanMessage(err.Error()), st
		for _, dt := range details {
			d.Error += " " + dt.Message
		}
	}
	p := u.newPage(c, tr(r.lang, "import_title", d.Label))
	p.Section, p.Data = object, d
	return u.render(c, status, "import", p)
}

// importStatusData is the content of an import's page.
type importStatusData struct {
	ID    string
	Label string
	*ImportStatus
	Running bool
}

// importStatus answers GET /ui/imports/{id}: one of the user's imports,
// its progress while it runs (the page asks again every two seconds),
// then what was created, updated and skipped, with the lines refused.
func (u *UI) importStatus(c *fiber.Ctx) error {
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	st, err := u.sales.ImportStatus(r.ctx, c.Params("id"))
	if err != nil {
		return u.fail(c, err)
	}
	d := importStatusData{ID: c.Params("id"), Label: st.Object, ImportStatus: st, Running: st.State == "pending" || st.State == "running"}
	if o, ok := r.rights.Snapshot().Schema.Object(st.Object); ok {
		d.Label = pluralTitle(o, r.lang)
	}
	p := u.newPage(c, tr(r.lang, "import_title", d.Label))
	p.Section, p.Data = st.Object, d
	return u.render(c, fiber.StatusOK, "import_status", p)
}

// formValue returns a form value and whether the form has it.
func formValue(c *fiber.Ctx, key string) (string, bool) {
	if mf, err := c.MultipartForm(); err == nil {
		v, ok := mf.Value[key]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	args := c.Request().PostArgs()
	if !args.Has(key) {
		return "", false
	}
	return string(args.Peek(key)), true
}

// uploaded returns the file of an import form: the one uploaded (kept
// for the next step), else the one kept before (d.Upload names it).
func (u *UI) uploaded(c *fiber.Ctx, r *rq, d *importData) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxImportFile {
			return nil, fileError(fmt.Sprintf("the file is larger than %d MiB: import it with crm import", maxImportFile>>20))
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxImportFile))
		if err != nil {
			return nil, err
		}
		d.Upload, err = u.keepUpload(r.ctx, r.p, d.Object.Name, data)
		return data, err
	}
	if d.Upload = c.FormValue("upload"); d.Upload == "" {
		return nil, fileError("choose a CSV file")
	}
	return u.loadUpload(r.ctx, r.p, d.Object.Name, d.Upload)
}

// fileError is a 400 naming the file input.
func fileError(msg string) error {
	return &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: "file", Code: "invalid", Message: msg}}}
}
