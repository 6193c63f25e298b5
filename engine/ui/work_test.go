package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestWorkPages: the pages of the parts built on the engine, as their
// users see them: lead conversion with the duplicate choice, state
// buttons, approvals on the record and waiting on the approver's home.
func TestWorkPages(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{})
		rep1, rep2, mgr := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "manager")
		acc := s.Create("rep1", "account", `{"name": "West Lake Trading Co., Ltd."}`)
		lead := s.Create("rep1", "lead", `{"person": "Li Lei", "company": "West Lake Trading", "email": "li@westlake.example", "status": "new"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "discount": 15, "stage": "proposal"}`)
		conv := "/ui/o/lead/" + lead + "/convert"
		run(t, rep1, []pageCase{
			{name: "the lead offers the conversion page", path: "/ui/o/lead/" + lead, status: 200, contains: []string{`href="` + conv + `"`}},
			{name: "conversion page", path: conv, status: 200,
				contains: []string{"Convert Lead Li Lei", `name="t_account" value="new"`, `name="t_opportunity" value="skip"`}},
			{name: "a duplicate account is offered to choose", method: "POST", path: conv, form: url.Values{"t_opportunity": {"new"}}, status: 409,
				contains: []string{"Records like this one exist already", `value="id:` + acc + `"`, "Use West Lake Trading Co., Ltd.", `value="create"`}},
			{name: "converted into the existing account", method: "POST", path: conv, form: url.Values{"t_account": {"id:" + acc}, "t_opportunity": {"new"}}, status: 303},
			{name: "the lead names its account", path: "/ui/o/lead/" + lead + "?flash=converted", status: 200,
				contains: []string{"Converted.", "/ui/o/account/" + acc}, notContain: []string{`href="` + conv + `"`}},
			{name: "a lead converts once", method: "POST", path: conv, form: url.Values{"t_account": {"id:" + acc}}, status: 409, contains: []string{"already converted"}},
			{name: "a duplicate lead is shown with its match", method: "POST", path: "/ui/o/lead", form: url.Values{"person": {"Li Lei again"}, "email": {"LI@westlake.example"}}, status: 409,
				contains: []string{"Records like this one exist already", `href="/ui/o/lead/` + lead + `"`, `name="allow_duplicate"`}, notContain: []string{"Reload"}},
			{name: "and created anyway where the rule only warns", method: "POST", path: "/ui/o/lead", form: url.Values{"person": {"Li Lei again"}, "email": {"LI@westlake.example"}, "allow_duplicate": {"true"}}, status: 303},
			{name: "state buttons of the opportunity", path: "/ui/o/opportunity/" + opp, status: 200,
				contains:   []string{`action="/ui/o/opportunity/` + opp + `/state"`, `value="negotiation">Negotiate`, `value="won">Mark as won`},
				notContain: []string{`value="qualify">`}},
			{name: "a state button moves the stage", method: "POST", path: "/ui/o/opportunity/" + opp + "/state", form: url.Values{"field": {"stage"}, "to": {"negotiation"}, "version": {"1"}}, status: 303},
			{name: "a transition the workflow forbids is refused", method: "POST", path: "/ui/o/opportunity/" + opp + "/state", form: url.Values{"field": {"stage"}, "to": {"qualify"}, "version": {"2"}}, status: 422,
				contains: []string{"stage"}},
			{name: "submitted for approval", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/submit", form: url.Values{"comment": {"15 % for a first order"}}, status: 303},
			{name: "the request shows on the record", path: "/ui/o/opportunity/" + opp, status: 200,
				contains:   []string{"Discount approval", "Pending", "Sales manager", "15 % for a first order", `actions/recall"`},
				notContain: []string{`actions/submit"`, `actions/approve"`}},
		})
		run(t, rep2, []pageCase{
			{name: "another rep's lead has no conversion page", path: conv, status: 404, notContain: []string{"Li Lei"}},
			{name: "nothing waits for rep2", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}, notContain: []string{"Tea machines"}},
		})
		run(t, mgr, []pageCase{
			{name: "the approval waits on the manager's home", path: "/ui/", status: 200, contains: []string{"Waiting for you", "Tea machines", "Discount approval", "/ui/o/opportunity/" + opp}},
			{name: "the manager may decide", path: "/ui/o/opportunity/" + opp, status: 200, contains: []string{`actions/approve"`, `actions/reject"`}, notContain: []string{`actions/recall"`}},
			{name: "approved", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/approve", form: url.Values{"comment": {"fine"}}, status: 303},
			{name: "approved on the record", path: "/ui/o/opportunity/" + opp, status: 200, contains: []string{"Approved", "fine"}, notContain: []string{`actions/approve"`}},
			{name: "nothing waits any more", path: "/ui/", status: 200, contains: []string{"Nothing waits for you."}},
		})
	})
}

// TestBuilderOfParts: the builder edits the documents of the parts'
// kinds (workflows, sales rules, reports) through the same checks and
// dry run as /api/meta/{kind}: a copy of an approval process with a bad
// formula is refused with its JSON pointer, a good one is planned,
// applied and in force at once.
func TestBuilderOfParts(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{})
		admin := signedIn(t, s, "admin")
		kinds := []string{}
		for _, k := range []string{"approvals", "state_workflows", "automations", "conversions", "duplicate_rules", "assignment_rules", "web_forms", "reports", "dashboards"} {
			kinds = append(kinds, `href="/ui/admin/kinds/`+k+`"`)
		}
		run(t, admin, []pageCase{
			{name: "every kind in the builder", path: "/ui/admin/", status: 200, contains: kinds},
			{name: "an approval process offers a copy", path: "/ui/admin/kinds/approvals/discount_approval", status: 200, contains: []string{`href="/ui/admin/kinds/approvals/new?from=discount_approval"`}},
			{name: "the copy starts from it", path: "/ui/admin/kinds/approvals/new?from=discount_approval", status: 200, contains: []string{"discount_approval_copy", "entry_criteria"}},
		})
		doc := `{"name": "big_deal", "object": "opportunity", "entry_criteria": "amount >", "steps": [{"name": "manager", "approvers": ["manager"]}]}`
		st, body, _ := admin.post("/ui/admin/kinds/approvals", url.Values{"doc": {doc}})
		if st != 422 || !strings.Contains(body, "entry_criteria") {
			t.Fatalf("a bad formula in a process: %d %s", st, body)
		}
		admin.review(t, "/ui/admin/kinds/approvals", url.Values{"doc": {strings.Replace(doc, "amount >", "amount > 1000000", 1)}}, "big_deal")
		run(t, admin, []pageCase{
			{name: "the new process is in force", path: "/ui/admin/kinds/approvals", status: 200, contains: []string{`href="/ui/admin/kinds/approvals/big_deal"`}},
		})
	})
}
