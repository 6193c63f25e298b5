package api

import (
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// playbook is a document kind registered by this test as a package of its
// own would register one: administrators only, with checks against
// objects and fields and a compiler.
type playbook struct {
	Name   string         `json:"name"`
	Label  metadata.Label `json:"label,omitempty"`
	Object string         `json:"object"`
	Field  string         `json:"field"`
	Steps  []string       `json:"steps"`
}

// tip is a public document kind: every signed-in user may read it.
type tip struct {
	Name string         `json:"name"`
	Text metadata.Label `json:"text"`
}

var (
	playbooks metadata.Docs[playbook]
	tips      = metadata.RegisterKind(metadata.KindSpec[tip]{Name: "tips", Public: true, Schema: []byte(`{"type": "object", "required": ["name", "text"], "additionalProperties": false,
		"properties": {"name": {"$ref": "crm://metadata.schema.json#/$defs/identifier"}, "text": {"$ref": "crm://metadata.schema.json#/$defs/label"}}}`)})
)

func init() {
	playbooks = metadata.RegisterKind(metadata.KindSpec[playbook]{
		Name: "playbooks",
		Schema: []byte(`{"type": "object", "required": ["name", "object", "field", "steps"], "additionalProperties": false,
			"properties": {"name": {"$ref": "crm://metadata.schema.json#/$defs/identifier"}, "label": {"$ref": "crm://metadata.schema.json#/$defs/label"},
			"object": {"type": "string"}, "field": {"type": "string"}, "steps": {"type": "array", "minItems": 1, "items": {"type": "string"}}}}`),
		Check: func(s *metadata.Schema, p *playbook) metadata.Problems {
			o, ok := s.Object(p.Object)
			if !ok {
				return metadata.Problems{{Path: "/object", Message: "unknown object " + p.Object}}
			}
			if _, ok := o.Field(p.Field); !ok {
				return metadata.Problems{{Path: "/field", Message: "no field " + p.Field + " in " + o.Name}}
			}
			return nil
		},
		Compile: func(s *metadata.Schema) (any, metadata.Problems) {
			steps := map[string]int{}
			for _, p := range playbooks.All(s) {
				steps[p.Name] = len(p.Steps)
			}
			return steps, nil
		},
	})
}

// TestDocumentKindRoutes serves a registered kind under /api/meta/{kind}
// with versions, dry runs, checks and administrator-only writes.
func TestDocumentKindRoutes(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const call = `{"name": "first_call", "label": {"en": "First call", "zh": "首次电话"}, "object": "lead", "field": "status", "steps": ["greet", "qualify"]}`
		f.run(t, []scenario{
			{name: "empty list", method: "GET", path: "/api/meta/playbooks", user: "admin", status: 200, contains: []string{`"items":[]`, `"version":1`}},
			{name: "a rep may not read an administrators' kind", method: "GET", path: "/api/meta/playbooks", user: "rep1", status: 403, code: "forbidden"},
			{name: "a rep may not write", method: "POST", path: "/api/meta/playbooks", user: "rep1", body: call, status: 403, code: "forbidden"},
			{name: "signed in only", method: "GET", path: "/api/meta/playbooks", status: 401, code: "unauthenticated"},
			{name: "unknown kind", method: "GET", path: "/api/meta/gadgets", user: "admin", status: 404, code: "not_found"},
			{name: "roles keep their own routes", method: "POST", path: "/api/meta/roles", user: "admin", body: `{"name": "x"}`, status: 404, code: "not_found", contains: []string{"/api/roles"}},
			{name: "dry run", method: "POST", path: "/api/meta/playbooks?dry_run=true", user: "admin", body: call, status: 200, contains: []string{`"dry_run":true`, `"kind":"add_document"`, `"doc_kind":"playbooks"`, `"name":"first_call"`}},
			{name: "nothing stored by the dry run", method: "GET", path: "/api/meta/playbooks/first_call", user: "admin", status: 404, code: "not_found"},
			{name: "unknown key", method: "POST", path: "/api/meta/playbooks", user: "admin", body: `{"name": "x", "object": "lead", "field": "status", "steps": ["a"], "colour": "red"}`,
				status: 422, code: "invalid_metadata", contains: []string{"unknown key", "colour"}},
			{name: "schema of the kind", method: "POST", path: "/api/meta/playbooks", user: "admin", body: `{"name": "x", "object": "lead", "field": "status", "steps": []}`,
				status: 422, code: "invalid_metadata", contains: []string{`"path":"/steps"`}},
			{name: "reference to an unknown field", method: "POST", path: "/api/meta/playbooks", user: "admin", body: `{"name": "x", "object": "lead", "field": "mood", "steps": ["a"]}`,
				status: 422, code: "invalid_metadata", contains: []string{`"path":"/field"`, `"file":"playbooks/x"`, "no field mood in lead"}},
			{name: "reference to an unknown object, dry run", method: "POST", path: "/api/meta/playbooks?dry_run=true", user: "admin", body: `{"name": "x", "object": "deal", "field": "a", "steps": ["a"]}`,
				status: 422, code: "invalid_metadata", contains: []string{`"path":"/object"`}},
			{name: "create", method: "POST", path: "/api/meta/playbooks", user: "admin", body: call, status: 201, contains: []string{`"version":2`, `"add_document"`}},
			{name: "create again", method: "POST", path: "/api/meta/playbooks", user: "admin", body: call, status: 409, code: "conflict"},
			{name: "get", method: "GET", path: "/api/meta/playbooks/first_call", user: "admin", status: 200, contains: []string{`"zh":"首次电话"`, `"steps":["greet","qualify"]`}},
			{name: "list", method: "GET", path: "/api/meta/playbooks", user: "admin", status: 200, contains: []string{`"version":2`, `"name":"first_call"`}},
			{name: "rename refused", method: "PUT", path: "/api/meta/playbooks/first_call", user: "admin", body: `{"name": "other", "object": "lead", "field": "status", "steps": ["a"]}`, status: 400, code: "bad_request"},
			{name: "replace a missing one", method: "PUT", path: "/api/meta/playbooks/nothing", user: "admin", body: `{"name": "nothing", "object": "lead", "field": "status", "steps": ["a"]}`, status: 404, code: "not_found"},
			{name: "replace", method: "PUT", path: "/api/meta/playbooks/first_call", user: "admin", body: `{"name": "first_call", "object": "lead", "field": "status", "steps": ["greet", "qualify", "book"]}`,
				status: 200, contains: []string{`"version":3`, `"alter_document"`}},
			{name: "a field a document names cannot be removed", method: "DELETE", path: "/api/meta/objects/lead/fields/status", user: "admin", status: 422, code: "invalid_metadata", contains: []string{"playbooks/first_call", "no field status in lead"}},
			{name: "public kind: a rep may read", method: "GET", path: "/api/meta/tips", user: "rep1", status: 200, contains: []string{`"items":[]`}},
			{name: "public kind: a rep may not write", method: "POST", path: "/api/meta/tips", user: "rep1", body: `{"name": "hello", "text": "Hi"}`, status: 403, code: "forbidden"},
		})
		if got := f.eng.Snapshot().Compiled("playbooks"); got.(map[string]int)["first_call"] != 3 {
			t.Fatalf("the kind's compiled form in the snapshot: %v", got)
		}
		if p, ok := playbooks.Get(f.eng.Snapshot().Schema, "first_call"); !ok || len(p.Steps) != 3 {
			t.Fatalf("typed document: %+v", p)
		}
		if len(tips.All(f.eng.Snapshot().Schema)) != 0 {
			t.Fatal("a tip appeared")
		}
		f.run(t, []scenario{
			{name: "delete", method: "DELETE", path: "/api/meta/playbooks/first_call", user: "admin", status: 200, contains: []string{`"drop_document"`, `"version":4`}},
			{name: "deleted", method: "GET", path: "/api/meta/playbooks/first_call", user: "admin", status: 404, code: "not_found"},
			{name: "delete again", method: "DELETE", path: "/api/meta/playbooks/first_call", user: "admin", status: 404, code: "not_found"},
		})
	})
}
