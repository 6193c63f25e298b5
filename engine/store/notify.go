package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// MetadataChannel is the PostgreSQL notification channel on which a
// metadata change is announced to every server.
const MetadataChannel = "crm_metadata"

// ErrNoNotifications is returned by Listen on a database without
// notifications (SQLite: one process, nothing to hear).
var ErrNoNotifications = errors.New("store: the database has no notifications")

// Notify announces a change on channel within q's transaction; PostgreSQL
// delivers it when the transaction commits. On SQLite it does nothing.
func (db *DB) Notify(ctx context.Context, q Querier, channel, payload string) error {
	if db.Dialect != metadata.DialectPostgres {
		return nil
	}
	if _, err := q.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

// Listen holds one connection listening on channel and calls fn for every
// notification until ctx ends or the connection fails (the caller
// listens again, and polls meanwhile).
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if db.Dialect != metadata.DialectPostgres {
		return ErrNoNotifications
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*pgConn)
		if !ok {
			return fmt.Errorf("store: listen: unexpected driver connection %T", driverConn)
		}
		pc := c.Conn.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+Ident(channel)); err != nil {
			return fmt.Errorf("store: listen %s: %w", channel, err)
		}
		// The connection goes back to the pool afterwards: stop listening.
		defer pc.Exec(context.Background(), "UNLISTEN *")
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("store: listen %s: %w", channel, err)
			}
			fn(n.Payload)
		}
	})
}

// Follow calls fn for every notification on channel until ctx ends,
// listening again retry after a lost connection (logged on log as a
// warning). On a database without notifications it returns at once.
func (db *DB) Follow(ctx context.Context, channel string, retry time.Duration, log *slog.Logger, fn func(payload string)) {
	for ctx.Err() == nil {
		err := db.Listen(ctx, channel, fn)
		if errors.Is(err, ErrNoNotifications) {
			return
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("notifications lost; listening again", "channel", channel, "retry", retry, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}
