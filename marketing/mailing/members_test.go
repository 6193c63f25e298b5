package mailing_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// memberObject is campaign_member as the standard template defines it,
// added when the template at hand has none.
const memberObject = `{"name": "campaign_member", "title_field": "campaign", "fields": [
	{"name": "campaign", "type": "lookup", "target": "campaign", "required": true, "on_delete": "cascade"},
	{"name": "contact", "type": "lookup", "target": "contact", "on_delete": "cascade"},
	{"name": "lead", "type": "lookup", "target": "lead", "on_delete": "cascade"},
	{"name": "status", "type": "picklist", "default": "planned", "options": [{"value": "planned"}, {"value": "sent"}, {"value": "bounced"}, {"value": "opened"}, {"value": "clicked"}, {"value": "responded"}, {"value": "unsubscribed"}]}]}`

// TestCampaignMembers: a mailing to a campaign's members reaches only
// them, and each member's status follows what the mailing and its
// recipient did: sent, bounced, opened, clicked, unsubscribed; a
// recipient reached by a filter becomes a member.
func TestCampaignMembers(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s, box := setup(t, db)
		if st, _ := s.Do("GET", "/api/meta/objects/campaign_member", "admin", ""); st == 404 {
			s.Run(t, []apitest.Scenario{{Name: "members", Method: "POST", Path: "/api/meta/objects", User: "admin", Body: memberObject, Status: 201}})
		}
		acc := s.Create("admin", "account", `{"name": "Acme"}`)
		camp := s.Create("admin", "campaign", `{"name": "Members"}`)
		ids := map[string]string{}
		for _, n := range []string{"ann", "bob", "cat", "bounce", "out"} {
			ids[n] = s.Create("admin", "contact", fmt.Sprintf(`{"name": %q, "account": %q, "email": "%s@example.com"}`, n, acc, n))
		}
		for _, n := range []string{"ann", "bob", "bounce"} {
			s.Create("admin", "campaign_member", fmt.Sprintf(`{"campaign": %q, "contact": %q}`, camp, ids[n]))
		}
		actions := "/api/records/campaign/" + camp + "/actions/"
		s.Run(t, []apitest.Scenario{
			{Name: "members only", Method: "POST", Path: actions + "send_mailing", User: "admin", Body: `{"template": "welcome", "members": true, "track": true}`, Status: 200, Contains: []string{`"recipients":3`}},
		})
		s.RunJobs()
		if got := box.ByAddress(); len(got) != 2 || got["ann@example.com"] != 1 || got["bob@example.com"] != 1 {
			t.Fatalf("mail went to %v", got)
		}
		status := func() map[string]string {
			st, list := s.Do("GET", "/api/records/campaign_member?limit=50&filter="+apitest.Query(fmt.Sprintf("campaign == %q", camp)), "admin", "")
			if st != 200 {
				t.Fatalf("members: %d %v", st, list)
			}
			out := map[string]string{}
			for _, it := range list["items"].([]any) {
				m := it.(map[string]any)
				for n, id := range ids {
					if m["contact"] == id {
						out[n] = m["status"].(string)
					}
				}
			}
			return out
		}
		if got := fmt.Sprint(status()); got != "map[ann:sent bob:sent bounce:bounced]" {
			t.Fatalf("after sending: %s", got)
		}
		links := regexp.MustCompile(regexp.QuoteMeta(public) + `(/m/[ocu]/[A-Za-z0-9_-]+)`)
		path := func(who, kind string) string {
			for _, x := range links.FindAllStringSubmatch(box.To(who + "@example.com")[0].HTML, -1) {
				if strings.HasPrefix(x[1], kind) {
					return x[1]
				}
			}
			t.Fatalf("no %s link for %s", kind, who)
			return ""
		}
		s.Run(t, []apitest.Scenario{
			{Name: "ann opens", Method: "GET", Path: path("ann", "/m/o/"), Status: 200},
			{Name: "bob clicks", Method: "GET", Path: path("bob", "/m/c/"), Status: 302},
			{Name: "ann opens again", Method: "GET", Path: path("ann", "/m/o/"), Status: 200},
		})
		if got := fmt.Sprint(status()); got != "map[ann:opened bob:clicked bounce:bounced]" {
			t.Fatalf("after opens and clicks: %s", got)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "bob unsubscribes", Method: "POST", Path: path("bob", "/m/u/"), ContentType: "application/x-www-form-urlencoded", Body: "List-Unsubscribe=One-Click", Status: 200},
			{Name: "a filter reaches cat", Method: "POST", Path: actions + "send_mailing", User: "admin", Body: `{"template": "welcome", "filter": "name == 'cat' || name == 'ann'"}`, Status: 200},
		})
		s.RunJobs()
		if got := fmt.Sprint(status()); got != "map[ann:opened bob:unsubscribed bounce:bounced cat:sent]" {
			t.Fatalf("at the end: %s", got)
		}
	})
}
