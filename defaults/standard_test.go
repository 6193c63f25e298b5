package defaults_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// get reads one record as user and returns its fields.
func get(t *testing.T, s *apitest.Server, user, object, id string) map[string]any {
	t.Helper()
	status, m := s.Do("GET", "/api/records/"+object+"/"+id, user, "")
	if status != 200 {
		t.Fatalf("get %s/%s as %s: %d %v", object, id, user, status, m)
	}
	return m
}

// patch updates a record as user at the version it has now.
func patch(t *testing.T, s *apitest.Server, user, object, id, fields string) (int, map[string]any) {
	t.Helper()
	v := get(t, s, user, object, id)["version"]
	return s.Do("PATCH", "/api/records/"+object+"/"+id, user, fmt.Sprintf(`{"version": %v, %s`, v, fields[1:]))
}

// num reads a numeric field of a record as a float.
func num(t *testing.T, rec map[string]any, field string) float64 {
	t.Helper()
	n, ok := rec[field].(json.Number)
	if !ok {
		t.Fatalf("%s is %T %v, not a number: %v", field, rec[field], rec[field], rec)
	}
	f, _ := n.Float64()
	return f
}

// wantNum checks numeric fields of a record.
func wantNum(t *testing.T, rec map[string]any, want map[string]float64) {
	t.Helper()
	for f, w := range want {
		if got := num(t, rec, f); fmt.Sprintf("%.2f", got) != fmt.Sprintf("%.2f", w) {
			t.Errorf("%s = %v, want %v", f, got, w)
		}
	}
}

// TestStandardCommerce runs the standard template's selling chain on both
// databases: quote lines keep the list price and roll up into the quote's
// totals and discount rate; receipts pay a contract's instalments and the
// account's outstanding balance follows; won deals give commissions,
// campaign ROI and the account's last deal; service requests get their SLA.
func TestStandardCommerce(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		camp := s.Create("admin", "campaign", `{"name": "Expo", "kind": "event", "actual_cost": "10000"}`)
		widget := s.Create("admin", "product", `{"name": "Widget", "code": "W-1", "list_price": "100", "cost": "60"}`)
		gadget := s.Create("admin", "product", `{"name": "Gadget", "code": "G-1", "list_price": "250.50", "cost": "100"}`)
		wantNum(t, get(t, s, "admin", "product", widget), map[string]float64{"margin": 40})

		// Quote: two lines, a line discount and an extra discount.
		q := s.Create("rep1", "quote", `{"name": "Acme offer", "account": "`+acc+`", "discount": 5}`)
		s.Create("rep1", "quote_line", `{"quote": "`+q+`", "product": "`+widget+`", "quantity": 10, "unit_price": "100", "discount": 10}`)
		l2 := s.Create("rep1", "quote_line", `{"quote": "`+q+`", "product": "`+gadget+`", "quantity": 2, "unit_price": "250.50"}`)
		line := get(t, s, "rep1", "quote_line", l2)
		if line["name"] != "Gadget" {
			t.Errorf("line name %v", line["name"])
		}
		wantNum(t, line, map[string]float64{"list_price": 250.50, "list_amount": 501, "amount": 501})
		// lines: 900 + 501 = 1401; list 1000 + 501 = 1501; total 1401*0.95 = 1330.95
		quote := get(t, s, "rep1", "quote", q)
		wantNum(t, quote, map[string]float64{"lines_total": 1401, "list_total": 1501, "line_count": 2, "total": 1330.95, "discount_rate": 11.33, "tax": 173.02, "grand_total": 1503.97})
		if quote["number"] == nil || quote["status"] != "draft" {
			t.Errorf("quote number/status: %v", quote)
		}
		// A later list price change does not move the quote's list total.
		if status, m := patch(t, s, "admin", "product", widget, `{"list_price": "120"}`); status != 200 {
			t.Fatalf("price change: %d %v", status, m)
		}
		wantNum(t, get(t, s, "rep1", "quote", q), map[string]float64{"list_total": 1501})

		// Contract with two instalments and receipts.
		ct := s.Create("rep1", "contract", `{"name": "Acme 2026", "account": "`+acc+`", "amount": "10000"}`)
		p1 := s.Create("rep1", "payment_plan", `{"name": "1/2", "contract": "`+ct+`", "due_date": "2026-01-31", "amount": "4000"}`)
		s.Create("rep1", "payment_plan", `{"name": "2/2", "contract": "`+ct+`", "due_date": "2026-06-30", "amount": "6000"}`)
		s.Create("rep1", "receipt", `{"contract": "`+ct+`", "payment_plan": "`+p1+`", "amount": "4000", "received_on": "2026-01-30"}`)
		s.Create("rep1", "receipt", `{"contract": "`+ct+`", "amount": "1500"}`)
		if status, m := patch(t, s, "admin", "contract", ct, `{"status": "active"}`); status != 200 {
			t.Fatalf("contract in force: %d %v", status, m)
		}
		wantNum(t, get(t, s, "rep1", "contract", ct), map[string]float64{"planned_amount": 10000, "received_amount": 5500, "outstanding": 4500, "paid_percent": 55})
		plan := get(t, s, "rep1", "payment_plan", p1)
		if plan["paid"] != true || plan["account"] != acc {
			t.Errorf("instalment 1: %v", plan)
		}
		// The contract's value cannot drop below its payment plan.
		if status, m := patch(t, s, "rep1", "contract", ct, `{"amount": "9000"}`); status != 422 {
			t.Errorf("value below the plan: %d %v", status, m)
		}

		// A won deal from the campaign.
		opp := s.Create("rep1", "opportunity", `{"name": "Big", "account": "`+acc+`", "campaign": "`+camp+`", "amount": "200000", "stage": "negotiation", "close_date": "2026-03-01"}`)
		wantNum(t, get(t, s, "rep1", "opportunity", opp), map[string]float64{"weighted_amount": 150000, "commission": 0})
		if status, m := patch(t, s, "rep1", "opportunity", opp, `{"stage": "won"}`); status != 200 {
			t.Fatalf("win: %d %v", status, m)
		}
		wantNum(t, get(t, s, "rep1", "opportunity", opp), map[string]float64{"weighted_amount": 200000, "commission": 6000})
		account := get(t, s, "rep1", "account", acc)
		wantNum(t, account, map[string]float64{"won_amount": 200000, "outstanding": 4500, "open_opportunities": 0})
		if account["last_deal_date"] != "2026-03-01" {
			t.Errorf("last deal %v", account["last_deal_date"])
		}
		wantNum(t, get(t, s, "admin", "campaign", camp), map[string]float64{"won_amount": 200000, "roi": 1900})

		// Service: the agent opens an urgent complaint; SLA one day.
		sr := s.Create("agent", "service_request", `{"subject": "Broken", "kind": "complaint", "account": "`+acc+`", "priority": "urgent"}`)
		req := get(t, s, "agent", "service_request", sr)
		if req["sla_due_at"] == nil || req["status"] != "new" {
			t.Errorf("service request: %v", req)
		}
		wantNum(t, get(t, s, "agent", "account", acc), map[string]float64{"open_service_requests": 1})
		if status, m := patch(t, s, "agent", "service_request", sr, `{"status": "closed"}`); status != 422 {
			t.Errorf("new to closed: %d %v", status, m)
		}
		if status, m := patch(t, s, "agent", "service_request", sr, `{"status": "in_progress"}`); status != 200 {
			t.Fatalf("start work: %d %v", status, m)
		}
		if status, m := patch(t, s, "agent", "service_request", sr, `{"status": "resolved"}`); status != 422 || !strings.Contains(fmt.Sprint(m), "rule.resolution_when_resolved") {
			t.Errorf("resolved without a resolution: %d %v", status, m)
		}
		if status, m := patch(t, s, "agent", "service_request", sr, `{"status": "resolved", "resolution": "Replaced"}`); status != 200 {
			t.Fatalf("resolve: %d %v", status, m)
		}
		if req := get(t, s, "agent", "service_request", sr); req["resolved_at"] == nil || req["resolved_late"] != false {
			t.Errorf("resolved request: %v", req)
		}
		// The agent sees the account but not what is derived from deals.
		seen := get(t, s, "agent", "account", acc)
		for _, f := range []string{"won_amount", "last_deal_date", "outstanding"} {
			if _, ok := seen[f]; ok {
				t.Errorf("the service agent reads %s", f)
			}
		}
		wantNum(t, seen, map[string]float64{"open_service_requests": 0})
		// rep2 sees none of rep1's quotes.
		if status, m := s.Do("GET", "/api/records/quote", "rep2", ""); status != 200 || fmt.Sprint(m["items"]) != "[]" {
			t.Errorf("rep2 lists quotes: %d %v", status, m)
		}
	})
}
