package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// editSchema applies an edit of the current schema.
func editSchema(e *Engine, force bool, edit func(s *metadata.Schema)) (*store.Plan, error) {
	s := e.Snapshot().Schema.Clone()
	edit(s)
	plan, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test", Force: force})
	return plan, err
}

// field returns a field of an object in a schema being edited.
func field(s *metadata.Schema, object, name string) *metadata.Field {
	o, _ := s.Object(object)
	f, _ := o.Field(name)
	return f
}

// removeField drops a field from an object in a schema being edited.
func removeField(s *metadata.Schema, object, name string) {
	o, _ := s.Object(object)
	for i, f := range o.Fields {
		if f.Name == name {
			o.Fields = append(o.Fields[:i], o.Fields[i+1:]...)
			return
		}
	}
}

func TestOnlineSchemaChanges(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		var ids []string
		for i, ind := range []string{"retail", "finance", "retail"} {
			r, err := e.Create(ctx, "account", map[string]any{"name": fmt.Sprint("A", i), "industry": ind, "employees": int64(10 + i), "website": "https://hz.example"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r["id"].(string))
		}
		get := func(id string) Record {
			t.Helper()
			r, err := e.Get(ctx, "account", id)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		steps := []struct {
			name   string
			force  bool
			edit   func(s *metadata.Schema)
			refuse string // part of the refusal message, "" when it must apply
			check  func(t *testing.T)
		}{
			{name: "add field with default fills existing rows", edit: func(s *metadata.Schema) {
				o, _ := s.Object("account")
				o.Fields = append(o.Fields, &metadata.Field{Name: "vip", Type: "boolean", Default: false})
			}, check: func(t *testing.T) {
				if get(ids[0])["vip"] != false {
					t.Errorf("vip not filled: %v", get(ids[0])["vip"])
				}
			}},
			{name: "relabel and add option change no table", edit: func(s *metadata.Schema) {
				f := field(s, "account", "industry")
				f.Label = metadata.Label{"en": "Sector", "zh": "行业"}
				f.Options = append(f.Options, metadata.Option{Value: "energy"})
			}, check: func(t *testing.T) {
				if get(ids[0])["industry"] != "retail" {
					t.Error("industry lost")
				}
			}},
			{name: "remove option in use is refused", edit: func(s *metadata.Schema) {
				f := field(s, "account", "industry")
				for i, o := range f.Options {
					if o.Value == "finance" {
						f.Options = append(f.Options[:i], f.Options[i+1:]...)
						break
					}
				}
			}, refuse: "1 records would lose"},
			{name: "remove unused option", edit: func(s *metadata.Schema) {
				f := field(s, "account", "industry")
				f.Options = f.Options[:len(f.Options)-1]
			}},
			{name: "remove field keeps data archived", edit: func(s *metadata.Schema) { removeField(s, "account", "website") }, check: func(t *testing.T) {
				if _, ok := get(ids[0])["website"]; ok {
					t.Error("removed field still returned")
				}
			}},
			{name: "re-adding the field restores its data", edit: func(s *metadata.Schema) {
				o, _ := s.Object("account")
				o.Fields = append(o.Fields, &metadata.Field{Name: "website", Type: "url"})
			}, check: func(t *testing.T) {
				if get(ids[1])["website"] != "https://hz.example" {
					t.Errorf("website not restored: %v", get(ids[1])["website"])
				}
			}},
			{name: "widen integer to decimal", edit: func(s *metadata.Schema) { field(s, "account", "employees").Type = "decimal" }, check: func(t *testing.T) {
				if get(ids[2])["employees"] != 12.0 {
					t.Errorf("employees after widening: %v", get(ids[2])["employees"])
				}
			}},
			{name: "narrow decimal to integer is refused", edit: func(s *metadata.Schema) { field(s, "account", "employees").Type = "integer" }, refuse: "can lose"},
			{name: "narrow when forced converts", force: true, edit: func(s *metadata.Schema) { field(s, "account", "employees").Type = "integer" }, check: func(t *testing.T) {
				if get(ids[2])["employees"] != int64(12) {
					t.Errorf("employees after narrowing: %v", get(ids[2])["employees"])
				}
			}},
			{name: "unique with duplicates is refused", edit: func(s *metadata.Schema) { field(s, "account", "industry").Unique = true }, refuse: "more than once (retail)"},
			{name: "required with empty values needs a default", edit: func(s *metadata.Schema) { field(s, "account", "phone").Required = true }, refuse: "3 records have no value"},
			{name: "required with a default fills them", edit: func(s *metadata.Schema) {
				f := field(s, "account", "phone")
				f.Required, f.Default = true, "+86 000"
			}, check: func(t *testing.T) {
				if get(ids[0])["phone"] != "+86 000" {
					t.Errorf("phone: %v", get(ids[0])["phone"])
				}
			}},
			{name: "a new auto-number numbers existing records", edit: func(s *metadata.Schema) {
				o, _ := s.Object("account")
				o.Fields = append(o.Fields, &metadata.Field{Name: "code", Type: "auto_number", Format: "AC-{0000}"})
			}, check: func(t *testing.T) {
				for i, id := range ids {
					if want := fmt.Sprintf("AC-%04d", i+1); get(id)["code"] != want {
						t.Errorf("account %d code %v, want %s", i, get(id)["code"], want)
					}
				}
				r, err := e.Create(ctx, "account", map[string]any{"name": "Next", "phone": "+86 1"})
				if err != nil || r["code"] != "AC-0004" {
					t.Errorf("next number after the back-fill: %v %v", r["code"], err)
				}
			}},
			{name: "shorter max length than the data is refused", edit: func(s *metadata.Schema) { field(s, "account", "name").MaxLength = 1 }, refuse: "4 records"},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				before := e.Snapshot().Version
				plan, err := editSchema(e, st.force, st.edit)
				if st.refuse != "" {
					var ps metadata.Problems
					if !errors.As(err, &ps) || !strings.Contains(ps.Error(), st.refuse) {
						t.Fatalf("want refusal containing %q, got %v", st.refuse, err)
					}
					if e.Snapshot().Version != before {
						t.Fatal("a refused change made a new version")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if e.Snapshot().Version != before+1 {
					t.Fatalf("version %d after %d", e.Snapshot().Version, before)
				}
				_ = plan
				if st.check != nil {
					st.check(t)
				}
			})
		}
		// Versions are stored with their author.
		vs, err := db.ListVersions(context.Background(), db.SQL(), 100)
		if err != nil || len(vs) < 5 || vs[0].Author != "test" {
			t.Fatalf("versions: %v %v", vs, err)
		}
		// Purge drops the archived columns.
		dropped, err := db.Purge(context.Background(), false)
		if err != nil || len(dropped) == 0 {
			t.Fatalf("purge: %v %v", dropped, err)
		}
		if again, _ := db.Purge(context.Background(), true); len(again) != 0 {
			t.Fatalf("archives left after purge: %v", again)
		}
		if get(ids[0])["name"] != "A0" {
			t.Error("purge touched live data")
		}
	})
}

func TestReloadSeesOtherServersChange(t *testing.T) {
	t.Parallel()
	db := storetest.SQLiteFrom(t, standard)
	a := newEngine(t, db, ownerGuard{})
	b := secondServer(t, db)
	if _, err := editSchema(a, false, func(s *metadata.Schema) {
		o, _ := s.Object("lead")
		o.Fields = append(o.Fields, &metadata.Field{Name: "score", Type: "integer"})
	}); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.Reload(context.Background()); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if _, err := b.Create(as("u"), "lead", map[string]any{"person": "P", "score": int64(5)}); err != nil {
		t.Fatal(err)
	}
}

// TestTypeChangeOnAnotherServer changes a field's type on one server
// while another, with its own connections, has read and written the
// object on several of them: once it has the new version, each of its
// connections must work on the new column. On PostgreSQL every connection
// keeps the statements it prepared, by their text, which the change
// leaves as it was; without dropping them they fail ("cached plan must
// not change result type").
func TestTypeChangeOnAnotherServer(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		a := newEngine(t, db, ownerGuard{})
		b := secondServer(t, storetest.Reopen(t, db))
		ctx := as("u1")
		r, err := b.Create(ctx, "account", map[string]any{"name": "Typed", "employees": int64(12)})
		if err != nil {
			t.Fatal(err)
		}
		id := r["id"].(string)
		// on every connection b may use at once: read, update, create
		onEach := func(work func(i int) error) error {
			errs := make(chan error, 8)
			for i := range 8 {
				go func() { errs <- work(i) }()
			}
			var all []error
			for range 8 {
				all = append(all, <-errs)
			}
			return errors.Join(all...)
		}
		round := 0
		use := func(i int) error {
			for range 3 {
				if _, err := b.Get(ctx, "account", id); err != nil {
					return err
				}
				if _, err := b.List(ctx, "account", ListOptions{Limit: 5}); err != nil {
					return err
				}
			}
			_, err := b.Create(ctx, "account", map[string]any{"name": fmt.Sprint("More ", round, "-", i), "employees": int64(i)})
			return err
		}
		if err := onEach(use); err != nil {
			t.Fatal(err)
		}
		if _, err := editSchema(a, false, func(s *metadata.Schema) { field(s, "account", "employees").Type = "decimal" }); err != nil {
			t.Fatal(err)
		}
		if changed, err := b.Reload(context.Background()); err != nil || !changed {
			t.Fatalf("reload: %v %v", changed, err)
		}
		round++
		if err := onEach(use); err != nil {
			t.Fatalf("after the type change: %v", err)
		}
		got, err := b.Get(ctx, "account", id)
		if err != nil || got["employees"] != 12.0 {
			t.Fatalf("employees after the change: %v %v", got["employees"], err)
		}
		if _, err := b.Update(ctx, "account", id, map[string]any{"employees": 12.5, "version": got["version"]}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestChangeChecksRefuseChangesNotStoredVersions registers a change check
// that refuses objects named "forbidden": a change adding one is refused
// (dry run too) and stores nothing, the check sees the version it
// replaces, and reloading stored versions never runs it.
func TestChangeChecksRefuseChangesNotStoredVersions(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		var sawOld bool
		e.CheckChanges(func(old, next *metadata.Schema) metadata.Problems {
			if old != nil {
				_, sawOld = old.Object("account")
			}
			if _, bad := next.Object("forbidden"); bad {
				return metadata.Problems{{Path: "/objects/forbidden", Message: "not on this server"}}
			}
			return nil
		})
		add := func(s *metadata.Schema) error {
			s.Objects = append(s.Objects, &metadata.Object{Name: "forbidden", Label: metadata.Label{"en": "Forbidden"},
				Fields: []*metadata.Field{{Name: "name", Type: "text"}}})
			return nil
		}
		before := e.Snapshot().Version
		for _, dry := range []bool{true, false} {
			_, _, err := e.Change(context.Background(), add, ApplyOptions{Author: "test", DryRun: dry})
			var ps metadata.Problems
			if !errors.As(err, &ps) || !strings.Contains(ps.Error(), "not on this server") {
				t.Fatalf("dry run %v: %v, want the check's problem", dry, err)
			}
		}
		if !sawOld {
			t.Error("the check did not get the version the change replaces")
		}
		if e.Snapshot().Version != before {
			t.Fatalf("a refused change moved the version from %d to %d", before, e.Snapshot().Version)
		}
		if _, _, err := e.Change(context.Background(), func(s *metadata.Schema) error {
			s.Objects[0].Label = metadata.Label{"en": "Renamed"}
			return nil
		}, ApplyOptions{Author: "test"}); err != nil {
			t.Fatalf("a change the check accepts: %v", err)
		}
	})
}
