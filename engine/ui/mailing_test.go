package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/mailserver/mailtest"
)

// withMail starts an SMTP server for the servers the test starts next
// and gives them a public address (which e-mail mailings need); it
// returns the server's mailbox. The test cannot run in parallel.
func withMail(t *testing.T) *mailtest.Mailbox {
	box, smtpURL := mailtest.Start(t)
	t.Setenv("CRM_SMTP_URL", smtpURL)
	t.Setenv("CRM_PUBLIC_URL", "https://crm.example.com")
	return box
}

// TestMailingPage: a campaign's page offers its mailings' page (the
// preview and test actions are run from there, not offered beside it),
// which lists the message templates, previews a mailing (its recipients
// counted, its first message rendered), sends it (the job runner delivers
// it) and lists it with its counts; a sales rep, who reads campaigns but
// may not send, gets neither the action nor the page, and a send posted
// anyway sends nothing; an object without mailings has no such page.
func TestMailingPage(t *testing.T) {
	box := withMail(t)
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Run(t, []apitest.Scenario{{Name: "a template", Method: "POST", Path: "/api/meta/message_templates", User: "admin", Status: 201,
			Body: `{"name": "hello", "label": {"en": "Hello letter", "zh": "问候信"}, "object": "contact", "channel": "email", "subject": {"en": "Hello {{name}}", "zh": "您好，{{name}}"}, "text": "Dear {{name}} of {{account.name}}"}`}})
		acc := s.Create("admin", "account", `{"name": "Mail Co"}`)
		for _, c := range []string{`{"name": "Zhao Lei", "email": "zhao@example.com", "account": "` + acc + `"}`, `{"name": "Qian Li", "account": "` + acc + `"}`} {
			s.Create("admin", "contact", c)
		}
		camp := s.Create("mkt", "campaign", `{"name": "Spring"}`)
		sent := len(box.All()) // the mailbox serves both databases' runs
		base := "/ui/o/campaign/" + camp
		form := url.Values{"template": {"hello"}, "filter": {`account.name == "Mail Co"`}, "track": {"1"}}
		mkt := signedIn(t, s, "mkt")
		if st, page := mkt.get(base); st != 200 || !strings.Contains(page, `href="`+base+`/send_mailing"`) || strings.Contains(page, "preview_mailing") {
			t.Fatalf("the campaign should offer its mailings: %d %s", st, page)
		}
		if st, page := mkt.get(base + "/send_mailing"); st != 200 || !strings.Contains(page, `<option value="hello"`) || !strings.Contains(page, "Hello letter") ||
			!strings.Contains(page, `<option value="en" selected>English</option>`) {
			t.Fatalf("mailing page: %d %s", st, page)
		}
		form.Set("_do", "preview")
		st, page, _ := mkt.post(base+"/send_mailing", form)
		if st != 200 || !strings.Contains(page, "<dt>Recipients</dt><dd>2</dd>") || !strings.Contains(page, "Dear Zhao Lei of Mail Co") || !strings.Contains(page, "zhao@example.com") ||
			!strings.Contains(page, "Skipped: no address") || len(box.All()) != sent {
			t.Fatalf("preview: %d %s", st, page)
		}
		form.Set("language", "zh") // the messages' language, not the sender's
		if st, page, _ = mkt.post(base+"/send_mailing", form); st != 200 || !strings.Contains(page, "您好，Zhao Lei") || !strings.Contains(page, `<option value="zh" lang="zh" selected>`) {
			t.Fatalf("a preview in Chinese: %d %s", st, page)
		}
		form.Del("language")
		form.Set("_do", "send")
		if st, page, resp := mkt.post(base+"/send_mailing", form); st != 303 || resp.Header.Get("Location") != base+"/send_mailing?flash=mailing_queued" {
			t.Fatalf("send: %d %s", st, page)
		}
		s.RunJobs()
		if got := box.All()[sent:]; len(got) != 1 || got[0].Subject != "Hello Zhao Lei" || got[0].To != "zhao@example.com" {
			t.Fatalf("delivered: %+v", got)
		}
		if st, page := mkt.get(base + "/send_mailing?flash=mailing_queued"); st != 200 || !strings.Contains(page, "The mailing is being sent.") ||
			!strings.Contains(page, "Hello letter (email)") || !strings.Contains(page, `<td class="num">1</td>`) {
			t.Fatalf("the mailing should be listed: %d %s", st, page)
		}
		lead := s.Create("mkt", "lead", `{"person": "Sun Li", "company": "Lotus"}`)
		if st, _, _ := mkt.post("/ui/o/lead/"+lead+"/send_mailing", form); st != 404 {
			t.Fatalf("a lead has no mailings: %d", st)
		}
		rep1 := signedIn(t, s, "rep1")
		if st, page := rep1.get(base); st != 200 || strings.Contains(page, "send_mailing") {
			t.Fatalf("rep1 reads the campaign without its mailings: %d %s", st, page)
		}
		if st, page := rep1.get(base + "/send_mailing"); st != 403 || strings.Contains(page, "Hello letter") {
			t.Fatalf("rep1's mailing page: %d", st)
		}
		if st, _, _ := rep1.post(base+"/send_mailing", form); st != 403 {
			t.Fatalf("rep1's send: %d", st)
		}
		s.RunJobs()
		if n := len(box.All()) - sent; n != 1 {
			t.Fatalf("rep1's send sent %d", n-1)
		}
	})
}
