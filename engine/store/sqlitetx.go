package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// sqliteConnector opens SQLite connections whose transactions begin, commit
// and roll back with statements prepared once per connection. The driver
// prepares (parses and compiles) a new BEGIN and a new COMMIT for every
// transaction; for a transaction of one INSERT that cost about 7 µs of 54
// (docs/performance.md). Its connections also keep the lazy transactions
// of BeginLazy (engine/store/lazytx.go), for which they see every
// statement before the driver does; everything else goes to the driver's
// connection as it is.
type sqliteConnector struct {
	dsn string
}

// Connect opens one connection.
func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	in, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	conn, ok := in.(sqliteDriverConn)
	if !ok {
		in.Close()
		return nil, fmt.Errorf("store: the SQLite driver's connection %T lacks a method the pool uses", in)
	}
	return &sqliteConn{sqliteDriverConn: conn}, nil
}

// Driver returns the SQLite driver.
func (sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

// sqliteDriverConn is what database/sql uses of the driver's connection;
// sqliteConn passes on all of it.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteConn is a driver connection with its transaction statements (and
// the metadata version read of BeginWrite) prepared on first use. Its
// transactions begin immediate (the write lock at once), as the DSN's
// _txlock makes the driver's own, which read-only transactions and ones
// asking for an isolation level still use. Its statements (sqliteStmt, and
// ExecContext and QueryContext) first begin a lazy transaction of
// BeginLazy (lazytx.go).
type sqliteConn struct {
	sqliteDriverConn
	begin, commit, rollback driver.Stmt
	// version reads the newest metadata version (BeginWrite).
	version driver.Stmt
	// lazy is the transaction begun lazily (BeginLazy), while it lasts.
	lazy *lazyTx
	// stmts are the statements the connection prepared itself: INSERTs
	// marked Deferrable and the statements of lazy transactions.
	stmts map[string]driver.Stmt
}

// Transaction statements, as the DSN's _txlock=immediate makes the
// driver's.
const (
	sqlBegin    = "BEGIN IMMEDIATE"
	sqlCommit   = "COMMIT"
	sqlRollback = "ROLLBACK"
)

// run executes the statement *s, preparing it from query first if needed.
func (c *sqliteConn) run(ctx context.Context, s *driver.Stmt, query string) error {
	if *s == nil {
		p, err := c.sqliteDriverConn.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		*s = p
	}
	_, err := (*s).(driver.StmtExecContext).ExecContext(ctx, nil)
	return err
}

// BeginTx starts an immediate transaction.
func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly || opts.Isolation != 0 {
		return c.sqliteDriverConn.BeginTx(ctx, opts)
	}
	c.trimStatements()
	if err := c.run(ctx, &c.begin, sqlBegin); err != nil {
		// A BEGIN that ran before ctx ended still reports ctx's error: roll
		// it back, so the connection goes back to the pool outside any
		// transaction (with none open the ROLLBACK fails harmlessly).
		_ = c.run(context.Background(), &c.rollback, sqlRollback)
		return nil, err
	}
	if read, ok := ctx.Value(versionReadKey{}).(*versionRead); ok {
		v, err := c.latestVersion(ctx)
		if err != nil {
			_ = c.run(context.Background(), &c.rollback, sqlRollback)
			return nil, fmt.Errorf("store: latest metadata version: %w", err)
		}
		read.version = v
	}
	return &sqliteTx{c: c, ctx: ctx}, nil
}

// latestVersion reads the newest metadata version (BeginWrite), 0 when
// there is none.
func (c *sqliteConn) latestVersion(ctx context.Context) (int64, error) {
	if c.version == nil {
		s, err := c.sqliteDriverConn.PrepareContext(ctx, sqlLatestVersion)
		if err != nil {
			return 0, err
		}
		c.version = s
	}
	rows, err := c.version.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var dest [1]driver.Value
	if err := rows.Next(dest[:]); err != nil {
		return 0, err
	}
	switch v := dest[0].(type) {
	case nil:
		return 0, nil
	case int64:
		return v, nil
	default:
		return 0, fmt.Errorf("unexpected %T", v)
	}
}

// Close closes the prepared statements, then the connection.
func (c *sqliteConn) Close() error {
	errs := []error{c.closeStatements()}
	for _, s := range []driver.Stmt{c.begin, c.commit, c.rollback, c.version} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(append(errs, c.sqliteDriverConn.Close())...)
}

// sqliteTx is a transaction begun by sqliteConn. As the driver's own, its
// COMMIT watches the context it began with.
type sqliteTx struct {
	c   *sqliteConn
	ctx context.Context
}

// Commit commits; when that fails the transaction is rolled back, so the
// connection goes back to the pool outside any transaction (a ROLLBACK
// with none open fails harmlessly, and its error is not the one to report).
func (t *sqliteTx) Commit() error { return t.c.commitBegun(t.ctx) }

// commitBegun commits the transaction the connection began.
func (c *sqliteConn) commitBegun(ctx context.Context) error {
	if err := c.run(ctx, &c.commit, sqlCommit); err != nil {
		_ = c.run(context.Background(), &c.rollback, sqlRollback)
		return err
	}
	return nil
}

// Rollback rolls back, whatever the context it began with.
func (t *sqliteTx) Rollback() error {
	return t.c.run(context.Background(), &t.c.rollback, sqlRollback)
}
