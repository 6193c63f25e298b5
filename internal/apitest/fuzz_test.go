package apitest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// FuzzRecordBody sends arbitrary bodies as a sales rep to the record
// routes of the standard template (create, update, batch create) on
// SQLite: every answer must be JSON and none a server error, and a record
// the server says it created must be readable by its creator.
func FuzzRecordBody(f *testing.F) {
	s := apitest.New(f, storetest.SQLite(f), apitest.Options{})
	account := s.Create("rep1", "account", `{"name": "Fuzz Ltd", "industry": "retail"}`)
	token := s.Token("rep1")
	for _, seed := range []string{
		`{"name": "Acme", "industry": "retail"}`, `{"name": "A", "industry": "nope"}`, `{"name": 1}`, `{"name": null}`,
		`{"name": "Deal", "account": "` + account + `", "stage": "qualify", "amount": "12.50", "close_date": "2026-12-01"}`,
		`{"name": "Deal", "account": "` + account + `", "amount": 1e400}`, `{"amount": "1.005", "version": 1}`,
		`{"person": "Li Lei", "company": "X", "status": "new", "email": "li@example.com"}`, `{"email": "not-an-email"}`,
		`{"subject": "Call", "kind": "call", "starts_at": "2026-11-30T08:00:00+08:00", "account": "` + account + `"}`,
		`{"tags": ["a", "a"], "competitors": ["` + account + `", 1]}`, `{"id": "x", "owner_id": "y", "created_at": 1}`,
		`{"records": [{"name": "B1"}, {"name": "B1"}]}`, `{"records": []}`, `{"a": {"b": [1, {"c": "\u0000"}]}}`,
		`{"name": "x", "name": "y"}`, `[]`, `null`, `"x"`, `{`, `{"name": "` + string(bytes.Repeat([]byte("长"), 200)) + `"}`,
	} {
		for route := range uint8(6) {
			f.Add(route, seed)
		}
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/records/account"}, {"POST", "/api/records/opportunity"}, {"POST", "/api/records/lead"},
		{"POST", "/api/records/activity"}, {"PATCH", "/api/records/account/" + account}, {"POST", "/api/records/account/batch"},
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		status, raw := send(t, s, r.method, r.path, token, body)
		if status >= 500 {
			t.Fatalf("%s %s %s: %d %s", r.method, r.path, body, status, raw)
		}
		var answer map[string]any
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("%s %s %s: %d, the answer is not a JSON object: %s", r.method, r.path, body, status, raw)
		}
		if status != 201 || r.method != "POST" || answer["id"] == nil {
			return
		}
		path := r.path + "/" + answer["id"].(string)
		if status, raw := send(t, s, "GET", path, token, ""); status != 200 {
			t.Fatalf("created %s but reading it answers %d %s", path, status, raw)
		}
	})
}

// send makes one request with a bearer token and returns the status and
// body (the fuzz function may not use s.Do, whose helpers belong to the
// fuzz target).
func send(t *testing.T, s *apitest.Server, method, path, token, body string) (int, []byte) {
	req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.App.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}
