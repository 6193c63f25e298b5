package workflows_test

import (
	"fmt"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestDiscountApproval runs the standard template's discount approval:
// entry criteria, the lock, the manager's decision, the skipped step, the
// lists, and who sees nothing.
func TestDiscountApproval(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 5}`)
		path := "/api/records/opportunity/" + opp
		s.Run(t, []apitest.Scenario{
			{Name: "outside the entry criteria", Method: "POST", Path: path + "/actions/submit", User: "rep1", Body: `{"comment": "please"}`, Status: 422,
				Code: "invalid_record", Contains: []string{`"code":"entry_criteria"`, "Only a discount above 10"}},
			{Name: "in Chinese", Method: "POST", Path: path + "/actions/submit", User: "rep1", Header: map[string]string{"Accept-Language": "zh"}, Status: 422,
				Contains: []string{"只有折扣超过"}},
			{Name: "an unknown key", Method: "POST", Path: path + "/actions/submit", User: "rep1", Body: `{"note": "x"}`, Status: 400, Code: "bad_request", Contains: []string{"note"}},
		})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"discount": 15}`)
		s.Run(t, []apitest.Scenario{
			{Name: "another rep cannot submit", Method: "POST", Path: path + "/actions/submit", User: "rep2", Status: 404, NotContain: []string{"Big deal"}},
			{Name: "submitted", Method: "POST", Path: path + "/actions/submit", User: "rep1", Body: `{"comment": "strategic customer"}`, Status: 200,
				Contains: []string{`"state":"pending"`, `"step":"manager"`, `"step_label":"Sales manager"`, `"username":"manager"`, `"process":"discount_approval"`}},
			{Name: "submitted once", Method: "POST", Path: path + "/actions/submit", User: "rep1", Status: 409, Code: "conflict", Contains: []string{"already waits"}},
			{Name: "the status was set by the system", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"approval_status":"pending"`}},
			{Name: "waiting for the manager", Method: "GET", Path: "/api/approvals?assigned=me", User: "manager", Status: 200,
				Contains: []string{`"title":"Big deal"`, `"object":"opportunity"`, `"step":"manager"`, `"username":"rep1"`, `"since"`, `"record_id":"` + opp + `"`}},
			{Name: "not for another rep", Method: "GET", Path: "/api/approvals?assigned=me", User: "rep2", Status: 200, Contains: []string{`"items":[]`}, NotContain: []string{"Big deal"}},
			{Name: "only assigned=me", Method: "GET", Path: "/api/approvals?assigned=all", User: "admin", Status: 400, Code: "bad_request"},
			{Name: "the rep may not approve", Method: "POST", Path: path + "/actions/approve", User: "rep1", Status: 403, Code: "forbidden"},
			{Name: "the administrator is no approver", Method: "POST", Path: path + "/actions/approve", User: "admin", Status: 403, Contains: []string{"not an approver of step manager"}},
		})
		status, m := patch(t, s, "rep1", "opportunity", opp, `{"name": "Bigger deal"}`)
		wantError(t, status, m, 422, `"code":"locked"`, `"field":"name"`, "locked while approval discount_approval waits")
		status, m = patch(t, s, "manager", "opportunity", opp, `{"name": "Bigger deal"}`)
		wantError(t, status, m, 422, `"code":"locked"`, "its current approvers may change discount")
		mustPatch(t, s, "manager", "opportunity", opp, `{"discount": 12}`)
		status, m = patch(t, s, "rep1", "opportunity", opp, `{"discount": 11}`)
		wantError(t, status, m, 422, `"code":"locked"`, `"field":"discount"`)
		s.Run(t, []apitest.Scenario{
			{Name: "the manager approves", Method: "POST", Path: path + "/actions/approve", User: "manager", Body: `{"comment": "ok"}`, Status: 200,
				Contains: []string{`"state":"approved"`, `"decided_at"`}},
			{Name: "once", Method: "POST", Path: path + "/actions/approve", User: "manager", Status: 409, Code: "conflict"},
			{Name: "approved, unlocked", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"approval_status":"approved"`, `"discount":12`}},
			{Name: "nothing waits any more", Method: "GET", Path: "/api/approvals?assigned=me", User: "manager", Status: 200, Contains: []string{`"items":[]`}},
			{Name: "the history", Method: "GET", Path: path + "/approvals", User: "rep1", Status: 200, Contains: []string{
				`"decision":"submitted","comment":"strategic customer"`, `"step":"manager","approver":{"id":"` + s.UserID("manager") + `","username":"manager"`,
				`"decision":"approved","comment":"ok"`, `"step":"general_manager","approver":null,"decision":"skipped"`, `"time"`}},
			{Name: "hidden from another rep", Method: "GET", Path: path + "/approvals", User: "rep2", Status: 404, NotContain: []string{"strategic"}},
			{Name: "hidden from a role without deals", Method: "GET", Path: path + "/approvals", User: "agent", Status: 403, NotContain: []string{"strategic"}},
		})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"name": "Bigger deal"}`)
	})
}

// TestApprovalLockCoversLinks checks that the lock of a pending approval
// holds for many-to-many fields too: their links live in a link table,
// not in the record's row, and a change of them alone was let through
// while the opportunity waited for its approver.
func TestApprovalLockCoversLinks(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		comp := s.Create("admin", "competitor", `{"name": "Rival"}`)
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 15}`)
		path := "/api/records/opportunity/" + opp
		s.Run(t, []apitest.Scenario{
			{Name: "submitted", Method: "POST", Path: path + "/actions/submit", User: "rep1", Status: 200, Contains: []string{`"state":"pending"`}},
		})
		for _, c := range []struct{ name, user, body string }{
			{"the owner links a competitor", "rep1", `{"competitors": ["` + comp + `"]}`},
			{"the approver links one outside approvers_may_edit", "manager", `{"competitors": ["` + comp + `"]}`},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, m := patch(t, s, c.user, "opportunity", opp, c.body)
				wantError(t, status, m, 422, `"code":"locked"`, `"field":"competitors"`)
			})
		}
		s.Run(t, []apitest.Scenario{
			{Name: "the links are unchanged", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"competitors":[]`}, NotContain: []string{comp}},
		})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"competitors": []}`) // sent as stored: no change
		s.Run(t, []apitest.Scenario{
			{Name: "recalled", Method: "POST", Path: path + "/actions/recall", User: "rep1", Status: 200, Contains: []string{`"state":"recalled"`}},
		})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"competitors": ["`+comp+`"]}`)
	})
}

// TestApprovalLockHoldsOnDelete checks that deleting a record does not
// clear a lookup (on_delete: set_null) or a many-to-many link of a record
// locked by a pending approval: the engine clears them without a write of
// the referring record, so the lock's check never saw the change.
func TestApprovalLockHoldsOnDelete(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		quote := s.Create("rep1", "quote", `{"name": "Offer", "account": "`+acc+`"}`)
		contract := s.Create("rep1", "contract", `{"name": "Deal", "account": "`+acc+`", "quote": "`+quote+`", "amount": 1000}`)
		path := "/api/records/contract/" + contract
		s.Run(t, []apitest.Scenario{
			{Name: "submitted", Method: "POST", Path: path + "/actions/submit", User: "rep1", Status: 200, Contains: []string{`"state":"pending"`}},
			{Name: "the quote the locked contract names is not deleted", Method: "DELETE", Path: "/api/records/quote/" + quote, User: "rep1", Status: 422,
				Code: "invalid_record", Contains: []string{`"code":"locked"`, `"field":"quote"`}},
			{Name: "the contract still names it", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"quote":"` + quote + `"`}},
			{Name: "recalled", Method: "POST", Path: path + "/actions/recall", User: "rep1", Status: 200},
			{Name: "now the quote goes", Method: "DELETE", Path: "/api/records/quote/" + quote, User: "rep1", Status: 204},
			{Name: "and the lookup is cleared", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"quote":null`}},
		})
		comp := s.Create("admin", "competitor", `{"name": "Rival"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 15, "competitors": ["`+comp+`"]}`)
		s.Run(t, []apitest.Scenario{
			{Name: "the opportunity submitted", Method: "POST", Path: "/api/records/opportunity/" + opp + "/actions/submit", User: "rep1", Status: 200},
			{Name: "a competitor the locked opportunity links is not deleted", Method: "DELETE", Path: "/api/records/competitor/" + comp, User: "admin", Status: 422,
				Code: "invalid_record", Contains: []string{`"code":"locked"`, `"field":"competitors"`}},
			{Name: "the opportunity still links it", Method: "GET", Path: "/api/records/opportunity/" + opp, User: "rep1", Status: 200, Contains: []string{`"competitors":["` + comp + `"]`}},
		})
	})
}

// TestApprovalLockHoldsForDetails checks that the lines of a quote waiting
// for approval are locked with it (they make its discount rate, what the
// approval judges): no line is added, changed or removed, by its owner or
// its approver, until the request is recalled or decided; a record that
// merely refers to a locked record (an activity of a locked opportunity)
// is not a detail and stays free.
func TestApprovalLockHoldsForDetails(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		product := s.Create("admin", "product", `{"name": "Widget", "code": "W-1", "list_price": 100}`)
		quote := s.Create("rep1", "quote", `{"name": "Offer", "account": "`+acc+`"}`)
		line := s.Create("rep1", "quote_line", `{"quote": "`+quote+`", "product": "`+product+`", "quantity": 2, "unit_price": 100, "discount": 40}`)
		other := s.Create("rep1", "quote", `{"name": "Other offer", "account": "`+acc+`"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 15}`)
		lines := "/api/records/quote_line/"
		// The template's automation sets the line's list price after
		// the create: the version a client reads.
		_, read := s.Do("GET", lines+line, "rep1", "")
		v := fmt.Sprint(read["version"])
		s.Run(t, []apitest.Scenario{
			{Name: "the quote submitted", Method: "POST", Path: "/api/records/quote/" + quote + "/actions/submit", User: "rep1", Status: 200, Contains: []string{`"state":"pending"`}},
			{Name: "its line is not changed", Method: "PATCH", Path: lines + line, User: "rep1", Body: `{"discount": 0, "version": ` + v + `}`, Status: 422,
				Code: "invalid_record", Contains: []string{`"code":"locked"`, `"field":"quote"`, "quote_discount"}},
			{Name: "not by its approver either", Method: "PATCH", Path: lines + line, User: "manager", Body: `{"discount": 10, "version": ` + v + `}`, Status: 422, Contains: []string{`"code":"locked"`}},
			{Name: "no line is added", Method: "POST", Path: lines, User: "rep1", Body: `{"quote": "` + quote + `", "product": "` + product + `", "unit_price": 1}`, Status: 422, Contains: []string{`"code":"locked"`}},
			{Name: "nor removed", Method: "DELETE", Path: lines + line, User: "rep1", Status: 422, Contains: []string{`"code":"locked"`}},
			{Name: "nor moved to another quote", Method: "PATCH", Path: lines + line, User: "rep1", Body: `{"quote": "` + other + `", "version": ` + v + `}`, Status: 422, Contains: []string{`"code":"locked"`}},
			{Name: "the line as it was", Method: "GET", Path: lines + line, User: "rep1", Status: 200, Contains: []string{`"discount":40`, `"quote":"` + quote + `"`}},
			{Name: "the opportunity submitted", Method: "POST", Path: "/api/records/opportunity/" + opp + "/actions/submit", User: "rep1", Status: 200},
			{Name: "an activity of it is no detail", Method: "POST", Path: "/api/records/activity", User: "rep1", Status: 201,
				Body: `{"subject": "Call about the discount", "kind": "call", "starts_at": "2026-03-02T09:00:00Z", "opportunity": "` + opp + `"}`},
			{Name: "the quote recalled", Method: "POST", Path: "/api/records/quote/" + quote + "/actions/recall", User: "rep1", Status: 200},
			{Name: "its line changes again", Method: "PATCH", Path: lines + line, User: "rep1", Body: `{"discount": 0, "version": ` + v + `}`, Status: 200, Contains: []string{`"discount":0`}},
		})
	})
}

// TestApprovedChangesNeedApprovalAgain runs the standard template's
// reopen_on: an approved deal whose discount changes, and an approved
// quote one of whose lines changes, are approved no more (the request
// reopened, the approval status cleared); a change of what reopen_on does
// not name keeps the approval.
func TestApprovedChangesNeedApprovalAgain(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 15}`)
		product := s.Create("admin", "product", `{"name": "Widget", "code": "W-1", "list_price": 100}`)
		quote := s.Create("rep1", "quote", `{"name": "Offer", "account": "`+acc+`"}`)
		line := s.Create("rep1", "quote_line", `{"quote": "`+quote+`", "product": "`+product+`", "quantity": 2, "unit_price": 100, "discount": 20}`)
		version := func(path string) string {
			_, rec := s.Do("GET", path, "rep1", "")
			return fmt.Sprint(rec["version"])
		}
		o, q, l := "/api/records/opportunity/"+opp, "/api/records/quote/"+quote, "/api/records/quote_line/"+line
		s.Run(t, []apitest.Scenario{
			{Name: "the deal submitted", Method: "POST", Path: o + "/actions/submit", User: "rep1", Status: 200},
			{Name: "and approved", Method: "POST", Path: o + "/actions/approve", User: "manager", Status: 200},
			{Name: "the quote submitted", Method: "POST", Path: q + "/actions/submit", User: "rep1", Status: 200},
			{Name: "and approved", Method: "POST", Path: q + "/actions/approve", User: "manager", Status: 200},
			{Name: "the deal approved", Method: "GET", Path: o, User: "rep1", Status: 200, Contains: []string{`"approval_status":"approved"`}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a change of its next step keeps it", Method: "PATCH", Path: o, User: "rep1", Body: `{"next_step": "Send the contract", "version": ` + version(o) + `}`, Status: 200,
				Contains: []string{`"approval_status":"approved"`}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a raised discount clears it", Method: "PATCH", Path: o, User: "rep1", Body: `{"discount": 40, "version": ` + version(o) + `}`, Status: 200,
				Contains: []string{`"approval_status":null`, `"discount":40`}},
			{Name: "its request reopened by the rep", Method: "GET", Path: o + "/approvals", User: "rep1", Status: 200, Contains: []string{`"state":"reopened"`, `"decision":"reopened"`}},
			{Name: "submitted again", Method: "POST", Path: o + "/actions/submit", User: "rep1", Status: 200, Contains: []string{`"state":"pending"`}},
			{Name: "the quote approved", Method: "GET", Path: q, User: "rep1", Status: 200, Contains: []string{`"approval_status":"approved"`}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a line's deeper discount", Method: "PATCH", Path: l, User: "rep1", Body: `{"discount": 25, "version": ` + version(l) + `}`, Status: 200},
			{Name: "clears the quote's approval", Method: "GET", Path: q, User: "rep1", Status: 200, Contains: []string{`"approval_status":null`, `"discount_rate":25`}},
		})
	})
}

// TestDecisionOnTheVersionRead: an approver who sends the version they
// read decides only on that version: one changed since (by an approver who
// may still change its discount) is 409 and nothing is decided; the
// version sent as a number or a text, or none, decides as before.
func TestDecisionOnTheVersionRead(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": 1000, "discount": 15}`)
		path := "/api/records/opportunity/" + opp
		version := func() string {
			_, rec := s.Do("GET", path, "rep1", "")
			return fmt.Sprint(rec["version"])
		}
		s.Run(t, []apitest.Scenario{{Name: "submitted", Method: "POST", Path: path + "/actions/submit", User: "rep1", Status: 200}})
		read := version()
		s.Run(t, []apitest.Scenario{
			{Name: "the approver lowers the discount", Method: "PATCH", Path: path, User: "manager", Body: `{"discount": 12, "version": ` + read + `}`, Status: 200},
			{Name: "a decision on the version read before is refused", Method: "POST", Path: path + "/actions/approve", User: "manager", Status: 409, Code: "conflict",
				Body: `{"comment": "ok", "version": ` + read + `}`, Contains: []string{"changed since you read it"}},
			{Name: "nothing was decided", Method: "GET", Path: path + "/approvals", User: "rep1", Status: 200, Contains: []string{`"state":"pending"`}, NotContain: []string{`"decision":"approved"`}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "on the version it is at, as a text", Method: "POST", Path: path + "/actions/approve", User: "manager", Status: 200,
				Body: `{"comment": "ok", "version": "` + version() + `"}`, Contains: []string{`"state":"approved"`}},
		})
	})
}
