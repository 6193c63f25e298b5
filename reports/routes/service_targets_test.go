package routes_test

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/metadata"
)

// TestServiceRequestsAndTargets runs the built-in reports
// service_requests_by_priority (open ones past their SLA, resolved late)
// and sales_vs_target against figures computed here.
func TestServiceRequestsAndTargets(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		db := s.DB
		f := newFixture(t, s)
		requests := []struct {
			priority, status string
			late             bool // its SLA is past: due yesterday
		}{
			{"urgent", "new", true}, {"urgent", "new", false}, {"urgent", "resolved", true},
			{"high", "assigned", true}, {"high", "closed", false}, {"normal", "new", false}, {"low", "waiting", true},
		}
		past := metadata.DBValue(db.Dialect, time.Now().UTC().Add(-24*time.Hour))
		for i, r := range requests {
			body := fmt.Sprintf(`{"subject": "Request %d", "account": %q, "priority": %q, "status": %q, "resolution": "done"}`, i, f.ids["Acme"], r.priority, r.status)
			id := s.Create("agent", "service_request", body)
			if r.late {
				// Time has passed: the stored due time is yesterday, and a
				// resolved request was resolved now, after it.
				if _, err := db.SQL().ExecContext(t.Context(), store.Rebind(db.Dialect, `UPDATE "service_request" SET "sla_due_at" = ?, "resolved_late" = ? WHERE "id" = ?`),
					past, r.status == "resolved" || r.status == "closed", id); err != nil {
					t.Fatal(err)
				}
			}
		}
		type cnt struct{ requests, overdue, late int64 }
		want, subs, tot := map[string]*cnt{}, map[string]*cnt{}, &cnt{}
		for _, r := range requests {
			for _, c := range []*cnt{ensure(want, r.priority+"/"+r.status), ensure(subs, r.priority), tot} {
				c.requests++
				if r.late && r.status != "resolved" && r.status != "closed" {
					c.overdue++
				}
				if r.late && (r.status == "resolved" || r.status == "closed") {
					c.late++
				}
			}
		}
		st, res := get(t, s, "agent", "/api/reports/service_requests_by_priority/run", nil)
		if st != 200 {
			t.Fatalf("run: %d %v", st, res)
		}
		check := func(where string, row map[string]any, c *cnt) {
			t.Helper()
			if !eq(t, row["requests"], big.NewRat(c.requests, 1)) || !eq(t, row["overdue"], big.NewRat(c.overdue, 1)) || !eq(t, row["resolved_late"], big.NewRat(c.late, 1)) ||
				!eq(t, row["overdue_share"], percentOf(big.NewRat(c.overdue, 1), big.NewRat(c.requests, 1))) {
				t.Errorf("%s: %v; want %+v", where, row, *c)
			}
		}
		n := 0
		for _, row := range rows(t, res) {
			g := row["_group"].(string)
			if c, ok := want[g]; ok && fmt.Sprint(row["_level"]) == "2" {
				check(g, row, c)
				n++
			} else if c, ok := subs[g]; ok {
				check("subtotal "+g, row, c)
			} else {
				t.Errorf("unexpected row %v", row)
			}
		}
		if n != len(want) {
			t.Errorf("%d groups, want %d", n, len(want))
		}
		check("totals", res["totals"].(map[string]any), tot)

		// Targets of this year: the manager sets them for the reps.
		year := time.Now().Year()
		targets := []struct {
			rep, target, achieved string
		}{{"rep1", "10000", "8500.50"}, {"rep1", "5000", "0"}, {"rep2", "20000", "25000"}}
		for i, tg := range targets {
			s.Create("manager", "sales_target", fmt.Sprintf(`{"name": "T%d", "owner_id": %q, "period": "quarter", "period_start": "%d-01-01", "period_end": "%d-03-31", "target_amount": %s, "achieved_amount": %s}`,
				i, f.ids[tg.rep], year, year, tg.target, tg.achieved))
		}
		for _, user := range []string{"manager", "rep1"} {
			target, achieved := map[string]*big.Rat{}, map[string]*big.Rat{}
			for _, tg := range targets {
				if user != "manager" && tg.rep != user {
					continue
				}
				id := f.ids[tg.rep]
				if target[id] == nil {
					target[id], achieved[id] = new(big.Rat), new(big.Rat)
				}
				target[id].Add(target[id], apitest.Rat(t, tg.target))
				achieved[id].Add(achieved[id], apitest.Rat(t, tg.achieved))
			}
			_, got := runGroups(t, s, user, "sales_vs_target", len(target))
			for id := range target {
				row := got[id]
				if !eq(t, row["target"], target[id]) || !eq(t, row["achieved"], achieved[id]) || !eq(t, row["attainment"], percentOf(achieved[id], target[id])) {
					t.Errorf("%s: rep %s: %v; want target %s, achieved %s", user, id, row, target[id].FloatString(2), achieved[id].FloatString(2))
				}
			}
		}
		s.Run(t, []apitest.Scenario{
			{Name: "service sees no targets", Method: "GET", Path: "/api/reports/sales_vs_target/run", User: "agent", Status: 404},
		})
	})
}

// ensure returns the counter of key, created when missing.
func ensure[V any](m map[string]*V, key string) *V {
	if m[key] == nil {
		m[key] = new(V)
	}
	return m[key]
}
