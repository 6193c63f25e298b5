package ui_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestMassPages: a list offers its records' checkboxes and "update" and
// "delete" to users holding those rights; a manager sets the stage of the
// selected deals, gives them to another rep (the owner, a transfer) and
// deletes them, each step through its page; a selection holding a record
// the manager may not reach changes nothing and says which record refused
// it (in Chinese too); a field chosen anew shows its input instead of
// setting an empty value.
func TestMassPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Mass Buyer"}`)
		var deals []string
		for _, n := range []string{"Mass A", "Mass B"} {
			deals = append(deals, s.Create("rep1", "opportunity", `{"name": "`+n+`", "account": "`+acc+`", "amount": 100}`))
		}
		hidden := s.Create("admin", "opportunity", `{"name": "Admin's deal", "account": "`+s.Create("admin", "account", `{"name": "Admin Co"}`)+`"}`)
		field := func(id, name string) any {
			_, rec := s.Do("GET", "/api/records/opportunity/"+id, "admin", "")
			return rec[name]
		}

		rep := signedIn(t, s, "rep1")
		_, page := rep.get("/ui/o/opportunity")
		if !strings.Contains(page, `form="mass"`) || !strings.Contains(page, `value="update"`) || strings.Contains(page, `value="delete"`) {
			t.Fatalf("a rep's list offers update but not delete of the selected records:\n%s", page)
		}

		m := signedIn(t, s, "manager")
		m.get("/ui/o/opportunity")
		post := func(c *client, vals url.Values, ids ...string) (int, string) {
			t.Helper()
			vals["id"] = ids
			st, body, _ := c.post("/ui/o/opportunity/mass", vals)
			return st, body
		}
		if st, body := post(m, url.Values{"_do": {"update"}}, deals...); st != 200 || !strings.Contains(body, `<option value="stage">`) || !strings.Contains(body, `<option value="owner_id">`) {
			t.Fatalf("the fields to set: %d\n%s", st, body)
		}
		if st, body := post(m, url.Values{"_do": {"update"}, "_field": {"stage"}}, deals...); st != 200 || !strings.Contains(body, `name="stage"`) {
			t.Fatalf("the stage's input: %d\n%s", st, body)
		}
		// Apply with a field other than the one whose input was shown: its input, nothing set.
		if st, body := post(m, url.Values{"_do": {"apply"}, "_field": {"amount"}, "_shown": {"stage"}, "stage": {"lost"}}, deals...); st != 200 || !strings.Contains(body, `name="amount"`) || field(deals[0], "amount") != json.Number("100.00") {
			t.Fatalf("a field chosen anew: %d, amount %v\n%s", st, field(deals[0], "amount"), body)
		}
		// A record the manager may not reach: nothing changes, the page says which.
		for _, c := range []struct {
			client *client
			want   string
		}{{m, "Nothing was changed"}, {signedInZh(t, s, "manager"), "未做任何修改"}} {
			c.client.get("/ui/o/opportunity")
			if st, body := post(c.client, url.Values{"_do": {"apply"}, "_field": {"stage"}, "_shown": {"stage"}, "stage": {"lost"}}, deals[0], hidden, deals[1]); st != 422 || !strings.Contains(body, c.want) || !strings.Contains(body, hidden) {
				t.Errorf("a selection with a record out of reach: %d\n%s", st, body)
			}
		}
		if field(deals[0], "stage") == "lost" || field(hidden, "stage") == "lost" {
			t.Fatalf("a refused mass update changed records")
		}
		m.get("/ui/o/opportunity")
		if st, _ := post(m, url.Values{"_do": {"apply"}, "_field": {"stage"}, "_shown": {"stage"}, "stage": {"lost"}}, deals...); st != 303 {
			t.Fatalf("set the stage: %d", st)
		}
		if st, _ := post(m, url.Values{"_do": {"apply"}, "_field": {"owner_id"}, "_shown": {"owner_id"}, "owner_id": {s.UserID("rep2")}}, deals...); st != 303 {
			t.Fatalf("give them to rep2: %d", st)
		}
		for _, id := range deals {
			if field(id, "stage") != "lost" || field(id, "owner_id") != s.UserID("rep2") {
				t.Errorf("%s after the mass updates: stage %v, owner %v", id, field(id, "stage"), field(id, "owner_id"))
			}
		}
		if st, body := post(m, url.Values{"_do": {"delete"}}, deals...); st != 200 || !strings.Contains(body, "Delete these 2 records?") {
			t.Fatalf("confirm the delete: %d\n%s", st, body)
		}
		if st, _ := post(m, url.Values{"_do": {"delete_confirmed"}}, deals...); st != 303 {
			t.Fatalf("delete: %d", st)
		}
		for _, id := range deals {
			if st, _ := s.Do("GET", "/api/records/opportunity/"+id, "admin", ""); st != 404 {
				t.Errorf("%s after the mass delete: %d", id, st)
			}
		}
		if st, _ := post(m, url.Values{"_do": {"update"}}); st != 400 {
			t.Errorf("nothing selected: %d", st)
		}
	})
}
