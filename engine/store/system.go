package store

import (
	"context"
	"fmt"

	"github.com/crmplatform/crm/metadata"
)

// systemTables are the engine's own tables, created by Migrate. Types are
// chosen per dialect by col().
func (db *DB) systemTables() []string {
	ts := db.col("TIMESTAMPTZ", "TEXT")
	blob := db.col("BYTEA", "BLOB")
	big := db.col("BIGINT", "INTEGER")
	return []string{
		`CREATE TABLE IF NOT EXISTS crm_meta_versions (
			version ` + big + ` PRIMARY KEY,
			author TEXT NOT NULL,
			created_at ` + ts + ` NOT NULL,
			comment TEXT NOT NULL DEFAULT '',
			schema_json TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS crm_history (
			id TEXT PRIMARY KEY,
			object TEXT NOT NULL,
			record_id TEXT NOT NULL,
			field TEXT NOT NULL,
			old_value TEXT,
			new_value TEXT,
			changed_by TEXT,
			by_system BOOLEAN NOT NULL DEFAULT FALSE,
			changed_at ` + ts + ` NOT NULL,
			record_version ` + big + ` NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS ix_crm_history_record ON crm_history (object, record_id, changed_at)`,
		`CREATE TABLE IF NOT EXISTS crm_sequences (
			object TEXT NOT NULL,
			field TEXT NOT NULL,
			prefix TEXT NOT NULL,
			value ` + big + ` NOT NULL,
			PRIMARY KEY (object, field, prefix)
		)`,
		`CREATE TABLE IF NOT EXISTS crm_files (
			id TEXT PRIMARY KEY,
			object TEXT NOT NULL,
			field TEXT NOT NULL,
			name TEXT NOT NULL,
			content_type TEXT NOT NULL,
			size ` + big + ` NOT NULL,
			data ` + blob + ` NOT NULL,
			record_id TEXT,
			created_by TEXT,
			created_at ` + ts + ` NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS ix_crm_files_record ON crm_files (object, record_id)`,
	}
}

// col picks a column type by dialect.
func (db *DB) col(pg, sqlite string) string {
	if db.Dialect == metadata.DialectPostgres {
		return pg
	}
	return sqlite
}

// addedColumns are columns added to system tables after they were first
// created, with their definitions: Migrate adds them to older databases.
var addedColumns = []struct{ table, column, def string }{
	{"crm_history", "by_system", "BOOLEAN NOT NULL DEFAULT FALSE"},
}

// Migrate creates the system tables if they do not exist yet, adds the
// columns later versions added to them and, in PostgreSQL, the function
// BeginWrite calls.
func (db *DB) Migrate(ctx context.Context) error {
	for _, stmt := range db.systemTables() {
		if _, err := db.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: create system tables: %w", err)
		}
	}
	for _, c := range addedColumns {
		if err := db.AddColumn(ctx, c.table, c.column, c.def); err != nil {
			return err
		}
	}
	if db.Dialect == metadata.DialectPostgres {
		return db.createPgFunctions(ctx)
	}
	return nil
}

// AddColumn adds column, defined by def ("INTEGER NOT NULL DEFAULT 0"), to
// a table of the platform's own (a system table, or one a part of the
// platform keeps) that lacks it: the migration of a column a later version
// added. A table that has it is left as it is.
func (db *DB) AddColumn(ctx context.Context, table, column, def string) error {
	has, err := db.hasColumn(ctx, table, column)
	if err != nil || has {
		return err
	}
	add := "ADD COLUMN "
	if db.Dialect == metadata.DialectPostgres {
		add += "IF NOT EXISTS " // servers starting together
	}
	if _, err := db.SQL().ExecContext(ctx, "ALTER TABLE "+Ident(table)+" "+add+Ident(column)+" "+def); err != nil {
		return fmt.Errorf("store: add %s.%s: %w", table, column, err)
	}
	return nil
}

// hasColumn reports whether a table has a column.
func (db *DB) hasColumn(ctx context.Context, table, column string) (bool, error) {
	q := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
	if db.Dialect == metadata.DialectPostgres {
		q = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, q, table, column).Scan(&n); err != nil {
		return false, fmt.Errorf("store: columns of %s: %w", table, err)
	}
	return n > 0, nil
}

// NextNumber takes the next value of the gap-free counter of an
// auto-number field for a rendered prefix, in the caller's transaction:
// concurrent writers queue on the counter row, and a rollback gives the
// number back.
func (db *DB) NextNumber(ctx context.Context, tx Querier, object, field, prefix string) (int64, error) {
	var n int64
	q := Rebind(db.Dialect, `INSERT INTO crm_sequences (object, field, prefix, value) VALUES (?, ?, ?, 1)
		ON CONFLICT (object, field, prefix) DO UPDATE SET value = crm_sequences.value + 1 RETURNING value`)
	if err := tx.QueryRowContext(ctx, q, object, field, prefix).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: next number of %s.%s: %w", object, field, err)
	}
	return n, nil
}
