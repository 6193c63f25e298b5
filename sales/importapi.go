package sales

import (
	"encoding/json"
	"errors"
	"mime"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/sales/imports"
	"github.com/gofiber/fiber/v2"
)

// importRoutes mounts POST /api/import/{object}.
func (s *Sales) importRoutes(r fiber.Router, srv *api.Server) {
	r.Post("/api/import/:object", srv.Authenticate, s.importFile)
}

// importFile answers POST /api/import/{object}: a multipart/form-data
// body with the CSV in "file" and optionally "mapping" (JSON {column:
// field}), "key" (a field identifying existing records) and "dry_run"
// (true); the answer is {"created", "updated", "skipped", "errors"}.
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
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	p, _ := access.FromContext(c.UserContext())
	res, err := imports.Run(c.UserContext(), s.eng, p, f, opt)
	if errors.Is(err, imports.ErrBadFile) {
		return badField("file", err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// badField is a 400 naming a part of the request.
func badField(field, msg string) error {
	return &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: field, Code: "invalid", Message: msg}}}
}
