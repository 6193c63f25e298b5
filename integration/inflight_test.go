package integration_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestWebhookWritesGoOnWhileADeliveryHangs: while the target holds a
// delivery without answering, creates, updates and deletes of the same
// and other records commit and queue their events; the attempt is still
// in flight when they return (the writes waited neither for it nor for
// the client's timeout). Once the target answers, every event arrives in
// order per record.
func TestWebhookWritesGoOnWhileADeliveryHangs(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		entered, release := h.target.holdNext()
		done := make(chan error, 1)
		go func() { done <- h.Platform.Engine.Jobs().Drain(context.Background(), jobs.DrainOptions{}) }()
		inFlight := <-entered
		b := h.Create("manager", "account", `{"name": "Beta"}`)
		h.update(t, "manager", "account", a, `"phone": "010-1"`)
		if status, m := h.Do("DELETE", "/api/records/account/"+b, "manager", ""); status != 204 && status != 200 {
			t.Fatalf("delete while a delivery hangs: %d %v", status, m)
		}
		if err := inFlight.Err(); err != nil {
			t.Errorf("the writes returned only after the attempt in flight ended (%v)", err)
		}
		if n := len(h.deliveries(t, "erp", "?state=pending")); n != 4 {
			t.Errorf("%d deliveries wait, want the one in flight and the three the writes queued", n)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		h.RunJobs()
		var ofA, ofB []string
		for _, r := range h.target.received() {
			switch r.Body.RecordID {
			case a:
				ofA = append(ofA, r.Body.Event)
			case b:
				ofB = append(ofB, r.Body.Event)
			}
		}
		if !slices.Equal(ofA, []string{"record.created", "record.updated"}) || !slices.Equal(ofB, []string{"record.created", "record.deleted"}) {
			t.Errorf("events of the held record %v, of the other %v", ofA, ofB)
		}
	})
}

// TestWebhookTakenOverMidDelivery: a server that hangs (or dies) after the
// target took a delivery but before it recorded the answer leaves the job
// to the next server once its lease ran out; that one sends the event
// again with the same id and body, so the receiver drops the repeat, and
// the delivery is listed once, delivered. The first server's late answer
// changes nothing.
func TestWebhookTakenOverMidDelivery(t *testing.T) {
	storetest.DialectsFrom(t, seed, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, "127.0.0.1")
		h.define(t, "erp", "/hook", `"run_as": "manager", `+accountEvents)
		first := h.secondServer(t)
		a := h.Create("manager", "account", `{"name": "Acme"}`)
		entered, release := h.target.holdNext()
		done := make(chan error, 1)
		go func() { done <- first.Drain(context.Background(), jobs.DrainOptions{}) }()
		<-entered
		// The first server hangs; its lease runs out and this server
		// takes the job over.
		h.clock.Add(jobs.DefaultLeaseTimeout + time.Second)
		h.RunJobs()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		h.RunJobs()
		got := h.target.received()
		if len(got) != 2 || got[0].Body.ID != got[1].Body.ID || string(got[0].Raw) != string(got[1].Raw) || got[0].Body.RecordID != a {
			t.Fatalf("the target got %d requests: %v", len(got), h.target.events())
		}
		ds := h.deliveries(t, "erp", "")
		if len(ds) != 1 || ds[0]["id"] != got[0].Body.ID || ds[0]["state"] != "delivered" || len(ds[0]["answers"].([]any)) != 1 {
			t.Errorf("deliveries after the take-over: %v", ds)
		}
	})
}
