package mailing_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
)

// clock is a test's settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestThrottle: a mailing sends at most the configured rate per minute;
// the rest waits for the next minute.
func TestThrottle(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		box, url := startSMTP(t)
		t.Setenv("CRM_SMTP_URL", url)
		t.Setenv("CRM_PUBLIC_URL", public)
		t.Setenv("CRM_MAIL_RATE", "3")
		c := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		s := apitest.New(t, db, apitest.Options{Platform: platform.Config{Now: c.Now}})
		s.Run(t, []apitest.Scenario{{Name: "the template", Method: "POST", Path: "/api/meta/message_templates", User: "admin", Body: welcome, Status: 201}})
		acc := s.Create("admin", "account", `{"name": "Acme"}`)
		for i := range 7 {
			s.Create("admin", "contact", fmt.Sprintf(`{"name": "C%d", "account": %q, "email": "c%d@example.com"}`, i, acc, i))
		}
		camp := s.Create("mkt", "campaign", `{"name": "Slow"}`)
		if st, m := s.Do("POST", "/api/records/campaign/"+camp+"/actions/send_mailing", "mkt", `{"template": "welcome"}`); st != 200 {
			t.Fatalf("send: %d %v", st, m)
		}
		for _, want := range []struct {
			advance time.Duration
			sent    int
		}{{0, 3}, {30 * time.Second, 3}, {30 * time.Second, 6}, {time.Minute, 7}} {
			c.add(want.advance)
			s.RunJobs()
			if got := len(box.All()); got != want.sent {
				t.Fatalf("after %v more: %d sent, want %d", want.advance, got, want.sent)
			}
		}
	})
}

// TestSMS: SMS go to the operator's gateway as JSON, one per recipient,
// with the same per-recipient records; a number the gateway refuses is a
// bounce; a template needing a phone the sender may not read is refused.
func TestSMS(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		var got []map[string]string
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]string
			if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			if m["to"] == "+8613900000000" {
				http.Error(w, "unknown number", http.StatusUnprocessableEntity)
				return
			}
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}))
		defer gw.Close()
		t.Setenv("CRM_SMS_WEBHOOK_URL", gw.URL)
		s, _ := setup(t, db)
		s.Run(t, []apitest.Scenario{{Name: "the SMS template", Method: "POST", Path: "/api/meta/message_templates", User: "admin",
			Body: `{"name": "sms", "object": "contact", "channel": "sms", "text": {"zh": "{{name}}您好，春季优惠。回T退订", "en": "Hi {{name}}"}}`, Status: 201}})
		acc := s.Create("admin", "account", `{"name": "Acme"}`)
		s.Create("admin", "contact", fmt.Sprintf(`{"name": "李雷", "account": %q, "mobile": "+86 139 1234 5678"}`, acc))
		s.Create("admin", "contact", fmt.Sprintf(`{"name": "韩梅梅", "account": %q, "mobile": "+86 139 0000 0000"}`, acc))
		s.Create("admin", "contact", fmt.Sprintf(`{"name": "Out", "account": %q, "mobile": "+86 139 5555 5555", "sms_opt_out": true}`, acc))
		camp := s.Create("mkt", "campaign", `{"name": "SMS", "kind": "sms"}`)
		path := "/api/records/campaign/" + camp + "/actions/send_mailing"
		s.Run(t, []apitest.Scenario{
			{Name: "marketing may not read mobiles", Method: "POST", Path: path, User: "mkt", Body: `{"template": "sms", "language": "zh"}`, Status: 403, Contains: []string{"mobile"}},
			{Name: "the administrator sends", Method: "POST", Path: path, User: "admin", Body: `{"template": "sms", "language": "zh"}`, Status: 200, Contains: []string{`"recipients":3`, `"skipped_opted_out":1`}},
		})
		s.RunJobs()
		if len(got) != 1 || got[0]["to"] != "+8613912345678" || got[0]["text"] != "李雷您好，春季优惠。回T退订" || got[0]["ref"] == "" {
			t.Fatalf("the gateway got %v", got)
		}
		st, list := s.Do("GET", "/api/mailings?campaign="+camp, "admin", "")
		counts := list["items"].([]any)[0].(map[string]any)["counts"].(map[string]any)
		if st != 200 || fmt.Sprintf("%v %v %v", counts["sent"], counts["bounced"], counts["skipped_opted_out"]) != "1 1 1" {
			t.Fatalf("counts %d %v", st, counts)
		}
	})
}
