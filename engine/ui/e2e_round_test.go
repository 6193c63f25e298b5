package ui_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/crmplatform/crm/integration"
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
	m := signedInTab(t, base, "manager")
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
	r := signedInTab(t, base, "rep1")
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
	if align := eval[string](r, `getComputedStyle(document.querySelector("table.report tbody td.num")).textAlign`); align != "right" {
		t.Errorf("the report's numbers are aligned %s", align)
	}
	r.checkPage("ad-hoc report", "adhoc-report")
	// Saved as the rep's own report, then run from its page.
	r.do(chromedp.SetValue(chromedp.ID("a-name"), "my_stages"), chromedp.SetValue(chromedp.ID("a-label"), "My stages"))
	r.submit(`form.adhoc-save button[type=submit]`)
	if loc := eval[string](r, `location.pathname + location.search`); loc != "/ui/reports/my_stages?flash=report_saved" {
		t.Fatalf("saving the ad-hoc report went to %s: %s", loc, r.text("main"))
	}
	if body := r.text("table.report"); !strings.Contains(body, "5,000.00") {
		t.Fatalf("the saved report's table: %s", body)
	}
	r.open("/ui/reports")
	if got := r.text("ul.reports"); !strings.Contains(got, "My stages (mine)") {
		t.Errorf("the reports page does not list the rep's own: %s", got)
	}
	r.checkPage("reports with one of the user's own", "reports-own")

	// The rep's own dashboard: a copy of the home one, edited.
	r.open("/ui/")
	r.do(chromedp.Click(chromedp.CSS(`details.save-dashboard summary`)), chromedp.SetValue(chromedp.ID("dash-name"), "mine"), chromedp.SetValue(chromedp.ID("dash-label"), "Mine"))
	r.submit(`details.save-dashboard button[type=submit]`)
	r.submit(`a[href="/ui/dashboards/mine/edit"]`)
	first := eval[string](r, `document.getElementById("w0_title").value`)
	if got := eval[string](r, `document.querySelector('button[value="up:1"]').getAttribute("aria-label") || ""`); got != "Move up: Widget 2" {
		t.Errorf("widget 2's Move up is named %q", got)
	}
	r.checkPage("dashboard editor", "dashboard-edit")
	// A widget shows the inputs of its kind only, and others when its kind
	// changes.
	shown := func() string {
		return eval[string](r, `[...document.querySelectorAll("#w0 [data-widget]")].filter(f => !f.hidden).map(f => f.querySelector("[name]").name).join(" ")`)
	}
	if got := shown(); !strings.HasPrefix(got, "w0_report w0_p_period w0_p_owner") || strings.Contains(got, "w0_object") {
		t.Errorf("the first widget (%s) shows %q", eval[string](r, `document.getElementById("w0_type").value`), got)
	}
	eval[bool](r, `(() => { const s = document.getElementById("w0_type"); const was = s.value; s.value = "list"; s.dispatchEvent(new Event("change", {bubbles: true})); window.wasType = was; return true })()`)
	if got := shown(); got != "w0_object w0_filter w0_sort w0_limit" {
		t.Errorf("the widget turned into a list shows %q", got)
	}
	eval[bool](r, `(() => { const s = document.getElementById("w0_type"); s.value = window.wasType; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
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

	r2 := signedInTab(t, base, "rep2")
	r2.open("/ui/o/account/" + acc)
	if got := r2.text("h1"); !strings.Contains(got, "Round Tea Co") {
		t.Fatalf("rep2 cannot open the shared account: %s", r2.text("main"))
	}
	r2.noErrors("the shared account")
}

// TestBrowserAdminPages: the administrator's pages of this round, in a
// real browser. The solution templates: the exported metadata with a new
// object, uploaded to compare, shows that object's addition, and the
// upgrade to the membership template is reviewed (its plan and SQL); a
// webhook's deliveries: from its editor to all of them, the pending one
// (the target answers 503) by its state, a delivered one resent; an index
// declared in the Indexes section of the object page, reviewed and
// applied, is listed there with its remove box; and why rep2 may not read
// rep1's account, explained. Each page passes the accessibility checks
// (the object page's walk starting at its Indexes), at 390 px too.
func TestBrowserAdminPages(t *testing.T) {
	var refused atomic.Value // the id of the account whose delivery the target refuses
	refused.Store("none")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); strings.Contains(string(b), refused.Load().(string)) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	t.Setenv(integration.AllowEnv, "127.0.0.1")
	s, base := liveServer(t)
	if st, body := s.Do("POST", "/api/meta/webhooks", "admin", fmt.Sprintf(`{"name": "erp", "url": %q, "secret": "s3cret-of-sixteen-chars", "events": [{"event": "record.created", "object": "account"}]}`, target.URL+"/hook")); st != 201 {
		t.Fatalf("webhook: %d %v", st, body)
	}
	acc := s.Create("rep1", "account", `{"name": "Delivered Co"}`)
	refused.Store(s.Create("rep1", "account", `{"name": "Refused Co"}`))
	s.RunJobs()

	// The templates: compare an archive, review an upgrade.
	_, export, _ := signedIn(t, s, "admin").do("GET", "/ui/admin/templates/export", nil)
	files := map[string]string{"objects/machine.yaml": "name: machine\nlabel: {en: Machine}\nfields:\n  - {name: name, type: text, label: {en: Name}}\n"}
	for f, content := range unzipped(t, []byte(export)) {
		files[f] = content
	}
	archive := filepath.Join(t.TempDir(), "mine.zip")
	if err := os.WriteFile(archive, zipOf(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	a := signedInTab(t, base, "admin")
	a.open("/ui/admin/")
	a.submit(`a[href="/ui/admin/templates"]`)
	if body := a.text("main"); !strings.Contains(body, "Standard CRM") || !strings.Contains(body, "Membership CRM") {
		t.Fatalf("the templates page: %s", body)
	}
	a.do(chromedp.SetUploadFiles(chromedp.ID("archive"), []string{archive}))
	a.submit(`form[action="/ui/admin/templates/compare"] button[type=submit]`)
	if got := a.text("ul.changes"); !strings.Contains(got, "add_object machine") || strings.Contains(got, "remove_object") {
		t.Fatalf("the comparison: %s", a.text("main"))
	}
	a.checkPage("templates compared", "admin-templates")
	a.submit(`form[action="/ui/admin/templates/membership/review"] button[type=submit]`)
	if body := a.text("main"); !strings.Contains(body, "upgrade template standard 1.0.0 → membership 1.0.0") || !strings.Contains(body, "add_object member_card") ||
		!strings.Contains(a.text("pre.sql"), "CREATE TABLE") || !a.has(`form[action="/ui/admin/templates/membership/apply"] #sample`) {
		t.Fatalf("the upgrade's plan: %s", body)
	}
	a.checkPage("template upgrade plan", "admin-template-plan")

	// The webhook's deliveries.
	a.open("/ui/admin/kinds/webhooks/erp")
	a.submit(`a[href="/ui/admin/kinds/webhooks/erp/deliveries"]`)
	a.submit(`nav.views a[href$="deliveries?state=pending"]`)
	if body := a.text("main"); !a.has("table") || !strings.Contains(body, "Pending") || !strings.Contains(body, "503") || strings.Contains(a.text("tbody"), "Delivered") {
		t.Fatalf("the pending deliveries: %s", body)
	}
	a.checkPage("pending deliveries", "webhook-deliveries-pending")
	a.submit(`nav.views a[href$="deliveries?state=delivered"]`)
	resend := `tr:has(a[href="/ui/o/account/` + acc + `"]) form[action$="/resend"] button`
	if got := eval[string](a, `document.querySelector('`+resend+`').getAttribute("aria-label") || ""`); got != "Resend: account "+acc {
		t.Errorf("the resend button of %s is named %q", acc, got)
	}
	a.submit(resend)
	if body := a.text("main"); !strings.Contains(body, "The delivery is queued again.") || !strings.Contains(body, "No deliveries in this state.") {
		t.Fatalf("the delivery resent: %s", body)
	}
	a.checkPage("deliveries", "webhook-deliveries")

	// An index declared on the object page.
	a.open("/ui/admin/objects/opportunity")
	a.do(chromedp.SetValue(chromedp.ID("b_index0_fields"), "owner_id\nstage\n-amount"))
	a.submit(`form[action="/ui/admin/objects/opportunity"] button[type=submit]`)
	a.apply("the index", "update object opportunity", `CREATE INDEX IF NOT EXISTS "idx_opportunity_owner_id_stage_amount_desc_id"`)
	a.open("/ui/admin/objects/opportunity")
	if got := eval[string](a, `document.getElementById("b_index0_fields").value`); got != "owner_id\nstage\n-amount" || !a.has("#b_index0_remove") || !a.has("#b_index1_fields") {
		t.Fatalf("the declared index: %q: %s", got, a.text("#indexes"))
	}
	if w := eval[[]float64](a, `["b_index0_unique", "b_index0_remove"].map(id => document.getElementById(id).getBoundingClientRect().width)`); w[0] != w[1] {
		t.Errorf("the checkboxes of an index are %v px wide", w)
	}
	a.checkA11yFrom("object page's indexes", "#indexes")
	a.shot("builder-object-indexes")
	a.checkNarrow("object page's indexes", "builder-object-indexes")
	a.noErrors("indexes")

	// Why rep2 may not read rep1's account.
	a.open("/ui/admin/access")
	a.setSelect("#x-user", "rep2")
	a.setSelect("#x-object", "account")
	a.do(chromedp.SendKeys(chromedp.ID("x-record"), acc), chromedp.SendKeys(chromedp.ID("x-field"), "name"))
	a.submit(`form[action="/ui/admin/access"] button[type=submit]`)
	if got := a.text(`dd[data-verdict="read"]`); !strings.Contains(got, "Denied") {
		t.Fatalf("rep2 reading rep1's account: %s", a.text("main"))
	}
	a.checkPage("explain access", "admin-access")
}
