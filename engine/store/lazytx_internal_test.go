package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestLazyStatementsPrepared runs queries of a lazy transaction through
// DB.QueryRow on one connection: each is prepared once by the connection
// (the same query again adds nothing), those past its cache's bound run
// all the same, and the full cache is emptied when the connection starts
// its next transaction (when that takes the connection, at its first
// statement).
func TestLazyStatementsPrepared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.SQL().SetMaxOpenConns(1)
	cached := func() (n int) {
		t.Helper()
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Raw(func(dc any) error { n = len(dc.(*sqliteConn).stmts); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := cached()
	tx := db.BeginLazy(ctx, 0)
	for i := range maxConnStatements + 10 {
		for range 2 {
			var n int
			if err := db.QueryRow(ctx, tx, fmt.Sprintf("SELECT %d + COUNT(*) FROM crm_meta_versions", i)).Scan(&n); err != nil || n != i {
				t.Fatalf("query %d: %d, %v", i, n, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := cached(); got != maxConnStatements {
		t.Fatalf("the connection keeps %d statements (%d before), want its bound %d", got, before, maxConnStatements)
	}
	tx = db.BeginLazy(ctx, 0)
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM crm_meta_versions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := cached(); got != 0 {
		t.Fatalf("a full cache was not emptied by the next transaction: %d statements", got)
	}
}
