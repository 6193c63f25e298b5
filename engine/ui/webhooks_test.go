package ui_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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
			!strings.Contains(body, "Delivered") || !strings.Contains(body, `<td class="num">204</td>`) {
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

// nextLink finds a page's link to the next one.
var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

// nextAttempt finds a delivery's last status 503 and its next attempt.
var nextAttempt = regexp.MustCompile(`<td class="num">503</td><td>[^<]*</td><td>\d{4}-\d\d-\d\d \d\d:\d\d</td>`)

// TestWebhookDeliveriesPage: a webhook's page of deliveries, linked from
// its editor, lists them all newest first, 50 a page, with the state,
// the last status, the last error and the next attempt, filtered by
// state (delivered, pending while the target answers 503, failed once
// the webhook is deactivated); a failed one resent from there is pending
// again and the page shown again; non-administrators get 403.
func TestWebhookDeliveriesPage(t *testing.T) {
	var refuse atomic.Value // the id of the record whose deliveries the target refuses
	refuse.Store("none")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), refuse.Load().(string)) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	t.Setenv(integration.AllowEnv, "127.0.0.1")
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		hook := func(active bool) string {
			return fmt.Sprintf(`{"name": "erp", "url": %q, "secret": "s3cret-of-sixteen-chars", "active": %t, "events": [{"event": "record.created", "object": "account"}]}`, target.URL+"/hook", active)
		}
		s.Run(t, []apitest.Scenario{{Name: "a webhook", Method: "POST", Path: "/api/meta/webhooks", User: "admin", Status: 201, Body: hook(true)}})
		ok := make([]string, 51)
		for i := range ok {
			ok[i] = s.Create("rep1", "account", fmt.Sprintf(`{"name": "Hook Co %02d"}`, i+1))
		}
		refused := s.Create("rep1", "account", `{"name": "Refused Co"}`)
		refuse.Store(refused)
		s.RunJobs()
		late := s.Create("rep1", "account", `{"name": "Late Co"}`)
		s.Run(t, []apitest.Scenario{{Name: "deactivated", Method: "PUT", Path: "/api/meta/webhooks/erp", User: "admin", Status: 200, Body: hook(false)}})
		s.RunJobs()
		page := "/ui/admin/kinds/webhooks/erp/deliveries"
		rec := func(id string) string { return `href="/ui/o/account/` + id + `"` }
		admin := signedIn(t, s, "admin")
		run(t, admin, []pageCase{
			{name: "the editor links the page", path: "/ui/admin/kinds/webhooks/erp", status: 200, contains: []string{`<a href="` + page + `">All deliveries</a>`, rec(late)}},
			{name: "all of them, newest first", path: page, status: 200,
				contains:   []string{"Deliveries of webhook erp", `aria-current="page">All</a>`, rec(late), rec(refused), rec(ok[50]), rec(ok[3]), "Failed", "Pending", "Delivered", `rel="next"`},
				notContain: []string{rec(ok[2]), rec(ok[0]), "First page"}},
			{name: "the failed ones", path: page + "?state=failed", status: 200,
				contains:   []string{rec(late), "the webhook was removed or deactivated", `aria-current="page">Failed</a>`},
				notContain: []string{rec(refused), rec(ok[50]), `rel="next"`}},
			{name: "the pending ones, with the last status and the next attempt", path: page + "?state=pending", status: 200,
				contains:   []string{rec(refused), `<td class="num">503</td>`, `aria-current="page">Pending</a>`},
				notContain: []string{rec(late), rec(ok[50]), `<td class="num">204</td>`}},
			{name: "the delivered ones", path: page + "?state=delivered", status: 200,
				contains:   []string{rec(ok[50]), `<td class="num">204</td>`, `rel="next"`},
				notContain: []string{rec(late), rec(refused)}},
			{name: "a state the deliveries have not", path: page + "?state=lost", status: 400, contains: []string{"state must be pending, delivered or failed"}},
			{name: "an unknown webhook", path: "/ui/admin/kinds/webhooks/nope/deliveries", status: 404},
		})
		if _, body := admin.get(page + "?state=pending"); !nextAttempt.MatchString(body) {
			t.Errorf("the pending delivery shows no next attempt: %s", body)
		}
		_, body := admin.get(page)
		m := nextLink.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no next page: %s", body)
		}
		run(t, admin, []pageCase{
			{name: "the second page", path: strings.ReplaceAll(m[1], "&amp;", "&"), status: 200,
				contains:   []string{rec(ok[2]), rec(ok[0]), `href="` + page + `?state=all">First page</a>`},
				notContain: []string{rec(ok[3]), rec(late), `rel="next"`}},
		})
		_, body = admin.get(page + "?state=failed")
		r := resendForm.FindStringSubmatch(body)
		if r == nil {
			t.Fatalf("no resend on the failed page: %s", body)
		}
		st, _, resp := admin.post(r[1], url.Values{"back": {page + "?state=failed"}})
		if st != 303 || resp.Header.Get("Location") != page+"?flash=delivery_resent&state=failed" {
			t.Fatalf("resend from the page: %d %v", st, resp.Header)
		}
		run(t, admin, []pageCase{
			{name: "resent: no longer failed", path: page + "?flash=delivery_resent&state=failed", status: 200, contains: []string{"The delivery is queued again.", "No deliveries in this state."}, notContain: []string{rec(late)}},
			{name: "but pending", path: page + "?state=pending", status: 200, contains: []string{rec(late), rec(refused)}},
		})
		for _, user := range []string{"rep1", "manager"} {
			run(t, signedIn(t, s, user), []pageCase{
				{name: user + " may not see the deliveries", path: page, status: 403, notContain: []string{rec(late)}},
			})
		}
	})
}
