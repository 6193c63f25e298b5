package api

import (
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// openapi answers GET /api/openapi.json: an OpenAPI 3 document generated
// from the current metadata, showing only the objects and fields the
// principal may read.
func (s *Server) openapi(c *fiber.Ctx) error {
	p := principal(c)
	snap := s.eng.Snapshot()
	d, err := s.eng.Guard().Decide(c.UserContext(), snap.Schema)
	if err != nil {
		return err
	}
	schemas := fiber.Map{"Error": errorSchema()}
	paths := fiber.Map{}
	errRef := fiber.Map{"description": "error", "content": fiber.Map{"application/json": fiber.Map{"schema": fiber.Map{"$ref": "#/components/schemas/Error"}}}}
	for _, o := range snap.Schema.Objects {
		if d.CanObject(p, o.Name, metadata.ActionRead) != nil {
			continue
		}
		sch := metadata.RecordSchema(o, func(field string) bool { return d.FieldLevel(p, o.Name, field) != metadata.FieldHidden })
		var required []string
		for _, f := range o.Fields {
			if f.Required && !metadata.Computed(f) && d.FieldLevel(p, o.Name, f.Name) != metadata.FieldHidden {
				required = append(required, f.Name)
			}
		}
		if len(required) > 0 {
			sch["required"] = required
		}
		schemas[o.Name] = sch
		ref := fiber.Map{"$ref": "#/components/schemas/" + o.Name}
		one := fiber.Map{"description": o.Title("en"), "content": fiber.Map{"application/json": fiber.Map{"schema": ref}}}
		body := fiber.Map{"required": true, "content": fiber.Map{"application/json": fiber.Map{"schema": ref}}}
		idParam := fiber.Map{"name": "id", "in": "path", "required": true, "schema": fiber.Map{"type": "string"}}
		list := fiber.Map{"description": "a page of records", "content": fiber.Map{"application/json": fiber.Map{"schema": fiber.Map{
			"type": "object", "properties": fiber.Map{"items": fiber.Map{"type": "array", "items": ref}, "next_cursor": fiber.Map{"type": "string"}, "total": fiber.Map{"type": "integer"}, "total_capped": fiber.Map{"type": "boolean"}},
		}}}}
		q := func(name, desc string, typ string) fiber.Map {
			return fiber.Map{"name": name, "in": "query", "description": desc, "schema": fiber.Map{"type": typ}}
		}
		paths["/api/records/"+o.Name] = fiber.Map{
			"get": fiber.Map{"summary": "List " + o.Title("en"), "operationId": "list_" + o.Name, "parameters": []fiber.Map{
				q("filter", "boolean expression over the fields", "string"), q("sort", "fields, comma-separated, - for descending", "string"),
				q("limit", "page size, 1 to 500", "integer"), q("cursor", "next_cursor of the previous page", "string"), q("total", "also count the matches: true (up to 1,000), false or exact", "string"),
				q("expand", "lookups to expand under _expand, comma-separated", "string"),
			}, "responses": fiber.Map{"200": list, "400": errRef, "403": errRef}},
			"post": fiber.Map{"summary": "Create " + o.Title("en"), "operationId": "create_" + o.Name, "requestBody": body, "responses": fiber.Map{"201": one, "400": errRef, "403": errRef, "422": errRef}},
		}
		paths["/api/records/"+o.Name+"/{id}"] = fiber.Map{
			"parameters": []fiber.Map{idParam},
			"get":        fiber.Map{"operationId": "get_" + o.Name, "parameters": []fiber.Map{q("expand", "lookups to expand under _expand, comma-separated", "string")}, "responses": fiber.Map{"200": one, "404": errRef}},
			"patch":      fiber.Map{"operationId": "update_" + o.Name, "description": "send the version you read; a stale version answers 409", "requestBody": body, "responses": fiber.Map{"200": one, "404": errRef, "409": errRef, "422": errRef}},
			"delete":     fiber.Map{"operationId": "delete_" + o.Name, "responses": fiber.Map{"204": fiber.Map{"description": "deleted"}, "404": errRef, "409": errRef}},
		}
	}
	return c.JSON(fiber.Map{
		"openapi":    "3.1.0",
		"info":       fiber.Map{"title": "CRM API", "version": versionString(snap)},
		"paths":      paths,
		"components": fiber.Map{"schemas": schemas, "securitySchemes": fiber.Map{"bearer": fiber.Map{"type": "http", "scheme": "bearer"}}},
		"security":   []fiber.Map{{"bearer": []string{}}},
	})
}

// versionString names the metadata version in the document.
func versionString(s *engine.Snapshot) string {
	return "metadata-" + strconv.FormatInt(s.Version, 10)
}

// errorSchema describes ErrorBody.
func errorSchema() fiber.Map {
	return fiber.Map{"type": "object", "properties": fiber.Map{"error": fiber.Map{"type": "object", "properties": fiber.Map{
		"code": fiber.Map{"type": "string"}, "message": fiber.Map{"type": "string"},
		"details": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}},
	}}}}
}
