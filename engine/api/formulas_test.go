package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestFormulasThroughAPI defines a computed field, a validation rule and a
// formula reading the owner through the metadata API, then writes records.
func TestFormulasThroughAPI(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	steps := []struct{ path, body string }{
		{"/api/meta/objects/opportunity/fields", `{"name": "weighted", "type": "currency", "formula": "amount * option(stage).probability / 100"}`},
		{"/api/meta/objects/opportunity/fields", `{"name": "owner_name", "type": "text", "formula": "owner.name"}`},
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
	if status, m := f.do("PATCH", "/api/users/"+me["user_id"].(string), "admin", `{"display_name": "Rep One"}`); status != 200 {
		t.Fatalf("rename user: %d %v", status, m)
	}
	if _, got := f.do("GET", "/api/records/opportunity/"+opp["id"].(string), "rep1", ""); got["owner_name"] != "Rep One" {
		t.Fatalf("owner.name not recomputed after the user's rename: %v", got["owner_name"])
	}
}
