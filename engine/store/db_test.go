package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// The storage tests run on a fresh SQLite database and, when
// CRM_TEST_POSTGRES is set, on a fresh PostgreSQL database.

func TestVersionsRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if v, err := db.LoadVersion(ctx, db.SQL(), 0); err != nil || v != nil {
			t.Fatalf("empty database: %v %v", v, err)
		}
		if n, err := db.LatestVersion(ctx, db.SQL()); err != nil || n != 0 {
			t.Fatalf("latest of none: %d %v", n, err)
		}
		beginWrite(t, db, 0)
		s := &metadata.Schema{Objects: []*metadata.Object{{Name: "thing", Fields: []*metadata.Field{{Name: "n", Type: "text"}}}}}
		if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: 1, Author: "me", Schema: s}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: 1, Author: "other", Schema: s}); !errors.Is(err, store.ErrVersionConflict) {
			t.Fatalf("second version 1: want ErrVersionConflict, got %v", err)
		}
		v, err := db.LoadVersion(ctx, db.SQL(), 0)
		if err != nil || v.Version != 1 || v.Author != "me" || v.Schema.Objects[0].Name != "thing" {
			t.Fatalf("load: %+v %v", v, err)
		}
		if n, err := db.LatestVersion(ctx, db.SQL()); err != nil || n != 1 {
			t.Fatalf("latest: %d %v", n, err)
		}
		beginWrite(t, db, 1)
	})
}

// beginWrite checks that BeginWrite, on each connection of the pool (the
// statement reading the version is prepared per connection), begins a
// transaction and reads version want.
func beginWrite(t *testing.T, db *store.DB, want int64) {
	t.Helper()
	ctx := context.Background()
	for range 6 {
		tx, v, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Errorf("BeginWrite read version %d, want %d", v, want)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateAddsLaterColumns runs Migrate on a database whose history
// table predates the by_system column, twice: the column is added once.
func TestMigrateAddsLaterColumns(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE crm_history (id TEXT PRIMARY KEY, object TEXT NOT NULL, record_id TEXT NOT NULL,
			field TEXT NOT NULL, old_value TEXT, new_value TEXT, changed_by TEXT, changed_at TEXT NOT NULL, record_version BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM crm_history WHERE by_system = FALSE`).Scan(&n); err != nil {
			t.Fatalf("by_system was not added: %v", err)
		}
	})
}

// TestNextNumberIsGapFree takes numbers from many goroutines, each in its
// own transaction, some rolled back: the committed ones are 1..n without
// a gap or a repeat.
func TestNextNumberIsGapFree(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got []int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer tx.Rollback()
				n, err := db.NextNumber(ctx, tx, "thing", "no", "T-")
				if err != nil {
					t.Error(err)
					return
				}
				if i%4 == 0 {
					return // rolled back: the number is given back
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}()
		}
		wg.Wait()
		seen := map[int64]bool{}
		for _, n := range got {
			if seen[n] || n < 1 || n > int64(len(got)) {
				t.Fatalf("numbers %v are not 1..%d once each", got, len(got))
			}
			seen[n] = true
		}
	})
}

// TestOpenRefusesSQLiteURIs checks that a SQLite database is named by its
// path: a URI (which Open builds itself) is refused with the reason, and
// no folder named after it is created.
func TestOpenRefusesSQLiteURIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, dsn := range []string{"file:" + filepath.Join(dir, "x.db"), filepath.Join(dir, "y.db") + "?mode=ro"} {
		if db, err := store.Open(context.Background(), dsn); err == nil || !strings.Contains(err.Error(), "not a URI") {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open(%q) = %v, want it refused as a URI", dsn, err)
		}
	}
	if _, err := os.Stat("file:"); err == nil {
		t.Error(`a folder named "file:" was created`)
	}
}

// TestBeginWriteCommitsAndRollsBack checks the transactions of
// BeginWrite on the pool's connections: a commit keeps what they wrote, a
// rollback keeps nothing, a transaction with a failed statement rolled
// back leaves its connection usable, and on PostgreSQL, where the failure
// aborts the transaction, its commit fails and keeps nothing.
func TestBeginWriteCommitsAndRollsBack(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE thing (id TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		insert := func(tx *sql.Tx, id string) error {
			_, err := db.Exec(ctx, tx, store.Rebind(db.Dialect, `INSERT INTO thing (id) VALUES (?)`), id)
			return err
		}
		count := func() int {
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM thing`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		write := func(id string, end func(tx *sql.Tx) error) error {
			tx, _, err := db.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := insert(tx, id); err != nil {
				t.Fatal(err)
			}
			return end(tx)
		}
		if err := write("a", (*sql.Tx).Commit); err != nil {
			t.Fatal(err)
		}
		if err := write("b", (*sql.Tx).Rollback); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("after a commit and a rollback: %d rows, want 1", n)
		}
		for range 6 {
			err := write("c", func(tx *sql.Tx) error {
				if insert(tx, "a") == nil {
					t.Fatal("a taken key was inserted")
				}
				if db.Dialect == metadata.DialectPostgres {
					if err := tx.Commit(); err == nil {
						t.Error("the commit of an aborted transaction succeeded")
					}
					return nil
				}
				return tx.Rollback()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(); n != 1 {
			t.Fatalf("after failed transactions: %d rows, want 1", n)
		}
		beginWrite(t, db, 0)
	})
}
