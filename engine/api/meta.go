package api

import (
	"encoding/json"
	"fmt"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// metaRoutes registers /api/meta.
func (s *Server) metaRoutes(r fiber.Router) {
	r.Get("/objects", s.listObjects)
	r.Get("/objects/:name", s.getObject)
	r.Get("/versions", s.listVersions)
	r.Get("/field-types", s.fieldTypes)
	r.Post("/objects", s.requireAdminister, s.createObject)
	r.Put("/objects/:name", s.requireAdminister, s.replaceObject)
	r.Delete("/objects/:name", s.requireAdminister, s.deleteObject)
	r.Post("/objects/:name/fields", s.requireAdminister, s.addField)
	r.Put("/objects/:name/fields/:field", s.requireAdminister, s.replaceField)
	r.Delete("/objects/:name/fields/:field", s.requireAdminister, s.deleteField)
	s.kindRoutes(r)
}

// current returns the newest metadata snapshot, loading a version another
// server applied if there is one (one indexed query: the metadata routes
// are not a hot path).
func (s *Server) current(c *fiber.Ctx) (*engine.Snapshot, error) {
	if _, err := s.eng.Reload(c.UserContext()); err != nil {
		return nil, err
	}
	return s.eng.Snapshot(), nil
}

// listObjects returns the object definitions: every one, whole, to an
// administrator; to anyone else the objects they may read, with only the
// fields they may see and their access to each (engine.ObjectView).
func (s *Server) listObjects(c *fiber.Ctx) error {
	snap, err := s.current(c)
	if err != nil {
		return err
	}
	if admin, err := s.isAdmin(c); err != nil {
		return err
	} else if admin {
		return c.JSON(fiber.Map{"version": snap.Version, "items": snap.Schema.Objects})
	}
	rights, err := s.eng.Rights(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	items := []*engine.ObjectView{}
	for _, o := range rights.Snapshot().Schema.Objects {
		if sc, err := rights.ScopeFor(o.Name, metadata.ActionRead); err == nil {
			items = append(items, sc.Describe())
		}
	}
	return c.JSON(fiber.Map{"version": rights.Snapshot().Version, "items": items})
}

// getObject returns one object definition, as listObjects shows it; an
// object the user may not read is not found.
func (s *Server) getObject(c *fiber.Ctx) error {
	snap, err := s.current(c)
	if err != nil {
		return err
	}
	o, err := snap.Object(c.Params("name"))
	if err != nil {
		return err
	}
	if admin, err := s.isAdmin(c); err != nil {
		return err
	} else if admin {
		return c.JSON(o)
	}
	rights, err := s.eng.Rights(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	sc, err := rights.ScopeFor(o.Name, metadata.ActionRead)
	if err != nil {
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no object " + o.Name}
	}
	return c.JSON(sc.Describe())
}

// listVersions returns the applied metadata versions, newest first.
func (s *Server) listVersions(c *fiber.Ctx) error {
	vs, err := s.eng.DB().ListVersions(c.UserContext(), s.eng.DB().SQL(), 100)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": vs})
}

// fieldTypes lists the registered field types.
func (s *Server) fieldTypes(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"items": metadata.FieldTypeNames()})
}

// parseObject reads an object definition from the body through the same
// JSON Schema as template files.
func parseObject(c *fiber.Ctx) (*metadata.Object, error) {
	k, _ := metadata.LookupKind(metadata.DocObject)
	d, err := parseDocument(c.Body(), k)
	if err != nil {
		return nil, err
	}
	return d.Value.(*metadata.Object), nil
}

// parseField reads a field definition from the body by wrapping it in an
// object document, so it passes the same schema.
func parseField(c *fiber.Ctx) (*metadata.Field, error) {
	if !json.Valid(c.Body()) {
		return nil, badRequest("malformed_body", "the body is not valid JSON")
	}
	doc := []byte(`{"name":"x","fields":[` + string(c.Body()) + `]}`)
	o, ps := metadata.ParseObject("request body", doc)
	if len(ps) > 0 {
		for i := range ps {
			ps[i].Path = trimFieldPrefix(ps[i].Path)
		}
		return nil, ps
	}
	if len(o.Fields) != 1 {
		return nil, badRequest("malformed_body", "send one field definition")
	}
	return o.Fields[0], nil
}

// trimFieldPrefix turns /fields/0/x into /x.
func trimFieldPrefix(p string) string {
	const prefix = "/fields/0"
	if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
		return p[len(prefix):]
	}
	return p
}

// change applies an edit of the newest metadata version (engine.Change:
// under the metadata lock of every server, so concurrent independent edits
// all apply) and answers with the new version and the plan; ?dry_run=true
// only plans, ?force=true allows changes that lose data.
func (s *Server) change(c *fiber.Ctx, status int, comment string, edit func(*metadata.Schema) error) error {
	dry := c.QueryBool("dry_run")
	plan, version, err := s.eng.Change(c.UserContext(), edit, engine.ApplyOptions{
		Author: principal(c).Username, Comment: comment, Force: c.QueryBool("force"), DryRun: dry,
	})
	if err != nil {
		return err
	}
	if dry {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"version": version, "dry_run": dry, "changes": plan.Changes, "sql": plan.SQL()})
}

// createObject adds an object.
func (s *Server) createObject(c *fiber.Ctx) error {
	o, err := parseObject(c)
	if err != nil {
		return err
	}
	return s.change(c, fiber.StatusCreated, "create object "+o.Name, func(sc *metadata.Schema) error {
		if _, ok := sc.Object(o.Name); ok {
			return &apiError{status: fiber.StatusConflict, code: "conflict", message: fmt.Sprintf("object %q exists; use PUT to change it", o.Name)}
		}
		sc.Objects = append(sc.Objects, o)
		return nil
	})
}

// replaceObject replaces an object's definition.
func (s *Server) replaceObject(c *fiber.Ctx) error {
	o, err := parseObject(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	if err := sameName("objects", o.Name, name); err != nil {
		return err
	}
	return s.change(c, fiber.StatusOK, "update object "+name, func(sc *metadata.Schema) error {
		for i, cur := range sc.Objects {
			if cur.Name == name {
				sc.Objects[i] = o
				return nil
			}
		}
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no object " + name}
	})
}

// deleteObject removes an object (its table is archived).
func (s *Server) deleteObject(c *fiber.Ctx) error {
	name := c.Params("name")
	return s.change(c, fiber.StatusOK, "delete object "+name, func(sc *metadata.Schema) error {
		for i, cur := range sc.Objects {
			if cur.Name == name {
				sc.Objects = append(sc.Objects[:i], sc.Objects[i+1:]...)
				return nil
			}
		}
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no object " + name}
	})
}

// sameName refuses a replacement whose body names another definition than
// the path: definitions of kind (objects, fields, roles) are not renamed.
func sameName(kind, body, path string) error {
	if body == path {
		return nil
	}
	return badRequest("bad_request", fmt.Sprintf("the body defines %q but the path names %q; %s cannot be renamed (remove and add instead)", body, path, kind),
		Detail{Path: "/name", Message: "must be " + path})
}

// editObject finds an object in a schema being edited.
func editObject(sc *metadata.Schema, name string) (*metadata.Object, error) {
	o, ok := sc.Object(name)
	if !ok {
		return nil, &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no object " + name}
	}
	return o, nil
}

// addField adds a field to an object.
func (s *Server) addField(c *fiber.Ctx) error {
	f, err := parseField(c)
	if err != nil {
		return err
	}
	name := c.Params("name")
	return s.change(c, fiber.StatusCreated, "add field "+name+"."+f.Name, func(sc *metadata.Schema) error {
		o, err := editObject(sc, name)
		if err != nil {
			return err
		}
		if _, ok := o.Field(f.Name); ok {
			return &apiError{status: fiber.StatusConflict, code: "conflict", message: fmt.Sprintf("%s already has a field %q; use PUT to change it", name, f.Name)}
		}
		o.Fields = append(o.Fields, f)
		return nil
	})
}

// replaceField changes a field's definition.
func (s *Server) replaceField(c *fiber.Ctx) error {
	f, err := parseField(c)
	if err != nil {
		return err
	}
	name, field := c.Params("name"), c.Params("field")
	if err := sameName("fields", f.Name, field); err != nil {
		return err
	}
	return s.change(c, fiber.StatusOK, "update field "+name+"."+field, func(sc *metadata.Schema) error {
		o, err := editObject(sc, name)
		if err != nil {
			return err
		}
		for i, cur := range o.Fields {
			if cur.Name == field {
				o.Fields[i] = f
				return nil
			}
		}
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: fmt.Sprintf("%s has no field %q", name, field)}
	})
}

// deleteField removes a field (its column is archived).
func (s *Server) deleteField(c *fiber.Ctx) error {
	name, field := c.Params("name"), c.Params("field")
	return s.change(c, fiber.StatusOK, "delete field "+name+"."+field, func(sc *metadata.Schema) error {
		o, err := editObject(sc, name)
		if err != nil {
			return err
		}
		for i, cur := range o.Fields {
			if cur.Name == field {
				o.Fields = append(o.Fields[:i], o.Fields[i+1:]...)
				return nil
			}
		}
		return &apiError{status: fiber.StatusNotFound, code: "not_found", message: fmt.Sprintf("%s has no field %q", name, field)}
	})
}
