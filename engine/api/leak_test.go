package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestNoLeaks checks that rep2 cannot learn anything about rep1's account
// "Secret": not by id, filter, sort order, lookup path, count, history or
// by pointing a lookup at it.
func TestNoLeaks(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := func(user string) string {
			_, me := f.do("GET", "/api/auth/me", user, "")
			return me["user_id"].(string)
		}
		rep1, rep2 := id("rep1"), id("rep2")
		secret := f.create("admin", "account", fmt.Sprintf(`{"name": "Secret", "industry": "finance", "annual_revenue": 999, "owner_id": %q}`, rep1))
		mine := f.create("admin", "account", fmt.Sprintf(`{"name": "Mine", "industry": "retail", "owner_id": %q}`, rep2))
		// An opportunity of rep2's that (through an admin) points at rep1's account.
		f.create("admin", "opportunity", fmt.Sprintf(`{"name": "Mixed", "account": %q, "owner_id": %q}`, secret, rep2))
		f.create("admin", "opportunity", fmt.Sprintf(`{"name": "Clean", "account": %q, "owner_id": %q}`, mine, rep2))

		count := func(path string) (int, json.Number) {
			status, m := f.do("GET", path, "rep2", "")
			if status != 200 {
				t.Fatalf("%s: %d %v", path, status, m)
			}
			return len(m["items"].([]any)), m["total"].(json.Number)
		}
		cases := []struct {
			name string
			path string
			want int
		}{
			{"list", "/api/records/account?total=true", 1},
			{"filter on name", "/api/records/account?total=true&filter=" + urlq(`name == "Secret"`), 0},
			{"filter on industry", "/api/records/account?total=true&filter=" + urlq(`industry == "finance"`), 0},
			{"sort cannot surface it", "/api/records/account?total=true&sort=-annual_revenue", 1},
			{"lookup path equality", "/api/records/opportunity?total=true&filter=" + urlq(`account.name == "Secret"`), 0},
			{"lookup path prefix probe", "/api/records/opportunity?total=true&filter=" + urlq(`account.name startsWith "S"`), 0},
			{"lookup path on own account", "/api/records/opportunity?total=true&filter=" + urlq(`account.name == "Mine"`), 1},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				n, total := count(c.path)
				if n != c.want || total.String() != fmt.Sprint(c.want) {
					t.Fatalf("rep2 sees %d items, total %s; want %d", n, total, c.want)
				}
			})
		}
		for _, path := range []string{"/api/records/account/" + secret, "/api/records/account/" + secret + "/history"} {
			if status, m := f.do("GET", path, "rep2", ""); status != 404 || strings.Contains(fmt.Sprint(m), "Secret") {
				t.Errorf("%s: %d %v", path, status, m)
			}
		}
		// Expanding the lookup shows the own account and nothing of the hidden one.
		status, exp := f.do("GET", "/api/records/opportunity?expand=account&sort=name", "rep2", "")
		if status != 200 {
			t.Fatalf("expand: %d %v", status, exp)
		}
		items := exp["items"].([]any)
		clean := items[0].(map[string]any)["_expand"].(map[string]any)["account"]
		mixed := items[1].(map[string]any)["_expand"].(map[string]any)["account"]
		if clean == nil || clean.(map[string]any)["name"] != "Mine" || mixed != nil || strings.Contains(fmt.Sprint(exp), "Secret") {
			t.Errorf("lookup expansion: %v", exp)
		}
		if status, _ := f.do("GET", "/api/records/opportunity?expand=name", "rep2", ""); status != 400 {
			t.Errorf("expanding a non-lookup: %d", status)
		}
		// Pointing a new record at the hidden account answers as if it did not exist.
		status, m := f.do("POST", "/api/records/contact", "rep2", fmt.Sprintf(`{"name": "Spy", "account": %q}`, secret))
		if status != 422 || !strings.Contains(fmt.Sprint(m), "no account with id") {
			t.Errorf("lookup to a hidden record: %d %v", status, m)
		}
		// A hidden field cannot be filtered on: it answers like an unknown field.
		status, m = f.do("GET", "/api/records/campaign?filter="+urlq(`budget > 0`), "rep2", "")
		if status != 400 || !strings.Contains(fmt.Sprint(m), "unknown field") {
			t.Errorf("filter on hidden field: %d %v", status, m)
		}
		status, m = f.do("GET", "/api/records/campaign?sort=budget", "rep2", "")
		if status != 400 {
			t.Errorf("sort on hidden field: %d %v", status, m)
		}
	})
}

// TestExpandMasksTargets expands lookups for a service agent: a target
// object the role cannot read expands to null, and hidden fields of a
// readable target stay hidden.
func TestExpandMasksTargets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storetest.SQLiteFrom(t, fixtureSeed))
	f.addUser(t, "agent", "service_agent")
	_, me := f.do("GET", "/api/auth/me", "agent", "")
	acc := f.create("admin", "account", `{"name": "Acme", "annual_revenue": 5000000}`)
	opp := f.create("admin", "opportunity", fmt.Sprintf(`{"name": "Big deal", "account": %q}`, acc))
	act := f.create("admin", "activity", fmt.Sprintf(`{"subject": "Call", "account": %q, "opportunity": %q, "owner_id": %q}`, acc, opp, me["user_id"]))
	status, got := f.do("GET", "/api/records/activity/"+act+"?expand=account,opportunity", "agent", "")
	if status != 200 {
		t.Fatalf("%d %v", status, got)
	}
	exp := got["_expand"].(map[string]any)
	account, ok := exp["account"].(map[string]any)
	if !ok || account["name"] != "Acme" {
		t.Fatalf("account not expanded: %v", exp)
	}
	if _, leaked := account["annual_revenue"]; leaked {
		t.Error("hidden field annual_revenue in the expanded account")
	}
	if exp["opportunity"] != nil || strings.Contains(fmt.Sprint(got), "Big deal") {
		t.Errorf("a service agent cannot read opportunities, yet expansion shows %v", exp["opportunity"])
	}
}
