package integration_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestWebhookApprovalAndConversionEvents: the events the workflows
// publish when a deal is submitted for approval, approved, rejected or
// recalled, and the one sales publishes when a lead is converted, reach
// the webhooks subscribed to them through the real actions, in the order
// they happened per record (after the record.updated of the status the
// same action set), with the record as the run-as user reads it; a
// run-as user who cannot read the deal gets only its id and object.
func TestWebhookApprovalAndConversionEvents(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "deals", "/deals", `"run_as": "manager", "events": [
			{"event": "record.updated", "object": "opportunity", "changed": ["approval_status"]},
			{"event": "approval.submitted", "object": "opportunity"},
			{"event": "approval.approved", "object": "opportunity"},
			{"event": "approval.rejected", "object": "opportunity"},
			{"event": "approval.recalled", "object": "opportunity"},
			{"event": "approval.reopened", "object": "opportunity"},
			{"event": "lead.converted"}]`)
		h.define(t, "outsider", "/outsider", `"run_as": "rep2", "events": [{"event": "approval.approved"}]`)
		acc := h.Create("rep1", "account", `{"name": "Acme"}`)
		deal := func(name string) string {
			return h.Create("rep1", "opportunity", `{"name": "`+name+`", "account": "`+acc+`", "amount": 1000, "discount": 15}`)
		}
		approved, rejected, recalled, reopened := deal("Approved"), deal("Rejected"), deal("Recalled"), deal("Reopened")
		lead := h.Create("manager", "lead", `{"person": "Li Lei", "company": "Hangzhou Tea", "email": "li@tea.cn"}`)
		act := func(id, name, user string) apitest.Scenario {
			return apitest.Scenario{Name: user + " " + name + " " + id, Method: "POST", Path: "/api/records/opportunity/" + id + "/actions/" + name, User: user, Body: `{"comment": "c"}`, Status: 200}
		}
		h.Run(t, []apitest.Scenario{
			act(approved, "submit", "rep1"), act(approved, "approve", "manager"),
			act(rejected, "submit", "rep1"), act(rejected, "reject", "manager"),
			act(recalled, "submit", "rep1"), act(recalled, "recall", "rep1"),
			act(reopened, "submit", "rep1"), act(reopened, "approve", "manager"),
			{Name: "convert the lead", Method: "POST", Path: "/api/records/lead/" + lead + "/actions/convert", User: "manager", Body: `{}`, Status: 200},
		})
		_, rec := h.Do("GET", "/api/records/opportunity/"+reopened, "rep1", "")
		h.Run(t, []apitest.Scenario{{Name: "the approved deal's discount raised", Method: "PATCH", Path: "/api/records/opportunity/" + reopened, User: "rep1",
			Body: fmt.Sprintf(`{"discount": 30, "version": %v}`, rec["version"]), Status: 200}})
		if n := len(h.target.received()); n != 0 {
			t.Fatalf("the target got %d requests during the actions", n)
		}
		h.RunJobs()
		type sent struct{ event, status string }
		of := func(id string) []sent {
			var out []sent
			for _, r := range h.target.at("/deals") {
				if r.Body.RecordID == id {
					status, _ := r.Body.Data["approval_status"].(string)
					if r.Body.Object == "lead" {
						status, _ = r.Body.Data["status"].(string)
					}
					out = append(out, sent{r.Body.Event, status})
				}
			}
			return out
		}
		for _, c := range []struct {
			id   string
			want []sent
		}{
			{approved, []sent{{"record.updated", "pending"}, {"approval.submitted", "pending"}, {"record.updated", "approved"}, {"approval.approved", "approved"}}},
			{rejected, []sent{{"record.updated", "pending"}, {"approval.submitted", "pending"}, {"record.updated", "rejected"}, {"approval.rejected", "rejected"}}},
			{recalled, []sent{{"record.updated", "pending"}, {"approval.submitted", "pending"}, {"record.updated", ""}, {"approval.recalled", ""}}},
			{reopened, []sent{{"record.updated", "pending"}, {"approval.submitted", "pending"}, {"record.updated", "approved"}, {"approval.approved", "approved"},
				{"record.updated", ""}, {"approval.reopened", ""}}},
			{lead, []sent{{"lead.converted", "converted"}}},
		} {
			if got := of(c.id); !slices.Equal(got, c.want) {
				t.Errorf("events of %s: %v, want %v", c.id, got, c.want)
			}
		}
		for _, r := range h.target.at("/deals") {
			if r.Body.Object == "lead" && (r.Body.Data["converted_account"] == nil || r.Body.Data["person"] != "Li Lei") {
				t.Errorf("lead.converted carries the lead as converted: %v", r.Body.Data)
			}
		}
		out := h.target.at("/outsider")
		if len(out) != 2 {
			t.Fatalf("the outsider's webhook got %v", h.target.events())
		}
		var ids []string
		for _, r := range out {
			ids = append(ids, r.Body.RecordID)
			if r.Body.Event != "approval.approved" {
				t.Errorf("the outsider's webhook got %s", r.Body.Event)
			}
			if len(r.Body.Data) != 2 || r.Body.Data["id"] != r.Body.RecordID || r.Body.Data["object"] != "opportunity" {
				t.Errorf("a run-as user who cannot read the deal got %v", r.Body.Data)
			}
		}
		if slices.Sort(ids); !slices.Equal(ids, slices.Sorted(slices.Values([]string{approved, reopened}))) {
			t.Errorf("the outsider's webhook got approvals of %v, want those of %s and %s", ids, approved, reopened)
		}
	})
}
