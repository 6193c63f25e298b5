package reminders_test

import (
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
)

// overdueTemplate adds instalments whose paid flag is a roll-up of their
// receipts, and a reminder the day after an instalment fell due unpaid.
var overdueTemplate = fstest.MapFS{
	"template.yaml": {Data: []byte("name: overdue\nextends: standard")},
	"objects/instalment.yaml": {Data: []byte(`
name: instalment
title_field: name
fields:
  - {name: name, type: text, required: true}
  - {name: due_date, type: date, required: true}
  - {name: amount, type: currency, required: true}
  - {name: received, type: currency, formula: "sum(instalment_receipt, amount)"}
  - {name: paid, type: boolean, formula: "received >= amount"}
`)},
	"objects/instalment_receipt.yaml": {Data: []byte(`
name: instalment_receipt
fields:
  - {name: instalment, type: lookup, target: instalment, required: true, on_delete: cascade}
  - {name: amount, type: currency, required: true}
`)},
	"reminders/payment_overdue.yaml": {Data: []byte(`
name: payment_overdue
object: instalment
when: {field: due_date, offset: +1d, at: "09:00"}
condition: "!paid"
recipients: [owner]
channels: [in_app]
subject: {en: "Overdue: {{name}}", zh: "逾期未回款：{{name}}"}
message: {en: "{{name}} was due on {{due_date}}: {{amount}}, received {{received}}"}
`)},
}

// TestOverduePayments reminds of an instalment unpaid the day after it
// fell due, and not of one whose receipts paid it (a roll-up: the
// condition is judged again when the reminder is due).
func TestOverduePayments(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		clk := newClock(mustTime("2026-06-01T08:00:00Z"))
		s := apitest.New(t, db, apitest.Options{Template: defaults.WithBases(overdueTemplate), Platform: platform.Config{Now: clk.Now}})
		s.Create("admin", "instalment", `{"name": "First", "due_date": "2026-06-05", "amount": 100}`)
		second := s.Create("admin", "instalment", `{"name": "Second", "due_date": "2026-06-05", "amount": 100}`)
		s.Create("admin", "instalment_receipt", `{"instalment": "`+second+`", "amount": 60}`)
		s.Create("admin", "instalment_receipt", `{"instalment": "`+second+`", "amount": 40}`)
		// Third is paid when it is last written, then its receipt is
		// deleted: unpaid again by a write of another record.
		third := s.Create("admin", "instalment", `{"name": "Third", "due_date": "2026-06-05", "amount": 100}`)
		receipt := s.Create("admin", "instalment_receipt", `{"instalment": "`+third+`", "amount": 100}`)
		s.Run(t, []apitest.Scenario{{Name: "rename the paid instalment", User: "admin", Method: "PATCH", Path: "/api/records/instalment/" + third, Body: `{"name": "Third one", "version": 1}`, Status: 200}})
		s.Run(t, []apitest.Scenario{{Name: "its receipt is deleted", User: "admin", Method: "DELETE", Path: "/api/records/instalment_receipt/" + receipt, Status: 204}})
		s.RunJobs()
		clk.at("2026-06-06T08:59:00Z")
		scan(t, s)
		if n := notifications(t, s, "admin"); n != 0 {
			t.Fatalf("%d notification(s) before the time", n)
		}
		clk.at("2026-06-06T09:01:00Z")
		scan(t, s)
		if n := notifications(t, s, "admin", `"subject":"Overdue: First"`, "First was due on 2026-06-05: 100.00, received 0.00"); n != 1 {
			t.Fatalf("the unpaid instalment: %d", n)
		}
		if n := notifications(t, s, "admin", `"subject":"Overdue: Third one"`); n != 1 {
			t.Fatalf("the instalment paid when written, unpaid since: %d", n)
		}
		if n := notifications(t, s, "admin", "Second"); n != 0 {
			t.Fatalf("the paid instalment: %d", n)
		}
	})
}
