package defaults_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
)

// wantExact checks numeric fields of a record against exact decimals.
func wantExact(t *testing.T, rec map[string]any, want map[string]*big.Rat) {
	t.Helper()
	for f, w := range want {
		n, ok := rec[f].(json.Number)
		if !ok {
			t.Errorf("%s is %T %v, want %s", f, rec[f], rec[f], w.FloatString(2))
			continue
		}
		if got := apitest.Rat(t, string(n)); got.Cmp(w) != 0 {
			t.Errorf("%s = %s, want %s", f, n, w.FloatString(2))
		}
	}
}

// mul multiplies decimals given as text.
func mul(t *testing.T, xs ...string) *big.Rat {
	r := big.NewRat(1, 1)
	for _, x := range xs {
		r.Mul(r, apitest.Rat(t, x))
	}
	return r
}

// TestQuoteAmountsExact checks a quote against amounts worked out in exact
// decimals: an empty quote totals 0, lines with a decimal quantity, a zero
// quantity and a fractional discount round half up at cents per line, the
// extra discount and the tax round on the sums, and re-parenting or
// deleting a line moves the roll-ups of both quotes.
func TestQuoteAmountsExact(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Probe"}`)
		p := s.Create("admin", "product", `{"name": "P", "code": "P-1", "list_price": "0.35"}`)
		q := s.Create("rep1", "quote", `{"name": "Q", "account": "`+acc+`", "discount": 2.5, "tax_rate": 13}`)
		// empty quote
		wantExact(t, get(t, s, "rep1", "quote", q), map[string]*big.Rat{"lines_total": apitest.Rat(t, "0"), "total": apitest.Rat(t, "0"), "tax": apitest.Rat(t, "0"), "grand_total": apitest.Rat(t, "0"), "discount_rate": apitest.Rat(t, "0"), "line_count": apitest.Rat(t, "0")})
		// l1's unit price is left to its default, the product's list price
		l1 := s.Create("rep1", "quote_line", `{"quote": "`+q+`", "product": "`+p+`", "quantity": 1.5}`)
		wantExact(t, get(t, s, "rep1", "quote_line", l1), map[string]*big.Rat{"unit_price": apitest.Rat(t, "0.35")})
		// a product without a list price gives no unit price: it is required
		unpriced := s.Create("admin", "product", `{"name": "Unpriced", "code": "P-2"}`)
		if st, m := s.Do("POST", "/api/records/quote_line", "rep1", `{"quote": "`+q+`", "product": "`+unpriced+`"}`); st != 422 || !strings.Contains(fmt.Sprint(m), "unit_price") {
			t.Fatalf("a line of an unpriced product without a unit price: %d %v", st, m)
		}
		l2 := s.Create("rep1", "quote_line", `{"quote": "`+q+`", "product": "`+p+`", "quantity": 0, "unit_price": "0.35"}`)
		l3 := s.Create("rep1", "quote_line", `{"quote": "`+q+`", "product": "`+p+`", "quantity": 3, "unit_price": "1.15", "discount": 33.3}`)
		a1 := apitest.RoundCents(mul(t, "1.5", "0.35"))
		a3 := apitest.RoundCents(new(big.Rat).Quo(mul(t, "3", "1.15", "66.7"), big.NewRat(100, 1)))
		wantExact(t, get(t, s, "rep1", "quote_line", l1), map[string]*big.Rat{"amount": a1, "list_amount": apitest.RoundCents(mul(t, "1.5", "0.35"))})
		wantExact(t, get(t, s, "rep1", "quote_line", l2), map[string]*big.Rat{"amount": apitest.Rat(t, "0")})
		wantExact(t, get(t, s, "rep1", "quote_line", l3), map[string]*big.Rat{"amount": a3})
		lines := new(big.Rat).Add(a1, a3)
		list := new(big.Rat).Add(apitest.RoundCents(mul(t, "1.5", "0.35")), apitest.RoundCents(mul(t, "3", "0.35")))
		total := apitest.RoundCents(new(big.Rat).Quo(mul(t, lines.FloatString(2), "97.5"), big.NewRat(100, 1)))
		tax := apitest.RoundCents(new(big.Rat).Quo(mul(t, total.FloatString(2), "13"), big.NewRat(100, 1)))
		rate := new(big.Rat).Quo(new(big.Rat).Sub(list, total), list)
		rate.Mul(rate, big.NewRat(100, 1))
		wantExact(t, get(t, s, "rep1", "quote", q), map[string]*big.Rat{"lines_total": lines, "list_total": list, "total": total, "tax": tax, "grand_total": new(big.Rat).Add(total, tax), "discount_rate": apitest.RoundCents(rate), "line_count": apitest.Rat(t, "3")})
		// re-parent l3 to another quote
		q2 := s.Create("rep1", "quote", `{"name": "Q2", "account": "`+acc+`"}`)
		if st, m := patch(t, s, "rep1", "quote_line", l3, `{"quote": "`+q2+`"}`); st != 200 {
			t.Fatalf("reparent %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "quote", q), map[string]*big.Rat{"lines_total": a1, "line_count": apitest.Rat(t, "2")})
		wantExact(t, get(t, s, "rep1", "quote", q2), map[string]*big.Rat{"lines_total": a3, "line_count": apitest.Rat(t, "1")})
		if st, m := s.Do("DELETE", "/api/records/quote_line/"+l1, "rep1", ""); st != 204 && st != 200 {
			t.Fatalf("delete %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "quote", q), map[string]*big.Rat{"lines_total": apitest.Rat(t, "0"), "total": apitest.Rat(t, "0"), "line_count": apitest.Rat(t, "1")})
	})
}

// TestLinePrices: a quote line or order line left without a unit price
// gets the product's price in the quote's price list, else the product's
// list price, else none (it is required); as the rep reads them. A
// quote's price list must be in force on the quote's date.
func TestLinePrices(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Buyer"}`)
		listed := s.Create("admin", "product", `{"name": "Listed", "code": "L-1", "list_price": "100"}`)
		special := s.Create("admin", "product", `{"name": "Special", "code": "S-1"}`)
		unpriced := s.Create("admin", "product", `{"name": "Unpriced", "code": "U-1"}`)
		pl := s.Create("admin", "price_list", `{"name": "Dealers"}`)
		s.Create("admin", "price_list_item", `{"price_list": "`+pl+`", "product": "`+listed+`", "price": "80"}`)
		s.Create("admin", "price_list_item", `{"price_list": "`+pl+`", "product": "`+special+`", "price": "55.5"}`)
		plain := s.Create("rep1", "quote", `{"name": "Plain", "account": "`+acc+`"}`)
		dealer := s.Create("rep1", "quote", `{"name": "Dealer", "account": "`+acc+`", "price_list": "`+pl+`"}`)
		price := func(object, id string) string {
			_, m := s.Do("GET", "/api/records/"+object+"/"+id, "rep1", "")
			return fmt.Sprint(m["unit_price"])
		}
		for _, c := range []struct{ quote, product, want string }{
			{plain, listed, "100.00"}, {dealer, listed, "80.00"}, {dealer, special, "55.50"},
		} {
			line := s.Create("rep1", "quote_line", `{"quote": "`+c.quote+`", "product": "`+c.product+`"}`)
			if got := price("quote_line", line); got != c.want {
				t.Errorf("quote line: %s, want %s", got, c.want)
			}
		}
		for _, q := range []string{plain, dealer} {
			if st, m := s.Do("POST", "/api/records/quote_line", "rep1", `{"quote": "`+q+`", "product": "`+unpriced+`"}`); st != 422 || !strings.Contains(fmt.Sprint(m), "unit_price") {
				t.Fatalf("a line of a product without a price: %d %v", st, m)
			}
		}
		// A quote's price list must be in force on the quote's date.
		expired := s.Create("admin", "price_list", `{"name": "Last year", "valid_from": "2020-01-01", "valid_to": "2020-12-31"}`)
		if st, m := s.Do("POST", "/api/records/quote", "rep1", `{"name": "Late", "account": "`+acc+`", "price_list": "`+expired+`"}`); st != 422 || !strings.Contains(fmt.Sprint(m), "price_list_in_force") {
			t.Errorf("a quote with a price list out of force: %d %v", st, m)
		}
		s.Create("rep1", "quote", `{"name": "Back then", "account": "`+acc+`", "price_list": "`+expired+`", "quote_date": "2020-06-01", "valid_until": "2020-07-01"}`)
		order := s.Create("rep1", "sales_order", `{"account": "`+acc+`", "quote": "`+dealer+`"}`)
		if line := s.Create("rep1", "order_line", `{"sales_order": "`+order+`", "product": "`+special+`"}`); price("order_line", line) != "55.50" {
			t.Errorf("order line of the dealer quote's order: %s", price("order_line", line))
		}
	})
}

// TestSalesTargetCommissionAtBoundaries checks the commission rate of a
// sales target on both sides of 80 % and 100 % attainment: the rate follows
// the amounts, not the attainment rounded to one decimal for display
// (100.04 % used to round to 100.0 % and pay 3 % instead of 5 %, 79.96 % to
// 80.0 % and pay 3 % instead of 1 %).
func TestSalesTargetCommissionAtBoundaries(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		for _, c := range []struct{ target, achieved, rate string }{
			{"100000", "100040", "5"}, {"100000", "100000.01", "5"}, {"100000", "100000", "3"},
			{"100000", "80000", "3"}, {"100000", "79999.99", "1"}, {"100000", "79960", "1"},
			{"0", "5000", "1"}, {"0.05", "0.04", "3"},
		} {
			id := s.Create("manager", "sales_target", `{"name": "Q1", "period": "quarter", "period_start": "2026-01-01", "period_end": "2026-03-31", "target_amount": "`+c.target+`", "achieved_amount": "`+c.achieved+`", "owner_id": "`+s.UserID("rep1")+`"}`)
			rec := get(t, s, "manager", "sales_target", id)
			commission := apitest.RoundCents(new(big.Rat).Quo(mul(t, c.achieved, c.rate), big.NewRat(100, 1)))
			t.Logf("target %s achieved %s", c.target, c.achieved)
			wantExact(t, rec, map[string]*big.Rat{"commission_rate": apitest.Rat(t, c.rate), "commission": commission})
		}
	})
}

// TestPartUsageKeepsItsCost checks the service dispatch pack's costs of a
// work order in exact decimals (labour at 200 an hour, parts at a decimal
// quantity) and that a later change of a spare part's unit cost leaves
// the parts already used, and so the work orders' costs, as they were
// (they used to be repriced at the new cost); a part changed on the line
// takes that part's cost.
func TestPartUsageKeepsItsCost(t *testing.T) {
	t.Parallel()
	fsys, err := defaults.FS("service_dispatch")
	if err != nil {
		t.Fatal(err)
	}
	apitest.Dialects(t, apitest.Options{Template: fsys}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("admin", "account", `{"name": "Dispatch"}`)
		sr := s.Create("admin", "service_request", `{"subject": "Fan noise", "account": "`+acc+`"}`)
		wo := s.Create("admin", "work_order", `{"service_request": "`+sr+`", "labour_hours": 1.25}`)
		fan := s.Create("admin", "spare_part", `{"code": "SP-1", "name": "Fan", "unit_cost": "12.35"}`)
		belt := s.Create("admin", "spare_part", `{"code": "SP-2", "name": "Belt", "unit_cost": "3.33"}`)
		use := s.Create("admin", "part_usage", `{"work_order": "`+wo+`", "spare_part": "`+fan+`", "quantity": 1.5}`)
		fanCost := apitest.RoundCents(mul(t, "1.5", "12.35")) // 18.525 → 18.53
		labour := apitest.RoundCents(mul(t, "1.25", "200"))
		wantExact(t, get(t, s, "admin", "part_usage", use), map[string]*big.Rat{"unit_cost": apitest.Rat(t, "12.35"), "amount": fanCost})
		wantExact(t, get(t, s, "admin", "work_order", wo), map[string]*big.Rat{"parts_cost": fanCost, "labour_cost": labour, "total_cost": new(big.Rat).Add(labour, fanCost)})

		if st, m := patch(t, s, "admin", "spare_part", fan, `{"unit_cost": "20"}`); st != 200 {
			t.Fatalf("new unit cost: %d %v", st, m)
		}
		wantExact(t, get(t, s, "admin", "part_usage", use), map[string]*big.Rat{"unit_cost": apitest.Rat(t, "12.35"), "amount": fanCost})
		wantExact(t, get(t, s, "admin", "work_order", wo), map[string]*big.Rat{"parts_cost": fanCost, "total_cost": new(big.Rat).Add(labour, fanCost)})

		if st, m := patch(t, s, "admin", "part_usage", use, `{"spare_part": "`+belt+`"}`); st != 200 {
			t.Fatalf("other part: %d %v", st, m)
		}
		beltCost := apitest.RoundCents(mul(t, "1.5", "3.33")) // 4.995 → 5.00
		wantExact(t, get(t, s, "admin", "work_order", wo), map[string]*big.Rat{"parts_cost": beltCost, "total_cost": new(big.Rat).Add(labour, beltCost)})

		// A part used before the unit cost was kept (an installation
		// upgraded to this template) has none: its amount reads the spare
		// part's cost as it did, instead of falling to zero.
		if st, m := patch(t, s, "admin", "spare_part", belt, `{"unit_cost": "4"}`); st != 200 {
			t.Fatalf("belt's new cost: %d %v", st, m)
		}
		wantExact(t, get(t, s, "admin", "part_usage", use), map[string]*big.Rat{"amount": beltCost})
		if st, m := patch(t, s, "admin", "part_usage", use, `{"unit_cost": null}`); st != 200 {
			t.Fatalf("no unit cost: %d %v", st, m)
		}
		wantExact(t, get(t, s, "admin", "part_usage", use), map[string]*big.Rat{"amount": apitest.Rat(t, "6.00")})
	})
}

// TestServiceRequestReopened follows an urgent request through a clock:
// its SLA is one day after it was opened; resolved within it, it is not
// late; reopened, it has no resolution time any more (it kept the first
// one, so a request resolved again days later still counted as resolved
// in time); resolved again after its SLA, it is late.
func TestServiceRequestReopened(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		var now atomic.Pointer[time.Time]
		set := func(s string) {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			now.Store(&tm)
		}
		set("2026-03-10T23:30:00.000Z")
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: func() time.Time { return *now.Load() }, Access: []access.Option{access.WithSessionTTL(365 * 24 * time.Hour)}}})
		acc := s.Create("rep1", "account", `{"name": "Service"}`)
		sr := s.Create("agent", "service_request", `{"subject": "Down", "account": "`+acc+`", "priority": "urgent"}`)
		want := func(resolvedAt any, late bool) {
			t.Helper()
			rec := get(t, s, "agent", "service_request", sr)
			if rec["sla_due_at"] != "2026-03-11T23:30:00.000Z" || rec["resolved_at"] != resolvedAt || rec["resolved_late"] != late {
				t.Errorf("sla_due_at %v, resolved_at %v, resolved_late %v; want 2026-03-11T23:30:00.000Z, %v, %v", rec["sla_due_at"], rec["resolved_at"], rec["resolved_late"], resolvedAt, late)
			}
		}
		step := func(at, fields string) {
			t.Helper()
			set(at)
			if st, m := patch(t, s, "agent", "service_request", sr, fields); st != 200 {
				t.Fatalf("%s at %s: %d %v", fields, at, st, m)
			}
		}
		step("2026-03-11T02:00:00.000Z", `{"status": "in_progress"}`)
		step("2026-03-11T08:00:00.000Z", `{"status": "resolved", "resolution": "Restarted"}`)
		want("2026-03-11T08:00:00.000Z", false)
		step("2026-03-12T09:00:00.000Z", `{"status": "in_progress"}`)
		want(nil, false)
		step("2026-03-13T10:00:00.000Z", `{"status": "resolved", "resolution": "Replaced the board"}`)
		want("2026-03-13T10:00:00.000Z", true)
		step("2026-03-14T10:00:00.000Z", `{"status": "closed"}`)
		want("2026-03-13T10:00:00.000Z", true)
	})
}

// TestAccountOutstandingCountsContractsInForce checks the account's
// outstanding receivables: a draft contract (not approved, not in force)
// is owed by no one and used to count in full; a contract in force counts
// its value less its receipts, in exact cents, also after a receipt moves
// between instalments or is deleted; a completed one with a balance still
// counts; a terminated one does not.
func TestAccountOutstandingCountsContractsInForce(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Receivables"}`)
		ct := s.Create("rep1", "contract", `{"name": "Supply", "account": "`+acc+`", "amount": "1000.10"}`)
		p1 := s.Create("rep1", "payment_plan", `{"name": "1/2", "contract": "`+ct+`", "due_date": "2026-03-31", "amount": "400.05"}`)
		p2 := s.Create("rep1", "payment_plan", `{"name": "2/2", "contract": "`+ct+`", "due_date": "2026-04-01", "amount": "600.05"}`)
		rc := s.Create("rep1", "receipt", `{"contract": "`+ct+`", "payment_plan": "`+p1+`", "amount": "450.03"}`)
		wantExact(t, get(t, s, "rep1", "account", acc), map[string]*big.Rat{"outstanding": apitest.Rat(t, "0")})

		if st, m := patch(t, s, "admin", "contract", ct, `{"status": "active"}`); st != 200 {
			t.Fatalf("in force: %d %v", st, m)
		}
		left := new(big.Rat).Sub(apitest.Rat(t, "1000.10"), apitest.Rat(t, "450.03"))
		wantExact(t, get(t, s, "rep1", "account", acc), map[string]*big.Rat{"outstanding": left})
		wantExact(t, get(t, s, "rep1", "payment_plan", p1), map[string]*big.Rat{"received_amount": apitest.Rat(t, "450.03"), "balance": new(big.Rat).Sub(apitest.Rat(t, "400.05"), apitest.Rat(t, "450.03"))})
		if p := get(t, s, "rep1", "payment_plan", p1); p["paid"] != true {
			t.Errorf("instalment 1/2 paid %v", p["paid"])
		}

		if st, m := patch(t, s, "admin", "receipt", rc, `{"payment_plan": "`+p2+`"}`); st != 200 {
			t.Fatalf("move the receipt: %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "payment_plan", p1), map[string]*big.Rat{"received_amount": apitest.Rat(t, "0")})
		wantExact(t, get(t, s, "rep1", "payment_plan", p2), map[string]*big.Rat{"received_amount": apitest.Rat(t, "450.03"), "balance": new(big.Rat).Sub(apitest.Rat(t, "600.05"), apitest.Rat(t, "450.03"))})
		if p := get(t, s, "rep1", "payment_plan", p1); p["paid"] != false {
			t.Errorf("instalment 1/2 paid %v after its receipt moved", p["paid"])
		}

		if st, m := patch(t, s, "admin", "contract", ct, `{"status": "completed"}`); st != 200 {
			t.Fatalf("complete: %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "account", acc), map[string]*big.Rat{"outstanding": left})
		if st, m := s.Do("DELETE", "/api/records/receipt/"+rc, "admin", ""); st != 204 {
			t.Fatalf("delete the receipt: %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "account", acc), map[string]*big.Rat{"outstanding": apitest.Rat(t, "1000.10")})
		if st, m := patch(t, s, "admin", "contract", ct, `{"status": "terminated"}`); st != 200 {
			t.Fatalf("terminate: %d %v", st, m)
		}
		wantExact(t, get(t, s, "rep1", "account", acc), map[string]*big.Rat{"outstanding": apitest.Rat(t, "0")})
	})
}

// TestChildWriteKeepsParentRules: a payment plan that would take the
// contract's planned total past its value is refused (422 naming the
// contract and its rule, nothing written), where the contract's rule was
// checked only when the contract itself was saved and then refused every
// later edit of it; a plan that keeps within it, or a contract already
// failing the rule, goes on as before.
func TestChildWriteKeepsParentRules(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		ct := s.Create("rep1", "contract", `{"name": "Supply 2026", "account": "`+acc+`", "amount": "10000"}`)
		p1 := s.Create("rep1", "payment_plan", `{"name": "1/2", "contract": "`+ct+`", "due_date": "2026-03-31", "amount": "6000"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "a plan past the contract's value", Method: "POST", Path: "/api/records/payment_plan", User: "rep1", Status: 422, Code: "invalid_record",
				Body:     `{"name": "2/2", "contract": "` + ct + `", "due_date": "2026-06-30", "amount": "5000"}`,
				Contains: []string{`"code":"rule.plan_within_value"`, `Contract \"Supply 2026\"`, "The payment plan exceeds the contract value"}},
			{Name: "nothing was written", Method: "GET", Path: "/api/records/payment_plan?filter=" + url.QueryEscape(`contract == "`+ct+`"`), User: "rep1", Status: 200, NotContain: []string{`"2/2"`}},
			{Name: "nor the contract's total", Method: "GET", Path: "/api/records/contract/" + ct, User: "rep1", Status: 200, Contains: []string{`"planned_amount":6000`}},
			{Name: "a plan within it", Method: "POST", Path: "/api/records/payment_plan", User: "rep1", Status: 201,
				Body: `{"name": "2/2", "contract": "` + ct + `", "due_date": "2026-06-30", "amount": "4000"}`},
		})
		_, plan := s.Do("GET", "/api/records/payment_plan/"+p1, "rep1", "")
		s.Run(t, []apitest.Scenario{
			{Name: "a plan raised past it", Method: "PATCH", Path: "/api/records/payment_plan/" + p1, User: "rep1", Status: 422,
				Body: `{"amount": "6000.01", "version": ` + fmt.Sprint(plan["version"]) + `}`, Contains: []string{`"code":"rule.plan_within_value"`}},
			{Name: "the contract still edits", Method: "PATCH", Path: "/api/records/contract/" + ct, User: "rep1", Status: 200,
				Body: `{"name": "Supply 2026 (signed)", "version": ` + fmt.Sprint(get(t, s, "rep1", "contract", ct)["version"]) + `}`},
		})
	})
}
