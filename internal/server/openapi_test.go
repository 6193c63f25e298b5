package server_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestMain removes the databases of the seeds the tests copy.
func TestMain(m *testing.M) { storetest.Main(m) }

// pathParam finds the {param} of an OpenAPI path.
var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// TestOpenAPIDocument reads the OpenAPI document of the whole server as
// each user and checks it against the server itself: every schema it
// holds compiles as JSON Schema 2020-12 with every reference resolved,
// operation ids are unique, path parameters are declared, every
// operation it documents is routed, and the operations it offers on an
// object are those the user's rights allow: a create it offers is not
// refused for rights and one it leaves out is, and so for delete; an
// object it leaves out cannot be listed.
func TestOpenAPIDocument(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		// An object of the admin's own, which no other role reaches.
		if status, m := s.Do("POST", "/api/meta/objects", "admin", `{"name": "machine", "label": {"en": "Machine", "zh": "机器"},
			"fields": [{"name": "name", "type": "text", "required": true}]}`); status != 201 {
			t.Fatalf("create object: %d %v", status, m)
		}
		for _, user := range []string{"admin", "manager", "rep1", "agent", "mkt"} {
			t.Run(user, func(t *testing.T) {
				status, raw := s.Raw("GET", "/api/openapi.json", user, "", nil, nil)
				if status != 200 {
					t.Fatalf("openapi.json: %d %s", status, raw)
				}
				var doc struct {
					Paths      map[string]map[string]json.RawMessage `json:"paths"`
					Components struct {
						Schemas map[string]json.RawMessage `json:"schemas"`
					} `json:"components"`
				}
				if err := json.Unmarshal(raw, &doc); err != nil {
					t.Fatal(err)
				}
				compiler := jsonschema.NewCompiler()
				compiler.Draft = jsonschema.Draft2020
				if err := compiler.AddResource("openapi.json", bytes.NewReader(raw)); err != nil {
					t.Fatal(err)
				}
				compile := func(pointer string) {
					t.Helper()
					if _, err := compiler.Compile("openapi.json#" + pointer); err != nil {
						t.Errorf("schema %s: %v", pointer, err)
					}
				}
				for name := range doc.Components.Schemas {
					compile("/components/schemas/" + name)
				}
				ids := map[string]string{}
				for path, item := range doc.Paths {
					for method, rawOp := range item {
						where := strings.ToUpper(method) + " " + path
						checkOperation(t, where, path, rawOp, ids, compile)
						checkRouted(t, s, user, method, path)
					}
				}
				checkRights(t, s, user, doc.Paths)
				// Actions follow their rights: converting leads is the sales
				// team's, not marketing's nor the service agent's.
				_, convert := doc.Paths["/api/records/lead/{id}/actions/convert"]["post"]
				if want := user != "agent" && user != "mkt"; convert != want {
					t.Errorf("lead conversion offered: %v, want %v", convert, want)
				}
			})
		}
	})
}

// checkOperation checks one operation of the document: a unique id, its
// path's parameters declared, its body's and answers' schemas compiled.
func checkOperation(t *testing.T, where, path string, raw json.RawMessage, ids map[string]string, compile func(string)) {
	t.Helper()
	var op struct {
		ID     string `json:"operationId"`
		Params []struct {
			Name, In string
		} `json:"parameters"`
		Body      *struct{ Content map[string]any } `json:"requestBody"`
		Responses map[string]struct{ Content map[string]any }
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if op.ID == "" || ids[op.ID] != "" {
		t.Errorf("%s: operation id %q is empty or also %s's", where, op.ID, ids[op.ID])
	}
	ids[op.ID] = where
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		if !slices.ContainsFunc(op.Params, func(p struct{ Name, In string }) bool { return p.Name == m[1] && p.In == "path" }) {
			t.Errorf("%s: path parameter %s is not declared", where, m[1])
		}
	}
	if len(op.Responses) == 0 {
		t.Errorf("%s: no responses", where)
	}
	pointer := "/paths/" + strings.ReplaceAll(path, "/", "~1") + "/" + strings.ToLower(where[:strings.IndexByte(where, ' ')])
	if op.Body != nil {
		compile(pointer + "/requestBody/content/application~1json/schema")
	}
	for status, r := range op.Responses {
		if r.Content != nil {
			compile(pointer + "/responses/" + status + "/content/application~1json/schema")
		}
	}
}

// checkRouted sends the operation method path to the server as user,
// with an id no record has, and checks that a route answered (an
// unrouted request is "no route"). Signing out is not sent: it would end
// the user's session.
func checkRouted(t *testing.T, s *apitest.Server, user, method, path string) {
	t.Helper()
	if path == "/api/auth/logout" {
		return
	}
	target := pathParam.ReplaceAllStringFunc(path, func(p string) string {
		if p == "{id}" {
			return uuid.NewString()
		}
		return "no_such_name"
	})
	body := "{}"
	if method == "get" {
		body = ""
	}
	status, answer := s.Do(strings.ToUpper(method), target, user, body)
	if status == 404 || status == 405 {
		if e, _ := answer["error"].(map[string]any); e == nil || strings.HasPrefix(e["message"].(string), "no route") {
			t.Errorf("%s %s is documented but not routed: %d %v", method, path, status, answer)
		}
	}
}

// checkRights checks the operations the document offers on each object
// against what the server lets the user do: each (a list, a create, an
// update …) is refused for rights (403, which the server answers before
// looking for a record) exactly when the document leaves it out.
func checkRights(t *testing.T, s *apitest.Server, user string, paths map[string]map[string]json.RawMessage) {
	t.Helper()
	status, objects := s.Do("GET", "/api/meta/objects", "admin", "")
	if status != 200 {
		t.Fatalf("objects: %d", status)
	}
	for _, o := range objects["items"].([]any) {
		name := o.(map[string]any)["name"].(string)
		field := o.(map[string]any)["fields"].([]any)[0].(map[string]any)["name"].(string)
		base := "/api/records/" + name
		id := uuid.NewString()
		for _, op := range []struct{ method, path, documented, body string }{
			{"GET", base + "?limit=1", "get " + base, ""},
			{"POST", base, "post " + base, "{}"},
			{"PATCH", base + "/" + id, "patch " + base + "/{id}", `{"version": 1}`},
			{"DELETE", base + "/" + id, "delete " + base + "/{id}", ""},
			{"POST", base + "/batch", "post " + base + "/batch", `{"records": [{}]}`},
			{"POST", base + "/mass_update", "post " + base + "/mass_update", `{"ids": ["` + id + `"], "set": {"` + field + `": null}}`},
			{"POST", base + "/mass_delete", "post " + base + "/mass_delete", `{"ids": ["` + id + `"]}`},
		} {
			method, path, _ := strings.Cut(op.documented, " ")
			_, offered := paths[path][method]
			status, answer := s.Do(op.method, op.path, user, op.body)
			if refused := status == 403; refused == offered {
				t.Errorf("%s %s: the document offers it: %v, the server answers %d %v", op.method, op.path, offered, status, answer)
			}
		}
	}
}
