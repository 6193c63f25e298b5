package workflows_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestAutomationNotifications: an automation notifies in-app the people
// it names who may read the record (in their language, with what they may
// read) and posts to a webhook, once the write commits.
func TestAutomationNotifications(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		var posts []string
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, string(b))
			mu.Unlock()
		}))
		defer hook.Close()
		t.Setenv("CRM_WEBHOOK_ALLOW", strings.TrimPrefix(hook.URL, "http://"))
		s := apitest.Seeded(t, db, apitest.Options{})
		doc, _ := json.Marshal(map[string]any{
			"name": "next_step_notice", "object": "opportunity", "changed": []string{"next_step"},
			"actions": []any{map[string]any{"notify": map[string]any{
				"channels": []string{"in_app", "webhook"}, "to": []any{"manager", map[string]string{"user": "rep2"}}, "url": hook.URL,
				"subject": map[string]string{"en": "Next step", "zh": "下一步"},
				"message": map[string]string{"en": "{{name}}: {{next_step}}", "zh": "{{name}}：{{next_step}}"},
			}}},
		})
		elsewhere := strings.Replace(string(doc), hook.URL, "http://10.1.2.3/hook", 1)
		s.Run(t, []apitest.Scenario{
			{Name: "a host not on the allow-list", Method: "POST", Path: "/api/meta/automations", User: "admin", Body: elsewhere, Status: 422, Code: "invalid_metadata",
				Contains: []string{"/actions/0/notify/url", "10.1.2.3", "CRM_WEBHOOK_ALLOW"}},
			{Name: "the automation", Method: "POST", Path: "/api/meta/automations", User: "admin", Body: string(doc), Status: 201},
		})
		if _, err := s.Platform.Access.UpdateUser(t.Context(), "manager", accessLanguage("zh")); err != nil {
			t.Fatal(err)
		}
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`"}`)
		mustPatch(t, s, "rep1", "opportunity", opp, `{"next_step": "Call Li"}`)
		s.RunJobs()
		s.Run(t, []apitest.Scenario{
			{Name: "the manager is told, in Chinese", Method: "GET", Path: "/api/notifications", User: "manager", Status: 200,
				Contains: []string{`"source":"automation:next_step_notice"`, `"subject":"下一步"`, `"body":"Deal：Call Li"`, `"read":false`}},
			{Name: "rep2, who cannot read the deal, is not", Method: "GET", Path: "/api/notifications", User: "rep2", Status: 200, Contains: []string{`"items":[]`}},
		})
		mu.Lock()
		got := strings.Join(posts, "\n")
		mu.Unlock()
		if len(posts) != 1 || !strings.Contains(got, `"message":"Deal: Call Li"`) || !strings.Contains(got, `"record_id":"`+opp+`"`) {
			t.Fatalf("webhook posts: %s", got)
		}
		// A refused write notifies nobody.
		status, _ := patch(t, s, "rep1", "opportunity", opp, `{"next_step": "x", "stage": "won"}`)
		if status != 422 {
			t.Fatalf("refused write: %d", status)
		}
		s.RunJobs()
		var n struct {
			Items []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
			} `json:"items"`
		}
		status, raw := s.Raw("GET", "/api/notifications", "manager", "", nil, nil)
		if status != 200 || json.Unmarshal(raw, &n) != nil || len(n.Items) != 1 || len(posts) != 1 {
			t.Fatalf("after a refused write: %s, %d posts", raw, len(posts))
		}
		id := n.Items[0].ID
		s.Run(t, []apitest.Scenario{
			{Name: "not someone else's", Method: "POST", Path: "/api/notifications/" + id + "/read", User: "rep1", Status: 404, Code: "not_found"},
			{Name: "read", Method: "POST", Path: "/api/notifications/" + id + "/read", User: "manager", Status: 204},
			{Name: "marked read", Method: "GET", Path: "/api/notifications", User: "manager", Status: 200, Contains: []string{`"read":true`, `"read_at"`}},
			{Name: "a bad limit", Method: "GET", Path: "/api/notifications?limit=0", User: "manager", Status: 400, Code: "bad_request"},
			{Name: "all read", Method: "POST", Path: "/api/notifications/read-all", User: "manager", Status: 204},
			{Name: "none unread", Method: "GET", Path: "/api/notifications", User: "manager", Status: 200, NotContain: []string{`"read":false`}},
			// Once the manager may no longer read the deal, the notification
			// no longer tells of it.
			{Name: "the deal deleted", Method: "DELETE", Path: "/api/records/opportunity/" + opp, User: "admin", Status: 204},
			{Name: "withheld", Method: "GET", Path: "/api/notifications", User: "manager", Status: 200,
				Contains: []string{`"id":"` + id + `"`, `"withheld":true`, `"record_id":""`, `"subject":""`}, NotContain: []string{"Call Li", opp}},
		})
	})
}
