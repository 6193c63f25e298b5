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
		acc := created(t, e, ctx, "account", map[string]any{"name": "Acme"})
		comp := created(t, e, ctx, "competitor", map[string]any{"name": "Rival"})
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

// TestCreateManyReferences checks the references of a batch, checked at
// once before its records (prefetchRefs): a reference the user may read
// passes, one to a record of another owner or to no record fails naming
// the record and field as a single create does, in a lookup and in a
// many-to-many field; and a referenced record a before-hook deletes while
// the batch is checked is not found by the records checked after.
func TestCreateManyReferences(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		create := func(ctx context.Context, object, name string) string { return createNamed(t, e, ctx, object, name) }
		mine, theirs, doomed := create(ctx, "account", "Mine"), create(as("u2"), "account", "Theirs"), create(ctx, "account", "Doomed")
		comp, theirComp := create(ctx, "competitor", "Rival"), create(as("u2"), "competitor", "Their rival")
		ok := func(name string) map[string]any {
			return map[string]any{"name": name, "account": mine, "competitors": []any{comp}}
		}
		for _, tt := range []struct {
			name  string
			bad   map[string]any
			field string
		}{
			{"another owner's account", map[string]any{"name": "X", "account": theirs}, "account"},
			{"no account", map[string]any{"name": "X", "account": "00000000-0000-7000-8000-000000000000"}, "account"},
			{"another owner's competitor", map[string]any{"name": "X", "account": mine, "competitors": []any{comp, theirComp}}, "competitors"},
		} {
			_, single := e.Create(ctx, "opportunity", tt.bad)
			_, err := e.CreateMany(ctx, "opportunity", []map[string]any{ok("A"), ok("B"), tt.bad, ok("C")})
			var be *BatchError
			var ve, sve *ValidationError
			if !errors.As(err, &be) || be.Index != 2 || !errors.As(err, &ve) || !errors.As(single, &sve) {
				t.Fatalf("%s: want a validation error of record 2 as a single create's (%v), got %v", tt.name, single, err)
			}
			if !reflect.DeepEqual(ve.Errors, sve.Errors) || len(ve.Errors) != 1 || ve.Errors[0].Field != tt.field || ve.Errors[0].Code != "not_found" {
				t.Errorf("%s: the batch said %+v, a single create %+v", tt.name, ve.Errors, sve.Errors)
			}
		}
		if _, err := e.CreateMany(ctx, "opportunity", []map[string]any{ok("A"), ok("B")}); err != nil {
			t.Fatalf("readable references: %v", err)
		}
		// The first record's before-hook deletes the account the second
		// refers to, after the batch checked it.
		e.OnBefore(OpCreate, "opportunity", func(ctx context.Context, ev *Event) error {
			if ev.New["name"] == "Deleter" {
				return ev.Writer.Delete(ctx, "account", doomed)
			}
			return nil
		})
		_, err := e.CreateMany(ctx, "opportunity", []map[string]any{
			{"name": "Deleter", "account": mine},
			{"name": "Late", "account": doomed},
		})
		var be *BatchError
		var ve *ValidationError
		if !errors.As(err, &be) || be.Index != 1 || !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Code != "not_found" {
			t.Fatalf("a reference deleted during the batch: want not_found for record 1, got %v", err)
		}
	})
}
