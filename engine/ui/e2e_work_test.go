package ui_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWork: a sales rep converts a lead (choosing the existing
// account the duplicate rule found), imports leads from a CSV file, moves an opportunity with a state
// button and submits it for approval with a comment; the manager finds it
// waiting on the home page and approves it, then opens a report's chart
// and drills down into a group.
func TestBrowserWork(t *testing.T) {
	s, base := liveServer(t)
	acc := s.Create("rep1", "account", `{"name": "West Lake Trading Co., Ltd."}`)
	lead := s.Create("rep1", "lead", `{"person": "Li Lei", "company": "West Lake Trading", "status": "new"}`)
	opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "discount": 15, "stage": "proposal"}`)

	b := newTab(t, base, "rep1")
	b.login("rep1")
	b.open("/ui/o/lead/" + lead)
	b.submit(`a[href="/ui/o/lead/` + lead + `/convert"]`)
	b.checkA11y("conversion page")
	b.shot("lead-convert")
	b.submit(`form.convert-form button[type=submit]`)
	b.forgetErrors() // the duplicate answers 409
	if !b.has(`input[name="t_account"][value="id:` + acc + `"]`) {
		t.Fatalf("the duplicate account is not offered: %s", b.text("main"))
	}
	b.checkA11y("conversion with duplicates")
	b.shot("lead-convert-duplicate")
	b.checkNarrow("conversion with duplicates", "lead-convert-duplicate")
	b.do(chromedp.Click(chromedp.CSS(`input[name="t_account"][value="id:` + acc + `"]`)))
	b.submit(`form.convert-form button[type=submit]`)
	if body := b.text("main"); !strings.Contains(body, "Converted.") || !strings.Contains(body, "West Lake Trading Co., Ltd.") {
		t.Fatalf("the converted lead: %s", body)
	}
	b.noErrors("conversion")

	// A CSV import: the preview maps the columns by label, then imports.
	csvFile := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(csvFile, []byte("姓名,Company,Email\nWang Fang,Lotus Tea,wang@lotus.example\nBad Mail,Nowhere,not-an-email\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.open("/ui/import/lead")
	b.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{csvFile}))
	b.submit(`button[name="step"][value="preview"]`)
	if v := eval[string](b, `document.getElementById("m_0").value`); v != "person" {
		t.Errorf("the first column maps to %q", v)
	}
	b.checkA11y("import preview")
	b.shot("import-preview")
	b.checkNarrow("import preview", "import-preview")
	b.submit(`button[name="step"][value="import"]`)
	if body := b.text("main"); !strings.Contains(body, "Importing…") {
		t.Errorf("the import in the background: %s", body)
	}
	s.RunJobs()
	// the page asks again every two seconds until the import is through
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector("main").textContent.includes("1 created, 0 updated, 1 skipped.")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("the import: %v: %s", err, b.text("main"))
	}
	b.checkA11y("import done")
	b.noErrors("import")

	b.open("/ui/o/opportunity/" + opp)
	b.submit(`form.state button[value="negotiation"]`)
	if got := b.text(`form.state strong`); got != "Negotiation" {
		t.Errorf("the stage after the state button: %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("comment-submit"), "15 % for a first order"))
	b.submit(`form[action$="/actions/submit"] button[type=submit]`)
	if body := b.text(".approvals"); !strings.Contains(body, "Pending") || !strings.Contains(body, "15 % for a first order") {
		t.Fatalf("the request on the record: %s", body)
	}
	b.checkA11y("opportunity with an approval")
	b.shot("opportunity-approval")
	b.noErrors("submission")

	// An automation tells the manager of the next step in the app.
	if st, body := s.Do("POST", "/api/meta/automations", "admin", `{"name": "next_step_notice", "object": "opportunity", "changed": ["next_step"],
		"actions": [{"notify": {"channels": ["in_app"], "to": ["manager"], "subject": "Next step", "message": "{{name}}: {{next_step}}"}}]}`); st != 201 {
		t.Fatalf("automation: %d %v", st, body)
	}
	other := s.Create("rep1", "opportunity", `{"name": "Boilers", "account": "`+acc+`", "stage": "proposal"}`)
	if st, body := s.Do("PATCH", "/api/records/opportunity/"+other, "rep1", `{"next_step": "Call Li", "version": 1}`); st != 200 {
		t.Fatalf("next step: %d %v", st, body)
	}
	s.RunJobs()

	m := newTab(t, base, "manager")
	m.login("manager")
	if body := m.text(".tasks"); !strings.Contains(body, "Tea machines") || !strings.Contains(body, "Discount approval") ||
		!strings.Contains(body, "Next step") || !strings.Contains(body, "Boilers: Call Li") {
		t.Fatalf("the manager's home lacks the approval or the notification: %s", body)
	}
	m.checkA11y("home with approvals")
	m.shot("home-approvals")
	m.submit(`.tasks li[data-kind="notification"] form.mark-read button`)
	if body := m.text("main"); !strings.Contains(body, "Marked as read.") || strings.Contains(body, "Call Li") {
		t.Fatalf("the notification marked read: %s", body)
	}
	m.submit(`.tasks a[href="/ui/o/opportunity/` + opp + `"]`)
	m.do(chromedp.SendKeys(chromedp.ID("comment-approve"), "fine"))
	m.submit(`form[action$="/actions/approve"] button[type=submit]`)
	if body := m.text(".approvals"); !strings.Contains(body, "Approved") || !strings.Contains(body, "fine") {
		t.Fatalf("the approved request: %s", body)
	}
	m.noErrors("approval")

	// A report: its chart drawn, a group drilled down to its records.
	m.open("/ui/reports/pipeline_funnel")
	if !eval[bool](m, `(() => { const i = document.querySelector("figure.chart img"); return i.complete && i.naturalWidth > 0 })()`) {
		t.Error("the report's chart is not drawn")
	}
	m.checkA11y("report")
	m.shot("report")
	m.checkNarrow("report", "report")
	m.submit(`table.report a[href*="drill?group=negotiation"]`)
	if body := m.text("main"); !strings.Contains(body, "Tea machines") {
		t.Errorf("the drill-down lacks the opportunity: %s", body)
	}
	m.checkA11y("drill-down")
	m.noErrors("report")

	// The selected deals given to rep2 at once: "select all" checks every
	// row, the owner is chosen, then set on each.
	byAccount := `account == "` + acc + `"`
	_, deals := s.Do("GET", "/api/records/opportunity?filter="+url.QueryEscape(byAccount), "manager", "")
	m.open("/ui/o/opportunity?filter=" + url.QueryEscape(byAccount))
	m.do(chromedp.Click(chromedp.CSS(`input[data-select-all="mass"]`)))
	if n := eval[int](m, `document.querySelectorAll('input[form="mass"]:checked').length`); n != len(deals["items"].([]any)) || n < 2 {
		t.Fatalf("select all checked %d of the account's %d deals", n, len(deals["items"].([]any)))
	}
	m.checkA11y("list with selected records")
	m.submit(`form#mass button[value="update"]`)
	m.do(chromedp.SetValue(chromedp.ID("mass-field"), "owner_id"))
	m.submit(`button[name="_do"][value="update"]`)
	m.checkA11y("mass update")
	m.shot("mass-update")
	m.do(chromedp.SetValue(chromedp.ID("f_owner_id"), s.UserID("rep2")))
	m.submit(`button[name="_do"][value="apply"]`)
	if body := m.text("main"); !strings.Contains(body, "The selected records were updated.") {
		t.Fatalf("the mass update: %s", body)
	}
	for _, id := range []string{opp, other} {
		if _, rec := s.Do("GET", "/api/records/opportunity/"+id, "admin", ""); rec["owner_id"] != s.UserID("rep2") {
			t.Errorf("%s is %v's after the mass update", id, rec["owner_id"])
		}
	}
	m.noErrors("mass update")
}
