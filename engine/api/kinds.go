package api

import (
	"encoding/json"
	"fmt"

	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// kindRoutes registers /api/meta/{kind} for every registered document kind
// other than objects and roles, which keep their own routes
// (/api/meta/objects, /api/roles). Reads are for administrators unless
// the kind is public; writes are for administrators, go through the same
// metadata change as objects (versions, serialised edits, ?dry_run=true,
// ?force=true) and answer the same shape.
func (s *Server) kindRoutes(r fiber.Router) {
	r.Get("/:kind", s.docKind(false), s.listDocs)
	r.Get("/:kind/:name", s.docKind(false), s.getDoc)
	r.Post("/:kind", s.docKind(true), s.createDoc)
	r.Put("/:kind/:name", s.docKind(true), s.replaceDoc)
	r.Delete("/:kind/:name", s.docKind(true), s.deleteDoc)
}

// kindLocal is the fiber local holding the request's document kind.
const kindLocal = "crm.doc_kind"

// docKind finds the kind of the path (404 for an unknown one, and for
// objects and roles, which have their own routes) and lets through only
// administrators, unless the request reads a public kind.
func (s *Server) docKind(write bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("kind")
		k, ok := metadata.LookupKind(name)
		if !ok || k.Builtin() {
			return &apiError{status: fiber.StatusNotFound, code: "not_found", message: fmt.Sprintf("no document kind %q (objects are at /api/meta/objects, roles at /api/roles)", name)}
		}
		if write || !k.Public() {
			admin, err := s.isAdmin(c)
			if err != nil {
				return err
			}
			if !admin {
				return &apiError{status: fiber.StatusForbidden, code: "forbidden", message: "only an administrator may " + map[bool]string{true: "change", false: "read"}[write] + " " + name}
			}
		}
		c.Locals(kindLocal, k)
		return c.Next()
	}
}

// kindOf returns the kind docKind found.
func kindOf(c *fiber.Ctx) *metadata.DocKind { return c.Locals(kindLocal).(*metadata.DocKind) }

// listDocs returns the documents of a kind, sorted by name.
func (s *Server) listDocs(c *fiber.Ctx) error {
	snap, err := s.current(c)
	if err != nil {
		return err
	}
	items := snap.Schema.Documents(kindOf(c).Name())
	if items == nil {
		items = []*metadata.Document{}
	}
	return c.JSON(fiber.Map{"version": snap.Version, "items": items})
}

// getDoc returns one document as it was written.
func (s *Server) getDoc(c *fiber.Ctx) error {
	snap, err := s.current(c)
	if err != nil {
		return err
	}
	k, name := kindOf(c), c.Params("name")
	d, ok := snap.Schema.Document(k.Name(), name)
	if !ok {
		return noDocument(k, name)
	}
	return c.JSON(d)
}

// noDocument is the 404 of a missing document.
func noDocument(k *metadata.DocKind, name string) error {
	return &apiError{status: fiber.StatusNotFound, code: "not_found", message: fmt.Sprintf("no %s document %q", k.Name(), name)}
}

// parseDocument reads a document of kind k from a request body through
// the same JSON Schema and decoding as template files.
func parseDocument(body []byte, k *metadata.DocKind) (*metadata.Document, error) {
	if len(body) > MaxJSONBody {
		return nil, &apiError{status: fiber.StatusRequestEntityTooLarge, code: "too_large", message: "the definition is too large"}
	}
	if !json.Valid(body) {
		return nil, badRequest("malformed_body", "the body is not valid JSON")
	}
	d, ps := k.Parse("request body", body)
	if len(ps) > 0 {
		return nil, ps
	}
	return d, nil
}

// createDoc adds a document.
func (s *Server) createDoc(c *fiber.Ctx) error {
	k := kindOf(c)
	d, err := parseDocument(c.Body(), k)
	if err != nil {
		return err
	}
	return s.change(c, fiber.StatusCreated, "create "+k.Name()+" "+d.Name, func(sc *metadata.Schema) error {
		if _, ok := sc.Document(k.Name(), d.Name); ok {
			return &apiError{status: fiber.StatusConflict, code: "conflict", message: fmt.Sprintf("%s document %q exists; use PUT to change it", k.Name(), d.Name)}
		}
		sc.PutDocument(k.Name(), d)
		return nil
	})
}

// replaceDoc replaces a document.
func (s *Server) replaceDoc(c *fiber.Ctx) error {
	k, name := kindOf(c), c.Params("name")
	d, err := parseDocument(c.Body(), k)
	if err != nil {
		return err
	}
	if err := sameName(k.Name(), d.Name, name); err != nil {
		return err
	}
	return s.change(c, fiber.StatusOK, "update "+k.Name()+" "+name, func(sc *metadata.Schema) error {
		if _, ok := sc.Document(k.Name(), name); !ok {
			return noDocument(k, name)
		}
		sc.PutDocument(k.Name(), d)
		return nil
	})
}

// deleteDoc removes a document.
func (s *Server) deleteDoc(c *fiber.Ctx) error {
	k, name := kindOf(c), c.Params("name")
	return s.change(c, fiber.StatusOK, "delete "+k.Name()+" "+name, func(sc *metadata.Schema) error {
		if !sc.RemoveDocument(k.Name(), name) {
			return noDocument(k, name)
		}
		return nil
	})
}
