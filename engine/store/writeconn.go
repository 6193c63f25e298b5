package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// WriteConn is a SQLite database's connection for the engine's grouped
// record writes: one connection kept out of the pool, on which every
// statement (BEGIN, COMMIT and ROLLBACK too) is prepared once and run as it
// is. SQLite admits one writer at a time, so the writes lose nothing by
// sharing one connection, and each skips what database/sql adds to a
// transaction on a pooled connection (the Tx, its goroutine, a statement
// bound to it for every statement): about 5 µs of a 100 µs create.
//
// It holds one transaction at a time: Begin waits until the previous one
// ended, and Commit or Rollback must end each. Between them it is the
// transaction's Querier; it must not be used outside one.
type WriteConn struct {
	db *DB
	// tx is held from Begin to Commit or Rollback.
	tx sync.Mutex
	// mu guards conn and stmts (a transaction's statements may come from
	// several goroutines, as a *sql.Tx allows).
	mu    sync.Mutex
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// Writer returns the database's write connection: on SQLite only (nil on
// PostgreSQL, whose writers run in transactions of their own on pooled
// connections). Close closes it.
func (db *DB) Writer() *WriteConn { return db.writer }

// Close closes the write connection, then the database.
func (db *DB) Close() error {
	var err error
	if db.writer != nil {
		err = db.writer.close()
	}
	return errors.Join(err, db.DB.Close())
}

// Begin starts an immediate transaction, once the previous one ended, and
// returns the newest metadata version, which cannot change until the
// transaction ends (the write lock is held).
func (c *WriteConn) Begin(ctx context.Context) (int64, error) {
	c.tx.Lock()
	if err := c.connect(ctx); err != nil {
		c.tx.Unlock()
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	if _, err := c.ExecContext(ctx, sqlBegin); err != nil {
		c.reset()
		c.tx.Unlock()
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	var v sql.NullInt64
	if err := c.QueryRowContext(ctx, sqlLatestVersion).Scan(&v); err != nil {
		c.end(sqlRollback)
		return 0, fmt.Errorf("store: latest metadata version: %w", err)
	}
	return v.Int64, nil
}

// Commit commits the transaction; when that fails it is rolled back.
func (c *WriteConn) Commit() error {
	if _, err := c.ExecContext(context.Background(), sqlCommit); err != nil {
		c.end(sqlRollback)
		return fmt.Errorf("store: commit: %w", err)
	}
	c.tx.Unlock()
	return nil
}

// Rollback rolls the transaction back.
func (c *WriteConn) Rollback() {
	c.end(sqlRollback)
}

// end runs query (ROLLBACK) and ends the transaction; a connection that
// could not roll back is closed (the next Begin takes a new one), so no
// transaction outlives its end.
func (c *WriteConn) end(query string) {
	if _, err := c.ExecContext(context.Background(), query); err != nil {
		c.reset()
	}
	c.tx.Unlock()
}

// ExecContext runs a statement in the transaction.
func (c *WriteConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs a query in the transaction.
func (c *WriteConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs a query returning one row in the transaction.
func (c *WriteConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, query)
	if err != nil {
		// A *sql.Row cannot be made with an error: the connection gives
		// it (the same failure, reported by Scan).
		c.mu.Lock()
		conn := c.conn
		c.mu.Unlock()
		return conn.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// stmt returns the statement of query prepared on the connection. Past
// maxCachedStatements the statements are closed and prepared again as
// they are used.
func (c *WriteConn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	if c.conn == nil {
		return nil, errNoTransaction
	}
	if len(c.stmts) >= maxCachedStatements {
		c.closeStmts()
	}
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

// errNoTransaction is the error of a statement run on a WriteConn outside
// a transaction.
var errNoTransaction = errors.New("store: the write connection is used outside a transaction")

// connect takes a connection from the pool unless the WriteConn holds one.
func (c *WriteConn) connect(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		return nil
	}
	conn, err := c.db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	c.conn, c.stmts = conn, map[string]*sql.Stmt{}
	return nil
}

// closeStmts closes the prepared statements (c.mu held).
func (c *WriteConn) closeStmts() {
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// reset closes the connection, whatever state it is in; the next statement
// takes a new one from the pool.
func (c *WriteConn) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return
	}
	c.closeStmts()
	c.conn.Close()
	c.conn = nil
}

// close closes the connection once no transaction holds it.
func (c *WriteConn) close() error {
	c.tx.Lock()
	defer c.tx.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	c.closeStmts()
	err := c.conn.Close()
	c.conn = nil
	return err
}
