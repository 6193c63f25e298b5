package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestListTotal checks the bounded total (total=true stops at
// engine.TotalBound and says so), the exact total (total=exact), and that
// a rep's totals count only what the rep may read.
func TestListTotal(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, me := f.do("GET", "/api/auth/me", "rep1", "")
		rep1 := me["user_id"].(string)
		ctx := context.Background()
		n := engine.TotalBound + 5
		var rows []string
		var args []any
		for i := 0; i < n; i++ {
			owner := "someone-else"
			if i < 3 {
				owner = rep1
			}
			rows = append(rows, "(?, ?, ?, ?, ?, 1)")
			args = append(args, fmt.Sprintf("acc-%05d", i), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", owner, fmt.Sprint("Account ", i))
		}
		for c := 0; c < n; c += 200 {
			end := min(c+200, n)
			stmt := "INSERT INTO account (id, created_at, updated_at, owner_id, name, version) VALUES " + strings.Join(rows[c:end], ", ")
			if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, stmt), args[c*5:end*5]...); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			user, query, method, body string
			total                     string
			capped                    bool
			status                    int
		}{
			{user: "admin", query: "?total=true&limit=5", total: fmt.Sprint(engine.TotalBound), capped: true, status: 200},
			{user: "admin", query: "?total=exact&limit=5", total: fmt.Sprint(n), status: 200},
			{user: "admin", query: "?total=true&filter=" + urlq(`name startsWith "Account 10"`), total: "16", status: 200},
			{user: "rep1", query: "?total=true", total: "3", status: 200},
			{user: "rep1", query: "?total=exact", total: "3", status: 200},
			{user: "admin", method: "POST", body: `{"total": "exact", "limit": 1}`, total: fmt.Sprint(n), status: 200},
			{user: "admin", method: "POST", body: `{"total": true, "limit": 1}`, total: fmt.Sprint(engine.TotalBound), capped: true, status: 200},
			{user: "admin", query: "?total=maybe", status: 400},
			{user: "admin", method: "POST", body: `{"total": "yes"}`, status: 400},
		}
		for _, c := range cases {
			path := "/api/records/account" + c.query
			method := "GET"
			if c.method != "" {
				method, path = c.method, "/api/records/account/query"
			}
			status, m := f.do(method, path, c.user, c.body)
			if status != c.status {
				t.Fatalf("%s %s %s: %d %v", c.user, method, path+c.body, status, m)
			}
			if status != 200 {
				if !strings.Contains(fmt.Sprint(m), "total") {
					t.Errorf("%s: the error does not name total: %v", path, m)
				}
				continue
			}
			if fmt.Sprint(m["total"]) != c.total || (m["total_capped"] == true) != c.capped {
				t.Errorf("%s %s %s: total %v capped %v, want %s %v", c.user, method, path+c.body, m["total"], m["total_capped"], c.total, c.capped)
			}
		}
	})
}
