package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

func TestFailedWriteChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		boom := errors.New("after-hook failed")
		fail := true
		e.OnAfter(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
			if fail {
				return boom
			}
			return nil
		})
		if _, err := e.Create(as("u"), "lead", map[string]any{"person": "P"}); !errors.Is(err, boom) {
			t.Fatalf("want the hook's error, got %v", err)
		}
		res, err := e.List(as("u"), "lead", ListOptions{Total: true})
		if err != nil || *res.Total != 0 {
			t.Fatalf("the failed create left %v records (%v)", *res.Total, err)
		}
		fail = false
		rec, err := e.Create(as("u"), "lead", map[string]any{"person": "Q"})
		if err != nil {
			t.Fatal(err)
		}
		if no := rec["number"].(string); no[len(no)-5:] != "00001" {
			t.Errorf("the failed create used a number: next is %s", no)
		}
	})
}

func TestCascadesAndPicklistDependencies(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u")
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Parent"})
		if err != nil {
			t.Fatal(err)
		}
		id := acc["id"].(string)
		con, err := e.Create(ctx, "contact", map[string]any{"name": "C", "account": id})
		if err != nil {
			t.Fatal(err)
		}
		act, err := e.Create(ctx, "activity", map[string]any{"subject": "Call", "contact": con["id"], "account": id})
		if err != nil {
			t.Fatal(err)
		}
		// account → contact cascades; activity.account cascades too.
		if err := e.Delete(ctx, "account", id); err != nil {
			t.Fatal(err)
		}
		for obj, rid := range map[string]any{"contact": con["id"], "activity": act["id"]} {
			if _, err := e.Get(ctx, obj, rid.(string)); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s survived its account's deletion: %v", obj, err)
			}
		}
		// province depends on country.
		cases := []struct {
			data map[string]any
			ok   bool
		}{
			{map[string]any{"person": "A", "country": "cn", "province": "zj"}, true},
			{map[string]any{"person": "B", "country": "us", "province": "zj"}, false},
			{map[string]any{"person": "C", "province": "ca"}, false},
			{map[string]any{"person": "D", "country": "us", "province": "ca"}, true},
		}
		for _, c := range cases {
			_, err := e.Create(ctx, "lead", c.data)
			var ve *ValidationError
			if c.ok && err != nil || !c.ok && !errors.As(err, &ve) {
				t.Errorf("%v: ok=%v, got %v", c.data, c.ok, err)
			}
		}
	})
}
