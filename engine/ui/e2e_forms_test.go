package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserKindForms: an administrator creates an approval process and
// a report in the builder's forms generated from their kinds' schemas
// (rows added with buttons, a formula's error shown next to it at its
// line and column before anything is saved, each plan reviewed before it
// applies); both are in force at once: a deal is submitted into the
// process and the report runs.
func TestBrowserKindForms(t *testing.T) {
	s, base := liveServer(t)
	acc := s.Create("rep1", "account", `{"name": "Acme"}`)
	opp := s.Create("rep1", "opportunity", `{"name": "Plant", "account": "`+acc+`", "amount": "2000000", "stage": "proposal"}`)
	s.Create("rep1", "opportunity", `{"name": "Pumps", "account": "`+acc+`", "amount": "30000", "stage": "qualify"}`)

	a := newTab(t, base, "admin")
	a.login("admin")

	// An approval process.
	a.open("/ui/admin/kinds/approvals/new")
	a.do(chromedp.SendKeys(chromedp.ID("d-name"), "big_deal"), chromedp.SendKeys(chromedp.ID("d-label"), "Big deal"),
		chromedp.SendKeys(chromedp.ID("d-label_zh"), "大单审批"), chromedp.SetValue(chromedp.ID("d-entry_criteria"), "amount >\n  1000000 &&"))
	a.setSelect("#d-object", "opportunity")
	a.submit(`button[value="add:/steps"]`)
	a.do(chromedp.SendKeys(chromedp.ID("d-steps-0-name"), "gm"), chromedp.SendKeys(chromedp.ID("d-steps-0-label"), "General manager"))
	a.submit(`button[value="add:/steps/0/approvers"]`)
	a.setSelect("#d-steps-0-approvers-0", "role")
	a.do(chromedp.SendKeys(chromedp.ID("d-steps-0-approvers-0_v"), "admin"))
	a.checkA11y("approval form")
	a.shot("builder-form-approval")
	a.checkNarrow("approval form", "builder-form-approval")
	a.submit("#review")
	a.forgetErrors() // the refused form answers 422
	if msg := a.text("#d-entry_criteria_error"); !strings.Contains(msg, "line 2, column 12") {
		t.Fatalf("the formula's error next to it: %q", msg)
	}
	if got := eval[string](a, `document.getElementById("d-steps-0-approvers-0_v").value`); got != "admin" {
		t.Fatalf("the form lost the approver: %q", got)
	}
	a.shot("builder-form-error")
	a.do(chromedp.SetValue(chromedp.ID("d-entry_criteria"), "amount > 1000000"))
	a.submit("#review")
	a.apply("approval process", "add_document approvals big_deal")

	// A report: opportunities by stage with their total amount.
	a.open("/ui/admin/kinds/reports/new")
	a.do(chromedp.SendKeys(chromedp.ID("d-name"), "amount_by_stage"), chromedp.SendKeys(chromedp.ID("d-label"), "Amount by stage"),
		chromedp.SendKeys(chromedp.ID("d-label_zh"), "各阶段金额"))
	a.setSelect("#d-object", "opportunity")
	a.setSelect("#d-kind", "summary")
	a.submit(`button[value="add:/group_by"]`)
	a.do(chromedp.SendKeys(chromedp.ID("d-group_by-0-field"), "stage"))
	a.submit(`button[value="add:/aggregates"]`)
	a.do(chromedp.SendKeys(chromedp.ID("d-aggregates-0-name"), "total"), chromedp.SendKeys(chromedp.ID("d-aggregates-0-label"), "Total amount"),
		chromedp.SendKeys(chromedp.ID("d-aggregates-0-field"), "amount"))
	a.setSelect("#d-aggregates-0-func", "sum")
	a.checkA11y("report form")
	a.shot("builder-form-report")
	a.submit("#review")
	a.apply("report", "add_document reports amount_by_stage")
	a.open("/ui/reports/amount_by_stage")
	if body := a.text("table.report"); !strings.Contains(body, "Total amount") || !strings.Contains(body, "2,000,000") || !strings.Contains(body, "30,000") {
		t.Fatalf("the new report: %s", body)
	}
	a.noErrors("report")

	// The process is in force: the rep's deal is submitted into it.
	r := newTab(t, base, "rep1")
	r.login("rep1")
	r.open("/ui/o/opportunity/" + opp)
	r.submit(`form[action$="/actions/submit"] button[type=submit]`)
	if body := r.text(".approvals"); !strings.Contains(body, "Big deal") || !strings.Contains(body, "General manager") {
		t.Fatalf("the deal is not in the new process: %s", body)
	}
	r.noErrors("submission")
}
