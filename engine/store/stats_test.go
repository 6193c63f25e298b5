package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestStatisticsWithoutSamples checks that gathering statistics on SQLite
// keeps the per-index statistics (sqlite_stat1) and drops the samples
// (sqlite_stat4), with which every prepared statement comparing an indexed
// column with a parameter would be planned again at each execution.
func TestStatisticsWithoutSamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stats.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, owner TEXT, n INTEGER)`,
		`CREATE INDEX t_owner ON t (owner, n)`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 2000) INSERT INTO t (owner, n) SELECT 'u' || (i % 7), i FROM c`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tables := func() map[string]bool {
		rows, err := db.SQL().QueryContext(ctx, `SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[n] = true
		}
		return out
	}
	for name, gather := range map[string]func() error{
		"Analyze":  func() error { return db.Analyze(ctx, "t") },
		"Optimize": func() error { return db.Optimize(ctx) },
	} {
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil { // leaves samples, as an older server did
			t.Fatal(err)
		}
		if got := tables(); !got["sqlite_stat4"] {
			t.Fatalf("ANALYZE left no sqlite_stat4 (%v): this build of SQLite has no samples to drop", got)
		}
		if err := gather(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := tables()
		if !got["sqlite_stat1"] || got["sqlite_stat4"] {
			t.Errorf("after %s: statistics tables %v, want sqlite_stat1 without sqlite_stat4", name, got)
		}
	}
}
