package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestGroupCommit runs concurrent creates on SQLite, where they share
// transactions: every create is answered with its own result, the valid
// ones are all stored, and those that fail (a validation error, an
// after-hook failing once the row is written, a panic) leave nothing and
// fail nothing else.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	db := storetest.SQLiteFrom(t, standard)
	e := newEngine(t, db, ownerGuard{})
	hookErr := errors.New("after-hook refused")
	e.OnBefore(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
		time.Sleep(time.Millisecond) // let the queue fill while a group runs
		return nil
	})
	e.OnAfter(OpCreate, "lead", func(ctx context.Context, ev *Event) error {
		switch ev.New["person"] {
		case "hook-fails":
			return hookErr
		case "panics":
			panic("a hook panicked")
		}
		return nil
	})
	const n = 60
	errs := make([]error, n)
	recs := make([]Record, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"person": fmt.Sprint("P", i), "source": "web"}
			switch i % 10 {
			case 3:
				body["person"] = "hook-fails"
			case 6:
				body["source"] = "no-such-source"
			case 9:
				body["person"] = "panics"
			}
			recs[i], errs[i] = e.Create(as("u1"), "lead", body)
		}()
	}
	wg.Wait()
	want := 0
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, hookErr) {
				t.Errorf("%d: want the hook's error, got %v", i, err)
			}
		case 6:
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%d: want a validation error, got %v", i, err)
			}
		case 9:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("%d: want the panic as an error, got %v", i, err)
			}
		default:
			want++
			if err != nil || recs[i]["person"] != fmt.Sprint("P", i) {
				t.Errorf("%d: %v %v", i, recs[i], err)
				continue
			}
			if _, err := e.Get(as("u1"), "lead", recs[i]["id"].(string)); err != nil {
				t.Errorf("%d: answered but not stored: %v", i, err)
			}
		}
	}
	var stored int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM lead`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != want {
		t.Errorf("%d leads stored, want %d", stored, want)
	}
	// Numbers come from the counter in the same transactions: the failed
	// creates gave theirs back, so the stored ones are 1..want.
	var maxNo string
	if err := db.SQL().QueryRow(`SELECT MAX(number) FROM lead`).Scan(&maxNo); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(maxNo, fmt.Sprintf("%05d", want)) {
		t.Errorf("highest number %s, want …%05d", maxNo, want)
	}
	commits, units := e.GroupStats()
	if units != int64(want) || commits >= units {
		t.Errorf("%d units in %d group transactions: the creates were not grouped", units, commits)
	}
}

// TestLoneCreate runs creates that meet no other on SQLite, in a
// transaction begun lazily: a create that reads nothing is written by one
// guarded INSERT at commit. A second server changing the metadata first
// makes it run again on the newest version (the new field's default is
// stored); a taken unique value is answered as the field's error and
// writes nothing; an after-hook's writes and failures still belong to the
// create's transaction.
func TestLoneCreate(t *testing.T) {
	t.Parallel()
	db := storetest.SQLiteFrom(t, standard)
	a := newEngine(t, db, ownerGuard{})
	b := secondServer(t, db)
	if _, err := editSchema(b, false, func(s *metadata.Schema) {
		o, _ := s.Object("account")
		o.Fields = append(o.Fields, &metadata.Field{Name: "code", Type: "text", Unique: true, Default: "none"})
	}); err != nil {
		t.Fatal(err)
	}
	if a.Snapshot().Version == b.Snapshot().Version {
		t.Fatal("the first server must still hold the older snapshot")
	}
	code := func(id any) (c *string) {
		t.Helper()
		if err := db.SQL().QueryRow(`SELECT code FROM account WHERE id = ?`, id).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	acme, err := a.Create(as("u"), "account", map[string]any{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if c := code(acme["id"]); c == nil || *c != "none" {
		t.Fatalf("code = %v, want the new field's default", c)
	}
	_, err = a.Create(as("u"), "account", map[string]any{"name": "Other"})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Field != "code" || ve.Errors[0].Code != "unique" {
		t.Fatalf("a second account with the same code: %v", err)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM account WHERE name = 'Other'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused account was written (%d, %v)", n, err)
	}
	// An after-hook that writes: the create and its write commit together,
	// or, when the hook then fails, neither does.
	a.OnAfter(OpCreate, "account", func(ctx context.Context, ev *Event) error {
		if _, err := ev.Tx.ExecContext(ctx, `UPDATE account SET description = 'hooked' WHERE id = ?`, ev.ID); err != nil {
			return err
		}
		if ev.New["name"] == "Refused" {
			return errors.New("after-hook refused")
		}
		return nil
	})
	hooked, err := a.Create(as("u"), "account", map[string]any{"name": "Hooked", "code": "h"})
	if err != nil {
		t.Fatal(err)
	}
	var desc *string
	if err := db.SQL().QueryRow(`SELECT description FROM account WHERE id = ?`, hooked["id"]).Scan(&desc); err != nil || desc == nil || *desc != "hooked" {
		t.Fatalf("the after-hook's write: %v (%v)", desc, err)
	}
	if _, err := a.Create(as("u"), "account", map[string]any{"name": "Refused", "code": "r"}); err == nil {
		t.Fatal("the after-hook's failure was not the create's")
	}
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM account WHERE name = 'Refused'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused account was written (%d, %v)", n, err)
	}
}
