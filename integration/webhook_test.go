package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
)

// accountEvents subscribes a webhook to every record event of accounts.
const accountEvents = `"events": [{"event": "record.created", "object": "account"}, {"event": "record.updated", "object": "account"}, {"event": "record.deleted", "object": "account"}]`

// TestWebhookDefinitions: only administrators define webhooks, a target
// whose host is not on CRM_WEBHOOK_ALLOW is refused when defined (dry
// runs too), and so are bad URLs, events and conditions.
func TestWebhookDefinitions(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1, erp.example.com:8443")
		ok := h.target.url("/hook")
		def := func(name, url, rest string) string {
			return fmt.Sprintf(`{"name": %q, "url": %q, "secret": %q, %s}`, name, url, secret, rest)
		}
		h.Run(t, []apitest.Scenario{
			{Name: "a host not on the allow-list", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", "https://erp.example.org/hook", accountEvents), Status: 422, Code: "invalid_metadata", Contains: []string{"erp.example.org", "allow-list", integration.AllowEnv}},
			{Name: "nor in a dry run", Method: "POST", Path: "/api/meta/webhooks?dry_run=true", User: "admin",
				Body: def("erp", "https://erp.example.org/hook", accountEvents), Status: 422, Code: "invalid_metadata", Contains: []string{"allow-list"}},
			{Name: "an allowed host on another port", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", "https://erp.example.com/hook", accountEvents), Status: 422, Code: "invalid_metadata", Contains: []string{"allow-list"}},
			{Name: "a name resolving to an allowed address is not the address", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", strings.Replace(ok, "127.0.0.1", "localhost", 1), accountEvents), Status: 422, Code: "invalid_metadata", Contains: []string{"localhost"}},
			{Name: "not http", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", "ftp://127.0.0.1/hook", accountEvents), Status: 422, Contains: []string{"/url", "http and https"}},
			{Name: "a user in the URL", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", "http://me:pw@127.0.0.1/hook", accountEvents), Status: 422, Contains: []string{"/url"}},
			{Name: "a record event needs its object", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, `"events": [{"event": "record.created"}]`), Status: 422, Contains: []string{"/events/0/object"}},
			{Name: "an unknown event", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, `"events": [{"event": "record.touched", "object": "account"}]`), Status: 422},
			{Name: "a condition that does not type-check", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, `"events": [{"event": "record.created", "object": "account", "condition": "employees > 'many'"}]`), Status: 422, Contains: []string{"/events/0/condition"}},
			{Name: "changed fields of a create", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, `"events": [{"event": "record.created", "object": "account", "changed": ["name"]}]`), Status: 422, Contains: []string{"/events/0/changed"}},
			{Name: "an unknown field", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, `"events": [{"event": "record.created", "object": "account", "fields": ["nickname"]}]`), Status: 422, Contains: []string{"/events/0/fields/0"}},
			{Name: "a short secret", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: `{"name": "erp", "url": "` + ok + `", "secret": "short", ` + accountEvents + `}`, Status: 422},
			{Name: "not an administrator", Method: "POST", Path: "/api/meta/webhooks", User: "manager",
				Body: def("erp", ok, accountEvents), Status: 403, Code: "forbidden"},
			{Name: "an allowed target", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("erp", ok, accountEvents), Status: 201},
			{Name: "only administrators read webhooks", Method: "GET", Path: "/api/meta/webhooks", User: "manager", Status: 403, NotContain: []string{secret}},
			{Name: "an inactive webhook is not checked", Method: "POST", Path: "/api/meta/webhooks", User: "admin",
				Body: def("later", "https://erp.example.org/hook", `"active": false, `+accountEvents), Status: 201},
			{Name: "activating it is", Method: "PUT", Path: "/api/meta/webhooks/later", User: "admin",
				Body: def("later", "https://erp.example.org/hook", `"active": true, `+accountEvents), Status: 422, Contains: []string{"allow-list"}},
		})
	})
}

// TestWebhookDeliversSignedEventsInOrder: created, updated and deleted
// events of records reach the target signed, with the documented body,
// after the writes (which call nothing), in order per record.
func TestWebhookDeliversSignedEventsInOrder(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		b := h.Create("manager", "account", `{"name": "Beta"}`)
		for _, phone := range []string{"010-1", "010-2"} {
			h.update(t, "manager", "account", a, `"phone": "`+phone+`"`)
		}
		if status, _ := h.Do("DELETE", "/api/records/account/"+a, "manager", ""); status != 204 && status != 200 {
			t.Fatalf("delete: %d", status)
		}
		if n := len(h.target.received()); n != 0 {
			t.Fatalf("the target got %d requests during the writes", n)
		}
		h.RunJobs()
		var ofA []string
		for _, e := range h.target.events() {
			if strings.HasSuffix(e, ":"+a) {
				ofA = append(ofA, e)
			}
		}
		want := []string{"record.created account:" + a, "record.updated account:" + a, "record.updated account:" + a, "record.deleted account:" + a}
		if !slices.Equal(ofA, want) {
			t.Fatalf("events of a record: %v, want %v", ofA, want)
		}
		if !slices.Contains(h.target.events(), "record.created account:"+b) {
			t.Errorf("the other record's event is missing: %v", h.target.events())
		}
		ids := map[string]bool{}
		for _, r := range h.target.received() {
			if ids[r.Body.ID] || r.Body.ID == "" || r.Delivery != r.Body.ID || r.Event != r.Body.Event {
				t.Errorf("event id %q (header %q, event header %q) repeated or missing", r.Body.ID, r.Delivery, r.Event)
			}
			ids[r.Body.ID] = true
			if _, err := time.Parse(time.RFC3339Nano, r.Body.OccurredAt); err != nil {
				t.Errorf("occurred_at %q: %v", r.Body.OccurredAt, err)
			}
			if r.Body.Data["id"] != r.Body.RecordID || r.Body.Data["object"] != "account" {
				t.Errorf("data lacks the record's id and object: %v", r.Body.Data)
			}
			// A body is what was signed: the same bytes with another
			// secret or a changed byte do not verify.
			if integration.Verify("another-secret-of-16", r.Signature, r.Raw, h.clock.Now(), time.Minute) == nil {
				t.Error("a signature verified with another secret")
			}
		}
		got := h.target.received()
		phones := []any{}
		for _, r := range got {
			if r.Body.RecordID == a && r.Body.Event == engine.EventRecordUpdated {
				phones = append(phones, r.Body.Data["phone"])
			}
		}
		if fmt.Sprint(phones) != "[010-1 010-2]" {
			t.Errorf("updates carry the record as it was then: %v", phones)
		}
		if del := got[slices.IndexFunc(got, func(r received) bool { return r.Body.Event == engine.EventRecordDeleted })]; del.Body.Data["name"] != "Acme" {
			t.Errorf("a delete carries the record as it was: %v", del.Body.Data)
		}
		ds := h.deliveries(t, "erp", "?state=delivered")
		if len(ds) != 5 {
			t.Fatalf("%d delivered deliveries listed, want 5", len(ds))
		}
		for _, d := range ds {
			ans := d["answers"].([]any)
			if len(ans) != 1 || fmt.Sprint(ans[0].(map[string]any)["status"]) != "200" || d["state"] != "delivered" {
				t.Errorf("a delivery's answers: %v", d)
			}
		}
		h.RunJobs()
		if n := len(h.target.received()); n != 5 {
			t.Errorf("running the jobs again sent more: %d requests", n)
		}
	})
}

// TestWebhookDataFollowsRunAsRights: data holds only what the run-as user
// may read (through the engine's decision), only id and object without
// one or when the record is out of that user's reach, and only the named
// fields when the subscription names some.
func TestWebhookDataFollowsRunAsRights(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		created := func(extra string) string {
			return `"events": [{"event": "record.created", "object": "account"` + extra + `}]`
		}
		h.define(t, "as_marketing", "/mkt", `"run_as": "mkt", `+created(""))
		h.define(t, "as_manager", "/manager", `"run_as": "manager", `+created(""))
		h.define(t, "as_rep", "/rep", `"run_as": "rep1", `+created(""))
		h.define(t, "as_nobody", "/nobody", created(""))
		h.define(t, "as_ghost", "/ghost", `"run_as": "ghost", `+created(""))
		h.define(t, "picked", "/picked", `"run_as": "manager", `+created(`, "fields": ["name", "credit_limit"]`))
		h.Create("manager", "account", `{"name": "Acme", "credit_limit": 987654.32, "annual_revenue": 90000, "phone": "010-1"}`)
		h.RunJobs()
		cases := []struct {
			path      string
			want      []string
			forbidden []string
		}{
			{"/mkt", []string{"id", "object", "name", "phone"}, []string{"credit_limit", "annual_revenue"}},
			{"/manager", []string{"id", "object", "name", "phone", "credit_limit", "annual_revenue"}, nil},
			{"/rep", []string{"id", "object"}, []string{"name", "phone", "credit_limit"}},
			{"/nobody", []string{"id", "object"}, []string{"name", "phone", "credit_limit"}},
			{"/ghost", []string{"id", "object"}, []string{"name", "phone", "credit_limit"}},
			{"/picked", []string{"id", "object", "name", "credit_limit"}, []string{"phone", "annual_revenue"}},
		}
		for _, c := range cases {
			t.Run(c.path, func(t *testing.T) {
				got := h.target.at(c.path)
				if len(got) != 1 {
					t.Fatalf("%d deliveries", len(got))
				}
				data := got[0].Body.Data
				for _, k := range c.want {
					if _, ok := data[k]; !ok {
						t.Errorf("data lacks %s: %v", k, data)
					}
				}
				for _, k := range c.forbidden {
					if _, ok := data[k]; ok {
						t.Errorf("data holds %s: %v", k, data)
					}
				}
				// The value has a decimal point, which ids and user ids
				// (digits and hex) cannot hold: a bare 5000 once matched
				// a user id.
				if strings.Contains(string(got[0].Raw), "987654.32") != slices.Contains(c.want, "credit_limit") {
					t.Errorf("the credit limit's value in the body: %s", got[0].Raw)
				}
			})
		}
	})
}

// TestWebhookConditionsAndChangedFields: a subscription's formula
// condition and its changed fields decide which events are sent.
func TestWebhookConditionsAndChangedFields(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "big", "/hook", `"run_as": "manager", "events": [
			{"event": "record.created", "object": "account", "condition": "employees > 100"},
			{"event": "record.updated", "object": "account", "condition": "country == 'cn'", "changed": ["level", "relationship"]}]`)
		small := h.Create("manager", "account", `{"name": "Small", "employees": 5, "country": "cn"}`)
		big := h.Create("manager", "account", `{"name": "Big", "employees": 500, "country": "us"}`)
		for _, u := range []struct{ id, body string }{
			{small, `"phone": "010-12345"`}, // not a watched field
			{small, `"level": "key"`},       // sent
			{big, `"level": "key"`},         // condition false
		} {
			h.update(t, "manager", "account", u.id, u.body)
		}
		h.RunJobs()
		got := h.target.events()
		want := []string{"record.created account:" + big, "record.updated account:" + small}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("sent %v, want %v", got, want)
		}
	})
}

// TestWebhookTargetDownThenUp: while the target refuses, the writes
// succeed, the delivery is retried with back-off (its answers listed) and
// a later event of the same record waits behind it; once the target is
// back, both arrive in order.
func TestWebhookTargetDownThenUp(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		h.target.setRefuse(2)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		h.update(t, "manager", "account", a, `"phone": "010-12345"`) // succeeds while the target is down
		h.RunJobs()
		h.RunJobs() // the retry is not due yet: nothing more is sent
		ds := h.deliveries(t, "erp", "")
		if len(ds) != 2 {
			t.Fatalf("%d deliveries", len(ds))
		}
		first, second := ds[1], ds[0] // newest first
		if first["state"] != "pending" || fmt.Sprint(first["attempts"]) != "1" || fmt.Sprint(second["attempts"]) != "0" {
			t.Fatalf("after one refusal: %v / %v", first, second)
		}
		ans := first["answers"].([]any)[0].(map[string]any)
		if fmt.Sprint(ans["status"]) != "503" || !strings.Contains(ans["response"].(string), "down for maintenance") || len(ans["response"].(string)) > 2048 {
			t.Errorf("the answer kept: %v", ans)
		}
		for _, wait := range []time.Duration{integration.DefaultBackoff, 2 * integration.DefaultBackoff} {
			h.clock.Add(wait)
			h.RunJobs()
		}
		want := []string{"record.created account:" + a, "record.updated account:" + a}
		if got := h.target.events(); !slices.Equal(got, want) {
			t.Fatalf("after the target came back: %v, want %v", got, want)
		}
		ds = h.deliveries(t, "erp", "")
		if ds[1]["state"] != "delivered" || fmt.Sprint(ds[1]["attempts"]) != "3" || ds[0]["state"] != "delivered" {
			t.Errorf("deliveries: %v", ds)
		}
		if ds[1]["id"] != h.target.received()[0].Body.ID {
			t.Errorf("the delivered id %v is not the listed %v", h.target.received()[0].Body.ID, ds[1]["id"])
		}
	})
}

// TestWebhookFailsThenResend: a delivery the target refuses for longer
// than the retry time is failed and the record's next event goes on; an
// administrator re-sends it with the same id.
func TestWebhookFailsThenResend(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		h.target.setRefuse(1 << 20)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		h.update(t, "manager", "account", a, `"phone": "010-12345"`)
		var first map[string]any
		for i := 0; ; i++ {
			h.RunJobs()
			ds := h.deliveries(t, "erp", "")
			if first = ds[1]; first["state"] == "failed" {
				break
			}
			if i > 60 {
				t.Fatalf("still %v after %d hours", first["state"], i)
			}
			h.clock.Add(time.Hour)
		}
		if n := len(first["answers"].([]any)); n < 5 || n != int(mustInt(t, first["attempts"])) {
			t.Errorf("a failed delivery lists %d answers for %v attempts", n, first["attempts"])
		}
		h.target.setRefuse(0)
		h.clock.Add(time.Hour)
		h.RunJobs()
		if got := h.target.events(); !slices.Equal(got, []string{"record.updated account:" + a}) {
			t.Fatalf("the next event after a failed one: %v", got)
		}
		id := first["id"].(string)
		resend := "/api/meta/webhooks/erp/deliveries/" + id + "/resend"
		h.Run(t, []apitest.Scenario{
			{Name: "only administrators list deliveries", Method: "GET", Path: "/api/meta/webhooks/erp/deliveries", User: "manager", Status: 403, NotContain: []string{id}},
			{Name: "only administrators re-send", Method: "POST", Path: resend, User: "manager", Status: 403},
			{Name: "an unknown webhook", Method: "GET", Path: "/api/meta/webhooks/nope/deliveries", User: "admin", Status: 404},
			{Name: "a bad state", Method: "GET", Path: "/api/meta/webhooks/erp/deliveries?state=lost", User: "admin", Status: 400},
			{Name: "an unknown delivery", Method: "POST", Path: "/api/meta/webhooks/erp/deliveries/00000000-0000-0000-0000-000000000000/resend", User: "admin", Status: 404},
			{Name: "re-send", Method: "POST", Path: resend, User: "admin", Status: 202, Contains: []string{`"state":"pending"`, id}},
			{Name: "not twice while pending", Method: "POST", Path: resend, User: "admin", Status: 409, Code: "conflict"},
		})
		h.RunJobs()
		got := h.target.received()
		if len(got) != 2 || got[1].Body.ID != id || got[1].Body.Event != engine.EventRecordCreated {
			t.Fatalf("after the re-send: %v", h.target.events())
		}
	})
}

// mustInt reads a JSON number.
func mustInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebhookSurvivesRestart: events queued by one server that stopped
// before delivering them are delivered by a second server on the same
// database, each once and with the id it was queued with.
func TestWebhookSurvivesRestart(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		x := h.Create("manager", "account", `{"name": "Delivered before"}`)
		h.RunJobs()
		y := h.Create("manager", "account", `{"name": "Queued"}`)
		h.update(t, "manager", "account", y, `"phone": "010-12345"`)
		queued := h.deliveries(t, "erp", "?state=pending")
		if len(queued) != 2 {
			t.Fatalf("%d pending deliveries", len(queued))
		}
		// The first server stops here; a second one starts on the
		// database and runs the jobs.
		ctx := context.Background()
		if err := h.secondServer(t).Drain(ctx, jobs.DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		h.RunJobs()
		want := []string{"record.created account:" + x, "record.created account:" + y, "record.updated account:" + y}
		if got := h.target.events(); !slices.Equal(got, want) {
			t.Fatalf("after the restart: %v, want %v", got, want)
		}
		got := h.target.received()
		if got[1].Body.ID != queued[1]["id"] || got[2].Body.ID != queued[0]["id"] {
			t.Errorf("delivered ids %s, %s; queued %v, %v", got[1].Body.ID, got[2].Body.ID, queued[1]["id"], queued[0]["id"])
		}
	})
}

// TestWebhookEventOfAMissingRecord: an event another package publishes
// through a Writer about a record that is not there is sent with only
// its id and object, and a condition over that record does not hold (the
// real approval and conversion events are in events_test.go).
func TestWebhookEventOfAMissingRecord(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", "events": [{"event": "approval.approved", "object": "account"}]`)
		h.define(t, "named", "/named", `"events": [{"event": "approval.approved", "object": "account", "condition": "name != ''"}]`)
		acc := h.Create("manager", "account", `{"name": "Acme"}`)
		ctx := context.Background()
		u, err := h.Platform.Access.GetUser(ctx, "manager")
		if err != nil {
			t.Fatal(err)
		}
		err = h.Platform.Engine.Tx(ctx, u.Principal(), func(w *engine.Writer) error {
			for _, id := range []string{acc, "ghost"} {
				if err := w.Publish(ctx, engine.DomainEvent{Name: integration.EventApprovalApproved, Object: "account", RecordID: id}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		h.RunJobs()
		want := []string{"approval.approved account:" + acc, "approval.approved account:" + acc, "approval.approved account:ghost"}
		got := h.target.events()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("sent %v, want %v", got, want)
		}
		if named := h.target.at("/named"); len(named) != 1 || named[0].Body.RecordID != acc {
			t.Errorf("the conditional webhook got %v, want the event of the record that is there", named)
		}
		for _, r := range h.target.at("/hook") {
			if (r.Body.RecordID == acc && r.Body.Data["name"] != "Acme") || (r.Body.RecordID == "ghost" && len(r.Body.Data) != 2) {
				t.Errorf("the data of %s %s: %v", r.Body.Event, r.Body.RecordID, r.Body.Data)
			}
		}
	})
}

// TestWebhookRefusesInternalAddressOfAnAllowedName: a host name on the
// allow-list that resolves to an internal address is refused when the
// request is made (the dialer checks the address dialled), unless the
// operator listed that address too.
func TestWebhookRefusesInternalAddressOfAnAllowedName(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "localhost")
		named := strings.Replace(h.target.url("/hook"), "127.0.0.1", "localhost", 1)
		body := fmt.Sprintf(`{"name": "erp", "url": %q, "secret": %q, %s}`, named, secret, accountEvents)
		if status, m := h.Do("POST", "/api/meta/webhooks", "admin", body); status != 201 {
			t.Fatalf("define: %d %v", status, m)
		}
		h.Create("manager", "account", `{"name": "Acme"}`)
		h.RunJobs()
		if n := len(h.target.received()); n != 0 {
			t.Fatalf("a loopback address was reached through an allowed name: %d requests", n)
		}
		ans := h.deliveries(t, "erp", "")[0]["answers"].([]any)[0].(map[string]any)
		if !strings.Contains(ans["error"].(string), "internal address") {
			t.Errorf("the refusal: %v", ans)
		}
		t.Setenv(integration.AllowEnv, "localhost, 127.0.0.1, ::1")
		h.clock.Add(time.Hour)
		h.RunJobs()
		if n := len(h.target.received()); n != 1 {
			t.Fatalf("with the address listed: %d requests", n)
		}
	})
}

// TestWebhookDeactivatedFailsWaitingDeliveries: deactivating a webhook
// stops new events and fails its waiting deliveries at their next
// attempt, without calling the target.
func TestWebhookDeactivatedFailsWaitingDeliveries(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", accountEvents)
		h.Create("manager", "account", `{"name": "Queued"}`)
		off := fmt.Sprintf(`{"name": "erp", "url": %q, "secret": %q, "active": false, %s}`, h.target.url("/hook"), secret, accountEvents)
		if status, m := h.Do("PUT", "/api/meta/webhooks/erp", "admin", off); status != 200 {
			t.Fatalf("deactivate: %d %v", status, m)
		}
		h.Create("manager", "account", `{"name": "Not queued"}`)
		h.RunJobs()
		if n := len(h.target.received()); n != 0 {
			t.Fatalf("an inactive webhook sent %d requests", n)
		}
		ds := h.deliveries(t, "erp", "")
		if len(ds) != 1 || ds[0]["state"] != "failed" || !strings.Contains(fmt.Sprint(ds[0]["answers"]), "deactivated") {
			t.Fatalf("deliveries of an inactive webhook: %v", ds)
		}
	})
}

// TestWebhookSlowTargetTimesOut: a target that does not answer holds
// neither the write nor the runner: the attempt ends at the client's
// timeout and is retried later, and the webhook's other deliveries wait
// for the back-off after that timeout without an attempt, so the runner
// is held once, not once per waiting delivery. Once the target answers
// again, everything goes out.
func TestWebhookSlowTargetTimesOut(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		t.Setenv(integration.AllowEnv, "127.0.0.1")
		var requests, hang atomic.Int32
		hang.Store(1)
		stop := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			io.Copy(io.Discard, r.Body) // so the server notices the sender leaving
			if hang.Load() == 1 {
				select {
				case <-r.Context().Done(): // the sender gave up
				case <-stop:
				}
			}
		}))
		defer slow.Close()
		defer close(stop)
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		p, err := platform.New(ctx, platform.Config{DB: db, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := defaults.FS("standard")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
			t.Fatal(err)
		}
		x, err := integration.Wire(ctx, integration.Config{Engine: p.Engine, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		doc, ps := integration.Webhooks.Kind().Parse("test", []byte(fmt.Sprintf(`{"name": "slow", "url": %q, "secret": %q, %s}`, slow.URL, secret, accountEvents)))
		if len(ps) > 0 {
			t.Fatal(ps)
		}
		if _, _, err := p.Engine.Change(ctx, func(s *metadata.Schema) error { s.PutDocument(integration.KindWebhooks, doc); return nil }, engine.ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
			t.Fatal(err)
		}
		admin, err := p.Access.GetUser(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Acme", "Beta", "Gamma"} {
			if _, err := p.Engine.Create(access.WithPrincipal(ctx, admin.Principal()), "account", map[string]any{"name": name}); err != nil {
				t.Fatalf("the write with a slow target: %v", err)
			}
		}
		drain := func() {
			t.Helper()
			if err := p.Engine.Jobs().Drain(ctx, jobs.DrainOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		drain()
		if n := requests.Load(); n != 1 {
			t.Fatalf("the target was called %d times while it hung, want once", n)
		}
		ds, err := x.Deliveries(ctx, "slow", "", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var tried, waiting int
		for _, d := range ds {
			switch {
			case d.State != integration.StatePending:
				t.Errorf("delivery %s is %s", d.ID, d.State)
			case d.Attempts == 1 && len(d.Answers) == 1 && d.Answers[0].Error == "no answer within 200ms":
				tried++
			case d.Attempts == 0 && len(d.Answers) == 0:
				waiting++
			}
		}
		if tried != 1 || waiting != 2 {
			t.Fatalf("after a timeout: %d tried, %d waiting, want 1 and 2: %+v", tried, waiting, ds)
		}
		hang.Store(0)
		c.Add(integration.DefaultBackoff)
		drain()
		if ds, err = x.Deliveries(ctx, "slow", integration.StateDelivered, 0, 10); err != nil || len(ds) != 3 {
			t.Fatalf("once the target answers: %d delivered (%v)", len(ds), err)
		}
		if n := requests.Load(); n != 4 {
			t.Errorf("the target was called %d times in all, want 4", n)
		}
	})
}

// TestWebhookPurgeKeepsRecentAndPending: the purge deletes delivered and
// failed deliveries past their retention, never waiting ones.
func TestWebhookPurgeKeepsRecentAndPending(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", accountEvents)
		h.Create("manager", "account", `{"name": "Old"}`)
		h.RunJobs()
		h.clock.Add(integration.DefaultRetention + time.Hour)
		h.target.setRefuse(1)
		h.Create("manager", "account", `{"name": "Waiting"}`)
		h.Create("manager", "account", `{"name": "Recent"}`)
		h.RunJobs()
		if _, _, err := h.Platform.Engine.Jobs().Enqueue(context.Background(), db.SQL(), jobs.Spec{Kind: integration.PurgeKind}); err != nil {
			t.Fatal(err)
		}
		h.RunJobs()
		var states []string
		for _, d := range h.deliveries(t, "erp", "") {
			states = append(states, fmt.Sprint(d["state"]))
		}
		slices.Sort(states)
		if !slices.Equal(states, []string{"delivered", "pending"}) {
			t.Fatalf("after the purge: %v", states)
		}
	})
}

// TestWebhookOrderWithTwoServers: two servers running jobs at once on one
// database still deliver a record's events in order, each once.
func TestWebhookOrderWithTwoServers(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		ctx := context.Background()
		second := h.secondServer(t)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		b := h.Create("manager", "account", `{"name": "Beta"}`)
		const updates = 8
		for i := 1; i <= updates; i++ {
			h.update(t, "manager", "account", a, fmt.Sprintf(`"employees": %d`, i))
			h.update(t, "manager", "account", b, fmt.Sprintf(`"employees": %d`, i))
		}
		errs := make(chan error, 2)
		for _, r := range []*jobs.Runner{h.Platform.Engine.Jobs(), second} {
			go func() { errs <- r.Drain(ctx, jobs.DrainOptions{}) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		h.RunJobs() // whatever a runner left to the other
		for _, id := range []string{a, b} {
			var seen []string
			ids := map[string]bool{}
			for _, r := range h.target.received() {
				if r.Body.RecordID != id {
					continue
				}
				if ids[r.Body.ID] {
					t.Errorf("event %s delivered twice", r.Body.ID)
				}
				ids[r.Body.ID] = true
				seen = append(seen, fmt.Sprint(r.Body.Data["employees"]))
			}
			want := []string{"<nil>"}
			for i := 1; i <= updates; i++ {
				want = append(want, fmt.Sprint(i))
			}
			if !slices.Equal(seen, want) {
				t.Errorf("events of %s arrived as %v, want %v", id, seen, want)
			}
		}
	})
}
