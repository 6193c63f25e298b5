package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

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

// WriteTx is a write transaction BeginLazy began.
type WriteTx interface {
	Querier
	Commit() error
	Rollback() error
	// Failed returns the failure that ended the transaction before its
	// end (a newer metadata version, a held INSERT that failed), nil
	// while it goes on. The statement that met it may have reported it
	// otherwise (a query's row reports no failure of its own), so a
	// caller whose work failed should report this one first.
	Failed() error
}

// BeginLazy starts a write transaction planned on metadata version
// version that begins only when its first statement runs;
// every statement of the transaction sees and keeps what the ones before
// it did, as in any transaction. When that first statement is an INSERT
// of one row marked Deferrable, it is held back instead of run: if the
// transaction ends without another statement, its commit runs the INSERT
// alone, as one statement that writes only while the metadata version is
// still version. A unit of work that writes one row thus costs one
// statement instead of four (BEGIN, the version read, the INSERT,
// COMMIT): on a lone create that is about a fifth of its time on SQLite,
// two thirds on PostgreSQL (four round trips). When any other statement
// comes first or after, the transaction begins (BEGIN IMMEDIATE on
// SQLite), checks the version, runs the held INSERT, and goes on as
// usual.
//
// On SQLite the transaction takes a pooled connection of its own only when
// a statement it does not hold back runs; a held INSERT alone is run by
// the commit as any statement on the database is (DB.Exec), prepared once
// per connection. The connection's transaction is not a *sql.Tx:
// database/sql's transaction (a goroutine watching its context, its
// statements bound to it and closed at the end) cost a lone create 5-10
// µs. Its statements run through DB.Exec, Query and QueryRow are prepared
// once by the connection.
//
// On PostgreSQL the transaction is a *sql.Tx begun (BeginWrite, which
// waits for a metadata change under way) when its first statement not
// held back runs, which checks the version and runs the held INSERT
// first. A held INSERT alone runs as one statement in its own implicit
// transaction, guarded by writeGuardFunc in its RETURNING (a lone create
// went from about three times a plain INSERT to 1.15 times). When a
// metadata change holds its lock, the guard does not wait (the INSERT has
// already locked its table, which the change may be waiting for): the
// commit then runs the INSERT in a transaction begun as above.
//
// A version other than version fails the statement that began the
// transaction, or its commit, with ErrStaleVersion; a held INSERT that
// fails fails them with a *DeferredInsertError. Either failure sticks:
// every later statement and the commit fail with it, and nothing is kept.
// BeginLazy itself runs nothing, so it cannot fail.
func (db *DB) BeginLazy(ctx context.Context, version int64) WriteTx {
	state := lazyState{db: db, version: version}
	if db.Dialect != metadata.DialectSQLite {
		return &pgLazyTx{lazyState: state, ctx: ctx}
	}
	return &lazyConnTx{lazyState: state}
}

// lazyState is what a lazily begun transaction of either database keeps
// besides its connection or *sql.Tx.
type lazyState struct {
	db      *DB
	version int64
	// held is the INSERT held back, until the commit or the next
	// statement runs it.
	held *heldInsert
	// err is the failure that ends the transaction (it sticks).
	err  error
	done bool
}

// Failed implements WriteTx.
func (t *lazyState) Failed() error { return t.err }

// holds holds query back and reports whether it did: when the
// transaction has not begun (begun false), holds nothing yet and goes on,
// and query is an INSERT of one row marked Deferrable.
func (t *lazyState) holds(ctx context.Context, begun bool, query string, args []any) bool {
	if begun || t.held != nil || t.err != nil || t.done {
		return false
	}
	table, ok := ctx.Value(deferKey{}).(string)
	if !ok {
		return false
	}
	guarded := t.db.stmts.guarded(t.db.Dialect, query)
	if guarded == "" {
		return false
	}
	t.hold(&heldInsert{table: table, query: query, guarded: guarded}, args)
	return true
}

// ended returns why no statement may run any more (sql.ErrTxDone after
// the end, or the failure that sticks), nil while statements may.
func (t *lazyState) ended() error {
	if t.done {
		return sql.ErrTxDone
	}
	return t.err
}

// finish ends the transaction with fn, once (sql.ErrTxDone after).
func (t *lazyState) finish(fn func() error) error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	return fn()
}

// commitHeld ends a transaction that never began: the held INSERT, if
// any, runs alone, guarded by the version.
func (t *lazyState) commitHeld() error {
	return t.finish(func() error {
		if t.err != nil || t.held == nil {
			return t.err
		}
		return t.db.insertGuarded(t.held, t.version)
	})
}

// nothing is the end of a transaction that never began and holds nothing.
func nothing() error { return nil }

// noRow is the answer of a query that could not run: the transaction
// could not begin (its own failure comes back from its next statement,
// its commit and Failed), and only a query can put a failure into a
// *sql.Row: this one runs nothing, its Scan failing with
// context.Canceled.
func (t *lazyState) noRow(ctx context.Context, query string, args []any) *sql.Row {
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	return t.db.SQL().QueryRowContext(canceled, query, args...)
}

// lazyConnTx is a transaction BeginLazy began on SQLite.
type lazyConnTx struct {
	lazyState
	// conn is the connection the transaction took for its first
	// statement not held back, nil until then.
	conn *sql.Conn
}

// heldInsert is an INSERT of one row a lazy transaction held back, and
// its form guarded by the metadata version (guardedInsert).
type heldInsert struct {
	table, query, guarded string
	args                  []any
}

// ExecContext runs a statement in the transaction, or holds it back when
// it is the first and an INSERT marked Deferrable.
func (t *lazyConnTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.holds(ctx, t.conn != nil, query, args) {
		return driver.RowsAffected(1), nil
	}
	conn, err := t.take(ctx)
	if err != nil {
		return nil, err
	}
	return conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *lazyConnTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	conn, err := t.take(ctx)
	if err != nil {
		return nil, err
	}
	return conn.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query returning one row in the transaction.
func (t *lazyConnTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if _, err := t.take(ctx); err != nil && t.conn == nil {
		// No connection could be had (the database is closed, or the
		// transaction ended before any statement).
		return t.noRow(ctx, query, args)
	}
	// When the transaction failed, its connection's lazy transaction
	// holds the failure, which the query's Scan reports.
	return t.conn.QueryRowContext(ctx, query, args...)
}

// hold keeps the INSERT h back with args. The caller may reuse the bytes
// it passed once the call returns, so they are copied; the arguments have
// room for the version that guards the INSERT.
func (t *lazyState) hold(h *heldInsert, args []any) {
	h.args = make([]any, len(args), len(args)+1)
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			a = append([]byte(nil), b...)
		}
		h.args[i] = a
	}
	t.held = h
}

// take returns the transaction's connection, taking one from the pool
// for its first statement: the connection's lazy transaction then begins
// (BEGIN IMMEDIATE and the version check) and runs the held INSERT first.
// A failure sticks, in the connection's lazy transaction too.
func (t *lazyConnTx) take(ctx context.Context) (*sql.Conn, error) {
	if err := t.ended(); err != nil {
		return nil, err
	}
	if t.conn != nil {
		return t.conn, nil
	}
	// As BeginWrite's: the statement's own context still watches it.
	conn, err := t.db.SQL().Conn(context.Background())
	if err != nil {
		t.err = fmt.Errorf("store: begin: %w", err)
		return nil, t.err
	}
	var started bool
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*sqliteConn)
		if !ok {
			return fmt.Errorf("store: begin: the connection is a %T", dc)
		}
		c.startLazy(t.version)
		started = true
		return c.ensureBegun(ctx)
	}); err != nil {
		t.err = err
		if started {
			t.conn = conn // the end rolls back what began and gives it back
		} else {
			conn.Close()
		}
		return nil, err
	}
	t.conn = conn
	if h := t.held; h != nil {
		t.held = nil
		if _, err := conn.ExecContext(context.WithValue(ctx, cachedKey{}, true), h.query, h.args...); err != nil {
			t.err = &DeferredInsertError{Table: h.table, Err: err}
			_ = conn.Raw(func(dc any) error {
				dc.(*sqliteConn).lazy.err = t.err
				return nil
			})
			return nil, t.err
		}
	}
	return conn, nil
}

// Commit commits: the held INSERT alone, guarded by the version, when no
// statement took a connection; otherwise the connection's transaction
// (sqliteConn.commitLazy), giving the connection back to the pool.
func (t *lazyConnTx) Commit() error {
	if t.conn != nil {
		if t.err != nil {
			t.Rollback()
			return t.err
		}
		return t.end(func(c *sqliteConn, l *lazyTx) error { return c.commitLazy(context.Background(), l) })
	}
	return t.commitHeld()
}

// Rollback rolls back what began, and gives the connection back to the
// pool; after Commit it does nothing (sql.ErrTxDone).
func (t *lazyConnTx) Rollback() error {
	if t.conn == nil {
		return t.finish(nothing)
	}
	return t.end(func(c *sqliteConn, l *lazyTx) error {
		if !l.begun {
			return nil
		}
		return c.run(context.Background(), &c.rollback, sqlRollback)
	})
}

// end ends the connection's transaction with fn, once, and gives the
// connection back.
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

// pgLazyTx is a transaction BeginLazy began on PostgreSQL.
type pgLazyTx struct {
	lazyState
	// ctx is BeginLazy's, the transaction's once it begins.
	ctx context.Context
	// tx is the transaction begun for the first statement not held back,
	// nil until then.
	tx *sql.Tx
}

// ExecContext runs a statement in the transaction, or holds it back when
// it is the first and an INSERT marked Deferrable.
func (t *pgLazyTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.holds(ctx, t.tx != nil, query, args) {
		return driver.RowsAffected(1), nil
	}
	tx, err := t.take()
	if err != nil {
		return nil, err
	}
	return tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *pgLazyTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	tx, err := t.take()
	if err != nil {
		return nil, err
	}
	return tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query returning one row in the transaction.
func (t *pgLazyTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	tx, err := t.take()
	if err != nil {
		return t.noRow(ctx, query, args)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// take returns the transaction, beginning it for the first statement not
// held back: BeginWrite, the version check, then the held INSERT. A
// failure sticks.
func (t *pgLazyTx) take() (*sql.Tx, error) {
	if err := t.ended(); err != nil {
		return nil, err
	}
	if t.tx != nil {
		return t.tx, nil
	}
	tx, latest, err := t.db.BeginWrite(t.ctx)
	if err != nil {
		t.err = err
		return nil, err
	}
	t.tx = tx
	if latest != t.version {
		t.err = ErrStaleVersion
		return nil, t.err
	}
	if h := t.held; h != nil {
		t.held = nil
		if _, err := t.db.Exec(t.ctx, tx, h.query, h.args...); err != nil {
			t.err = &DeferredInsertError{Table: h.table, Err: err}
			return nil, t.err
		}
	}
	return tx, nil
}

// Commit commits: the held INSERT alone, guarded, when nothing began the
// transaction; otherwise the transaction (rolled back with its failure
// when it failed).
func (t *pgLazyTx) Commit() error {
	if t.tx == nil {
		return t.commitHeld()
	}
	return t.finish(func() error {
		if t.err != nil {
			t.tx.Rollback()
			return t.err
		}
		return t.tx.Commit()
	})
}

// Rollback rolls back what began; after the end it does nothing
// (sql.ErrTxDone).
func (t *pgLazyTx) Rollback() error {
	if t.tx == nil {
		return t.finish(nothing)
	}
	return t.finish(t.tx.Rollback)
}

// insertGuarded runs the held INSERT h alone, writing its row only while
// the metadata version is still version.
func (db *DB) insertGuarded(h *heldInsert, version int64) error {
	ctx := context.Background()
	res, err := db.Exec(ctx, db.SQL(), h.guarded, append(h.args, version)...)
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == sqlStateStaleVersion:
		return ErrStaleVersion
	case errors.As(err, &pe) && pe.Code == sqlStateMetadataBusy:
		// A metadata change holds its lock: wait for it, as a
		// transaction begun at once would.
		t := &pgLazyTx{lazyState: lazyState{db: db, version: version, held: h}, ctx: ctx}
		if _, err := t.take(); err != nil {
			t.Rollback()
			return err
		}
		return t.Commit()
	case err != nil:
		return &DeferredInsertError{Table: h.table, Err: err}
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return ErrStaleVersion
	}
	return nil
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
// SQLite connection.
func Deferrable(ctx context.Context, table string) context.Context {
	return context.WithValue(ctx, deferKey{}, table)
}

// versionGuard is the condition under which a held INSERT writes: the
// metadata version is the one bound last.
const versionGuard = "COALESCE((" + sqlLatestVersion + "), 0) = ?"

// guardedInsert turns "INSERT INTO t (cols) VALUES (?, …)" ($1, … on
// PostgreSQL) into the INSERT that writes the same row only while the
// metadata version is the one bound after the row's values; it returns ""
// for any other statement. On SQLite the row is selected under the
// version's condition; on PostgreSQL writeGuardFunc checks it in the
// RETURNING, failing the statement.
func guardedInsert(dialect, query string) string {
	head, marks, ok := strings.Cut(query, " VALUES (")
	marks, closed := strings.CutSuffix(marks, ")")
	if !ok || !closed || !strings.HasPrefix(head, "INSERT INTO ") || marks == "" {
		return ""
	}
	n := strings.Count(marks, ",") + 1
	if marks != Rebind(dialect, Marks(n)) {
		return ""
	}
	if dialect == metadata.DialectPostgres {
		return query + " RETURNING " + writeGuardFunc + "(" + strconv.FormatInt(metadataLock, 10) + ", $" + strconv.Itoa(n+1) + ")"
	}
	return head + " SELECT " + marks + " WHERE " + versionGuard
}

// guarded returns guardedInsert(dialect, query), worked out once per
// statement.
func (c *stmtCache) guarded(dialect, query string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.guards[query]
	if !ok {
		g = guardedInsert(dialect, query)
		if len(c.guards) >= maxCachedStatements {
			clear(c.guards)
		}
		c.guards[query] = g
	}
	return g
}

// lazyTx is the state of a transaction a SQLite connection began lazily.
type lazyTx struct {
	// version is the metadata version the transaction is planned on.
	version int64
	// begun is set once BEGIN ran.
	begun bool
	// err is the failure that ends the transaction (it sticks).
	err error
}

// maxConnStatements bounds the statements a connection prepares itself
// (sqliteConn.stmts). A full cache is emptied when the connection next
// starts a transaction (no statement of it is in use then: the pool hands
// out a connection only once its rows are closed); until then, statements
// past it are prepared for one use.
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
}

// ensureBegun begins the connection's lazy transaction, if it has one that
// has not begun: BEGIN IMMEDIATE and the version check (lazyConnTx.take
// runs the held INSERT next). It returns the transaction's failure, which
// sticks.
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
	}
	return l.err
}

// commitLazy ends the lazy transaction l: a COMMIT when it began, a
// ROLLBACK when it failed.
func (c *sqliteConn) commitLazy(ctx context.Context, l *lazyTx) error {
	switch {
	case l.err != nil:
		if l.begun {
			_ = c.run(context.Background(), &c.rollback, sqlRollback)
		}
		return l.err
	case l.begun:
		return c.commitBegun(ctx)
	}
	return nil
}

// execPrepared runs the statement query with args, prepared once by the
// connection.
func (c *sqliteConn) execPrepared(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, once, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if once {
		defer s.Close()
	}
	return s.(driver.StmtExecContext).ExecContext(ctx, args)
}

// prepared returns the statement query as the connection prepared it, or,
// when its cache is full, prepared for one use (once: the caller closes
// it).
func (c *sqliteConn) prepared(ctx context.Context, query string) (s driver.Stmt, once bool, err error) {
	if s, ok := c.stmts[query]; ok {
		return s, false, nil
	}
	if s, err = c.sqliteDriverConn.PrepareContext(ctx, query); err != nil {
		return nil, false, err
	}
	if len(c.stmts) >= maxConnStatements {
		return s, true, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]driver.Stmt{}
	}
	c.stmts[query] = s
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

// closeStatements closes the statements the connection prepared itself.
func (c *sqliteConn) closeStatements() error {
	var errs []error
	for k, s := range c.stmts {
		errs = append(errs, s.Close())
		delete(c.stmts, k)
	}
	return errors.Join(errs...)
}

// sqliteStmt is a statement prepared on a sqliteConn: it begins the
// connection's lazy transaction before it runs.
type sqliteStmt struct {
	driver.Stmt
	c *sqliteConn
}

// ExecContext runs the statement.
func (s *sqliteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
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
	return &sqliteStmt{Stmt: s, c: c}, nil
}

// ExecContext runs a statement that was not prepared; an INSERT marked
// Deferrable, and a statement of a lazy transaction run through DB.Exec,
// run as statements the connection prepared once.
func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.ensureBegun(ctx); err != nil {
		return nil, err
	}
	if ownStatement(ctx) {
		return c.execPrepared(ctx, query, args)
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
		s, once, err := c.prepared(ctx, query)
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
