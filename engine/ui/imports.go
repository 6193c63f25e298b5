package ui

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// maxImportFile is the largest CSV file the import page takes (larger
// ones go through crm import or POST /api/import/{object}).
const maxImportFile = 4 << 20

// sampleRows is how many rows the import page previews.
const sampleRows = 5

// importData is the content of the import page.
type importData struct {
	Object *metadata.Object
	Label  string
	// Data is the file, kept in the page between the steps (base64).
	Data    string
	Key     string
	Keys    []fieldChoice
	Fields  []fieldChoice
	Columns []importColumn
	Rows    [][]string
	// Checked is the dry run of the file as mapped; Result the import.
	Checked *ImportResult
	Result  *ImportResult
	Error   string
	Max     int
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

// importFile answers POST /ui/import/{object}: step "preview" shows the
// columns with the fields they fill (to change), the first rows and a dry
// run's report; step "import" imports the file as mapped and shows what
// was created, updated and skipped, with the lines refused and why.
func (u *UI) importFile(c *fiber.Ctx) error {
	r, d, err := u.importScope(c)
	if err != nil {
		return u.fail(c, err)
	}
	data, err := uploaded(c)
	if err != nil {
		return u.fail(c, err)
	}
	object := d.Object.Name
	d.Data, d.Key = base64.StdEncoding.EncodeToString(data), c.FormValue("key")
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
	opt := ImportOptions{Mapping: mapping, Key: d.Key, DryRun: c.FormValue("step") != "import"}
	res, err := u.sales.Import(r.ctx, object, data, opt)
	status := fiber.StatusOK
	switch {
	case err == nil && opt.DryRun:
		d.Checked = res
	case err == nil:
		d.Result = res
	default:
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

// uploaded returns the file of an import form: the one uploaded, else the
// one the preview kept in the page.
func uploaded(c *fiber.Ctx) ([]byte, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxImportFile {
			return nil, fileError(fmt.Sprintf("the file is larger than %d MiB: import it with crm import or the API", maxImportFile>>20))
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxImportFile))
	}
	kept := c.FormValue("data")
	if kept == "" {
		return nil, fileError("choose a CSV file")
	}
	data, err := base64.StdEncoding.DecodeString(kept)
	if err != nil || len(data) > maxImportFile {
		return nil, fileError("the file kept by the page is damaged: upload it again")
	}
	return data, nil
}

// fileError is a 400 naming the file input.
func fileError(msg string) error {
	return &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: "file", Code: "invalid", Message: msg}}}
}
