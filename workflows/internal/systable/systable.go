// Package systable holds what the workflows' own system tables (approval
// requests, reminder schedules, notifications) share: their creation with
// the dialect's timestamp type, statements and arguments in the dialect's
// form, and the clock as the tables store it. It knows no table.
package systable

import (
	"context"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Tables reaches system tables of one database with one clock.
type Tables struct {
	db  *store.DB
	now func() time.Time
}

// New returns the Tables of db whose times come from now.
func New(db *store.DB, now func() time.Time) Tables { return Tables{db: db, now: now} }

// Create runs the statements stmts returns for the dialect's timestamp
// column type (TEXT on SQLite, TIMESTAMPTZ on PostgreSQL), in order; they
// should be idempotent (IF NOT EXISTS). what names the tables in errors.
func (t Tables) Create(ctx context.Context, what string, stmts func(ts string) []string) error {
	ts := "TEXT"
	if t.db.Dialect == metadata.DialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	for _, stmt := range stmts(ts) {
		if _, err := t.db.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: migrate: %w", what, err)
		}
	}
	return nil
}

// SQL rebinds "?" placeholders for the database's dialect.
func (t Tables) SQL(q string) string { return store.Rebind(t.db.Dialect, q) }

// Args converts arguments for the database's dialect (times as text on
// SQLite).
func (t Tables) Args(args ...any) []any { return store.Args(t.db.Dialect, args) }

// Now is the clock in UTC to the millisecond, as the tables store times.
func (t Tables) Now() time.Time { return t.now().UTC().Truncate(time.Millisecond) }

// ForUpdate is the row lock of a SELECT whose row the transaction is about
// to change (PostgreSQL; SQLite's write transaction excludes every other
// writer already).
func (t Tables) ForUpdate() string {
	if t.db.Dialect == metadata.DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}
