package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserInboxReportsAndSharing: the pages users reach beyond their
// records, in a real browser. The manager opens all their notifications
// from home (sent by an automation), shows the unread ones and marks all
// read; a rep builds an ad-hoc summary report (object, grouping, a sum,
// a chart) and sees its table and drawn chart; saves a copy of the home
// dashboard, retitles a widget in the editor and saves it with Enter in
// a text field (which must press Save, not a widget's "Move up"), then
// sees the new title on the home page; and shares an account with rep2,
// who can then open it. Each page passes the accessibility checks, at
// 390 px too.
func TestBrowserInboxReportsAndSharing(t *testing.T) {
	s, base := liveServer(t)
	nextStepNotice(t, s, []any{"manager"}, "Next step of {{name}}")
	acc := s.Create("rep1", "account", `{"name": "Round Tea Co"}`)
	for _, o := range []struct{ name, stage, amount string }{{"Round One", "proposal", "1200"}, {"Round Two", "proposal", "800"}, {"Round Three", "won", "3000"}} {
		opp := s.Create("rep1", "opportunity", `{"name": "`+o.name+`", "account": "`+acc+`", "stage": "`+o.stage+`", "amount": `+o.amount+`}`)
		if st, body := s.Do("PATCH", "/api/records/opportunity/"+opp, "rep1", `{"next_step": "Call about `+o.name+`", "version": 1}`); st != 200 {
			t.Fatalf("next step: %d %v", st, body)
		}
	}
	s.RunJobs()

	// The manager's notifications: all, the unread ones, all marked read.
	m := newTab(t, base, "manager")
	m.login("manager")
	m.submit(`.tasks a[href="/ui/notifications"]`)
	if body := m.text("main"); !strings.Contains(body, "Round One: Call about Round One") || !strings.Contains(body, "Round Three: Call about Round Three") {
		t.Fatalf("the notifications page: %s", body)
	}
	m.submit(`nav.views a[href="/ui/notifications?show=unread"]`)
	if n := eval[int](m, `document.querySelectorAll("tr.unread").length`); n != 3 {
		t.Fatalf("%d unread notifications listed, want 3: %s", n, m.text("main"))
	}
	m.checkPage("notifications", "notifications")
	m.submit(`form[action="/ui/notifications/read-all"] button[type=submit]`)
	if body := m.text("main"); !strings.Contains(body, "All notifications are marked as read.") || !strings.Contains(body, "No unread notifications.") {
		t.Fatalf("after marking all read: %s", body)
	}
	m.checkA11y("notifications, all read")
	m.submit(`nav.views a[href="/ui/notifications"]`)
	if n := eval[int](m, `document.querySelectorAll("tr[data-notice]:not(.unread)").length`); n != 3 || m.has("tr.unread") {
		t.Fatalf("%d notifications listed as read, want 3: %s", n, m.text("main"))
	}
	m.noErrors("notifications")

	// An ad-hoc summary of the rep's deals by stage, with a chart.
	r := newTab(t, base, "rep1")
	r.login("rep1")
	r.open("/ui/reports")
	r.submit(`a[href="/ui/adhoc"]`)
	r.setSelect("#a-object", "opportunity")
	r.submit(`form.adhoc button[type=submit]`)
	r.setSelect("#a-g1", "stage")
	r.setSelect("#a-af1", "count")
	r.setSelect("#a-af2", "sum")
	r.setSelect("#a-ax2", "amount")
	r.setSelect("#a-chart", "bar")
	r.checkA11y("ad-hoc report form")
	r.submit(`form.adhoc button[name="run"]`)
	if body := r.text("table.report"); !strings.Contains(body, "Sum of Amount") || !strings.Contains(body, "2,000.00") || !strings.Contains(body, "3,000.00") || !strings.Contains(body, "5,000.00") {
		t.Fatalf("the ad-hoc report's table: %s", body)
	}
	if !eval[bool](r, `(() => { const i = document.querySelector("figure.chart img"); return i.complete && i.naturalWidth > 0 })()`) {
		t.Error("the ad-hoc report's chart is not drawn")
	}
	r.checkPage("ad-hoc report", "adhoc-report")

	// The rep's own dashboard: a copy of the home one, edited.
	r.open("/ui/")
	r.do(chromedp.Click(chromedp.CSS(`details.save-dashboard summary`)), chromedp.SetValue(chromedp.ID("dash-name"), "mine"), chromedp.SetValue(chromedp.ID("dash-label"), "Mine"))
	r.submit(`details.save-dashboard button[type=submit]`)
	r.submit(`a[href="/ui/dashboards/mine/edit"]`)
	first := eval[string](r, `document.getElementById("w0_title").value`)
	r.checkPage("dashboard editor", "dashboard-edit")
	// Enter in the second widget's title submits the form with its first
	// submit button: Save goes to the dashboard; "Move up" would stay in
	// the editor.
	eval[string](r, `document.getElementById("w1_title").value = ""`)
	if _, err := chromedp.Run(r.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.ID("w1_title"), "Deals this round"+kb.Enter))); err != nil {
		t.Fatalf("Enter in the editor: %v", err)
	}
	r.do(chromedp.WaitReady(chromedp.CSS("main")))
	if loc := eval[string](r, `location.pathname + location.search`); loc != "/ui/?dashboard=mine&flash=dashboard_saved" {
		t.Fatalf("Enter in the editor did not save: at %s: %s", loc, r.text("main"))
	}
	if got := eval[[]string](r, `[...document.querySelectorAll(".widget h3")].map(h => h.textContent.trim())`); len(got) < 2 || got[0] != first || got[1] != "Deals this round" {
		t.Fatalf("the saved dashboard's widgets: %q (the first was %q)", got, first)
	}
	r.checkA11y("dashboard saved")
	r.noErrors("dashboard editor")

	// The account shared with rep2 for reading.
	r.open("/ui/o/account/" + acc)
	r.submit(`a[href="/ui/o/account/` + acc + `/shares"]`)
	r.checkA11y("sharing, shared with nobody")
	r.setSelect("#share-user", s.UserID("rep2"))
	r.setSelect("#share-access", "read")
	r.submit(`form[action="/ui/o/account/` + acc + `/shares"] button[type=submit]`)
	if body := r.text("main"); !strings.Contains(body, "Shared.") || !strings.Contains(r.text("table.records"), "rep2") {
		t.Fatalf("the sharing page after sharing: %s", body)
	}
	r.checkPage("sharing", "record-shares")

	r2 := newTab(t, base, "rep2")
	r2.login("rep2")
	r2.open("/ui/o/account/" + acc)
	if got := r2.text("h1"); !strings.Contains(got, "Round Tea Co") {
		t.Fatalf("rep2 cannot open the shared account: %s", r2.text("main"))
	}
	r2.noErrors("the shared account")
}
