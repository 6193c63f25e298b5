package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector opens PostgreSQL connections (pgx's) whose write
// transactions (BeginWrite) begin, take the shared metadata lock and read
// the metadata version in one round trip instead of two: every unit of
// work that writes more than one row starts so. Everything else goes to
// pgx's connection as it is.
type pgConnector struct{ driver.Connector }

// Connect opens one connection.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	in, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	conn, ok := in.(*stdlib.Conn)
	if !ok {
		in.Close()
		return nil, fmt.Errorf("store: pgx's connection is a %T, not a *stdlib.Conn", in)
	}
	return &pgConn{Conn: conn}, nil
}

// pgConn is pgx's connection with the write transactions of BeginWrite.
type pgConn struct{ *stdlib.Conn }

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
