package definition_test

import "testing"

func TestApprovalChecks(t *testing.T) {
	const file = "approvals/quote.yaml"
	runProblemCases(t, []problemCase{
		{"valid", file, `
name: quote
object: opportunity
entry_criteria: "amount > 0"
approvers_may_edit: [discount]
on_submit: [{field: next_step, formula: "concat('Approval of ', name)"}]
steps:
  - {name: one, approvers: [manager, {user: admin}, {field: account.owner_id}], rule: all, skip_if: "amount < 10"}
  - {name: two, approvers: [{role: sales_manager}, owner, submitter], on_reject: [{field: approval_status, value: rejected}]}
on_approved: [{field: approval_status, value: approved}]
on_recalled: [{field: approval_status}]`, nil},
		{"unknown object", file, "name: quote\nobject: nothing\nsteps: [{name: one, approvers: [manager]}]", []string{"/object: no object"}},
		{"bad formulas, fields and people", file, `
name: quote
object: opportunity
entry_criteria: "amount"
approvers_may_edit: [weighted, nothing]
on_submit: [{field: stage, value: nowhere}, {field: amount, formula: "name"}, {field: id, value: x}, {field: amount, value: 1, formula: "2"}]
steps:
  - {name: one, approvers: [manager]}`, []string{
			"/entry_criteria: a condition must be true or false",
			"/approvers_may_edit/1: opportunity has no field \"nothing\"",
			"/on_submit/0/value: not a value of stage",
			"/on_submit/1/formula: the formula gives text",
			"/on_submit/2/field: id is a system field",
			"/on_submit/3: give a value or a formula, not both",
		}},
		{"reopened on a field and on details", file, `
name: quote
object: quote
reopen_on: [discount, quote_line]
on_reopened: [{field: approval_status}]
steps: [{name: one, approvers: [manager]}]`, nil},
		{"reopened on what is neither", file, `
name: quote
object: opportunity
reopen_on: [nothing, activity, quote_line, version]
on_reopened: [{field: nothing}]
steps: [{name: one, approvers: [manager]}]`, []string{
			"/on_reopened/0/field: opportunity has no field \"nothing\"",
			"/reopen_on/0: \"nothing\" is neither a field of opportunity nor an object of its details",
			"/reopen_on/1: \"activity\" is neither",
			"/reopen_on/2: \"quote_line\" is neither",
			"/reopen_on/3: \"version\" is neither",
		}},
		{"an unknown rule", file, "name: quote\nobject: opportunity\nsteps: [{name: one, approvers: [manager], rule: some}]", []string{"/steps/0/rule: "}},
		{"semantic problems", file, `
name: quote
object: opportunity
steps:
  - {name: one, approvers: [{role: nobody}, {field: name}, {field: account.nothing}], skip_if: "amount +"}
  - {name: one, approvers: [manager]}`, []string{
			"/steps/0/approvers/0/role: no role \"nobody\"",
			"/steps/0/approvers/1/field: opportunity.name does not hold a user",
			"/steps/0/approvers/2/field: account has no field \"nothing\"",
			"/steps/0/skip_if: line 1",
			"/steps/1/name: step \"one\" is defined twice",
		}},
	})
}

func TestAutomationChecks(t *testing.T) {
	const file = "automations/follow_up.yaml"
	runProblemCases(t, []problemCase{
		{"valid", file, `
name: follow_up
object: opportunity
on: [update]
changed: [stage]
becomes_true: "stage == 'proposal'"
condition: "amount > 0"
actions:
  - set: [{field: next_step, value: Send the proposal}]
  - create: {object: activity, values: [{field: subject, formula: "concat('Follow up ', name)"}, {field: starts_at, formula: "add_days(now(), 3)"}, {field: opportunity, formula: "id"}]}`, nil},
		{"problems", file, `
name: follow_up
object: opportunity
changed: [nothing]
becomes_true: "stage"
actions:
  - create: {object: activity, values: [{field: subject, formula: "amount"}, {field: nothing, value: 1}]}
  - create: {object: nothing, values: []}`, []string{
			"/changed/0: opportunity has no field \"nothing\"",
			"/becomes_true: a condition must be true or false",
			"/actions/0/create/values/0/formula: the formula gives number but field subject is text",
			"/actions/0/create/values/1/field: activity has no field \"nothing\"",
			"/actions/1/create/object: no object \"nothing\"",
		}},
		{"two actions in one", file, `
name: follow_up
object: opportunity
actions:
  - {set: [{field: next_step, value: x}], create: {object: activity, values: []}}`, []string{"/actions/0: "}},
	})
}

func TestReminderChecks(t *testing.T) {
	const file = "reminders/visit.yaml"
	runProblemCases(t, []problemCase{
		{"valid", file, `
name: visit
object: activity
when: {field: starts_at, offset: -1h}
condition: "status == 'planned'"
recipients: [owner, manager_of_manager, {role: sales_manager}, {field: opportunity.owner_id}]
channels: [in_app, email, sms]
subject: {en: "Visit: {{subject}}"}
message: {en: "{{subject}} at {{starts_at}}", zh: "{{subject}} 于 {{starts_at}}"}`, nil},
		{"problems", file, `
name: visit
object: activity
when: {field: subject, yearly: starts_at}
condition: "subject"
recipients: [submitter, {field: subject}]
channels: [in_app]
message: {en: "{{nothing}} and {{subject", zh: "{{subject}}"}`, []string{
			"/when: give exactly one of field, yearly and formula",
			"/condition: a condition must be true or false",
			"/recipients/0: submitter names the one who submitted an approval",
			"/recipients/1/field: activity.subject does not hold a user",
			"/message: en: {{nothing}}: activity has no field \"nothing\"",
		}},
		{"not a date", file, "name: visit\nobject: activity\nwhen: {field: subject}\nrecipients: [owner]\nchannels: [in_app]\nmessage: x", []string{"/when/field: activity.subject is not a date or a datetime"}},
		{"a formula with an offset", file, "name: visit\nobject: activity\nwhen: {formula: \"status == 'done'\", offset: 1d}\nrecipients: [owner]\nchannels: [in_app]\nmessage: x", []string{"/when/offset: "}},
		{"a bad offset", file, "name: visit\nobject: activity\nwhen: {field: starts_at, offset: 3 days}\nrecipients: [owner]\nchannels: [in_app]\nmessage: x", []string{"/when/offset: "}},
	})
}
