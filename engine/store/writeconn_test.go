package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestWriteConn runs transactions on a SQLite database's write
// connection: each reads the metadata version as it begins, what it wrote
// is kept when it commits and gone when it rolls back or its commit fails
// (a deferred foreign key), the next one begins after each, a second Begin
// waits until the transaction before it ended, and a statement outside a
// transaction is refused.
func TestWriteConn(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := &metadata.Schema{Objects: []*metadata.Object{{Name: "thing", Fields: []*metadata.Field{{Name: "n", Type: "text"}}}}}
	if err := db.SaveVersion(ctx, db.SQL(), &store.Version{Version: 3, Author: "me", Schema: s}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`,
		`INSERT INTO parent (id) VALUES (1)`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	wc := db.Writer()
	if _, err := wc.ExecContext(ctx, `INSERT INTO child (id, parent_id) VALUES (100, 1)`); err == nil {
		t.Error("a statement outside a transaction ran")
	}
	tests := []struct {
		name    string
		parent  int
		commit  bool
		wantErr string
		kept    bool
	}{
		{"commit", 1, true, "", true},
		{"rollback", 1, false, "", false},
		{"failing commit", 99, true, "FOREIGN KEY constraint failed", false},
		{"commit after a failed one", 1, true, "", true},
	}
	for i, tt := range tests {
		id := i + 1
		v, err := wc.Begin(ctx)
		if err != nil || v != 3 {
			t.Fatalf("%s: begin: version %d, %v", tt.name, v, err)
		}
		if _, err := db.Exec(ctx, wc, `INSERT INTO child (id, parent_id) VALUES (?, ?)`, id, tt.parent); err != nil {
			t.Fatal(err)
		}
		err = nil
		if tt.commit {
			err = wc.Commit()
		} else {
			wc.Rollback()
		}
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: ended with %v, want %q", tt.name, err, tt.wantErr)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM child WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != tt.kept {
			t.Errorf("%s: the row is there: %v, want %v", tt.name, n == 1, tt.kept)
		}
	}

	if _, err := wc.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		_, err := wc.Begin(ctx)
		if err == nil {
			err = wc.Commit()
		}
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("a second transaction began while the first ran: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := wc.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the second transaction, after the first: %v", err)
	}
}
