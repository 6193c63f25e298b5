package ui_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserMailingAndPrint: a marketing user previews a campaign's
// mailing of the standard invitation in a real browser, and sending asks
// first (answering no sends nothing, yes sends it and lists it); a sales
// rep's quote page offers its document to print; the pages pass the
// accessibility checks, at 390 px too.
func TestBrowserMailingAndPrint(t *testing.T) {
	box := withMail(t)
	s, base := liveServer(t)
	acc := s.Create("rep1", "account", `{"name": "Jade Garden Hotel"}`)
	s.Create("rep1", "contact", `{"name": "Sun Mei", "email": "sun@jade.example", "account": "`+acc+`"}`)
	quote := s.Create("rep1", "quote", `{"name": "Tea sets for the lobby", "account": "`+acc+`"}`)
	camp := s.Create("mkt", "campaign", `{"name": "Autumn tasting"}`)

	m := newTab(t, base, "mkt")
	m.login("mkt")
	m.open("/ui/o/campaign/" + camp)
	m.submit(`a[href="/ui/o/campaign/` + camp + `/send_mailing"]`)
	m.submit(`button[name="_do"][value="preview"]`)
	if body := m.text("main"); !strings.Contains(body, "To send") || !strings.Contains(body, "sun@jade.example") || !strings.Contains(body, "Sun Mei, you are invited") {
		t.Fatalf("the preview: %s", body)
	}
	m.checkA11y("mailing preview")
	m.noErrors("mailing preview")
	m.shot("campaign-mailing")
	m.checkNarrow("mailing preview", "campaign-mailing")
	var asked atomic.Int32
	var accept atomic.Bool
	if err := chromedp.Listen(m.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			asked.Add(1)
			go func() {
				_, _ = chromedp.Call(m.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept.Load()})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
	send := `button[name="_do"][value="send"]`
	m.do(chromedp.Click(chromedp.CSS(send)))
	m.open("/ui/o/campaign/" + camp + "/send_mailing")
	if asked.Load() != 1 || !strings.Contains(m.text("main"), "No mailing yet.") {
		t.Fatalf("sending should ask first (%d dialogs) and, refused, send nothing: %s", asked.Load(), m.text("main"))
	}
	accept.Store(true)
	m.submit(send)
	s.RunJobs()
	m.open("/ui/o/campaign/" + camp + "/send_mailing")
	if body := m.text("main"); asked.Load() != 2 || len(box.To("sun@jade.example")) != 1 || !strings.Contains(body, "Event invitation (email)") {
		t.Fatalf("the mailing accepted should be sent and listed (%d dialogs): %s", asked.Load(), body)
	}
	m.checkA11y("mailings sent")
	m.checkNarrow("mailings sent", "campaign-mailings-sent")
	m.noErrors("mailings")

	r := newTab(t, base, "rep1")
	r.login("rep1")
	r.open("/ui/o/quote/" + quote)
	if !r.has(`a[href="/ui/o/quote/` + quote + `/print/quote.pdf"]`) {
		t.Fatalf("the quote's page offers no print: %s", r.text("main"))
	}
	r.checkA11y("quote with its print card")
	r.noErrors("quote page")
}
