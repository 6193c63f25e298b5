package api

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/gofiber/fiber/v2"
)

// openapi answers GET /api/openapi.json: an OpenAPI 3.1 document generated
// from the current metadata, showing only what the principal may do: the
// objects and fields they may read, and on each object the operations
// their rights allow (create and batch with create, update and
// mass_update with update, delete and mass_delete with delete, each
// action with its right), besides signing in and out and the reports.
func (s *Server) openapi(c *fiber.Ctx) error {
	p := principal(c)
	snap := s.eng.Snapshot()
	d, err := s.eng.Guard().Decide(c.UserContext(), snap.Schema)
	if err != nil {
		return err
	}
	doc := apiDoc{paths: fiber.Map{}, schemas: fiber.Map{"Error": errorSchema(), "Page": pageSchema()}, routes: s.routes}
	doc.common()
	for _, o := range snap.Schema.Objects {
		if d.CanObject(p, o.Name, metadata.ActionRead) != nil {
			continue
		}
		doc.object(o, s.eng.ActionsOf(o.Name), objectRights{d: d, p: p, object: o.Name})
	}
	return c.JSON(fiber.Map{
		"openapi":    "3.1.0",
		"info":       fiber.Map{"title": "CRM API", "version": versionString(snap)},
		"paths":      doc.paths,
		"components": fiber.Map{"schemas": doc.schemas, "securitySchemes": fiber.Map{"bearer": fiber.Map{"type": "http", "scheme": "bearer"}}},
		"security":   []fiber.Map{{"bearer": []string{}}},
	})
}

// objectRights answers whether the principal holds rights on one object.
type objectRights struct {
	d      engine.Decision
	p      *access.Principal
	object string
}

// can reports whether the principal holds right on the object.
func (r objectRights) can(right string) bool { return r.d.CanObject(r.p, r.object, right) == nil }

// apiDoc is an OpenAPI document being built: its paths and its component
// schemas.
type apiDoc struct {
	paths   fiber.Map
	schemas fiber.Map
	// routes are the server's routes ("GET /api/reports/:name/run"): the
	// operations of parts a server may be built without (the reports) are
	// documented where it has them.
	routes map[string]bool
}

// operation is one OpenAPI operation.
type operation struct {
	id, summary string
	params      []fiber.Map
	body        any // the request body's schema, nil for none
	// status and answer are the success: its status and its JSON schema
	// (nil for an answer without a body).
	status string
	answer any
	errors []int
	public bool // needs no token
}

// add adds op as method of path.
func (d apiDoc) add(path, method string, op operation) {
	item, _ := d.paths[path].(fiber.Map)
	if item == nil {
		item = fiber.Map{}
		d.paths[path] = item
	}
	ok := fiber.Map{"description": op.summary}
	if op.answer != nil {
		ok["content"] = jsonContent(op.answer)
	}
	responses := fiber.Map{op.status: ok}
	for _, status := range op.errors {
		responses[strconv.Itoa(status)] = fiber.Map{"description": "error", "content": jsonContent(ref("Error"))}
	}
	o := fiber.Map{"operationId": op.id, "summary": op.summary, "responses": responses}
	if len(op.params) > 0 {
		o["parameters"] = op.params
	}
	if op.body != nil {
		o["requestBody"] = fiber.Map{"required": true, "content": jsonContent(op.body)}
	}
	if op.public {
		o["security"] = []fiber.Map{}
	}
	item[method] = o
}

// addRouted adds op as method of path when the server routes it (path
// with {param} for the route's :param).
func (d apiDoc) addRouted(path, method string, op operation) {
	if d.routes[strings.ToUpper(method)+" "+pathParams.ReplaceAllString(path, ":$1")] {
		d.add(path, method, op)
	}
}

// common adds the operations every signed-in user has: signing in and
// out, the principal, and the reports.
func (d apiDoc) common() {
	d.add("/api/auth/login", "post", operation{id: "login", summary: "Sign in: a bearer token", public: true,
		body:   object(fiber.Map{"username": str(), "password": str()}, "username", "password"),
		status: "200", answer: object(fiber.Map{"token": str(), "user": fiber.Map{"type": "object"}}), errors: []int{400, 401, 422, 429}})
	d.add("/api/auth/logout", "post", operation{id: "logout", summary: "Revoke the token", status: "204", errors: []int{401}})
	d.add("/api/auth/me", "get", operation{id: "me", summary: "The signed-in principal", status: "200", answer: fiber.Map{"type": "object"}, errors: []int{401}})
	d.addRouted("/api/reports", "get", operation{id: "list_reports", summary: "The reports the caller may run", status: "200",
		answer: object(fiber.Map{"items": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}}}), errors: []int{401}})
	d.addRouted("/api/reports/{name}/run", "get", operation{id: "run_report", summary: "Run a report under the caller's rights; other query parameters are the report's",
		params: []fiber.Map{pathParam("name"), queryParam("format", "csv or xlsx to export (needs the export right)", "string")},
		status: "200", answer: object(fiber.Map{"report": str(), "label": str(), "kind": str(),
			"columns": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}}, "rows": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}}, "totals": fiber.Map{"type": "object"}}),
		errors: []int{400, 403, 404}})
	d.addRouted("/api/reports/{name}/drill", "get", operation{id: "drill_report", summary: "The records behind a report's group, as a list page",
		params: []fiber.Map{pathParam("name"), queryParam("group", "the group's path, one segment per dimension", "string"), queryParam("aggregate", "keep the records this aggregate counted", "string"),
			queryParam("limit", "page size, 1 to 500", "integer"), queryParam("cursor", "next_cursor of the previous page", "string"), queryParam("sort", "fields, comma-separated, - for descending", "string"), queryParam("total", "true (up to 1,000), false or exact", "string")},
		status: "200", answer: ref("Page"), errors: []int{400, 403, 404}})
}

// object adds the schema of o's records and the operations on them that
// rights allow, with actions among o's.
func (d apiDoc) object(o *metadata.Object, actions []engine.Action, rights objectRights) {
	name, title := o.Name, o.Title("en")
	sch := metadata.RecordSchema(o, func(field string) bool { return rights.d.FieldLevel(rights.p, name, field) != metadata.FieldHidden })
	props := sch["properties"].(map[string]any)
	var required []string
	for _, f := range o.Fields {
		switch level := rights.d.FieldLevel(rights.p, name, f.Name); {
		case level == metadata.FieldReadOnly:
			props[f.Name].(map[string]any)["readOnly"] = true
		case level != metadata.FieldHidden && f.Required && !metadata.Computed(f) && f.Default == nil && f.DefaultFormula == "":
			required = append(required, f.Name)
		}
	}
	if len(required) > 0 {
		sch["required"] = required
	}
	d.schemas[name] = sch
	rec := ref(name)
	page := fiber.Map{"allOf": []fiber.Map{ref("Page"), object(fiber.Map{"items": fiber.Map{"type": "array", "items": rec}})}}
	base, one := "/api/records/"+name, "/api/records/"+name+"/{id}"
	ids := fiber.Map{"type": "array", "items": str(), "minItems": 1, "maxItems": engine.MaxBatch}
	d.add(base, "get", operation{id: "list_" + name, summary: "List " + title, status: "200", answer: page, errors: []int{400, 403},
		params: []fiber.Map{queryParam("filter", "boolean expression over the fields", "string"), queryParam("sort", "fields, comma-separated, - for descending", "string"),
			queryParam("limit", "page size, 1 to 500", "integer"), queryParam("cursor", "next_cursor of the previous page", "string"),
			queryParam("total", "also count the matches: true (up to 1,000), false or exact", "string"), queryParam("expand", "lookups to expand under _expand, comma-separated", "string")}})
	d.add(base+"/query", "post", operation{id: "query_" + name, summary: "List " + title + " with the query as a body", status: "200", answer: page, errors: []int{400, 403},
		body: object(fiber.Map{"filter": str(), "sort": str(), "limit": fiber.Map{"type": "integer"}, "cursor": str(),
			"total": fiber.Map{"type": []string{"boolean", "string"}}, "expand": fiber.Map{"type": "array", "items": str()}})})
	d.add(one, "get", operation{id: "get_" + name, summary: "Get a " + title, params: []fiber.Map{pathParam("id"), queryParam("expand", "lookups to expand under _expand, comma-separated", "string")},
		status: "200", answer: rec, errors: []int{404}})
	d.add(one+"/history", "get", operation{id: "history_" + name, summary: "Changes of the " + title + "'s tracked fields", params: []fiber.Map{pathParam("id")},
		status: "200", answer: object(fiber.Map{"items": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}}}), errors: []int{404}})
	if rights.can(metadata.ActionCreate) {
		d.add(base, "post", operation{id: "create_" + name, summary: "Create a " + title, body: rec, status: "201", answer: rec, errors: []int{400, 403, 409, 422}})
		d.add(base+"/batch", "post", operation{id: "batch_" + name, summary: "Create up to 1,000 " + title + " records, all or none",
			body:   object(fiber.Map{"records": fiber.Map{"type": "array", "items": rec, "minItems": 1, "maxItems": engine.MaxBatch}}, "records"),
			status: "201", answer: object(fiber.Map{"items": fiber.Map{"type": "array", "items": rec}}), errors: []int{400, 403, 409, 422}})
	}
	if rights.can(metadata.ActionUpdate) {
		d.add(one, "patch", operation{id: "update_" + name, summary: "Update a " + title + ": send the version you read; a stale version answers 409",
			params: []fiber.Map{pathParam("id")}, body: rec, status: "200", answer: rec, errors: []int{400, 403, 404, 409, 422}})
		d.add(base+"/mass_update", "post", operation{id: "mass_update_" + name, summary: "Set the same values on up to 1,000 " + title + " records, all or none",
			body:   object(fiber.Map{"ids": ids, "set": fiber.Map{"type": "object"}}, "ids", "set"),
			status: "200", answer: object(fiber.Map{"updated": fiber.Map{"type": "integer"}}), errors: []int{400, 403, 404, 409, 422}})
	}
	if rights.can(metadata.ActionDelete) {
		d.add(one, "delete", operation{id: "delete_" + name, summary: "Delete a " + title, params: []fiber.Map{pathParam("id")}, status: "204", errors: []int{403, 404, 409}})
		d.add(base+"/mass_delete", "post", operation{id: "mass_delete_" + name, summary: "Delete up to 1,000 " + title + " records, all or none",
			body: object(fiber.Map{"ids": ids}, "ids"), status: "200", answer: object(fiber.Map{"deleted": fiber.Map{"type": "integer"}}), errors: []int{400, 403, 404, 409}})
	}
	for _, a := range actions {
		if !rights.can(a.RightOf()) {
			continue
		}
		d.add(one+"/actions/"+a.Name, "post", operation{id: a.Name + "_" + name, summary: "Run the " + a.Name + " action on a " + title + " (docs/api.md gives its body and answer)",
			params: []fiber.Map{pathParam("id")}, body: fiber.Map{"type": "object"}, status: "200", answer: fiber.Map{"type": "object"}, errors: []int{400, 403, 404, 409, 422}})
	}
}

// pathParams finds the {param} of an OpenAPI path.
var pathParams = regexp.MustCompile(`\{(\w+)\}`)

// jsonContent is a JSON media type of schema.
func jsonContent(schema any) fiber.Map {
	return fiber.Map{"application/json": fiber.Map{"schema": schema}}
}

// ref refers to the component schema name.
func ref(name string) fiber.Map { return fiber.Map{"$ref": "#/components/schemas/" + name} }

// str is the schema of a string.
func str() fiber.Map { return fiber.Map{"type": "string"} }

// object is the schema of an object with properties, of which required
// are.
func object(properties fiber.Map, required ...string) fiber.Map {
	m := fiber.Map{"type": "object", "properties": properties}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

// queryParam is a query parameter.
func queryParam(name, desc, typ string) fiber.Map {
	return fiber.Map{"name": name, "in": "query", "description": desc, "schema": fiber.Map{"type": typ}}
}

// pathParam is a path parameter.
func pathParam(name string) fiber.Map {
	return fiber.Map{"name": name, "in": "path", "required": true, "schema": str()}
}

// versionString names the metadata version in the document.
func versionString(s *engine.Snapshot) string {
	return "metadata-" + strconv.FormatInt(s.Version, 10)
}

// errorSchema describes ErrorBody.
func errorSchema() fiber.Map {
	return object(fiber.Map{"error": object(fiber.Map{
		"code": str(), "message": str(),
		"details": fiber.Map{"type": "array", "items": fiber.Map{"type": "object"}},
	}, "code", "message")}, "error")
}

// pageSchema describes a list page (its items typed per object).
func pageSchema() fiber.Map {
	return object(fiber.Map{"items": fiber.Map{"type": "array"}, "next_cursor": str(), "total": fiber.Map{"type": "integer"}, "total_capped": fiber.Map{"type": "boolean"}}, "items")
}
