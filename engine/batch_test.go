package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestCreateMany checks that a batch makes exactly the records single
// creates make (defaults, auto numbers, links, hooks, answers), over
// several multi-row INSERTs, and that a failing record leaves nothing.
func TestCreateMany(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		hooked := 0
		e.OnAfter(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
			hooked++
			return nil
		})
		n := insertBatch*2 + 7
		data := make([]map[string]any, n)
		for i := range data {
			data[i] = map[string]any{"person": fmt.Sprint("P", i)}
			if i%2 == 0 {
				data[i]["company"] = "Acme"
				data[i]["status"] = "contacted"
			}
		}
		recs, err := e.CreateMany(ctx, "lead", data)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != n || hooked != n {
			t.Fatalf("%d records answered, %d after-hooks run; want %d", len(recs), hooked, n)
		}
		for i, r := range recs {
			got, err := e.Get(ctx, "lead", r["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(map[string]any(got), map[string]any(r)) {
				t.Fatalf("record %d answered\n%v\nstored\n%v", i, r, got)
			}
			wantStatus, wantCompany := "new", any(nil)
			if i%2 == 0 {
				wantStatus, wantCompany = "contacted", "Acme"
			}
			if got["number"] != fmt.Sprintf("LD-%d-%05d", e.Now().Year(), i+1) || got["status"] != wantStatus || got["company"] != wantCompany {
				t.Fatalf("record %d: %v", i, got)
			}
		}
		// Links of a many-to-many field, in a batch.
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		comp, err := e.Create(ctx, "competitor", map[string]any{"name": "Rival"})
		if err != nil {
			t.Fatal(err)
		}
		opps, err := e.CreateMany(ctx, "opportunity", []map[string]any{
			{"name": "O1", "account": acc["id"], "competitors": []any{comp["id"]}},
			{"name": "O2", "account": acc["id"]},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Get(ctx, "opportunity", opps[0]["id"].(string)); !reflect.DeepEqual(got["competitors"], []string{comp["id"].(string)}) {
			t.Errorf("links: %v", got["competitors"])
		}
		// One bad record: the batch fails naming it, and writes nothing.
		before := count(t, e, "u1", "lead")
		_, err = e.CreateMany(ctx, "lead", []map[string]any{{"person": "ok"}, {"person": "ok"}, {"source": "nope"}})
		var be *BatchError
		var ve *ValidationError
		if !errors.As(err, &be) || be.Index != 2 || !errors.As(err, &ve) {
			t.Fatalf("want a validation error of record 2, got %v", err)
		}
		if after := count(t, e, "u1", "lead"); after != before {
			t.Errorf("a failed batch wrote %d records", after-before)
		}
		if _, err := e.CreateMany(ctx, "lead", make([]map[string]any, MaxBatch+1)); !errors.Is(err, ErrBadRequest) {
			t.Errorf("too many records: %v", err)
		}
	})
}
