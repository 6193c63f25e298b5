package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/crmplatform/crm/metadata"
)

// maxCachedStatements bounds the statement cache: past it the cache is
// emptied and fills again with the statements in use (their text depends
// on the metadata, so old ones stop being used after a change).
const maxCachedStatements = 512

// stmtCache keeps prepared statements by their SQL text. SQLite prepares
// each statement once per connection (the driver re-prepares one whose
// table changed), which saves parsing and planning the engine's hot
// statements on every call. On PostgreSQL pgx prepares and keeps each
// statement per connection itself (dropped on a schema change:
// DB.SchemaChanged), and the cache keeps only guards.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// guards are the guarded forms of INSERTs a lazy transaction held
	// back (guardedInsert; "" for a statement that has none).
	guards map[string]string
}

// newStmtCache returns an empty stmtCache.
func newStmtCache() *stmtCache {
	return &stmtCache{m: map[string]*sql.Stmt{}, guards: map[string]string{}}
}

// stmt returns the prepared statement of query for q (a *sql.Tx gets the
// statement bound to its connection), or nil when statements are not
// cached for the dialect or for q (a lazy transaction's connection
// prepares its own), or preparing failed (the caller then runs the query
// as it is, and gets the error there).
func (db *DB) stmt(ctx context.Context, q Querier, query string) *sql.Stmt {
	if db.Dialect != metadata.DialectSQLite || db.stmts == nil {
		return nil
	}
	switch q.(type) {
	case *sql.Tx, *sql.DB:
	default:
		return nil
	}
	c := db.stmts
	c.mu.Lock()
	s, ok := c.m[query]
	c.mu.Unlock()
	if !ok {
		var err error
		if s, err = db.SQL().PrepareContext(ctx, query); err != nil {
			return nil
		}
		c.mu.Lock()
		if prev, ok := c.m[query]; ok {
			s.Close()
			s = prev
		} else {
			if len(c.m) >= maxCachedStatements {
				for k, old := range c.m {
					old.Close()
					delete(c.m, k)
				}
			}
			c.m[query] = s
		}
		c.mu.Unlock()
	}
	if tx, ok := q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, s)
	}
	return s
}

// Exec runs a statement with "?" placeholders already in the dialect's
// form on q, prepared once per connection where the dialect allows
// (SQLite).
func (db *DB) Exec(ctx context.Context, q Querier, query string, args ...any) (sql.Result, error) {
	if s := db.stmt(ctx, q, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return q.ExecContext(prepared(ctx, q), query, args...)
}

// Query runs a query on q like Exec.
func (db *DB) Query(ctx context.Context, q Querier, query string, args ...any) (*sql.Rows, error) {
	if s := db.stmt(ctx, q, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return q.QueryContext(prepared(ctx, q), query, args...)
}

// QueryRow runs a query returning one row on q like Exec.
func (db *DB) QueryRow(ctx context.Context, q Querier, query string, args ...any) *sql.Row {
	if s := db.stmt(ctx, q, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(prepared(ctx, q), query, args...)
}
