package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector opens PostgreSQL connections (pgx's) whose write
// transactions (BeginWrite) begin, take the shared metadata lock and read
// the metadata version in one round trip instead of two: every unit of
// work that writes more than one row starts so; and which drop their
// prepared statements after a schema change (DB.SchemaChanged). Everything
// else goes to pgx's connection as it is.
type pgConnector struct {
	driver.Connector
	// schema is DB.schema.
	schema *atomic.Int64
}

// Connect opens one connection.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	// Read first: a change while connecting is seen at the next reuse.
	seen := c.schema.Load()
	in, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	conn, ok := in.(*stdlib.Conn)
	if !ok {
		in.Close()
		return nil, fmt.Errorf("store: pgx's connection is a %T, not a *stdlib.Conn", in)
	}
	return &pgConn{Conn: conn, schema: c.schema, seen: seen}, nil
}

// pgConn is pgx's connection with the write transactions of BeginWrite.
type pgConn struct {
	*stdlib.Conn
	// schema is DB.schema, and seen its count when the connection's
	// prepared statements were last dropped (or it opened).
	schema *atomic.Int64
	seen   int64
}

// ResetSession readies the connection for its next use (database/sql
// calls it before handing out a connection used before, outside any
// transaction): after a schema change, it drops every statement pgx
// prepared on it, on the server too, so that none is run on tables whose
// columns changed type. A connection that cannot is given up.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if err := c.Conn.ResetSession(ctx); err != nil {
		return err
	}
	if n := c.schema.Load(); n != c.seen {
		if err := c.Conn.Conn().DeallocateAll(ctx); err != nil {
			return driver.ErrBadConn
		}
		c.seen = n
	}
	return nil
}

// pgBeginWrite begins a transaction, takes the shared metadata lock and
// reads the version (lockedVersionFunc), in one message of the simple
// protocol.
var pgBeginWrite = "BEGIN; SELECT " + lockedVersionFunc + "(" + strconv.FormatInt(metadataLock, 10) + ")"

// BeginTx begins a transaction; asked by BeginWrite (versionReadKey), it
// also takes the shared metadata lock and reads the version.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	read, ok := ctx.Value(versionReadKey{}).(*versionRead)
	if !ok || opts.ReadOnly || opts.Isolation != 0 {
		return c.Conn.BeginTx(ctx, opts)
	}
	pc := c.Conn.Conn().PgConn()
	if pc.IsClosed() {
		return nil, driver.ErrBadConn
	}
	results, err := pc.Exec(ctx, pgBeginWrite).ReadAll()
	if err == nil {
		read.version, err = lockedVersion(results)
	}
	if err != nil {
		// The BEGIN may have run: the connection goes back to the pool
		// outside any transaction, or not at all.
		pgTx{pc}.Rollback()
		return nil, fmt.Errorf("store: begin and lock metadata (shared): %w", err)
	}
	return pgTx{pc}, nil
}

// lockedVersion reads the version pgBeginWrite's SELECT answered.
func lockedVersion(results []*pgconn.Result) (int64, error) {
	if len(results) != 2 || len(results[1].Rows) != 1 || len(results[1].Rows[0]) != 1 {
		return 0, errors.New("unexpected answer to the version read")
	}
	v, err := strconv.ParseInt(string(results[1].Rows[0][0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the metadata version: %w", err)
	}
	return v, nil
}

// pgTx is a transaction pgConn.BeginTx began.
type pgTx struct{ pc *pgconn.PgConn }

// errCommitRolledBack is the commit of a transaction PostgreSQL had
// aborted (a statement of it failed): it was rolled back.
var errCommitRolledBack = errors.New("store: commit: the transaction had failed and was rolled back")

// Commit commits; a connection left inside the transaction by a failed
// COMMIT is closed, as pgx does with its own transactions.
func (t pgTx) Commit() error {
	results, err := t.pc.Exec(context.Background(), "COMMIT").ReadAll()
	if err != nil {
		if t.pc.TxStatus() != 'I' {
			t.pc.Close(context.Background())
		}
		return err
	}
	if len(results) == 1 && results[0].CommandTag.String() == "ROLLBACK" {
		return errCommitRolledBack
	}
	return nil
}

// Rollback rolls back; a connection whose ROLLBACK failed is closed, its
// state unknown.
func (t pgTx) Rollback() error {
	if _, err := t.pc.Exec(context.Background(), "ROLLBACK").ReadAll(); err != nil {
		t.pc.Close(context.Background())
		return fmt.Errorf("store: rollback: %w", err)
	}
	return nil
}
