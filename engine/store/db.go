package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmplatform/crm/metadata"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// DB is an open database with the name of its dialect.
type DB struct {
	*bun.DB
	// Dialect is metadata.DialectSQLite or metadata.DialectPostgres.
	Dialect string

	stmts *stmtCache
	// schema counts the changes of the database's tables on PostgreSQL
	// (SchemaChanged); nil on SQLite.
	schema *atomic.Int64
}

// SchemaChanged tells the database that its tables changed: a metadata
// version was applied or loaded. On PostgreSQL, pgx prepares every
// statement once per connection and keeps it by its text; a column whose
// type changed breaks such a statement ("cached plan must not change
// result type"), and the engine's statements keep their text when only a
// column's type changes. So every connection drops the statements it
// prepared before its next use (pgConn.ResetSession). SQLite's driver
// prepares such statements again by itself.
func (db *DB) SchemaChanged() {
	if db.schema != nil {
		db.schema.Add(1)
	}
}

// sqliteConns is the size of a SQLite database's connection pool.
const sqliteConns = 4

// pgConns is the size of a PostgreSQL database's connection pool, and
// pgIdleTime how long an unused connection of it stays open.
const (
	pgConns    = 20
	pgIdleTime = 2 * time.Minute
)

// Open connects to dsn: a postgres:// (or postgresql://) URL for
// PostgreSQL, anything else is a SQLite file path (its folder is created).
// SQLite runs in WAL mode with a busy timeout and foreign keys on.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		// pgx prepares each statement once per connection (its default
		// mode, unless dsn names another default_query_exec_mode, as one
		// behind a pooler in transaction mode must): PostgreSQL then
		// parses and plans the engine's statements once, not on every
		// call. SchemaChanged drops them when the tables change.
		schema := new(atomic.Int64)
		sqldb := sql.OpenDB(pgConnector{Connector: stdlib.GetConnector(*cfg), schema: schema})
		// Idle connections stay open as on SQLite (below): with Go's
		// default of two idle ones, concurrent requests closed and opened
		// PostgreSQL connections (a server process each) all the time. They
		// are closed after pgIdleTime without use.
		sqldb.SetMaxOpenConns(pgConns)
		sqldb.SetMaxIdleConns(pgConns)
		sqldb.SetConnMaxIdleTime(pgIdleTime)
		db := &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Dialect: metadata.DialectPostgres, stmts: newStmtCache(), schema: schema}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect postgres: %w", err)
		}
		return db, nil
	}
	if strings.HasPrefix(dsn, "file:") || strings.Contains(dsn, "?") {
		// Open writes the URI itself; given one, SQLite would create a
		// folder named "file:" beside the working directory.
		return nil, fmt.Errorf("store: open sqlite %q: give the database file's path, not a URI", dsn)
	}
	if dir := filepath.Dir(dsn); dsn != ":memory:" && dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create folder for %s: %w", dsn, err)
		}
	}
	q := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	sqldb := sql.OpenDB(sqliteConnector{dsn: "file:" + dsn + q})
	// One writer at a time is SQLite's model; a small pool lets readers run
	// beside it in WAL mode while immediate transactions queue on the lock.
	// Every connection stays open (idle ones too): opening one reads the
	// whole schema again and loses its prepared statements, which under
	// concurrent requests cost more than the requests themselves.
	sqldb.SetMaxOpenConns(sqliteConns)
	sqldb.SetMaxIdleConns(sqliteConns)
	db := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Dialect: metadata.DialectSQLite, stmts: newStmtCache()}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", dsn, err)
	}
	return db, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Ident quotes an identifier that came from validated metadata. Double
// quotes are standard SQL and work in both dialects.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Rebind turns the "?" placeholders of a query into the dialect's form
// ($1, $2 … for PostgreSQL). Queries built by the engine never carry
// literal values, so every "?" is a placeholder.
func Rebind(dialect, query string) string {
	if dialect != metadata.DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Args converts storage values into driver arguments for the dialect.
func Args(dialect string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = metadata.DBValue(dialect, a)
	}
	return out
}

// Querier runs parameterised SQL: *sql.DB and *sql.Tx satisfy it. The
// engine's record queries go through database/sql directly, with real
// placeholders, rather than through bun's formatter, which inlines values.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// SQL returns the database/sql handle beneath bun, for parameterised
// queries.
func (db *DB) SQL() *sql.DB { return db.DB.DB }

// Optimize keeps the query planner's statistics current: on SQLite it
// runs PRAGMA optimize, which analyses the tables whose statistics are
// missing or stale (within a bounded effort); on PostgreSQL autovacuum
// does that, and Optimize does nothing. Run it at start and after large
// writes.
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect == metadata.DialectPostgres {
		return nil
	}
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	return db.dropSamples(ctx)
}

// dropSamples drops the histogram samples ANALYZE leaves in sqlite_stat4,
// keeping the per-index statistics of sqlite_stat1 that choose between
// indexes. With samples, SQLite plans a statement anew at every execution
// whose parameter is compared with an indexed column (the plan may depend
// on the value bound), so every prepared statement of the engine (the
// token of each request, a record by its owner, a list page) would be
// parsed and planned again on every call. Dropping the table (rather than
// emptying it) changes the schema, so every other connection reloads the
// statistics without the samples. The connection that drops it would keep
// the samples it had loaded in memory (and plan its statements again at
// every execution until it closed), so it is closed instead of going back
// to the pool.
func (db *DB) dropSamples(ctx context.Context) error {
	if db.Dialect == metadata.DialectPostgres {
		return nil
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: drop statistics samples: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS sqlite_stat4"); err != nil {
		return fmt.Errorf("store: drop statistics samples: %w", err)
	}
	// The pool closes a connection whose use ends with ErrBadConn.
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	return nil
}

// Analyze gathers the planner's statistics of tables now, as a bulk load
// should before the first queries (autovacuum would on PostgreSQL, but
// later).
func (db *DB) Analyze(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE "+Ident(t)); err != nil {
			return fmt.Errorf("store: analyze %s: %w", t, err)
		}
	}
	return db.dropSamples(ctx)
}
