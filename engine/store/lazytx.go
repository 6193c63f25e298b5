package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// ErrStaleVersion means a lazily begun write transaction (BeginLazy) found
// a newer metadata version than the one its work was planned on; nothing
// it did was kept.
var ErrStaleVersion = errors.New("store: the metadata version changed")

// DeferredInsertError is the failure of the INSERT a lazily begun write
// transaction held back (Deferrable), reported by the statement or the
// commit that ran it. Nothing of the transaction was kept.
type DeferredInsertError struct {
	// Table is the table of the INSERT.
	Table string
	Err   error
}

// Error says which INSERT failed and why.
func (e *DeferredInsertError) Error() string {
	return fmt.Sprintf("store: insert into %s: %v", e.Table, e.Err)
}

// Unwrap returns the database's error.
func (e *DeferredInsertError) Unwrap() error { return e.Err }

// WriteTx is a write transaction: a *sql.Tx, or one BeginLazy began on a
// SQLite connection.
type WriteTx interface {
	Querier
	Commit() error
	Rollback() error
}

// BeginLazy starts a write transaction planned on metadata version
// version that, on SQLite, begins only when its first statement runs;
// every statement of the transaction sees and keeps what the ones before
// it did, as in any transaction. When that first statement is an INSERT
// of one row marked Deferrable, it is held back instead of run: if the
// transaction ends without another statement, its commit runs the INSERT
// alone, as one statement that writes only while the metadata version is
// still version. A unit of work that writes one row thus costs one
// statement instead of four (BEGIN, the version read, the INSERT,
// COMMIT): on a lone create that is about a fifth of its time. When any
// other statement comes first or after, the transaction begins
// (BEGIN IMMEDIATE), checks the version, runs the held INSERT, and goes
// on as usual.
//
// On SQLite the transaction is one pooled connection's own, not a
// *sql.Tx: database/sql's transaction (a goroutine watching its context,
// its statements bound to it and closed at the end) cost a lone create
// 5-10 µs. Its statements run through DB.Exec, Query and QueryRow are
// prepared once by the connection.
//
// A version other than version fails the statement that began the
// transaction, or its commit, with ErrStaleVersion; a held INSERT that
// fails fails them with a *DeferredInsertError. Either failure sticks:
// every later statement and the commit fail with it, and nothing is kept.
// On PostgreSQL, BeginLazy is BeginWrite followed by the version check.
func (db *DB) BeginLazy(ctx context.Context, version int64) (WriteTx, error) {
	if db.Dialect != metadata.DialectSQLite {
		tx, latest, err := db.BeginWrite(ctx)
		if err != nil {
			return nil, err
		}
		if latest != version {
			tx.Rollback()
			return nil, ErrStaleVersion
		}
		return tx, nil
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*sqliteConn)
		if !ok {
			return fmt.Errorf("store: begin: the connection is a %T", dc)
		}
		c.startLazy(version)
		return nil
	}); err != nil {
		conn.Close()
		return nil, err
	}
	return &lazyConnTx{conn: conn}, nil
}

// lazyConnTx is a transaction BeginLazy began on a SQLite connection.
type lazyConnTx struct {
	conn *sql.Conn
	done bool
}

// ExecContext runs a statement in the transaction.
func (t *lazyConnTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *lazyConnTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query returning one row in the transaction.
func (t *lazyConnTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(ctx, query, args...)
}

// Commit commits (sqliteConn.commitLazy) and gives the connection back
// to the pool.
func (t *lazyConnTx) Commit() error {
	return t.end(func(c *sqliteConn, l *lazyTx) error { return c.commitLazy(context.Background(), l) })
}

// Rollback rolls back what began, and gives the connection back to the
// pool; after Commit it does nothing (sql.ErrTxDone).
func (t *lazyConnTx) Rollback() error {
	return t.end(func(c *sqliteConn, l *lazyTx) error {
		if !l.begun {
			return nil
		}
		return c.run(context.Background(), &c.rollback, sqlRollback)
	})
}

// end ends the transaction with fn, once.
func (t *lazyConnTx) end(fn func(c *sqliteConn, l *lazyTx) error) error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	err := t.conn.Raw(func(dc any) error {
		c := dc.(*sqliteConn)
		l := c.lazy
		c.lazy = nil
		return fn(c, l)
	})
	if cerr := t.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// cachedKey is the context key with which DB.Exec, Query and QueryRow ask
// a SQLite connection to run a statement of a lazy transaction as one it
// prepared once.
type cachedKey struct{}

// prepared marks ctx for a statement that q's connection should prepare
// once, when q is a lazy transaction (the others use the statement cache).
func prepared(ctx context.Context, q Querier) context.Context {
	if _, ok := q.(*lazyConnTx); ok {
		return context.WithValue(ctx, cachedKey{}, true)
	}
	return ctx
}

// deferKey is the context key of Deferrable.
type deferKey struct{}

// Deferrable marks ctx for an INSERT of one row into table, written
// "INSERT INTO t (columns) VALUES (?, …)", that a lazily begun transaction
// may hold back (BeginLazy). Run with ExecContext on a transaction or the
// database (rather than DB.Exec), such an INSERT is also prepared once per
// SQLite connection. On PostgreSQL the mark has no effect.
func Deferrable(ctx context.Context, table string) context.Context {
	return context.WithValue(ctx, deferKey{}, table)
}

// versionGuard is the condition under which a held INSERT writes, less
// the version the transaction was planned on, which follows it.
const versionGuard = "COALESCE((" + sqlLatestVersion + "), 0) = "

// guardedInsert turns "INSERT INTO t (cols) VALUES (?, …)" into the start
// of the INSERT that writes the same row only while the metadata version
// is the one that ends it (guard.sql); ok is false for any other
// statement. The version is written into the statement rather than bound,
// so that the row's parameters are bound as they came.
func guardedInsert(query string) (guarded string, ok bool) {
	head, marks, ok := strings.Cut(query, " VALUES (")
	marks, closed := strings.CutSuffix(marks, ")")
	if !ok || !closed || !strings.HasPrefix(head, "INSERT INTO ") || marks == "" || strings.Trim(marks, "?, ") != "" {
		return "", false
	}
	return head + " SELECT " + marks + " WHERE " + versionGuard, true
}

// noVersion is the version of a connStmt key that is not a guarded INSERT.
const noVersion = -1

// connStmt names a statement a connection prepared for an INSERT marked
// Deferrable: the INSERT as given (version noVersion), or the start of its
// guarded form and the version that ends it.
type connStmt struct {
	query   string
	version int64
}

// sql returns the statement's SQL.
func (k connStmt) sql() string {
	if k.version == noVersion {
		return k.query
	}
	return k.query + strconv.FormatInt(k.version, 10)
}

// lazyTx is the state of a transaction a SQLite connection began lazily.
type lazyTx struct {
	// version is the metadata version the transaction is planned on.
	version int64
	// begun is set once BEGIN ran.
	begun bool
	// err is the failure that ends the transaction (it sticks).
	err error
	// held is the INSERT held back, if any.
	held *heldInsert
}

// heldInsert is an INSERT of one row a lazy transaction held back, and
// the start of the same INSERT guarded by the metadata version
// (guardedInsert).
type heldInsert struct {
	table, query, guarded string
	args                  []driver.NamedValue
}

// maxConnStatements bounds the statements a connection prepares itself
// (sqliteConn.stmts) and the guarded forms it keeps worked out. A full
// cache is emptied when the connection next starts a transaction (no
// statement of it is in use then: the pool hands out a connection only
// once its rows are closed); until then, statements past it are prepared
// for one use.
const maxConnStatements = 256

// startLazy starts a lazy transaction planned on version.
func (c *sqliteConn) startLazy(version int64) {
	c.trimStatements()
	c.lazy = &lazyTx{version: version}
}

// trimStatements empties the connection's own statement cache when it is
// full; it is called only while none of its statements is in use.
func (c *sqliteConn) trimStatements() {
	if len(c.stmts) >= maxConnStatements {
		c.closeStatements()
	}
	if len(c.guards) >= maxConnStatements {
		clear(c.guards)
	}
}

// hold holds back the INSERT query with args when the connection's lazy
// transaction has not begun and holds nothing yet, and ctx is marked
// Deferrable; it reports whether it did.
func (c *sqliteConn) hold(ctx context.Context, query string, args []driver.NamedValue) bool {
	l := c.lazy
	if l == nil || l.begun || l.err != nil || l.held != nil {
		return false
	}
	table, ok := ctx.Value(deferKey{}).(string)
	if !ok {
		return false
	}
	guarded, ok := c.guards[query]
	if !ok {
		guarded, _ = guardedInsert(query)
		if c.guards == nil {
			c.guards = map[string]string{}
		}
		if len(c.guards) < maxConnStatements {
			c.guards[query] = guarded
		}
	}
	if guarded == "" {
		return false
	}
	// database/sql made args for this call alone; the caller may reuse
	// the bytes it passed.
	for i, a := range args {
		if b, ok := a.Value.([]byte); ok {
			args[i].Value = append([]byte(nil), b...)
		}
	}
	l.held = &heldInsert{table: table, query: query, guarded: guarded, args: args}
	return true
}

// ensureBegun begins the connection's lazy transaction, if it has one that
// has not begun: BEGIN IMMEDIATE, the version check, then the held INSERT.
// It returns the transaction's failure, which sticks.
func (c *sqliteConn) ensureBegun(ctx context.Context) error {
	l := c.lazy
	if l == nil {
		return nil
	}
	if l.err != nil || l.begun {
		return l.err
	}
	if err := c.run(ctx, &c.begin, sqlBegin); err != nil {
		_ = c.run(context.Background(), &c.rollback, sqlRollback)
		l.err = err
		return err
	}
	l.begun = true
	v, err := c.latestVersion(ctx)
	switch {
	case err != nil:
		l.err = fmt.Errorf("store: latest metadata version: %w", err)
	case v != l.version:
		l.err = ErrStaleVersion
	case l.held != nil:
		h := l.held
		l.held = nil
		if _, err := c.execPrepared(ctx, connStmt{h.query, noVersion}, h.args); err != nil {
			l.err = &DeferredInsertError{Table: h.table, Err: err}
		}
	}
	return l.err
}

// commitLazy ends the lazy transaction l: a COMMIT when it began, the held
// INSERT alone (guarded by the version) when it holds one, nothing when
// no statement ran.
func (c *sqliteConn) commitLazy(ctx context.Context, l *lazyTx) error {
	switch {
	case l.err != nil:
		if l.begun {
			_ = c.run(context.Background(), &c.rollback, sqlRollback)
		}
		return l.err
	case l.begun:
		return c.commitBegun(ctx)
	case l.held != nil:
		h := l.held
		res, err := c.execPrepared(ctx, connStmt{h.guarded, l.version}, h.args)
		if err != nil {
			return &DeferredInsertError{Table: h.table, Err: err}
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrStaleVersion
		}
	}
	return nil
}

// execPrepared runs the statement k with args, prepared once by the
// connection.
func (c *sqliteConn) execPrepared(ctx context.Context, k connStmt, args []driver.NamedValue) (driver.Result, error) {
	s, once, err := c.prepared(ctx, k)
	if err != nil {
		return nil, err
	}
	if once {
		defer s.Close()
	}
	return s.(driver.StmtExecContext).ExecContext(ctx, args)
}

// prepared returns the statement k as the connection prepared it, or, when
// its cache is full, prepared for one use (once: the caller closes it).
func (c *sqliteConn) prepared(ctx context.Context, k connStmt) (s driver.Stmt, once bool, err error) {
	if s, ok := c.stmts[k]; ok {
		return s, false, nil
	}
	if s, err = c.sqliteDriverConn.PrepareContext(ctx, k.sql()); err != nil {
		return nil, false, err
	}
	if len(c.stmts) >= maxConnStatements {
		return s, true, nil
	}
	if c.stmts == nil {
		c.stmts = map[connStmt]driver.Stmt{}
	}
	c.stmts[k] = s
	return s, false, nil
}

// ownStatement reports whether the connection runs a statement as one it
// prepared itself: an INSERT marked Deferrable, or a statement of a lazy
// transaction run through DB.Exec, Query or QueryRow.
func ownStatement(ctx context.Context) bool {
	if _, ok := ctx.Value(deferKey{}).(string); ok {
		return true
	}
	_, ok := ctx.Value(cachedKey{}).(bool)
	return ok
}

// closeStatements closes the statements prepared for held INSERTs.
func (c *sqliteConn) closeStatements() error {
	var errs []error
	for k, s := range c.stmts {
		errs = append(errs, s.Close())
		delete(c.stmts, k)
	}
	return errors.Join(errs...)
}

// sqliteStmt is a statement prepared on a sqliteConn: it begins the
// connection's lazy transaction before it runs, or is held back by it.
type sqliteStmt struct {
	driver.Stmt
	c     *sqliteConn
	query string
}

// ExecContext runs the statement.
func (s *sqliteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.c.hold(ctx, s.query, args) {
		return driver.RowsAffected(1), nil
	}
	if err := s.c.ensureBegun(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// QueryContext runs the query.
func (s *sqliteStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.ensureBegun(ctx); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// PrepareContext prepares a statement that takes part in the connection's
// lazy transactions.
func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.sqliteDriverConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqliteStmt{Stmt: s, c: c, query: query}, nil
}

// ExecContext runs a statement that was not prepared; an INSERT marked
// Deferrable, when not held back, runs as a statement the connection
// prepared once.
func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.hold(ctx, query, args) {
		return driver.RowsAffected(1), nil
	}
	if err := c.ensureBegun(ctx); err != nil {
		return nil, err
	}
	if ownStatement(ctx) {
		return c.execPrepared(ctx, connStmt{query, noVersion}, args)
	}
	return c.sqliteDriverConn.ExecContext(ctx, query, args)
}

// QueryContext runs a query that was not prepared; one of a lazy
// transaction run through DB.Query or QueryRow runs as a statement the
// connection prepared once (when its cache is full, as the driver runs
// any other).
func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.ensureBegun(ctx); err != nil {
		return nil, err
	}
	if ownStatement(ctx) {
		s, once, err := c.prepared(ctx, connStmt{query, noVersion})
		if err != nil {
			return nil, err
		}
		if !once {
			return s.(driver.StmtQueryContext).QueryContext(ctx, args)
		}
		s.Close()
	}
	return c.sqliteDriverConn.QueryContext(ctx, query, args)
}
