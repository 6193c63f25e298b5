package sales

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/sales/imports"
	"github.com/gofiber/fiber/v2"
)

// importRoutes mounts POST /api/import/{object} and GET
// /api/imports/{id}.
func (s *Sales) importRoutes(r fiber.Router, srv *api.Server) {
	r.Post("/api/import/:object", srv.Authenticate, s.importFile)
	r.Get("/api/imports/:id", srv.Authenticate, s.importStatus)
}

// maxBatch bounds the rows per transaction an API import may ask for: a
// step of the import's job writes one batch, and must end well within
// the job's lease (a minute) on a slow database.
const maxBatch = 1000

// importFile answers POST /api/import/{object}: a multipart/form-data
// body with the CSV in "file" and optionally "mapping" (JSON {column:
// field}), "key" (a field identifying existing records), "dry_run"
// (true) and "batch" (rows per transaction). The file is checked (rights,
// header) and stored, and a job imports it: the answer is 202 with the
// import's status, which GET /api/imports/{id} follows.
func (s *Sales) importFile(c *fiber.Ctx) error {
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEMultipartForm {
		return fail(c, fiber.StatusUnsupportedMediaType, "unsupported_media_type", "send the file as multipart/form-data in a part named \"file\"")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return badField("file", "send the CSV file in a part named \"file\"")
	}
	opt := imports.Options{Object: c.Params("object"), Key: c.FormValue("key")}
	if m := c.FormValue("mapping"); m != "" {
		if err := json.Unmarshal([]byte(m), &opt.Mapping); err != nil {
			return badField("mapping", "mapping must be a JSON object of column: field")
		}
	}
	switch v := c.FormValue("dry_run"); v {
	case "", "false", "0":
	case "true", "1":
		opt.DryRun = true
	default:
		return badField("dry_run", "dry_run must be true or false")
	}
	if v := c.FormValue("batch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxBatch {
			return badField("batch", fmt.Sprintf("batch must be a number of rows from 1 to %d", maxBatch))
		}
		opt.Batch = n
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	p, _ := access.FromContext(c.UserContext())
	st, err := s.imports.Start(c.UserContext(), p, f, opt)
	if errors.Is(err, imports.ErrBadFile) {
		return badField("file", err.Error())
	}
	if err != nil {
		return err
	}
	c.Location("/api/imports/" + st.ID)
	return c.Status(fiber.StatusAccepted).JSON(st)
}

// importStatus answers GET /api/imports/{id}: the status of an import
// the caller started (404 for anyone else's).
func (s *Sales) importStatus(c *fiber.Ctx) error {
	p, _ := access.FromContext(c.UserContext())
	st, err := s.imports.Status(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// badField is a 400 naming a part of the request.
func badField(field, msg string) error {
	return &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: field, Code: "invalid", Message: msg}}}
}
