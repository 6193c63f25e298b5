package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// ownerGuard is a small rule set for the engine's own tests (the real
// decision is engine/access, tested there and end to end): everyone may do
// everything on their own records, fields named in hidden are hidden and
// those in readOnly read-only.
type ownerGuard struct {
	hidden, readOnly map[string]bool
}

func (g ownerGuard) Decide(ctx context.Context, s *metadata.Schema) (Decision, error) { return g, nil }

func (g ownerGuard) CanObject(p *access.Principal, object, action string) error {
	return nil
}

func (g ownerGuard) FieldLevel(p *access.Principal, object, field string) metadata.FieldLevel {
	switch {
	case g.hidden[object+"."+field]:
		return metadata.FieldHidden
	case g.readOnly[object+"."+field]:
		return metadata.FieldReadOnly
	}
	return metadata.FieldEditable
}

func (g ownerGuard) RecordRule(ctx context.Context, p *access.Principal, object, action string) (access.RecordRule, error) {
	return access.RecordRule{Branches: []access.Branch{{Source: "scope", SQL: `"owner_id" = ?`, Args: []any{p.UserID}}}}, nil
}

// newEngine opens an engine on db, a copy of the standard seed (the
// standard template installed).
func newEngine(t *testing.T, db *store.DB, g Guard) *Engine {
	t.Helper()
	e, err := New(context.Background(), Config{DB: db, Guard: g, Snapshots: snapshots})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// secondServer returns an engine over db that shares nothing with those
// of newEngine (not even their snapshots), as another server would.
func secondServer(t *testing.T, db *store.DB) *Engine {
	t.Helper()
	e, err := New(context.Background(), Config{DB: db, Guard: ownerGuard{}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// as returns a context acting for user id.
func as(id string) context.Context {
	return access.WithPrincipal(context.Background(), &access.Principal{UserID: id, Username: id})
}

// body decodes JSON the way the API does.
func body(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRecordLifecycle(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", body(t, `{"name": "Acme", "industry": "retail", "annual_revenue": "1234.565", "employees": 12}`))
		if err != nil {
			t.Fatal(err)
		}
		if acc["annual_revenue"] != json.Number("1234.57") || acc["version"] != int64(1) || acc["owner_id"] != "u1" {
			t.Fatalf("unexpected record %v", acc)
		}
		id := acc["id"].(string)
		opp, err := e.Create(ctx, "opportunity", body(t, `{"name": "Deal", "account": "`+id+`", "amount": 500, "close_date": "2026-12-01"}`))
		if err != nil {
			t.Fatal(err)
		}
		if opp["stage"] != "qualify" {
			t.Errorf("default stage not applied: %v", opp["stage"])
		}
		upd, err := e.Update(ctx, "opportunity", opp["id"].(string), body(t, `{"version": 1, "amount": "750.10", "stage": "proposal"}`))
		if err != nil {
			t.Fatal(err)
		}
		if upd["version"] != int64(2) || upd["amount"] != json.Number("750.10") {
			t.Fatalf("update: %v", upd)
		}
		_, err = e.Update(ctx, "opportunity", opp["id"].(string), body(t, `{"version": 1, "amount": 1}`))
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: want conflict, got %v", err)
		}
		hist, err := e.History(ctx, "opportunity", opp["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 {
			t.Fatalf("history: want amount and stage changes, got %+v", hist)
		}
		if err := e.Delete(ctx, "account", id); !errors.Is(err, ErrConflict) {
			t.Fatalf("delete of referenced account: want conflict, got %v", err)
		}
		if _, err := e.Get(as("u2"), "account", id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other owner: want not found, got %v", err)
		}
		res, err := e.List(ctx, "opportunity", ListOptions{Filter: `amount > 700 && stage in ["proposal"]`, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != 1 || *res.Total != 1 {
			t.Fatalf("list: %+v", res)
		}
		if err := e.Delete(ctx, "opportunity", opp["id"].(string)); err != nil {
			t.Fatal(err)
		}
		if err := e.Delete(ctx, "account", id); err != nil {
			t.Fatal(err)
		}
		_ = time.Now
	})
}

// TestCreateAnswersLikeGet checks that the answer of a create is the
// record as a read returns it.
func TestCreateAnswersLikeGet(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{hidden: map[string]bool{"account.credit_limit": true}})
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", body(t, `{"name": "Acme", "annual_revenue": "12.5", "first_deal_date": "2026-01-02"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, leaked := acc["credit_limit"]; leaked {
			t.Error("hidden field in the create answer")
		}
		comp, err := e.Create(ctx, "competitor", body(t, `{"name": "Rival"}`))
		if err != nil {
			t.Fatal(err)
		}
		opp, err := e.Create(ctx, "opportunity", body(t, `{"name": "D", "account": "`+acc["id"].(string)+`", "competitors": ["`+comp["id"].(string)+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		for object, created := range map[string]Record{"account": acc, "opportunity": opp, "competitor": comp} {
			read, err := e.Get(ctx, object, created["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			cj, _ := json.Marshal(created)
			rj, _ := json.Marshal(read)
			if string(cj) != string(rj) {
				t.Fatalf("%s: create answered\n%s\nread gives\n%s", object, cj, rj)
			}
		}
	})
}
