package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestSQLiteTransactions runs transactions on one SQLite connection, whose
// BEGIN, COMMIT and ROLLBACK are statements prepared once: what a
// transaction wrote is kept when it commits and gone when it rolls back or
// its commit fails (a deferred foreign key), and the connection is out of
// any transaction afterwards, so the next one begins; so is it after a
// BEGIN whose context had ended.
func TestSQLiteTransactions(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	conn := db.SQL()
	conn.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		parent  int // the child's parent; 0 is none
		end     func(tx *sql.Tx) error
		wantErr string
		kept    bool
	}{
		{"commit", 1, (*sql.Tx).Commit, "", true},
		{"rollback", 1, (*sql.Tx).Rollback, "", false},
		{"failing commit", 99, (*sql.Tx).Commit, "FOREIGN KEY constraint failed", false},
		{"commit after a failed one", 1, (*sql.Tx).Commit, "", true},
	}
	for i, tt := range tests {
		id := i + 1
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("%s: begin: %v", tt.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO parent (id) VALUES (1) ON CONFLICT DO NOTHING`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO child (id, parent_id) VALUES (?, ?)`, id, tt.parent); err != nil {
			t.Fatal(err)
		}
		err = tt.end(tx)
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: ended with %v, want %q", tt.name, err, tt.wantErr)
		}
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM child WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != tt.kept {
			t.Errorf("%s: the row is there: %v, want %v", tt.name, n == 1, tt.kept)
		}
	}
	// A BEGIN whose context has ended fails, and leaves the connection
	// outside any transaction: the next one begins.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := conn.BeginTx(done, nil); err == nil {
		t.Error("a transaction began with an ended context")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin after an ended context: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}
