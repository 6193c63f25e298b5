package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestLazyTransactions runs lazily begun write transactions on both
// databases: an INSERT marked Deferrable that comes first is held back
// and, when nothing follows it, written by the commit alone, guarded by
// the metadata version; any other statement begins the transaction and
// runs the held INSERT first; a stale version or a failing held INSERT
// fails the transaction, for good (Failed reports it), and keeps nothing
// of it.
func TestLazyTransactions(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, testLazyTransactions)
}

// withItems prepares db for lazy transactions on a table item (id, name):
// the system tables, and metadata versions 1 to versions.
func withItems(t *testing.T, db *store.DB, versions int64) {
	t.Helper()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= versions; v++ {
		if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: v, Author: "test", CreatedAt: time.Now(), Schema: &metadata.Schema{}}); err != nil {
			t.Fatal(err)
		}
	}
}

func testLazyTransactions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	withItems(t, db, 2)
	insert := store.Rebind(db.Dialect, `INSERT INTO item (id, name) VALUES (?, ?)`)
	held := func(tx store.WriteTx, id int) error {
		res, err := tx.ExecContext(store.Deferrable(ctx, "item"), insert, id, "held")
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Errorf("held insert of %d: %d rows affected (%v)", id, n, err)
		}
		return nil
	}
	count := func(q store.Querier, id int) (n int) {
		t.Helper()
		if err := q.QueryRowContext(ctx, store.Rebind(db.Dialect, `SELECT COUNT(*) FROM item WHERE id = ?`), id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// taken marks a row that exists before the transaction.
	const taken = 1000
	if _, err := db.SQL().ExecContext(ctx, insert, taken, "taken"); err != nil {
		t.Fatal(err)
	}
	var heldErr *store.DeferredInsertError
	tests := []struct {
		name    string
		version int64 // the version the transaction is planned on (2 is current)
		// run runs the transaction's statements; id is the row it may write.
		run func(tx store.WriteTx, id int) error
		end func(tx store.WriteTx) error
		// runErr and endErr check run's and end's errors, failed the
		// transaction's failure before its end (nil: no error).
		runErr, endErr, failed func(error) bool
		kept                   bool
	}{
		{name: "held insert alone", version: 2, run: func(tx store.WriteTx, id int) error {
			if err := held(tx, id); err != nil {
				return err
			}
			// Nothing began: another connection writes at once, and
			// does not see the held row.
			other, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := db.SQL().ExecContext(other, insert, id+1, "other"); err != nil {
				t.Errorf("another connection could not write while a row was held: %v", err)
			}
			if n := count(db.SQL(), id); n != 0 {
				t.Error("the held row was written before the commit")
			}
			return nil
		}, end: store.WriteTx.Commit, kept: true},
		{name: "held insert, then a query", version: 2, run: func(tx store.WriteTx, id int) error {
			if err := held(tx, id); err != nil {
				return err
			}
			if n := count(tx, id); n != 1 {
				t.Errorf("the transaction sees %d rows it inserted, want 1", n)
			}
			return nil
		}, end: store.WriteTx.Commit, kept: true},
		{name: "a query, then an insert", version: 2, run: func(tx store.WriteTx, id int) error {
			count(tx, id)
			return held(tx, id)
		}, end: store.WriteTx.Commit, kept: true},
		{name: "held insert rolled back", version: 2, run: held, end: store.WriteTx.Rollback},
		{name: "stale version at commit", version: 1, run: held, end: store.WriteTx.Commit,
			endErr: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) }},
		{name: "stale version at begin", version: 1, run: func(tx store.WriteTx, id int) error {
			if err := held(tx, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, store.Rebind(db.Dialect, `UPDATE item SET name = 'x' WHERE id = ?`), taken)
			return err
		}, end: store.WriteTx.Commit,
			runErr: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) },
			endErr: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) },
			failed: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) }},
		{name: "stale version at a query's begin", version: 1, run: func(tx store.WriteTx, id int) error {
			if err := held(tx, id); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM item`).Scan(&n); err == nil {
				t.Error("a query of a transaction planned on a stale version answered")
			}
			return nil
		}, end: store.WriteTx.Commit,
			endErr: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) },
			failed: func(err error) bool { return errors.Is(err, store.ErrStaleVersion) }},
		{name: "held insert failing at commit", version: 2, run: func(tx store.WriteTx, _ int) error {
			return held(tx, taken)
		}, end: store.WriteTx.Commit,
			endErr: func(err error) bool {
				return errors.As(err, &heldErr) && heldErr.Table == "item" && store.IsUniqueViolation(err)
			}},
		{name: "a failing held insert fails what follows", version: 2, run: func(tx store.WriteTx, id int) error {
			if err := held(tx, taken); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, insert, id, "after")
			return err
		}, end: store.WriteTx.Commit,
			runErr: func(err error) bool { return errors.As(err, &heldErr) },
			endErr: func(err error) bool { return errors.As(err, &heldErr) },
			failed: func(err error) bool { return errors.As(err, &heldErr) && store.IsUniqueViolation(err) }},
		{name: "an insert not marked runs at once", version: 2, run: func(tx store.WriteTx, _ int) error {
			_, err := tx.ExecContext(ctx, insert, taken, "again")
			return err
		}, end: store.WriteTx.Rollback,
			runErr: store.IsUniqueViolation},
	}
	for i, tt := range tests {
		id := (i + 1) * 10
		tx := db.BeginLazy(ctx, tt.version)
		if err := tt.run(tx, id); (err == nil) != (tt.runErr == nil) || err != nil && !tt.runErr(err) {
			t.Errorf("%s: statements: %v", tt.name, err)
		}
		if err := tx.Failed(); (err == nil) != (tt.failed == nil) || err != nil && !tt.failed(err) {
			t.Errorf("%s: failed: %v", tt.name, err)
		}
		if err := tt.end(tx); (err == nil) != (tt.endErr == nil) || err != nil && !tt.endErr(err) {
			t.Errorf("%s: end: %v", tt.name, err)
		}
		if got := count(db.SQL(), id) == 1; got != tt.kept {
			t.Errorf("%s: the row is there: %v, want %v", tt.name, got, tt.kept)
		}
		var name string
		if err := db.SQL().QueryRowContext(ctx, store.Rebind(db.Dialect, `SELECT name FROM item WHERE id = ?`), taken).Scan(&name); err != nil || name != "taken" {
			t.Errorf("%s: the row that was there reads %q (%v)", tt.name, name, err)
		}
	}
}

// TestLazyInsertWaitsForMetadataChange checks a held INSERT run alone on
// PostgreSQL while a metadata change holds its lock: its guard does not
// wait there (the INSERT has locked its table, which the change may need),
// and the commit waits for the change in a transaction instead, so the
// change can alter the table: the write goes through when the change is
// rolled back, and fails with ErrStaleVersion, writing nothing, when the
// change commits a new version.
func TestLazyInsertWaitsForMetadataChange(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		if db.Dialect != metadata.DialectPostgres {
			t.Skip("SQLite admits one writer: a write and a metadata change never overlap")
		}
		ctx := context.Background()
		withItems(t, db, 1)
		for id, changes := range []bool{false, true} {
			change, err := db.SQL().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.LockMetadata(ctx, change); err != nil {
				t.Fatal(err)
			}
			tx := db.BeginLazy(ctx, 1)
			if _, err := tx.ExecContext(store.Deferrable(ctx, "item"), `INSERT INTO item (id, name) VALUES ($1, $2)`, id, "held"); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tx.Commit() }()
			select {
			case err := <-done:
				t.Fatalf("change %v: the write ended during the metadata change: %v", changes, err)
			case <-time.After(300 * time.Millisecond):
			}
			// The change alters the INSERT's table: a guard waiting for the
			// change with the table locked would deadlock with it.
			if _, err := change.ExecContext(ctx, `ALTER TABLE item ADD COLUMN note`+strconv.Itoa(id)+` TEXT`); err != nil {
				t.Fatalf("change %v: altering the table: %v", changes, err)
			}
			if changes {
				if err := db.SaveVersion(ctx, change, &store.Version{Version: 2, Author: "test", CreatedAt: time.Now(), Schema: &metadata.Schema{}}); err != nil {
					t.Fatal(err)
				}
				err = change.Commit()
			} else {
				err = change.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			err = <-done
			if changes && !errors.Is(err, store.ErrStaleVersion) || !changes && err != nil {
				t.Errorf("change %v: commit: %v", changes, err)
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM item WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if (n == 1) == changes {
				t.Errorf("change %v: %d rows written", changes, n)
			}
		}
	})
}

// TestLazyTransactionEnded uses lazy transactions after their end, with
// and without a statement run: every statement, and a second end, fail
// with sql.ErrTxDone, and a query runs nothing.
func TestLazyTransactionEnded(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, testLazyTransactionEnded)
}

func testLazyTransactionEnded(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ran := range []bool{false, true} {
		tx := db.BeginLazy(ctx, 0)
		if ran {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_meta_versions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("statement run %v: commit: %v", ran, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM crm_meta_versions`); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("statement run %v: a statement after the commit: %v, want sql.ErrTxDone", ran, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err == nil {
			t.Errorf("statement run %v: a query after the commit ran", ran)
		}
		if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("statement run %v: a second commit: %v, want sql.ErrTxDone", ran, err)
		}
		if err := tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("statement run %v: a rollback after the commit: %v, want sql.ErrTxDone", ran, err)
		}
	}
}
