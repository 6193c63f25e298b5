package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserRep: a sales rep signs in, fills the generated lead form
// (the province narrows with the country, a missing name is shown next to
// its field), saves, sees the record, its list and their own account; a
// hidden field and another rep's record stay out of sight. Every main page
// passes the accessibility check, fits 390 px and logs no browser error.
func TestBrowserRep(t *testing.T) {
	s, base := liveServer(t)
	acc := s.Create("rep1", "account", `{"name": "Hangzhou Tea Co", "industry": "retail"}`)
	other := s.Create("rep2", "account", `{"name": "Rep2 Secret Account"}`)
	s.Create("rep1", "account", `{"name": "Beijing Silk"}`)
	s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "stage": "proposal"}`)
	camp := s.Create("admin", "campaign", `{"name": "Spring fair", "budget": "99999"}`)
	s.Create("rep1", "activity", `{"subject": "Visit Hangzhou Tea", "kind": "visit", "starts_at": "`+time.Now().UTC().Format(time.RFC3339)+`"}`)

	b := newTab(t, base, "rep1")
	b.open("/ui/login")
	b.checkA11y("sign-in page")
	b.shot("login")
	b.noErrors("sign-in page")
	b.login("rep1")
	b.checkA11y("home page")
	b.shot("home")
	b.checkNarrow("home page", "home")
	b.noErrors("home page")

	// The generated form: cascade, validation error next to its field.
	b.open("/ui/o/lead/new")
	if n := eval[int](b, `document.querySelectorAll("#f_province option[value]:not([value=''])").length`); n != 0 {
		t.Errorf("province offers %d options before a country is chosen", n)
	}
	b.setSelect("#f_country", "us")
	b.do(chromedp.WaitReady(chromedp.CSS(`#f_province option[value="ca"]`)))
	if b.has(`#f_province option[value="zj"]`) {
		t.Error("province still offers Zhejiang for the United States")
	}
	b.setSelect("#f_country", "cn")
	b.do(chromedp.WaitReady(chromedp.CSS(`#f_province option[value="zj"]`)))
	if b.has(`#f_province option[value="ca"]`) {
		t.Error("province still offers California for China")
	}
	b.setSelect("#f_province", "zj")
	b.do(chromedp.SendKeys(chromedp.ID("f_company"), "West Lake Trading"))
	b.checkA11y("new lead form")
	b.shot("lead-form")
	b.checkNarrow("new lead form", "lead-form")
	b.submit(`form.record-form button[type=submit]`)
	if !b.has("#f_person_error") || !strings.Contains(b.text("#w_person"), "required") {
		t.Fatalf("no error next to the person field: %s", b.text("main"))
	}
	if eval[string](b, `document.getElementById("f_person").getAttribute("aria-invalid")`) != "true" {
		t.Error("the person input is not marked invalid")
	}
	if v := eval[string](b, `document.getElementById("f_province").value`); v != "zj" {
		t.Errorf("the province chosen was lost: %q", v)
	}
	b.shot("lead-form-error")
	b.checkA11y("lead form with an error")
	b.forgetErrors() // the refused form answers 422
	b.do(chromedp.SendKeys(chromedp.ID("f_person"), "<script>alert(1)</script>"))
	b.submit(`form.record-form button[type=submit]`)
	if got := b.text("h1"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Fatalf("detail title %q", got)
	}
	if !strings.Contains(b.text("main"), "Zhejiang") {
		t.Error("the detail page lacks the province")
	}
	b.checkA11y("lead detail")
	b.shot("lead-detail")
	b.checkNarrow("lead detail", "lead-detail")
	b.noErrors("lead detail")

	// Lists and the account with its related opportunity.
	b.open("/ui/o/account")
	if body := b.text("main"); !strings.Contains(body, "Hangzhou Tea Co") || strings.Contains(body, "Rep2 Secret Account") {
		t.Errorf("account list: %s", body)
	}
	b.checkA11y("account list")
	b.shot("account-list")
	b.checkNarrow("account list", "account-list")
	b.open("/ui/o/account/" + acc)
	if body := b.text("main"); !strings.Contains(body, "Tea machines") {
		t.Errorf("account detail lacks its opportunity: %s", body)
	}
	b.shot("account-detail")
	b.noErrors("accounts")

	// Lookup type-ahead: typing narrows the accounts offered, only readable ones.
	b.open("/ui/o/opportunity/new")
	if !b.has(`#f_account option[value]`) || strings.Contains(b.text("#f_account"), "Rep2 Secret Account") {
		t.Errorf("account choices: %s", b.text("#f_account"))
	}
	b.do(chromedp.SendKeys(chromedp.ID("f_account_q"), "Hang"))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`!document.querySelector("#f_account").textContent.includes("Beijing Silk")`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("the search did not narrow the accounts: %v; offered: %s", err, b.text("#f_account"))
	}
	if got := b.text("#f_account"); !strings.Contains(got, "Hangzhou Tea Co") {
		t.Errorf("the search lost the account: %s", got)
	}
	b.noErrors("lookup search")

	// The kanban: a card dragged to another stage moves there.
	b.open("/ui/board/opportunity")
	b.checkA11y("board")
	b.shot("board")
	b.checkNarrow("board", "board")
	if !b.has(`section[data-drop-value="proposal"] [data-card]`) {
		t.Fatalf("the card is not in Proposal: %s", b.text("main"))
	}
	// While dragged, the stages the workflow does not allow from Proposal
	// are greyed with the reason and refuse the drop; the others accept it.
	if got := eval[string](b, `(() => {
		const card = document.querySelector("[data-card]"), dt = new DataTransfer();
		card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
		const q = document.querySelector('section[data-drop-value="qualify"]'), n = document.querySelector('section[data-drop-value="negotiation"]');
		const refused = q.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
		const reason = getComputedStyle(q, "::before").content;
		const out = [q.className, n.className, String(refused), reason].join("|");
		card.dispatchEvent(new DragEvent("dragend", {bubbles: true, dataTransfer: dt}));
		return out;
	})()`); got != `column no-drop|column may-drop|true|"Not allowed here: the state workflow or your rights"` {
		t.Errorf("the columns while dragging: %s", got)
	}
	if got := eval[string](b, `(() => { const o = document.querySelector("[data-card] select[name=to] option[value=qualify]"); return o.disabled + " " + o.textContent })()`); got != "true Qualify — not allowed" {
		t.Errorf("the move form offers a stage the workflow forbids: %s", got)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Evaluate[chromedp.Void](`(() => {
		const card = document.querySelector("[data-card]"), col = document.querySelector('section[data-drop-value="negotiation"] ul');
		const dt = new DataTransfer();
		card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
		col.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
		col.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
	})()`))); err != nil {
		t.Fatalf("drag: %v", err)
	}
	b.do(chromedp.WaitReady(chromedp.CSS("main")))
	if !b.has(`section[data-drop-value="negotiation"] [data-card]`) || !strings.Contains(b.text("main"), "Moved.") {
		t.Errorf("the dragged card did not move: %s", b.text("main"))
	}
	b.noErrors("board")

	// The calendar of activities, by month, week and day.
	for _, view := range []string{"month", "week", "day"} {
		b.open("/ui/calendar/activity?view=" + view)
		if !strings.Contains(b.text("main"), "Visit Hangzhou Tea") {
			t.Errorf("the %s calendar lacks the visit: %s", view, b.text("main"))
		}
		b.checkA11y(view + " calendar")
		b.shot("calendar-" + view)
		b.checkNarrow(view+" calendar", "calendar-"+view)
	}
	b.noErrors("calendar")

	// Chinese: chosen in the header, remembered, labels from the metadata.
	b.open("/ui/o/lead/new")
	b.submit(`form.lang button[value="zh"]`)
	if body := b.text("main"); !strings.Contains(body, "新建线索") || !strings.Contains(body, "姓名") || !strings.Contains(body, "省份") {
		t.Errorf("the form in Chinese: %s", body)
	}
	b.checkA11y("Chinese lead form")
	b.shot("lead-form-zh")
	b.open("/ui/o/opportunity")
	if body := b.text("main"); !strings.Contains(body, "销售机会") || !strings.Contains(body, "方案报价") && !strings.Contains(body, "商务谈判") {
		t.Errorf("the list in Chinese: %s", body)
	}
	b.shot("opportunity-list-zh")
	b.submit(`form.lang button[value="en"]`)
	b.noErrors("Chinese pages")

	// A hidden field is absent; another rep's record is not found.
	b.open("/ui/o/campaign/" + camp)
	if body := b.text("main"); strings.Contains(body, "Budget") || strings.Contains(body, "99,999") {
		t.Errorf("a hidden field shows: %s", body)
	}
	b.open("/ui/o/campaign/" + camp + "/edit")
	b.forgetErrors()
	b.open("/ui/o/account/" + other)
	if body := b.text("main"); strings.Contains(body, "Rep2 Secret Account") || !strings.Contains(body, "Not found") {
		t.Errorf("another rep's account: %s", body)
	}
	b.forgetErrors() // that page answers 404
}
