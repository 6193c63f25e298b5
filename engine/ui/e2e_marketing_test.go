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
// first (answering no sends nothing); a sales rep's quote page offers its
// document to print; both pages pass the accessibility checks.
func TestBrowserMailingAndPrint(t *testing.T) {
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
	if body := m.text("main"); !strings.Contains(body, "1 recipients") || !strings.Contains(body, "sun@jade.example") || !strings.Contains(body, "Sun Mei, you are invited") {
		t.Fatalf("the preview: %s", body)
	}
	m.checkA11y("mailing preview")
	m.noErrors("mailing preview")
	var asked atomic.Int32
	if err := chromedp.Listen(m.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			asked.Add(1)
			go func() {
				_, _ = chromedp.Call(m.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
	m.do(chromedp.Click(chromedp.CSS(`button[name="_do"][value="send"]`)))
	m.open("/ui/o/campaign/" + camp + "/send_mailing")
	if asked.Load() != 1 || !strings.Contains(m.text("main"), "No mailing yet.") {
		t.Fatalf("sending should ask first (%d dialogs) and, refused, send nothing: %s", asked.Load(), m.text("main"))
	}

	r := newTab(t, base, "rep1")
	r.login("rep1")
	r.open("/ui/o/quote/" + quote)
	if !r.has(`a[href="/ui/o/quote/` + quote + `/print/quote.pdf"]`) {
		t.Fatalf("the quote's page offers no print: %s", r.text("main"))
	}
	r.checkA11y("quote with its print card")
	r.noErrors("quote page")
}
