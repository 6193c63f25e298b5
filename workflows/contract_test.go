package workflows_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// contractTemplate extends the standard template with contracts (object
// agreement, beside the standard contract) and a
// three-step approval: the submitter's manager, then legal and finance
// (both), then the manager's manager unless the amount is small.
var contractTemplate = fstest.MapFS{
	"template.yaml": {Data: []byte("name: contracts\nextends: standard")},
	"objects/agreement.yaml": {Data: []byte(`
name: agreement
label: {en: Contract, zh: 合同}
title_field: name
fields:
  - {name: name, type: text, required: true}
  - {name: amount, type: currency}
  - {name: terms, type: long_text}
  - name: status
    type: picklist
    default: draft
    options: [{value: draft}, {value: review}, {value: approved}, {value: in_force}, {value: rejected}]
  - {name: legal_ok, type: boolean, default: false}
`)},
	"roles/contract_desk.yaml": {Data: []byte(`
name: contract_desk
permissions:
  - {object: agreement, actions: [create, read, update, submit, approve], records: subordinates, fields: {status: read_only, legal_ok: read_only}}
`)},
	"roles/contract_review.yaml": {Data: []byte(`
name: contract_review
permissions:
  - {object: agreement, actions: [read, approve], records: all}
`)},
	"approvals/contract_approval.yaml": {Data: []byte(`
name: contract_approval
label: {en: Contract approval, zh: 合同审批}
object: agreement
entry_criteria: "amount > 0"
approvers_may_edit: [terms]
on_submit: [{field: status, value: review}]
steps:
  - {name: manager_review, approvers: [manager]}
  - name: legal_and_finance
    label: {en: Legal and finance, zh: 法务与财务}
    approvers: [{user: legal}, {role: contract_review}]
    rule: all
    on_approve: [{field: legal_ok, value: true}]
  - {name: director, approvers: [manager_of_manager], skip_if: "amount < 1000000"}
on_approved: [{field: status, value: approved}]
on_rejected: [{field: status, value: rejected}]
on_recalled: [{field: status, value: draft}, {field: legal_ok, formula: "false"}]
`)},
}

// newContractServer runs the contract template with a boss above the
// manager and the reviewers legal and finance.
func newContractServer(t *testing.T, db *store.DB) *apitest.Server {
	t.Helper()
	s := apitest.New(t, db, apitest.Options{Template: defaults.WithBases(contractTemplate)})
	ctx := context.Background()
	acc := s.Platform.Access
	for _, u := range []access.NewUser{
		{Username: "boss", Roles: []string{"sales_manager", "contract_desk"}},
		{Username: "legal", Roles: []string{"contract_review"}},
		{Username: "finance", Roles: []string{"contract_review"}},
	} {
		u.Password = u.Username + "-password"
		if _, err := acc.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		s.Login(u.Username, u.Password)
	}
	boss := "boss"
	if _, err := acc.UpdateUser(ctx, "manager", access.UserUpdate{Manager: &boss, Roles: &[]string{"sales_manager", "contract_desk"}}); err != nil {
		t.Fatal(err)
	}
	for _, rep := range []string{"rep1", "rep2"} {
		if _, err := acc.UpdateUser(ctx, rep, access.UserUpdate{Roles: &[]string{"sales_rep", "contract_desk"}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// events records the names of the approval events the engine publishes.
type events struct {
	mu    sync.Mutex
	names []string
}

func (ev *events) subscribe(e *engine.Engine) {
	e.Subscribe(func(ctx context.Context, w *engine.Writer, de engine.DomainEvent) error {
		if de.Object == "agreement" && de.Name != engine.EventRecordCreated && de.Name != engine.EventRecordUpdated {
			ev.mu.Lock()
			ev.names = append(ev.names, de.Name+":"+de.Data["process"].(string))
			ev.mu.Unlock()
		}
		return nil
	})
}

func (ev *events) has(name string) bool {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return slices.Contains(ev.names, name)
}

func action(path, name, user, body string, status int, contains ...string) apitest.Scenario {
	return apitest.Scenario{Name: user + " " + name, Method: "POST", Path: path + "/actions/" + name, User: user, Body: body, Status: status, Contains: contains}
}

// TestContractApproval covers a three-step approval (the manager, all of
// legal and finance, the manager's manager), a skipped step, reject,
// recall, reassign, edits refused while locked and a process changed while
// requests run.
func TestContractApproval(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := newContractServer(t, db)
		var ev events
		ev.subscribe(s.Platform.Engine)
		contract := func(name, amount string) string {
			return "/api/records/agreement/" + s.Create("rep1", "agreement", `{"name": "`+name+`", "amount": `+amount+`}`)
		}

		big := contract("Big", "2000000")
		s.Run(t, []apitest.Scenario{
			action(big, "submit", "rep1", `{"comment": "sign by Friday"}`, 200, `"step":"manager_review"`, `"username":"manager"`),
			{Name: "status in review", Method: "GET", Path: big, User: "rep1", Status: 200, Contains: []string{`"status":"review"`, `"legal_ok":false`}},
			action(big, "approve", "legal", "", 403, "not an approver of step manager_review"),
			action(big, "approve", "manager", `{"comment": "fine"}`, 200, `"step":"legal_and_finance"`, `"step_label":"Legal and finance"`, `"username":"legal"`, `"username":"finance"`),
			{Name: "legal has it", Method: "GET", Path: "/api/approvals?assigned=me", User: "legal", Status: 200, Contains: []string{`"title":"Big"`, `"step":"legal_and_finance"`}},
			action(big, "approve", "legal", "", 200, `"step":"legal_and_finance"`, `"username":"finance"`),
			action(big, "approve", "legal", "", 409, "already taken"),
			{Name: "legal is done", Method: "GET", Path: "/api/approvals?assigned=me", User: "legal", Status: 200, Contains: []string{`"items":[]`}},
			action(big, "approve", "finance", "", 200, `"step":"director"`, `"username":"boss"`),
			{Name: "legal_ok set on the step's approval", Method: "GET", Path: big, User: "rep1", Status: 200, Contains: []string{`"legal_ok":true`, `"status":"review"`}},
			action(big, "approve", "boss", "", 200, `"state":"approved"`),
			{Name: "approved", Method: "GET", Path: big, User: "rep1", Status: 200, Contains: []string{`"status":"approved"`}},
			{Name: "history of three steps", Method: "GET", Path: big + "/approvals", User: "rep1", Status: 200, Contains: []string{
				`"decision":"submitted","comment":"sign by Friday"`, `"step":"manager_review"`, `"comment":"fine"`,
				`"step":"legal_and_finance","approver":{"id":"` + s.UserID("legal") + `"`, `"step":"director","approver":{"id":"` + s.UserID("boss") + `"`}},
		})
		if !ev.has("approval.submitted:contract_approval") || !ev.has("approval.approved:contract_approval") {
			t.Errorf("events published: %v", ev.names)
		}

		small := contract("Small", "500")
		s.Run(t, []apitest.Scenario{
			action(small, "submit", "rep1", "", 200),
			action(small, "approve", "manager", "", 200),
			action(small, "approve", "legal", "", 200),
			action(small, "approve", "finance", "", 200, `"state":"approved"`),
			{Name: "the director step was skipped", Method: "GET", Path: small + "/approvals", User: "rep1", Status: 200,
				Contains: []string{`"step":"director","approver":null,"decision":"skipped","comment":"skip_if: amount \u003c 1000000"`}},
		})

		rejected := contract("Rejected", "700")
		s.Run(t, []apitest.Scenario{
			action(rejected, "submit", "rep1", "", 200),
			action(rejected, "reject", "rep1", "", 403),
			action(rejected, "reject", "manager", `{"comment": "price too low"}`, 200, `"state":"rejected"`),
			{Name: "status rejected", Method: "GET", Path: rejected, User: "rep1", Status: 200, Contains: []string{`"status":"rejected"`}},
			{Name: "the reason kept", Method: "GET", Path: rejected + "/approvals", User: "rep1", Status: 200, Contains: []string{`"decision":"rejected","comment":"price too low"`}},
			action(rejected, "approve", "manager", "", 409, "no approval"),
			action(rejected, "submit", "rep1", `{"comment": "again"}`, 200, `"state":"pending"`),
		})
		if !ev.has("approval.rejected:contract_approval") {
			t.Errorf("events published: %v", ev.names)
		}

		recalled := contract("Recalled", "800")
		s.Run(t, []apitest.Scenario{
			action(recalled, "submit", "rep1", "", 200),
			action(recalled, "recall", "rep2", "", 404),
			action(recalled, "recall", "manager", "", 403, "only the user who submitted"),
			action(recalled, "recall", "rep1", `{"comment": "wrong amount"}`, 200, `"state":"recalled"`),
			{Name: "back to draft", Method: "GET", Path: recalled, User: "rep1", Status: 200, Contains: []string{`"status":"draft"`}},
			{Name: "no longer waiting", Method: "GET", Path: "/api/approvals?assigned=me", User: "manager", Status: 200, NotContain: []string{`"title":"Recalled"`}},
		})

		locked := contract("Locked", "900")
		s.Run(t, []apitest.Scenario{action(locked, "submit", "rep1", "", 200)})
		status, m := patch(t, s, "rep1", "agreement", idOf(locked), `{"terms": "net 30"}`)
		wantError(t, status, m, 422, `"code":"locked"`, `"field":"terms"`)
		status, m = patch(t, s, "manager", "agreement", idOf(locked), `{"name": "Renamed"}`)
		wantError(t, status, m, 422, `"code":"locked"`, `"field":"name"`)
		mustPatch(t, s, "manager", "agreement", idOf(locked), `{"terms": "net 60"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "deleting is refused too", Method: "DELETE", Path: locked, User: "admin", Status: 422, Code: "invalid_record", Contains: []string{"recall it first"}},
		})

		// Reassign: only administrators; the approver to replace must be
		// named when several wait.
		handed := contract("Handed", "600")
		s.Run(t, []apitest.Scenario{
			action(handed, "submit", "rep1", "", 200),
			action(handed, "approve", "manager", "", 200, `"step":"legal_and_finance"`),
			action(handed, "reassign", "manager", `{"to": "boss"}`, 403),
			action(handed, "reassign", "admin", `{"to": "boss"}`, 422, "name the one to replace"),
			action(handed, "reassign", "admin", `{"to": "nobody", "from": "legal"}`, 422, "not an active user"),
			action(handed, "reassign", "admin", `{"to": "boss", "from": "legal", "comment": "legal is away"}`, 200, `"username":"boss"`, `"username":"finance"`),
			action(handed, "approve", "legal", "", 409, "handed to another approver"),
			action(handed, "approve", "boss", "", 200),
			action(handed, "approve", "finance", "", 200, `"state":"approved"`),
			{Name: "the reassignment in the history", Method: "GET", Path: handed + "/approvals", User: "manager", Status: 200,
				Contains: []string{`"decision":"reassigned","comment":"from legal to boss: legal is away"`}},
		})

		// A changed process: the running request keeps its steps, a new one
		// takes the new steps.
		running := contract("Running", "100")
		s.Run(t, []apitest.Scenario{action(running, "submit", "rep1", "", 200, `"step":"manager_review"`)})
		s.Run(t, []apitest.Scenario{{Name: "the process changes", Method: "PUT", Path: "/api/meta/approvals/contract_approval", User: "admin", Status: 200,
			Body: `{"name": "contract_approval", "object": "agreement", "steps": [{"name": "finance_only", "approvers": [{"user": "finance"}]}], "on_approved": [{"field": "status", "value": "in_force"}]}`}})
		fresh := contract("Fresh", "100")
		s.Run(t, []apitest.Scenario{
			action(fresh, "submit", "rep1", "", 200, `"step":"finance_only"`, `"username":"finance"`),
			action(running, "approve", "manager", "", 200, `"step":"legal_and_finance"`),
			action(running, "approve", "legal", "", 200),
			action(running, "approve", "finance", "", 200, `"state":"approved"`),
			{Name: "the old process's outcome", Method: "GET", Path: running, User: "rep1", Status: 200, Contains: []string{`"status":"approved"`}},
			action(fresh, "approve", "finance", "", 200, `"state":"approved"`),
			{Name: "the new process's outcome", Method: "GET", Path: fresh, User: "rep1", Status: 200, Contains: []string{`"status":"in_force"`}},
		})
	})
}

// idOf returns the id at the end of a record path.
func idOf(path string) string { return path[len("/api/records/agreement/"):] }
