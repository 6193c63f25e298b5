package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// count returns how many records of object user u can list.
func count(t *testing.T, e *Engine, u, object string) int {
	t.Helper()
	res, err := e.List(as(u), object, ListOptions{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Items)
}

func TestUnitOfWorkIsAtomic(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		boom := errors.New("boom")
		cases := []struct {
			name string
			fail func(w *Writer, account string) error
			want error
		}{
			{"an error of the caller", func(w *Writer, _ string) error { return boom }, boom},
			{"a record that does not validate", func(w *Writer, account string) error {
				_, err := w.Create(ctx, "contact", map[string]any{"account": account})
				return err
			}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := e.Tx(ctx, p, func(w *Writer) error {
					acc, err := w.Create(ctx, "account", map[string]any{"name": "Half"})
					if err != nil {
						return err
					}
					if _, err := w.Create(ctx, "contact", map[string]any{"name": "C", "account": acc["id"]}); err != nil {
						return err
					}
					// Reads inside the unit of work see its writes.
					if got, err := w.List(ctx, "contact", ListOptions{}); err != nil || len(got.Items) != 1 {
						t.Fatalf("inside: %v %v", got, err)
					}
					return c.fail(w, acc["id"].(string))
				})
				var ve *ValidationError
				if (c.want != nil && !errors.Is(err, c.want)) || (c.want == nil && !errors.As(err, &ve)) {
					t.Fatalf("got %v", err)
				}
				if n, m := count(t, e, "u1", "account"), count(t, e, "u1", "contact"); n != 0 || m != 0 {
					t.Fatalf("after a failed unit of work: %d accounts, %d contacts", n, m)
				}
			})
		}
		// Hooks write through the same unit of work: a follow-up created by
		// a hook goes when the write that caused it fails later.
		e.OnAfter(OpCreate, "account", func(ctx context.Context, ev *Event) error {
			_, err := ev.Writer.Create(ctx, "activity", map[string]any{"subject": "Welcome " + ev.New["name"].(string), "kind": "task"})
			return err
		})
		if _, err := e.Create(ctx, "account", map[string]any{"name": "Kept"}); err != nil {
			t.Fatal(err)
		}
		err := e.Tx(ctx, p, func(w *Writer) error {
			if _, err := w.Create(ctx, "account", map[string]any{"name": "Dropped"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n, m := count(t, e, "u1", "account"), count(t, e, "u1", "activity"); n != 1 || m != 1 {
			t.Fatalf("want the kept account and its activity, got %d accounts, %d activities", n, m)
		}
	})
}

func TestSystemWritesOnBehalfOfUser(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		g := ownerGuard{readOnly: map[string]bool{"account.credit_limit": true}}
		e := newEngine(t, db, g)
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		id := acc["id"].(string)
		if _, err := e.Update(ctx, "account", id, map[string]any{"version": int64(1), "credit_limit": "5000"}); !errors.Is(err, access.ErrDenied) {
			t.Fatalf("the user may not write credit_limit: %v", err)
		}
		err = e.Tx(ctx, p, func(w *Writer) error {
			_, err := w.AsSystem().Update(ctx, "account", id, map[string]any{"credit_limit": "5000"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Get(ctx, "account", id)
		if err != nil || got["credit_limit"] == nil || got["updated_by"] != "u1" {
			t.Fatalf("after the system write: %v %v", got, err)
		}
		h, err := e.History(ctx, "account", id)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range h {
			if x.Field == "credit_limit" {
				found = x.BySystem && x.ChangedBy == "u1"
			}
		}
		if !found {
			t.Fatalf("history should say the system changed credit_limit on behalf of u1: %+v", h)
		}
	})
}

// TestWritesUseTheCommittingMetadataVersion has a second server add a
// required field with a default while the first still holds the older
// snapshot: the first server's next create must carry the default (it
// runs again on the newest version), not leave the field empty.
func TestWritesUseTheCommittingMetadataVersion(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		a := newEngine(t, db, ownerGuard{})
		b := secondServer(t, db)
		if _, err := editSchema(b, false, func(s *metadata.Schema) {
			o, _ := s.Object("lead")
			o.Fields = append(o.Fields, &metadata.Field{Name: "tier", Type: "text", Required: true, Default: "basic"})
		}); err != nil {
			t.Fatal(err)
		}
		if a.Snapshot().Version == b.Snapshot().Version {
			t.Fatal("the first server must still hold the older snapshot")
		}
		rec, err := a.Create(as("u"), "lead", map[string]any{"person": "P"})
		if err != nil {
			t.Fatal(err)
		}
		var tier *string
		if err := db.SQL().QueryRow(store.Rebind(db.Dialect, `SELECT tier FROM lead WHERE id = ?`), rec["id"]).Scan(&tier); err != nil {
			t.Fatal(err)
		}
		if tier == nil || *tier != "basic" {
			t.Fatalf("tier = %v, want the default", tier)
		}
	})
}

func TestDomainEventsInTheUnitOfWork(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		var got []string
		e.Subscribe(func(ctx context.Context, w *Writer, ev DomainEvent) error {
			if ev.Object != "account" {
				return nil
			}
			got = append(got, ev.Name+" "+strings.Join(ev.Changed, ",")+" by "+ev.By.UserID)
			if ev.Name == EventRecordUpdated && slices.Contains(ev.Changed, "city") {
				return errors.New("the outbox is full")
			}
			return nil
		})
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		id := acc["id"].(string)
		if _, err := e.Update(ctx, "account", id, map[string]any{"version": int64(1), "phone": "+86 1"}); err != nil {
			t.Fatal(err)
		}
		// A subscriber's error aborts the write that published the event.
		if _, err := e.Update(ctx, "account", id, map[string]any{"version": int64(2), "city": "Hangzhou"}); err == nil || !strings.Contains(err.Error(), "outbox is full") {
			t.Fatalf("want the subscriber's error, got %v", err)
		}
		if rec, _ := e.Get(ctx, "account", id); rec["city"] != nil {
			t.Fatalf("the refused update was written: %v", rec)
		}
		if err := e.Delete(ctx, "account", id); err != nil {
			t.Fatal(err)
		}
		want := []string{"record.created  by u1", "record.updated phone by u1", "record.updated city by u1", "record.deleted  by u1"}
		if !slices.Equal(got, want) {
			t.Fatalf("events %q, want %q", got, want)
		}
	})
}

// TestGetWithReadsAsAnotherPrincipal reads, inside one unit of work, a
// record through the Scope of another principal's Rights: it sees what
// that principal may read (hidden fields left out), a record out of its
// reach is not found, and a scope of another snapshot is refused.
// Engine.GetWith reads the same way outside a unit of work.
func TestGetWithReadsAsAnotherPrincipal(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{hidden: map[string]bool{"account.phone": true}})
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		other := &access.Principal{UserID: "u2", Username: "u2"}
		var mineID string
		err := e.Tx(ctx, p, func(w *Writer) error {
			mine, err := w.AsSystem().Create(ctx, "account", map[string]any{"name": "Mine", "phone": "123"})
			if err != nil {
				return err
			}
			self, err := w.Rights().For(p).Scope("account")
			if err != nil {
				return err
			}
			got, err := w.GetWith(ctx, self, mine["id"].(string))
			if err != nil {
				t.Fatalf("own record through the own scope: %v", err)
			}
			if got["name"] != "Mine" {
				t.Errorf("got %v", got)
			}
			if _, ok := got["phone"]; ok {
				t.Errorf("a hidden field was read: %v", got)
			}
			theirs, err := w.Rights().For(other).Scope("account")
			if err != nil {
				return err
			}
			if _, err := w.GetWith(ctx, theirs, mine["id"].(string)); !errors.Is(err, ErrNotFound) {
				t.Errorf("a record out of the other principal's reach: %v, want not found", err)
			}
			stale, err := (&Rights{e: e, snap: &Snapshot{Version: -1, Schema: w.Snapshot().Schema}, d: w.rights.d}).For(p).Scope("account")
			if err != nil {
				return err
			}
			if _, err := w.GetWith(ctx, stale, mine["id"].(string)); err == nil || errors.Is(err, ErrNotFound) {
				t.Errorf("a scope of another snapshot: %v, want refused", err)
			}
			mineID = mine["id"].(string)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Outside a unit of work, through a Rights the caller holds.
		for _, c := range []struct {
			p    *access.Principal
			want error
		}{{p, nil}, {other, ErrNotFound}} {
			r, err := e.Rights(ctx, c.p)
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.Scope("account")
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.GetWith(ctx, s, mineID)
			if !errors.Is(err, c.want) || (c.want == nil && (got["name"] != "Mine" || got["phone"] != nil)) {
				t.Errorf("Engine.GetWith as %s: %v %v", c.p.Username, got, err)
			}
		}
	})
}

// TestEngineCallsFromHooksJoinTheUnitOfWork has a hook call the engine's
// own Create with the context it was given: the write joins the running
// unit of work (no deadlock on SQLite's grouped transactions), and goes
// when that unit of work fails.
func TestEngineCallsFromHooksJoinTheUnitOfWork(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		e.OnAfter(OpCreate, "account", func(ctx context.Context, ev *Event) error {
			_, err := e.Create(ctx, "activity", map[string]any{"subject": "Call " + ev.New["name"].(string)})
			return err
		})
		if _, err := e.Create(ctx, "account", map[string]any{"name": "Kept"}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := e.Tx(ctx, p, func(w *Writer) error {
			if _, err := w.Create(ctx, "account", map[string]any{"name": "Dropped"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n, m := count(t, e, "u1", "account"), count(t, e, "u1", "activity"); n != 1 || m != 1 {
			t.Fatalf("want one account and its activity, got %d accounts, %d activities", n, m)
		}
	})
}

// TestChangedInPlace checks what a unit of work tells of a record's row
// (Writer.ChangedInPlace): a record it created is untouched until it
// updates it, one it did not write is untouched, and deleting one changes
// it. (A delete that clears lookups pointing at the deleted record may
// have changed every record of the objects holding them: a competitor is
// deleted here, which no account points to.)
func TestChangedInPlace(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		other, doomed := createNamed(t, e, ctx, "account", "Other"), createNamed(t, e, ctx, "competitor", "Doomed")
		err := e.Tx(ctx, p, func(w *Writer) error {
			rec, err := w.Create(ctx, "account", map[string]any{"name": "New"})
			if err != nil {
				return err
			}
			id := rec["id"].(string)
			if w.ChangedInPlace("account", id) || w.ChangedInPlace("account", other) {
				t.Errorf("a record just created, or one not written: changed in place")
			}
			if _, err := w.Update(ctx, "account", id, map[string]any{"industry": "retail"}); err != nil {
				return err
			}
			if err := w.Delete(ctx, "competitor", doomed); err != nil {
				return err
			}
			if !w.ChangedInPlace("account", id) || !w.ChangedInPlace("competitor", doomed) || w.ChangedInPlace("account", other) {
				t.Errorf("after an update and a delete: new %v, deleted %v, other %v", w.ChangedInPlace("account", id), w.ChangedInPlace("competitor", doomed), w.ChangedInPlace("account", other))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestLinkHistory checks the history of a tracked many-to-many field
// changed by updates: each entry holds the ids linked before, read with
// the locked row.
func TestLinkHistory(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		bg := context.Background()
		s := e.Snapshot().Schema.Clone()
		opp, _ := s.Object("opportunity")
		f, _ := opp.Field("competitors")
		f.Tracked = true
		if _, _, err := e.ApplySchema(bg, s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		ctx := as("u1")
		c1, c2 := createNamed(t, e, ctx, "competitor", "One"), createNamed(t, e, ctx, "competitor", "Two")
		acc := createNamed(t, e, ctx, "account", "Acme")
		deal := createRecord(t, e, ctx, "opportunity", map[string]any{"name": "Deal", "account": acc, "competitors": []any{c1}})
		version := any(int64(1))
		for _, set := range [][]any{{c2}, {}} {
			rec, err := e.Update(ctx, "opportunity", deal, map[string]any{"competitors": set, "version": version})
			if err != nil {
				t.Fatal(err)
			}
			version = rec["version"]
		}
		h, err := e.History(ctx, "opportunity", deal)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, entry := range h {
			if entry.Field == "competitors" {
				got = append(got, fmt.Sprint(entry.OldValue))
			}
		}
		want := []string{fmt.Sprint([]any{c1}), fmt.Sprint([]any{c2})}
		if !slices.Equal(got, want) {
			t.Errorf("history of competitors: %q, want %q", got, want)
		}
	})
}

// TestReferencesToRecordsJustCreated refers, in one unit of work, to an
// account the unit created: the principal reads its own new record without
// the database being asked (rowLog.ownCreated), but not one deleted since,
// one created for another owner, or one whose savepoint was rolled back.
func TestReferencesToRecordsJustCreated(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		newAccount := func(w *Writer, name string) (string, error) {
			rec, err := w.Create(ctx, "account", map[string]any{"name": name})
			if err != nil {
				return "", err
			}
			return rec["id"].(string), nil
		}
		for _, tc := range []struct {
			name  string
			setup func(w *Writer) (string, error)
			found bool
		}{
			{"created by the unit", func(w *Writer) (string, error) { return newAccount(w, "Fresh") }, true},
			{"created, then deleted", func(w *Writer) (string, error) {
				id, err := newAccount(w, "Gone")
				if err == nil {
					err = w.Delete(ctx, "account", id)
				}
				return id, err
			}, false},
			{"created for another owner", func(w *Writer) (string, error) {
				rec, err := w.AsSystem().Create(ctx, "account", map[string]any{"name": "Theirs", metadata.OwnerField: "u2"})
				if err != nil {
					return "", err
				}
				return rec["id"].(string), nil
			}, false},
			{"created in a savepoint rolled back", func(w *Writer) (string, error) {
				var id string
				err := w.Savepoint(ctx, "crm_test", func() error {
					var err error
					if id, err = newAccount(w, "Undone"); err != nil {
						return err
					}
					return errDropped
				})
				if !errors.Is(err, errDropped) {
					return "", fmt.Errorf("savepoint: %v", err)
				}
				return id, nil
			}, false},
			{"created in a savepoint kept", func(w *Writer) (string, error) {
				var id string
				err := w.Savepoint(ctx, "crm_test", func() error {
					var err error
					id, err = newAccount(w, "Kept")
					return err
				})
				return id, err
			}, true},
		} {
			droppedUnit(t, e, ctx, func(w *Writer) error {
				id, err := tc.setup(w)
				if err != nil {
					return fmt.Errorf("%s: %w", tc.name, err)
				}
				_, err = w.Create(ctx, "contact", map[string]any{"name": "C " + tc.name, "account": id})
				switch {
				case tc.found && err != nil:
					t.Errorf("%s: %v", tc.name, err)
				case !tc.found && !referenceNotFound(err, "account"):
					t.Errorf("%s: want the account not found, got %v", tc.name, err)
				}
				return nil
			})
		}
	})
}

// noRead is ownerGuard without the right to read object, denied as the
// access service denies it (object right, then record rule).
type noRead struct {
	ownerGuard
	object string
}

func (g noRead) Decide(ctx context.Context, s *metadata.Schema) (Decision, error) { return g, nil }

func (g noRead) CanObject(p *access.Principal, object, action string) error {
	if object == g.object && action == metadata.ActionRead {
		return fmt.Errorf("%w: no read of %s", access.ErrDenied, object)
	}
	return nil
}

func (g noRead) RecordRule(ctx context.Context, p *access.Principal, object, action string) (access.RecordRule, error) {
	if err := g.CanObject(p, object, action); err != nil {
		return access.RecordRule{}, err
	}
	return g.ownerGuard.RecordRule(ctx, p, object, action)
}

// TestReferenceToOwnRecordNotReadable checks that a principal who may
// create accounts but not read them cannot refer to the one its unit just
// created: the row log answers for readable objects only.
func TestReferenceToOwnRecordNotReadable(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, noRead{object: "account"})
		ctx := as("u1")
		droppedUnit(t, e, ctx, func(w *Writer) error {
			rec, err := w.Create(ctx, "account", map[string]any{"name": "Unread"})
			if err != nil {
				return err
			}
			if len(rec) != 1 {
				t.Errorf("the answer of a create without read: %v, want only the id", rec)
			}
			if _, err = w.Create(ctx, "contact", map[string]any{"name": "C", "account": rec["id"]}); !referenceNotFound(err, "account") {
				t.Errorf("want the account not found, got %v", err)
			}
			return nil
		})
	})
}

// TestSavepointEnds checks that Writer.Savepoint ends its savepoint
// whether fn fails or not: none is left to release afterwards (a rolled
// back one used to stay, so a unit calling it per row nested them), and
// the unit goes on with what the failed one did undone.
func TestSavepointEnds(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		p, _ := access.FromContext(ctx)
		for _, fails := range []bool{false, true} {
			droppedUnit(t, e, ctx, func(w *Writer) error {
				err := w.Savepoint(ctx, "crm_test", func() error {
					if _, err := w.Create(ctx, "account", map[string]any{"name": fmt.Sprint("In savepoint, fails ", fails)}); err != nil {
						return err
					}
					if fails {
						return errDropped
					}
					return nil
				})
				var want error
				if fails {
					want = errDropped
				}
				if !errors.Is(err, want) {
					t.Errorf("fails %v: savepoint returned %v", fails, err)
				}
				if _, err := w.Create(ctx, "account", map[string]any{"name": fmt.Sprint("After savepoint, fails ", fails)}); err != nil {
					return err
				}
				if _, err := w.SQL().ExecContext(ctx, "RELEASE SAVEPOINT crm_test"); err == nil {
					t.Errorf("fails %v: the savepoint was still there", fails)
				}
				return nil
			})
		}
		err := e.Tx(ctx, p, func(w *Writer) error {
			if err := w.Savepoint(ctx, "crm_test", func() error {
				_, err := w.Create(ctx, "account", map[string]any{"name": "Undone"})
				if err == nil {
					err = errDropped
				}
				return err
			}); !errors.Is(err, errDropped) {
				return err
			}
			_, err := w.Create(ctx, "account", map[string]any{"name": "Kept"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, e, "u1", "account"); n != 1 {
			t.Errorf("want the account after the rolled back savepoint alone, got %d accounts", n)
		}
	})
}

// errDropped rolls back a unit of work of a test.
var errDropped = errors.New("dropped")

// droppedUnit runs fn in a unit of work of ctx's principal, then rolls the
// unit back.
func droppedUnit(t *testing.T, e *Engine, ctx context.Context, fn func(w *Writer) error) {
	t.Helper()
	p, _ := access.FromContext(ctx)
	err := e.Tx(ctx, p, func(w *Writer) error {
		if err := fn(w); err != nil {
			return err
		}
		return errDropped
	})
	if !errors.Is(err, errDropped) {
		t.Fatal(err)
	}
}

// referenceNotFound reports whether err says that field refers to no
// record the principal reads, and nothing else.
func referenceNotFound(err error, field string) bool {
	var ve *ValidationError
	return errors.As(err, &ve) && len(ve.Errors) == 1 && ve.Errors[0].Field == field && ve.Errors[0].Code == "not_found"
}

// TestUnchangedUpdateWritesNothing: an update that changes nothing (the
// values it has, or a many-to-many field's links as they are) leaves the
// record at its version; no after-hook or event sees it, and no history.
// One that changes a field writes as ever.
func TestUnchangedUpdateWritesNothing(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		var after, events int
		e.OnAfter(OpUpdate, "opportunity", func(context.Context, *Event) error { after++; return nil })
		e.Subscribe(func(_ context.Context, _ *Writer, ev DomainEvent) error {
			if ev.Name == EventRecordUpdated {
				events++
			}
			return nil
		})
		acc := created(t, e, ctx, "account", map[string]any{"name": "Acme"})
		comp := created(t, e, ctx, "competitor", map[string]any{"name": "Rival"})
		opp := created(t, e, ctx, "opportunity", map[string]any{"name": "Deal", "account": acc["id"], "stage": "qualify", "competitors": []any{comp["id"]}})
		id := opp["id"].(string)
		for _, data := range []map[string]any{
			{"version": int64(1), "name": "Deal", "stage": "qualify"},
			{"version": int64(1), "competitors": []any{comp["id"]}},
			{"version": int64(1)},
		} {
			got, err := e.Update(ctx, "opportunity", id, data)
			if err != nil || got["version"] != int64(1) || got["updated_at"] != opp["updated_at"] {
				t.Fatalf("unchanged %v: %v (%v)", data, got, err)
			}
		}
		if after != 0 || events != 0 {
			t.Fatalf("an unchanged update ran %d after-hook(s) and published %d event(s)", after, events)
		}
		got, err := e.Update(ctx, "opportunity", id, map[string]any{"version": int64(1), "stage": "proposal"})
		if err != nil || got["version"] != int64(2) || after != 1 || events != 1 {
			t.Fatalf("a change: %v (%v), %d after-hook(s), %d event(s)", got, err, after, events)
		}
	})
}

// TestUpdateKeepsReferences: a record given to a user may point to records
// they may not read; sending those references back unchanged (the record
// as read, or with another field changed) is no new reference and is
// accepted, while pointing to another record they may not read is not.
func TestUpdateKeepsReferences(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		u1, u2 := as("u1"), as("u2")
		acc := created(t, e, u1, "account", map[string]any{"name": "Acme"})
		other := created(t, e, u1, "account", map[string]any{"name": "Beta"})
		comp := created(t, e, u1, "competitor", map[string]any{"name": "Rival"})
		opp := created(t, e, u1, "opportunity", map[string]any{"name": "Deal", "account": acc["id"], "stage": "qualify", "competitors": []any{comp["id"]}})
		id := opp["id"].(string)
		if _, err := e.Update(u1, "opportunity", id, map[string]any{"version": int64(1), "owner_id": "u2"}); err != nil {
			t.Fatal(err)
		}
		read, err := e.Get(u2, "opportunity", id)
		if err != nil {
			t.Fatal(err)
		}
		back := map[string]any{}
		for k, v := range read {
			back[k] = v
		}
		if got, err := e.Update(u2, "opportunity", id, back); err != nil || got["version"] != int64(2) {
			t.Fatalf("sent back as read: %v (%v)", got, err)
		}
		back["next_step"] = "Call"
		if got, err := e.Update(u2, "opportunity", id, back); err != nil || got["next_step"] != "Call" || got["account"] != acc["id"] {
			t.Fatalf("another field changed: %v (%v)", got, err)
		}
		var ve *ValidationError
		_, err = e.Update(u2, "opportunity", id, map[string]any{"version": int64(3), "account": other["id"]})
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "no account with id") {
			t.Fatalf("a new reference to an account u2 may not read: %v", err)
		}
		_, err = e.Update(u2, "opportunity", id, map[string]any{"version": int64(3), "competitors": []any{comp["id"], created(t, e, u1, "competitor", map[string]any{"name": "New"})["id"]}})
		if !errors.As(err, &ve) {
			t.Fatalf("a new link to a competitor u2 may not read: %v", err)
		}
	})
}
