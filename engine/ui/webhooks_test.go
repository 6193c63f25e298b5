package ui_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/internal/apitest"
)

// resendForm finds a delivery's resend button.
var resendForm = regexp.MustCompile(`action="(/ui/admin/kinds/webhooks/erp/deliveries/[^"]+/resend)"`)

// TestWebhookDeliveries: a webhook's editor in the builder lists its
// deliveries (the event, the record, the state, the attempts and the last
// answer) and resends one, which reaches the target again; a sales rep
// gets neither the page nor the resend.
func TestWebhookDeliveries(t *testing.T) {
	var got atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	t.Setenv(integration.AllowEnv, "127.0.0.1")
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		got.Store(0)
		s.Run(t, []apitest.Scenario{{Name: "a webhook", Method: "POST", Path: "/api/meta/webhooks", User: "admin", Status: 201,
			Body: fmt.Sprintf(`{"name": "erp", "url": %q, "secret": "s3cret-of-sixteen-chars", "events": [{"event": "record.created", "object": "account"}]}`, target.URL+"/hook")}})
		acc := s.Create("rep1", "account", `{"name": "Hook Co"}`)
		s.RunJobs()
		admin := signedIn(t, s, "admin")
		page := "/ui/admin/kinds/webhooks/erp"
		st, body := admin.get(page)
		m := resendForm.FindStringSubmatch(body)
		if st != 200 || got.Load() != 1 || m == nil || !strings.Contains(body, "record.created") || !strings.Contains(body, `href="/ui/o/account/`+acc+`"`) ||
			!strings.Contains(body, "Delivered") || !strings.Contains(body, "<td>204</td>") {
			t.Fatalf("the webhook's deliveries (%d sent): %d %s", got.Load(), st, body)
		}
		rep1 := signedIn(t, s, "rep1")
		if st, _ := rep1.get(page); st != 403 {
			t.Errorf("rep1's builder page: %d", st)
		}
		if st, _, _ := rep1.post(m[1], nil); st != 403 {
			t.Errorf("rep1's resend: %d", st)
		}
		if st, _, resp := admin.post(m[1], nil); st != 303 || resp.Header.Get("Location") != page+"?flash=delivery_resent" {
			t.Fatalf("resend: %d %v", st, resp.Header)
		}
		s.RunJobs()
		if st, body := admin.get(page + "?flash=delivery_resent"); st != 200 || got.Load() != 2 || !strings.Contains(body, "The delivery is queued again.") {
			t.Fatalf("resent (%d sent): %d", got.Load(), st)
		}
	})
}
