package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/gofiber/fiber/v2"
)

// recordRoutes registers /api/records.
func (s *Server) recordRoutes(r fiber.Router) {
	r.Get("/:object", s.listRecords)
	r.Post("/:object", s.createRecord)
	r.Post("/:object/query", s.queryRecords)
	r.Post("/:object/batch", s.createBatch)
	r.Post("/:object/mass_update", s.massUpdate)
	r.Post("/:object/mass_delete", s.massDelete)
	r.Get("/:object/:id", s.getRecord)
	r.Patch("/:object/:id", s.updateRecord)
	r.Put("/:object/:id", s.updateRecord)
	r.Delete("/:object/:id", s.deleteRecord)
	r.Get("/:object/:id/history", s.history)
	r.Get("/:object/:id/files/:field", s.download)
	r.Post("/:object/:id/actions/:action", s.action)
}

// listRecords answers GET /api/records/{object}?filter&sort&limit&cursor&total&expand.
func (s *Server) listRecords(c *fiber.Ctx) error {
	q := listQuery{Filter: c.Query("filter"), Sort: c.Query("sort"), Cursor: c.Query("cursor"), Expand: expandParam(c)}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return badRequest("bad_query", "limit must be a positive whole number", Detail{Field: "limit", Message: "not a positive whole number: " + l})
		}
		q.Limit = n
	}
	if err := q.Total.parse(c.Query("total")); err != nil {
		return err
	}
	return s.list(c, q)
}

// listQuery is a list request: the query parameters of GET
// /api/records/{object}, or the body of POST /api/records/{object}/query
// for filters too long for a URL.
type listQuery struct {
	Filter string    `json:"filter,omitempty"`
	Sort   string    `json:"sort,omitempty"`
	Limit  int       `json:"limit,omitempty"`
	Cursor string    `json:"cursor,omitempty"`
	Total  totalMode `json:"total,omitempty"`
	Expand []string  `json:"expand,omitempty"`
}

// totalMode is the total a list asks for, as the total query parameter
// gives it (engine.ListOptions.SetTotal).
type totalMode string

// parse reads the total query parameter.
func (m *totalMode) parse(v string) error {
	if !new(engine.ListOptions).SetTotal(v) {
		return badRequest("bad_query", "total must be true, false or exact", Detail{Field: "total", Message: "not true, false or exact: " + v})
	}
	*m = totalMode(v)
	return nil
}

// UnmarshalJSON reads true, false or "exact".
func (m *totalMode) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "false", `"exact"`:
		return m.parse(strings.Trim(string(b), `"`))
	}
	return badRequest("bad_query", "total must be true, false or \"exact\"", Detail{Field: "total", Message: "not true, false or \"exact\": " + string(b)})
}

// queryRecords answers POST /api/records/{object}/query: a list whose
// query comes as a JSON body, with the answer of GET.
func (s *Server) queryRecords(c *fiber.Ctx) error {
	var q listQuery
	if len(c.Body()) > 0 {
		if err := decodeStrict(c, &q); err != nil {
			return err
		}
	}
	if q.Limit < 0 {
		return badRequest("bad_query", "limit must be a positive whole number", Detail{Field: "limit", Message: "must be positive"})
	}
	return s.list(c, q)
}

// list runs a list request and answers with its page.
func (s *Server) list(c *fiber.Ctx, q listQuery) error {
	opt := engine.ListOptions{Filter: q.Filter, Sort: q.Sort, Cursor: q.Cursor, Limit: q.Limit}
	opt.SetTotal(string(q.Total))
	res, err := s.eng.List(c.UserContext(), c.Params("object"), opt)
	if err != nil {
		return err
	}
	if res.Items == nil {
		res.Items = []engine.Record{}
	}
	if err := s.eng.Expand(c.UserContext(), c.Params("object"), res.Items, q.Expand); err != nil {
		return err
	}
	return c.JSON(res)
}

// expandParam reads ?expand=account,contact.
func expandParam(c *fiber.Ctx) []string {
	var out []string
	for _, f := range strings.Split(c.Query("expand"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// createRecord answers POST /api/records/{object}.
func (s *Server) createRecord(c *fiber.Ctx) error {
	data, err := decodeRecord(c)
	if err != nil {
		return err
	}
	rec, err := s.eng.Create(c.UserContext(), c.Params("object"), data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(rec)
}

// createBatch answers POST /api/records/{object}/batch: {"records": [{…},
// …]} creates up to engine.MaxBatch records, all or none, each with the
// checks of a single create, and answers 201 {"items": [{…}, …]} in order.
func (s *Server) createBatch(c *fiber.Ctx) error {
	var b struct {
		Records []map[string]any `json:"records"`
	}
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return badRequest("malformed_body", "send {\"records\": [{…}, …]} with at least one record", Detail{Field: "records", Message: "required: a list of records"})
	}
	for i, r := range b.Records {
		if r == nil {
			return badRequest("malformed_body", "every record must be a JSON object", Detail{Path: fmt.Sprintf("/records/%d", i), Message: "not an object"})
		}
	}
	recs, err := s.eng.CreateMany(c.UserContext(), c.Params("object"), b.Records)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"items": recs})
}

// massUpdate answers POST /api/records/{object}/mass_update: {"ids": […],
// "set": {…}} sets the same values on every record, all or none
// (Engine.UpdateMany), answering {"updated": n}.
func (s *Server) massUpdate(c *fiber.Ctx) error {
	var b struct {
		IDs []string       `json:"ids"`
		Set map[string]any `json:"set"`
	}
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	n, err := s.eng.UpdateMany(c.UserContext(), c.Params("object"), b.IDs, b.Set)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"updated": n})
}

// massDelete answers POST /api/records/{object}/mass_delete: {"ids": […]}
// deletes every record, all or none (Engine.DeleteMany), answering
// {"deleted": n}.
func (s *Server) massDelete(c *fiber.Ctx) error {
	var b struct {
		IDs []string `json:"ids"`
	}
	if err := decodeStrict(c, &b); err != nil {
		return err
	}
	n, err := s.eng.DeleteMany(c.UserContext(), c.Params("object"), b.IDs)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deleted": n})
}

// getRecord answers GET /api/records/{object}/{id}.
func (s *Server) getRecord(c *fiber.Ctx) error {
	rec, err := s.eng.Get(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.eng.Expand(c.UserContext(), c.Params("object"), []engine.Record{rec}, expandParam(c)); err != nil {
		return err
	}
	return c.JSON(rec)
}

// updateRecord answers PATCH (and PUT) /api/records/{object}/{id}.
func (s *Server) updateRecord(c *fiber.Ctx) error {
	data, err := decodeRecord(c)
	if err != nil {
		return err
	}
	rec, err := s.eng.Update(c.UserContext(), c.Params("object"), c.Params("id"), data)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// deleteRecord answers DELETE /api/records/{object}/{id}.
func (s *Server) deleteRecord(c *fiber.Ctx) error {
	if err := s.eng.Delete(c.UserContext(), c.Params("object"), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// history answers GET /api/records/{object}/{id}/history.
func (s *Server) history(c *fiber.Ctx) error {
	h, err := s.eng.History(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": h})
}

// action answers POST /api/records/{object}/{id}/actions/{action}.
func (s *Server) action(c *fiber.Ctx) error {
	input := map[string]any{}
	if len(c.Body()) > 0 {
		var err error
		if input, err = decodeRecord(c); err != nil {
			return err
		}
	}
	out, err := s.eng.RunAction(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("action"), input)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// download answers GET /api/records/{object}/{id}/files/{field}.
func (s *Server) download(c *fiber.Ctx) error {
	f, err := s.eng.Download(c.UserContext(), c.Params("object"), c.Params("id"), c.Params("field"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, "attachment; filename=\""+sanitizeFilename(f.Name)+"\"")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(f.Data)
}

// sanitizeFilename keeps a file name safe inside a header.
func sanitizeFilename(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 32 || r == '"' || r == '\\' || r == '/' {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}
