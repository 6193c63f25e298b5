package ui_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestNotificationsPage: the page of all the manager's notifications
// lists them newest first, read and unread, fifty a page; one marked read
// there stays listed as read and leaves the unread filter; "Mark all as
// read" empties it; a notification of a deal deleted since shows nothing
// of it; rep2, who got none, sees none of the manager's, and home and the
// header link the page.
func TestNotificationsPage(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		nextStepNotice(t, s, []any{"manager"}, "Next step of {{name}}")
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		gone := s.Create("rep1", "opportunity", `{"name": "Vanishing deal", "account": "`+acc+`"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`"}`)
		for i := 1; i <= 51; i++ {
			if st, body := s.Do("PATCH", "/api/records/opportunity/"+opp, "rep1", fmt.Sprintf(`{"next_step": "Call #%03d now", "version": %d}`, i, i)); st != 200 {
				t.Fatalf("patch %d: %d %v", i, st, body)
			}
		}
		if st, body := s.Do("PATCH", "/api/records/opportunity/"+gone, "rep1", `{"next_step": "Secret plan", "version": 1}`); st != 200 {
			t.Fatalf("patch: %d %v", st, body)
		}
		s.RunJobs()
		if st, body := s.Do("DELETE", "/api/records/opportunity/"+gone, "admin", ""); st != 204 {
			t.Fatalf("delete: %d %v", st, body)
		}
		_, list := s.Do("GET", "/api/notifications", "manager", "")
		items, _ := list["items"].([]any)
		if len(items) != 52 {
			t.Fatalf("the manager's notifications: %d", len(items))
		}
		id := func(i int) string { v, _ := items[i].(map[string]any)["id"].(string); return v }
		newest, fiftieth := id(1), id(49)
		read := "/ui/notifications/" + newest + "/read"
		mgr, rep2 := signedIn(t, s, "manager"), signedIn(t, s, "rep2")
		run(t, mgr, []pageCase{
			{name: "home and the header link the page; home withholds the deleted deal's", path: "/ui/", status: 200,
				contains:   []string{`<a href="/ui/notifications">All notifications</a>`, `<a href="/ui/notifications">Notifications</a>`, "About a record you may no longer see."},
				notContain: []string{"Secret plan", "Vanishing deal"}},
			{name: "the first page, newest first", path: "/ui/notifications", status: 200,
				contains: []string{"All notifications", `data-notice="` + newest + `" class="unread"`, "Deal: Call #051 now", "Deal: Call #003 now", `href="/ui/o/opportunity/` + opp + `"`, "About a record you may no longer see.",
					`action="` + read + `"`, `aria-label="Mark as read: Next step of Deal"`, `action="/ui/notifications/read-all"`, `href="/ui/notifications?after=` + fiftieth + `" rel="next"`},
				notContain: []string{"Call #002 now", "Secret plan", "Vanishing deal", "/ui/o/opportunity/" + gone, "First page"}},
			{name: "the second page", path: "/ui/notifications?after=" + fiftieth, status: 200,
				contains:   []string{"Deal: Call #002 now", "Deal: Call #001 now", `href="/ui/notifications">First page`},
				notContain: []string{"Call #003 now", `rel="next"`}},
		})
		st, _, resp := mgr.post(read, url.Values{"back": {"/ui/notifications?flash=all_marked_read"}})
		if st != 303 || resp.Header.Get("Location") != "/ui/notifications?flash=marked_read" {
			t.Fatalf("marked read from the page: %d %v", st, resp.Header)
		}
		run(t, mgr, []pageCase{
			{name: "read, and still listed", path: "/ui/notifications?flash=marked_read", status: 200,
				contains: []string{"Marked as read.", `data-notice="` + newest + `">`, "Deal: Call #051 now"}},
			{name: "the unread ones only", path: "/ui/notifications?show=unread", status: 200,
				contains:   []string{`href="/ui/notifications?show=unread" aria-current="page"`, "Deal: Call #050 now", `href="/ui/notifications?after=` + id(50) + `&amp;show=unread" rel="next"`},
				notContain: []string{"Call #051 now"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 sees none of the manager's", path: "/ui/notifications", status: 200, contains: []string{"No notifications yet."}, notContain: []string{"Call #", newest}},
			{name: "nor the second page through the manager's cursor", path: "/ui/notifications?after=" + fiftieth, status: 200, contains: []string{"No notifications yet."}, notContain: []string{"Call #"}},
			{name: "nor marks the manager's read", method: "POST", path: "/ui/notifications/" + id(1) + "/read", status: 404},
		})
		rep2.get("/ui/")
		if st, _, _ := rep2.post("/ui/notifications/read-all", url.Values{}); st != 303 {
			t.Fatalf("rep2's mark all read: %d", st)
		}
		_, list = s.Do("GET", "/api/notifications", "manager", "")
		if items, _ := list["items"].([]any); len(items) != 52 || strings.Count(fmt.Sprint(items), "read:false") != 51 {
			t.Fatalf("the manager's notifications after rep2's: %v", list)
		}
		st, _, resp = mgr.post("/ui/notifications/read-all", url.Values{"back": {"/ui/notifications?show=unread"}})
		if st != 303 || resp.Header.Get("Location") != "/ui/notifications?flash=all_marked_read&show=unread" {
			t.Fatalf("mark all read: %d %v", st, resp.Header)
		}
		run(t, mgr, []pageCase{
			{name: "no unread one left", path: "/ui/notifications?flash=all_marked_read&show=unread", status: 200,
				contains: []string{"All notifications are marked as read.", "No unread notifications."}, notContain: []string{"Call #"}},
			{name: "all listed as read", path: "/ui/notifications", status: 200, contains: []string{"Deal: Call #051 now", "Deal: Call #003 now"}, notContain: []string{`class="unread"`}},
			{name: "nothing waits on home", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}},
		})
	})
}
