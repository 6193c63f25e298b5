package templates_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/reports"
)

// firstID returns the id of the first record of object matching filter,
// as admin.
func firstID(t *testing.T, s *apitest.Server, object, filter string) string {
	t.Helper()
	status, m := s.Do("GET", "/api/records/"+object+"?limit=1&filter="+apitest.Query(filter), "admin", "")
	items, _ := m["items"].([]any)
	if status != 200 || len(items) == 0 {
		t.Fatalf("no %s where %s: %d %v", object, filter, status, m)
	}
	return items[0].(map[string]any)["id"].(string)
}

// patchAs updates a record at its current version and returns the status.
func patchAs(t *testing.T, s *apitest.Server, user, object, id, fields string) (int, map[string]any) {
	t.Helper()
	_, rec := s.Do("GET", "/api/records/"+object+"/"+id, user, "")
	return s.Do("PATCH", "/api/records/"+object+"/"+id, user, fmt.Sprintf(`{"version": %v, %s`, rec["version"], fields[1:]))
}

// packChecks trigger each industry pack's workflows on its sample data.
var packChecks = map[string]func(t *testing.T, s *apitest.Server){
	"standard": func(t *testing.T, s *apitest.Server) {
		// A qualified lead of the sample converts; its company is new.
		lead := firstID(t, s, "lead", `status == "qualified"`)
		if st, m := s.Do("POST", "/api/records/lead/"+lead+"/actions/convert", "admin", `{"account": {"create": true}, "opportunity": {"create": true, "name": "From the sample"}}`); st != 200 || m["opportunity_id"] == nil {
			t.Errorf("converting a qualified sample lead: %d %v", st, m)
		}
		// Every completed contract is paid in full: its instalments' receipts add up.
		contract := firstID(t, s, "contract", `status == "completed"`)
		_, c := s.Do("GET", "/api/records/contract/"+contract, "admin", "")
		if c["outstanding"] != json.Number("0.00") || c["received_amount"] != c["amount"] || c["planned_amount"] != c["amount"] {
			t.Errorf("a completed sample contract: %v", c)
		}
		// An open deal of the sample moves one stage on, and is not won
		// from there (the funnel's state workflow).
		opp := firstID(t, s, "opportunity", `stage == "qualify"`)
		if st, m := patchAs(t, s, "admin", "opportunity", opp, `{"stage": "needs"}`); st != 200 {
			t.Errorf("qualify to needs: %d %v", st, m)
		}
		if st, _ := patchAs(t, s, "admin", "opportunity", opp, `{"stage": "won"}`); st != 422 {
			t.Errorf("needs to won: %d, want 422", st)
		}
	},
	"membership": func(t *testing.T, s *apitest.Server) {
		card := firstID(t, s, "member_card", `status == "active"`)
		if st, m := patchAs(t, s, "admin", "member_card", card, `{"status": "frozen"}`); st != 200 {
			t.Errorf("freeze: %d %v", st, m)
		}
		if st, _ := patchAs(t, s, "admin", "member_card", card, `{"status": "expired"}`); st != 200 {
			t.Errorf("expire: %d", st)
		}
		if st, _ := patchAs(t, s, "admin", "member_card", card, `{"status": "frozen"}`); st != 422 {
			t.Errorf("expired to frozen: %d, want 422", st)
		}
		_, rec := s.Do("GET", "/api/records/member_card/"+card, "admin", "")
		balance, _ := rec["points_balance"].(json.Number).Int64()
		body := fmt.Sprintf(`{"card": %q, "kind": "redeem", "points": %d}`, card, balance+1)
		if st, m := s.Do("POST", "/api/records/point_transaction", "admin", body); st != 422 || !strings.Contains(fmt.Sprint(m), "Not enough points on the card") {
			t.Errorf("redeeming more than the balance: %d %v", st, m)
		}
		if balance > 0 {
			// A redemption of the whole balance, then an edit of its
			// reason: the edit changes no points and is not refused.
			redeem := s.Create("admin", "point_transaction", fmt.Sprintf(`{"card": %q, "kind": "redeem", "points": %d}`, card, balance))
			if st, m := patchAs(t, s, "admin", "point_transaction", redeem, `{"reason": "Gift"}`); st != 200 {
				t.Errorf("editing a redemption that fits: %d %v", st, m)
			}
		}
		contact := firstID(t, s, "contact", "is_not_empty(birthday)")
		_, c := s.Do("GET", "/api/records/contact/"+contact, "admin", "")
		tier := firstID(t, s, "membership_tier", `rank == 1`)
		nc := s.Create("admin", "member_card", fmt.Sprintf(`{"contact": %q, "tier": %q}`, contact, tier))
		if _, got := s.Do("GET", "/api/records/member_card/"+nc, "admin", ""); got["birthday"] != c["birthday"] {
			t.Errorf("the card's birthday %v, the contact's %v", got["birthday"], c["birthday"])
		}
	},
	"project_sales": func(t *testing.T, s *apitest.Server) {
		p := firstID(t, s, "project", `stage == "discovery"`)
		if st, _ := patchAs(t, s, "admin", "project", p, `{"stage": "registered"}`); st != 200 {
			t.Errorf("discovery to registered: %d", st)
		}
		if st, _ := patchAs(t, s, "admin", "project", p, `{"stage": "awarded", "award_date": "2026-05-01"}`); st != 422 {
			t.Errorf("registered to awarded: %d, want 422", st)
		}
	},
	"service_dispatch": func(t *testing.T, s *apitest.Server) {
		wo := firstID(t, s, "work_order", `status == "dispatched"`)
		if st, _ := patchAs(t, s, "admin", "work_order", wo, `{"status": "done"}`); st != 422 {
			t.Errorf("dispatched to done: %d, want 422", st)
		}
		if st, m := patchAs(t, s, "admin", "work_order", wo, `{"status": "on_site"}`); st != 200 {
			t.Errorf("arrive: %d %v", st, m)
		}
		if st, _ := patchAs(t, s, "admin", "work_order", wo, `{"status": "done"}`); st != 422 {
			t.Errorf("done without a report: %d, want 422", st)
		}
		if st, m := patchAs(t, s, "admin", "work_order", wo, `{"status": "done", "findings": "fixed", "finished_at": "2026-10-01T10:00:00Z", "labour_hours": 2}`); st != 200 {
			t.Errorf("finish: %d %v", st, m)
		}
		_, rec := s.Do("GET", "/api/records/work_order/"+wo, "admin", "")
		if rec["labour_cost"] != json.Number("400.00") {
			t.Errorf("labour cost %v", rec["labour_cost"])
		}
	},
}

// TestBuiltinTemplates installs every shipped template on an empty
// database of both kinds, loads its sample data, runs every report (those
// of an industry pack must find rows) and triggers its workflows.
func TestBuiltinTemplates(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		for i, name := range defaults.Names() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				db := db
				if i > 0 {
					db = another(t, db)
				}
				fsys, err := defaults.FS(name)
				if err != nil {
					t.Fatal(err)
				}
				s := apitest.New(t, db, apitest.Options{Template: fsys})
				res := s.LoadSample(fsys)
				if least := map[bool]int{true: 400, false: 1000}[name == "standard"]; res.Total < least {
					t.Errorf("%s ships %d sample records", name, res.Total)
				}
				s.RunJobs()
				_, std, err := defaults.Load("standard")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range reports.Reports.All(s.Platform.Engine.Snapshot().Schema) {
					status, m := s.Do("GET", "/api/reports/"+r.Name+"/run", "admin", "")
					if status != 200 {
						t.Errorf("report %s: %d %v", r.Name, status, m)
						continue
					}
					rows, _ := m["rows"].([]any)
					if _, base := reports.Reports.Get(std, r.Name); (!base || name == "standard") && len(rows) == 0 {
						t.Errorf("report %s of %s finds nothing in the sample data", r.Name, name)
					}
				}
				if check := packChecks[name]; check != nil {
					check(t, s)
				}
			})
		}
	})
}

// TestTemplateRoutes covers /api/templates: administrators only; the
// installed template, a plan of installing a pack over it, the export and
// a diff.
func TestTemplateRoutes(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Run(t, []apitest.Scenario{
			{Name: "a rep may not list templates", Method: "GET", Path: "/api/templates", User: "rep1", Status: 403, NotContain: []string{"membership"}},
			{Name: "a rep may not export", Method: "GET", Path: "/api/templates/export", User: "rep1", Status: 403, NotContain: []string{"objects/"}},
			{Name: "a rep may not install", Method: "POST", Path: "/api/templates/membership/install", User: "rep1", Body: `{}`, Status: 403},
			{Name: "the list", Method: "GET", Path: "/api/templates", User: "admin", Status: 200,
				Contains: []string{`"name":"membership"`, `"name":"service_dispatch"`, `"installed":{`, `"name":"standard"`}},
			{Name: "the plan of a pack over standard", Method: "POST", Path: "/api/templates/membership/install", User: "admin", Body: `{"plan": true}`, Status: 200,
				Contains: []string{`"from":"standard 1.0.0"`, "add_object member_card", `"applied":false`}},
			{Name: "an unknown template", Method: "POST", Path: "/api/templates/nothing/install", User: "admin", Body: `{}`, Status: 404},
			{Name: "the export", Method: "GET", Path: "/api/templates/export", User: "admin", Status: 200, Contains: []string{`"objects/quote_line.yaml":"name: quote_line`}},
			{Name: "a diff", Method: "POST", Path: "/api/templates/diff", User: "admin",
				Body:   `{"files": {"template.yaml": "name: more\nextends: standard", "objects/gift.yaml": "name: gift\nfields:\n  - {name: title, type: text}"}}`,
				Status: 200, Contains: []string{"add_object gift"}},
			{Name: "a bad diff", Method: "POST", Path: "/api/templates/diff", User: "admin", Body: `{"files": {}}`, Status: 400},
			{Name: "the pack installed over standard", Method: "POST", Path: "/api/templates/membership/install", User: "admin", Body: `{}`, Status: 201, Contains: []string{`"applied":true`}},
			{Name: "now installed", Method: "GET", Path: "/api/templates", User: "admin", Status: 200, Contains: []string{`"installed":{"name":"membership"`}},
		})
	})
}
