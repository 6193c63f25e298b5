package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestFormulasThroughAPI defines a computed field, a validation rule and a
// formula reading the owner through the metadata API, then writes records.
func TestFormulasThroughAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	steps := []struct{ path, body string }{
		{"/api/meta/objects/opportunity/fields", `{"name": "weighted", "type": "currency", "formula": "amount * option(stage).probability / 100"}`},
		{"/api/meta/objects/opportunity/fields", `{"name": "owner_name", "type": "text", "formula": "owner.name"}`},
		{"/api/meta/objects/opportunity/fields", `{"name": "owner_email", "type": "text", "formula": "owner.email"}`},
	}
	for _, s := range steps {
		if status, m := f.do("POST", s.path, "admin", s.body); status != 201 {
			t.Fatalf("%s: %d %v", s.body, status, m)
		}
	}
	status, m := f.do("POST", "/api/meta/objects/opportunity/fields", "admin", `{"name": "broken", "type": "integer", "formula": "amount + \"x\""}`)
	if status != 422 || !strings.Contains(fmt.Sprint(m), "/formula") || !strings.Contains(fmt.Sprint(m), "column") {
		t.Fatalf("a formula that does not type-check: %d %v", status, m)
	}
	acc := f.create("rep1", "account", `{"name": "Acme"}`)
	status, opp := f.do("POST", "/api/records/opportunity", "rep1", fmt.Sprintf(`{"name": "Deal", "account": %q, "stage": "proposal", "amount": "1000.10"}`, acc))
	if status != 201 || fmt.Sprint(opp["weighted"]) != "500.05" || opp["owner_name"] != "rep1" {
		t.Fatalf("computed fields: %d %v", status, opp)
	}
	if status, m := f.do("PATCH", "/api/records/opportunity/"+opp["id"].(string), "rep1", `{"version": 1, "weighted": 1}`); status != 422 || !strings.Contains(fmt.Sprint(m), "computed") {
		t.Fatalf("writing a computed field: %d %v", status, m)
	}
	_, me := f.do("GET", "/api/auth/me", "rep1", "")
	if status, m := f.do("PATCH", "/api/users/"+me["user_id"].(string), "admin", `{"display_name": "Rep One", "email": "rep1@example.cn"}`); status != 200 {
		t.Fatalf("rename user: %d %v", status, m)
	}
	if _, got := f.do("GET", "/api/records/opportunity/"+opp["id"].(string), "rep1", ""); got["owner_name"] != "Rep One" || got["owner_email"] != "rep1@example.cn" {
		t.Fatalf("owner fields not recomputed after the user changed: %v %v", got["owner_name"], got["owner_email"])
	}
	if status, _ := f.do("PATCH", "/api/users/"+me["user_id"].(string), "admin", `{"email": "not mail"}`); status != 422 {
		t.Fatalf("a bad e-mail address: %d", status)
	}
}

// TestRuleMessageInUserLanguage adds a validation rule with English and
// Chinese messages and writes a failing record with each Accept-Language.
func TestRuleMessageInUserLanguage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	status, obj := f.do("GET", "/api/meta/objects/campaign", "admin", "")
	if status != 200 {
		t.Fatal(obj)
	}
	obj["validation_rules"] = []any{map[string]any{"name": "budget_positive", "condition": "budget > 0",
		"message": map[string]any{"en": "A campaign needs a budget", "zh": "营销活动必须有预算"}, "field": "budget"}}
	doc, _ := json.Marshal(obj)
	if status, m := f.do("PUT", "/api/meta/objects/campaign", "admin", string(doc)); status != 200 {
		t.Fatalf("add rule: %d %v", status, m)
	}
	for lang, want := range map[string]string{"zh-CN,zh;q=0.9": "营销活动必须有预算", "en-US": "A campaign needs a budget", "": "A campaign needs a budget"} {
		req := httptest.NewRequest("POST", "/api/records/campaign", strings.NewReader(`{"name": "Spring"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.tokens["admin"])
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		resp, err := f.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 422 || !strings.Contains(string(body), want) || !strings.Contains(string(body), "rule.budget_positive") {
			t.Errorf("Accept-Language %q: %d %s", lang, resp.StatusCode, body)
		}
	}
}
