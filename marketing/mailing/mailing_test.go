package mailing_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/mailserver/mailtest"
	"github.com/crmplatform/crm/sales"
)

// public is the server's public address in these tests.
const public = "https://crm.example.com"

// welcome is the e-mail template of the tests.
const welcome = `{"name": "welcome", "object": "contact", "channel": "email",
	"subject": {"en": "Hello {{name}}", "zh": "{{name}}，您好"},
	"html": {"en": "<html><body><p>Dear {{name}} of {{account.name}} ({{account.industry}}), from {{owner.name}}</p><a href=\"https://shop.example.com/spring\">Shop</a></body></html>"},
	"text": {"en": "Dear {{name}} of {{account.name}}"}}`

// setup starts an SMTP server and the whole server over db (a copy of
// apitest.Standard) with the welcome template, as apitest users plus campaigner (send_mailing on
// campaigns, reading only their own contacts).
func setup(t *testing.T, db *store.DB) (*apitest.Server, *mailtest.Mailbox) {
	box, url := startSMTP(t)
	t.Setenv("CRM_SMTP_URL", url)
	t.Setenv("CRM_PUBLIC_URL", public)
	t.Setenv("CRM_MAIL_RATE", "100000")
	s := apitest.Seeded(t, db, apitest.Options{})
	s.Run(t, []apitest.Scenario{
		{Name: "the template", Method: "POST", Path: "/api/meta/message_templates", User: "admin", Body: welcome, Status: 201},
		{Name: "a template writing a field marketing may not read", Method: "POST", Path: "/api/meta/message_templates", User: "admin",
			Body: `{"name": "birthday", "object": "contact", "channel": "email", "subject": "Happy birthday", "text": "{{name}}: {{birthday}}"}`, Status: 201},
		{Name: "a template checked when defined", Method: "POST", Path: "/api/meta/message_templates", User: "admin",
			Body: `{"name": "bad", "object": "contact", "channel": "email", "subject": "x", "text": "{{nickname}}"}`, Status: 422, Contains: []string{"nickname"}},
		{Name: "a role sending for its own contacts", Method: "POST", Path: "/api/roles", User: "admin",
			Body: `{"name": "campaigner", "permissions": [{"object": "campaign", "actions": ["read", "send_mailing"], "records": "all"}, {"object": "contact", "actions": ["read", "create"], "records": "own"}, {"object": "account", "actions": ["read"], "records": "all"}]}`, Status: 201},
		{Name: "its user", Method: "POST", Path: "/api/users", User: "admin",
			Body: `{"username": "camp", "password": "camp-password-1", "display_name": "Camp", "email": "camp@example.com", "roles": ["campaigner"]}`, Status: 201},
	})
	s.Login("camp", "camp-password-1")
	return s, box
}

// admin returns the context of the administrator.
func admin(t *testing.T, s *apitest.Server) context.Context {
	p, err := access.ActivePrincipal(context.Background(), s.DB.SQL(), s.DB.Dialect, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return access.WithPrincipal(context.Background(), p)
}

// TestMailingToAThousand: a mailing to 1,000 contacts arrives once each
// with its placeholders, skips those without an address, opted out or
// listed twice, resumes after a stop mid-send without sending anyone
// twice (and never re-sends a message a dead server may have sent), and
// records opens, clicks and unsubscribes through the tracking routes.
func TestMailingToAThousand(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s, box := setup(t, db)
		ctx := sales.WithAllowDuplicates(admin(t, s))
		eng := s.Platform.Engine
		acc := s.Create("admin", "account", `{"name": "Acme <Trading> & Co", "industry": "retail"}`)
		const n = 1000
		var rows []map[string]any
		for i := range n {
			rows = append(rows, map[string]any{"name": fmt.Sprintf("Contact %04d", i), "account": acc, "email": fmt.Sprintf("c%04d@example.com", i)})
		}
		for i := range 4 {
			rows = append(rows, map[string]any{"name": fmt.Sprintf("No address %d", i), "account": acc})
			rows = append(rows, map[string]any{"name": fmt.Sprintf("Opted out %d", i), "account": acc, "email": fmt.Sprintf("out%d@example.com", i), "email_opt_out": true})
			rows = append(rows, map[string]any{"name": fmt.Sprintf("Twice %d", i), "account": acc, "email": fmt.Sprintf("C%04d@Example.com", i)})
		}
		rows = append(rows, map[string]any{"name": "Gone", "account": acc, "email": "bounce@example.com"})
		for start := 0; start < len(rows); start += 200 {
			if _, err := eng.CreateMany(ctx, "contact", rows[start:min(start+200, len(rows))]); err != nil {
				t.Fatal(err)
			}
		}
		camp := s.Create("mkt", "campaign", `{"name": "Spring", "kind": "email"}`)
		actions := "/api/records/campaign/" + camp + "/actions/"
		s.Run(t, []apitest.Scenario{
			{Name: "preview", Method: "POST", Path: actions + "preview_mailing", User: "mkt", Body: `{"template": "welcome", "filter": "name startsWith 'C' || name startsWith 'T'", "limit": 2}`, Status: 200,
				Contains:   []string{`"recipients":1004`, `"to_send":1000`, `"skipped_duplicate":4`, `Dear Contact 0000 of Acme \u0026lt;Trading\u0026gt; \u0026amp; Co (Retail), from Administrator`, `"subject":"Hello Contact 0001"`, `"to":"c0001@example.com"`},
				NotContain: []string{"Contact 0002", "/m/u/"}},
			{Name: "in Chinese", Method: "POST", Path: actions + "preview_mailing", User: "mkt", Body: `{"template": "welcome", "language": "zh", "limit": 1}`, Status: 200,
				Contains: []string{`"subject":"Contact 0000，您好"`, `"skipped_no_address":4`, `"skipped_opted_out":4`}},
			{Name: "a user without the right", Method: "POST", Path: actions + "send_mailing", User: "rep1", Body: `{"template": "welcome"}`, Status: 403},
			{Name: "a user reading campaigns without the right", Method: "POST", Path: actions + "send_mailing", User: "manager", Body: `{"template": "welcome"}`, Status: 403},
			{Name: "a placeholder the sender may not read", Method: "POST", Path: actions + "preview_mailing", User: "mkt", Body: `{"template": "birthday"}`, Status: 403, Contains: []string{"birthday"}, NotContain: []string{"Contact 0000"}},
			{Name: "an unknown template", Method: "POST", Path: actions + "send_mailing", User: "mkt", Body: `{"template": "nope"}`, Status: 400},
			{Name: "an unknown key", Method: "POST", Path: actions + "send_mailing", User: "mkt", Body: `{"template": "welcome", "to": "all"}`, Status: 400},
			{Name: "a test to oneself needs an address", Method: "POST", Path: actions + "test_mailing", User: "mkt", Body: `{"template": "welcome"}`, Status: 400, Contains: []string{"no email"}},
		})
		status, sent := s.Do("POST", actions+"send_mailing", "mkt", `{"template": "welcome", "track": true}`)
		if status != 200 {
			t.Fatalf("send: %d %v", status, sent)
		}
		id := sent["id"].(string)
		counts := func() map[string]any {
			status, m := s.Do("GET", "/api/mailings/"+id, "mkt", "")
			if status != 200 {
				t.Fatalf("mailing: %d %v", status, m)
			}
			return m["counts"].(map[string]any)
		}
		want := func(key string, n int) {
			t.Helper()
			if got := counts()[key]; fmt.Sprint(got) != fmt.Sprint(n) {
				t.Errorf("%s: %v, want %d (%v)", key, got, n, counts())
			}
		}
		want("recipients", 1013)
		want("pending", 1001)
		want("skipped_no_address", 4)
		want("skipped_opted_out", 4)
		want("skipped_duplicate", 4)
		// A server dies while sending two recipients: their messages may
		// have gone, so they are never sent again.
		if _, err := db.SQL().ExecContext(context.Background(), store.Rebind(db.Dialect, `UPDATE crm_mailing_recipients SET state = 'sending', claim = 'dead' WHERE mailing_id = ? AND address IN ('c0998@example.com', 'c0999@example.com')`), id); err != nil {
			t.Fatal(err)
		}
		// Stop the runner once 300 messages arrived; a new one resumes.
		// (The timeout only bounds a test that would otherwise hang.)
		runCtx, stop := context.WithTimeout(context.Background(), 5*time.Minute)
		defer stop()
		var once sync.Once
		box.OnMessage = func(got int) {
			if got >= 300 {
				once.Do(stop)
			}
		}
		runner := eng.Jobs()
		runner.Run(runCtx)
		first := len(box.All())
		if first < 300 || first >= 999 {
			t.Fatalf("%d messages before the stop", first)
		}
		box.OnMessage = nil
		if err := runner.Drain(context.Background(), jobs.DrainOptions{Kinds: []string{"mailings.send"}}); err != nil {
			t.Fatal(err)
		}
		got := box.ByAddress()
		if len(got) != 998 {
			t.Errorf("%d addresses got mail, want 998", len(got))
		}
		for i := range 998 {
			if a := fmt.Sprintf("c%04d@example.com", i); got[a] != 1 {
				t.Errorf("%s got %d messages", a, got[a])
			}
		}
		for _, a := range []string{"c0998@example.com", "c0999@example.com", "out0@example.com", "bounce@example.com"} {
			if got[a] != 0 {
				t.Errorf("%s got %d messages", a, got[a])
			}
		}
		want("sent", 998)
		want("unconfirmed", 2)
		want("bounced", 1)
		want("pending", 0)
		// The message: placeholders filled and escaped, tracked.
		msgs := box.To("c0007@example.com")
		m := msgs[0]
		if m.Subject != "Hello Contact 0007" || !strings.Contains(m.HTML, "Dear Contact 0007 of Acme &lt;Trading&gt; &amp; Co (Retail), from Administrator") ||
			!strings.Contains(m.Text, "Dear Contact 0007 of Acme <Trading> & Co") || strings.Contains(m.HTML, "shop.example.com") {
			t.Fatalf("message %+v", m)
		}
		track := regexp.MustCompile(regexp.QuoteMeta(public) + `(/m/[ocu]/[A-Za-z0-9_-]+)`)
		paths := map[string]string{}
		for _, x := range track.FindAllStringSubmatch(m.HTML, -1) {
			paths[x[1][:5]] = x[1]
		}
		unsub := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
		if len(paths) != 3 || unsub != public+paths["/m/u/"] || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("tracking links %v, header %q", paths, unsub)
		}
		// A character in the token's middle changed: its last characters
		// may carry bits a decoder ignores (a forgery ending in "AA" was
		// the genuine token once in about 256 runs).
		forged := []byte(paths["/m/c/"])
		at := len(forged) - 10
		forged[at] = map[bool]byte{true: 'B', false: 'A'}[forged[at] == 'A']
		s.Run(t, []apitest.Scenario{
			{Name: "the pixel", Method: "GET", Path: paths["/m/o/"], Status: 200, Contains: []string{"GIF89a"}},
			{Name: "the pixel again", Method: "GET", Path: paths["/m/o/"], Status: 200},
			{Name: "the link", Method: "GET", Path: paths["/m/c/"], Status: 302},
			{Name: "a forged link", Method: "GET", Path: string(forged), Status: 404},
			{Name: "an open token as a click", Method: "GET", Path: "/m/c/" + paths["/m/o/"][5:], Status: 404},
			{Name: "the unsubscribe page changes nothing", Method: "GET", Path: paths["/m/u/"], Status: 200, Contains: []string{`<form method="post">`}},
			{Name: "unsubscribe", Method: "POST", Path: paths["/m/u/"], ContentType: "application/x-www-form-urlencoded", Body: "List-Unsubscribe=One-Click", Status: 200, Contains: []string{"unsubscribed"}},
			{Name: "the campaign's mailings", Method: "GET", Path: "/api/mailings?campaign=" + camp, User: "mkt", Status: 200, Contains: []string{`"id":"` + id + `"`, `"state":"sent"`}},
			{Name: "not to a user who cannot read the campaign", Method: "GET", Path: "/api/mailings/" + id, User: "agent", Status: 404, NotContain: []string{"counts"}},
			{Name: "nor its list", Method: "GET", Path: "/api/mailings?campaign=" + camp, User: "agent", Status: 403, NotContain: []string{id}},
		})
		if status, _ := s.Raw("GET", paths["/m/c/"], "", "", nil, nil); status != 302 {
			t.Fatalf("click: %d", status)
		}
		want("opened", 1)
		want("clicked", 1)
		want("unsubscribed", 1)
		st, c7 := s.Do("GET", "/api/records/contact?filter="+apitest.Query("email == 'c0007@example.com'"), "admin", "")
		if st != 200 || !strings.Contains(fmt.Sprint(c7), "email_opt_out:true") {
			t.Fatalf("the contact's opt-out: %d %v", st, c7)
		}
		// Every later mailing honours it, and the bounced address.
		s.Run(t, []apitest.Scenario{
			{Name: "the next mailing skips them", Method: "POST", Path: actions + "preview_mailing", User: "mkt", Body: `{"template": "welcome"}`, Status: 200,
				Contains: []string{`"skipped_opted_out":6`}},
		})
	})
}

// TestMailingReadsOnlyWhatTheSenderMay: a sender who may read only their
// own contacts mails only those, and a test goes to the sender alone.
func TestMailingReadsOnlyWhatTheSenderMay(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s, box := setup(t, db)
		acc := s.Create("admin", "account", `{"name": "Acme"}`)
		s.Create("admin", "contact", fmt.Sprintf(`{"name": "Hidden", "account": %q, "email": "hidden@example.com"}`, acc))
		s.Create("camp", "contact", fmt.Sprintf(`{"name": "Mine", "account": %q, "email": "mine@example.com"}`, acc))
		camp := s.Create("mkt", "campaign", `{"name": "Own"}`)
		actions := "/api/records/campaign/" + camp + "/actions/"
		s.Run(t, []apitest.Scenario{
			{Name: "preview", Method: "POST", Path: actions + "preview_mailing", User: "camp", Body: `{"template": "welcome"}`, Status: 200,
				Contains: []string{`"recipients":1`, "Dear Mine"}, NotContain: []string{"Hidden", "hidden@"}},
			{Name: "a filter cannot reach others", Method: "POST", Path: actions + "send_mailing", User: "camp", Body: `{"template": "welcome", "filter": "name == 'Hidden'"}`, Status: 200,
				Contains: []string{`"recipients":0`}},
			{Name: "send", Method: "POST", Path: actions + "send_mailing", User: "camp", Body: `{"template": "welcome"}`, Status: 200, Contains: []string{`"recipients":1`}},
			{Name: "test", Method: "POST", Path: actions + "test_mailing", User: "camp", Body: `{"template": "welcome"}`, Status: 200, Contains: []string{`"to":"camp@example.com"`}},
		})
		s.RunJobs()
		got := box.ByAddress()
		if len(got) != 2 || got["mine@example.com"] != 1 || got["camp@example.com"] != 1 {
			t.Fatalf("mail went to %v", got)
		}
		test := box.To("camp@example.com")[0]
		if test.Subject != "[TEST] Hello Mine" || !strings.Contains(test.HTML, "Dear Mine") {
			t.Fatalf("test %+v", test)
		}
	})
}

// TestMailingWritesTheSendersTimeZone: a mailing sent with X-Timezone
// writes datetimes in that zone when the job runner sends it later, as
// its preview did, not as UTC text nor in the server's zone.
func TestMailingWritesTheSendersTimeZone(t *testing.T) {
	storetest.DialectsFrom(t, apitest.Standard, func(t *testing.T, db *store.DB) {
		s, box := setup(t, db)
		acc := s.Create("admin", "account", `{"name": "Acme"}`)
		id := s.Create("admin", "contact", fmt.Sprintf(`{"name": "Wang", "account": %q, "email": "wang@example.com"}`, acc))
		_, rec := s.Do("GET", "/api/records/contact/"+id, "admin", "")
		created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["created_at"]))
		if err != nil {
			t.Fatalf("created_at %v: %v", rec["created_at"], err)
		}
		shanghai, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		want := "Wang joined " + created.In(shanghai).Format("2006-01-02 15:04")
		camp := s.Create("mkt", "campaign", `{"name": "Stamped"}`)
		zone := map[string]string{"X-Timezone": "Asia/Shanghai"}
		s.Run(t, []apitest.Scenario{
			{Name: "a template writing a datetime", Method: "POST", Path: "/api/meta/message_templates", User: "admin",
				Body: `{"name": "stamp", "object": "contact", "channel": "email", "subject": "Joined", "text": "{{name}} joined {{created_at}}"}`, Status: 201},
			{Name: "the preview in the sender's zone", Method: "POST", Path: "/api/records/campaign/" + camp + "/actions/preview_mailing", User: "admin", Header: zone,
				Body: `{"template": "stamp", "filter": "name == 'Wang'"}`, Status: 200, Contains: []string{want}},
			{Name: "send", Method: "POST", Path: "/api/records/campaign/" + camp + "/actions/send_mailing", User: "admin", Header: zone,
				Body: `{"template": "stamp", "filter": "name == 'Wang'"}`, Status: 200, Contains: []string{`"recipients":1`}},
		})
		s.RunJobs()
		got := box.To("wang@example.com")
		if len(got) != 1 || !strings.Contains(got[0].Text, want) {
			t.Fatalf("the message should say %q: %+v", want, got)
		}
	})
}
