package workflows_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// automationTemplate adds automations to the standard template: a chain
// on opportunities (a big amount sets the next step, a next step creates a
// follow-up activity for the owner in three days), two automations in
// order, and one on accounts that triggers itself.
var automationTemplate = fstest.MapFS{
	"template.yaml": {Data: []byte("name: automations\nextends: standard")},
	"automations/flag_big.yaml": {Data: []byte(`
name: flag_big
object: opportunity
order: 1
on: [create, update]
becomes_true: "amount > 500000"
actions:
  - set: [{field: next_step, value: Involve the manager}, {field: approval_status, value: pending}]
`)},
	"automations/follow_up.yaml": {Data: []byte(`
name: follow_up
object: opportunity
order: 2
changed: [next_step]
condition: "next_step != ''"
actions:
  - create:
      object: activity
      values:
        - {field: subject, formula: "concat('Follow up: ', next_step)"}
        - {field: kind, value: task}
        - {field: starts_at, formula: "add_days(now(), 3)"}
        - {field: opportunity, formula: "id"}
        - {field: account, formula: "account"}
        - {field: owner_id, formula: "owner_id"}
`)},
	"automations/then_describe.yaml": {Data: []byte(`
name: then_describe
object: opportunity
order: 3
becomes_true: "amount > 500000"
actions:
  - set: [{field: description, formula: "concat('Next: ', next_step)"}]
`)},
	"automations/stamp.yaml": {Data: []byte(`
name: stamp
object: account
on: [update]
changed: [description]
actions:
  - set: [{field: description, formula: "concat(description, '!')"}]
`)},
}

// TestAutomations covers triggers (a formula becoming true, a field
// changing, a condition), the order of automations, a chain of two, the
// depth limit, and what they write as the system.
func TestAutomations(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{Template: defaults.WithBases(automationTemplate)})
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Deal", "account": "`+acc+`", "amount": 1000}`)
		path := "/api/records/opportunity/" + opp
		s.Run(t, []apitest.Scenario{
			{Name: "a small deal triggers nothing", Method: "GET", Path: path, User: "rep1", Status: 200, NotContain: []string{"Involve", "approval_status\":\"pending"}},
			{Name: "no activity yet", Method: "GET", Path: "/api/records/activity?total=true", User: "rep1", Status: 200, Contains: []string{`"total":0`}},
		})
		mustPatch(t, s, "rep1", "opportunity", opp, `{"amount": 600000}`)
		s.Run(t, []apitest.Scenario{
			{Name: "the amount became big: fields set as the system, one read-only to the rep", Method: "GET", Path: path, User: "rep1", Status: 200,
				Contains: []string{`"next_step":"Involve the manager"`, `"approval_status":"pending"`}},
			{Name: "a later automation reads what an earlier one set", Method: "GET", Path: path, User: "rep1", Status: 200,
				Contains: []string{`"description":"Next: Involve the manager"`}},
			{Name: "the chain created one follow-up for the owner", Method: "GET", Path: "/api/records/activity?total=true", User: "rep1", Status: 200,
				Contains: []string{`"total":1`, `"subject":"Follow up: Involve the manager"`, `"kind":"task"`, `"opportunity":"` + opp + `"`, `"owner_id":"` + s.UserID("rep1") + `"`}},
			{Name: "another rep does not see it", Method: "GET", Path: "/api/records/activity?total=true", User: "rep2", Status: 200, Contains: []string{`"total":0`}},
		})
		// Still big: becomes_true does not fire again; the next step
		// changing fires the follow-up alone.
		mustPatch(t, s, "rep1", "opportunity", opp, `{"amount": 700000, "next_step": "Call the buyer"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "one more follow-up", Method: "GET", Path: "/api/records/activity?total=true&sort=subject", User: "rep1", Status: 200,
				Contains: []string{`"total":2`, `"subject":"Follow up: Call the buyer"`}},
			{Name: "becomes_true fired once", Method: "GET", Path: path, User: "rep1", Status: 200, Contains: []string{`"next_step":"Call the buyer"`}},
		})

		// A big deal created at once fires on create, and the create's
		// answer is the record as the automations left it.
		s.Run(t, []apitest.Scenario{
			{Name: "the create answers what the automations set", Method: "POST", Path: "/api/records/opportunity", User: "rep1", Status: 201,
				Body:     `{"name": "Huge", "account": "` + acc + `", "amount": 900000}`,
				Contains: []string{`"next_step":"Involve the manager"`, `"description":"Next: Involve the manager"`, `"version":3`}},
			{Name: "fired on create", Method: "GET", Path: "/api/records/activity?total=true", User: "rep1", Status: 200, Contains: []string{`"total":3`}},
		})

		// An automation that triggers itself stops at the depth limit; the
		// whole write is refused.
		status, m := patch(t, s, "rep1", "account", acc, `{"description": "vip"}`)
		wantError(t, status, m, 422, `"code":"automation_chain"`, "more than 8 deep", strings.Repeat("account.stamp → ", 8)+"account.stamp")
		s.Run(t, []apitest.Scenario{{Name: "nothing written", Method: "GET", Path: "/api/records/account/" + acc, User: "rep1", Status: 200,
			NotContain: []string{"vip"}}})
	})
}
