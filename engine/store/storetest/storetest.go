// Package storetest opens fresh databases for tests: always a SQLite file
// in a temporary folder and, when CRM_TEST_POSTGRES holds a PostgreSQL URL,
// a fresh database on that server. Tests run the same body on each.
//
// A fresh database may start empty or as a copy of a Seed (an installed
// template with its users …), which a package fills once and copies for
// each test instead of installing the template again in every test.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "CRM_TEST_POSTGRES"

// Dialects runs fn as a subtest on a fresh SQLite database and, when
// CRM_TEST_POSTGRES is set, on a fresh PostgreSQL database; otherwise it
// logs that the PostgreSQL run is skipped.
func Dialects(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	DialectsFrom(t, nil, fn)
}

// SQLite opens a fresh SQLite database in a temporary folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return SQLiteFrom(t, nil)
}

// Postgres creates a fresh database on the server named by
// CRM_TEST_POSTGRES, opens it and drops it when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	return PostgresFrom(t, nil)
}

// PostgresURL creates a fresh database on the server named by
// CRM_TEST_POSTGRES and returns its URL (for a command that opens it
// itself); the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "")
}

// createDatabase creates a fresh database on the server named by
// CRM_TEST_POSTGRES, as a copy of the database template when that is not
// "", and returns its URL; the database is dropped when the test ends.
func createDatabase(t testing.TB, template string) string {
	t.Helper()
	if os.Getenv(EnvPostgres) == "" {
		t.Skip("PostgreSQL skipped: " + EnvPostgres + " is not set")
	}
	name, dsn, err := newDatabase("crmtest_", template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(name); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return dsn
}

// newDatabase creates a database named prefix and random letters on the
// server named by CRM_TEST_POSTGRES (a copy of template when that is not
// "") and returns its name and URL.
func newDatabase(prefix, template string) (name, dsn string, err error) {
	u, err := url.Parse(os.Getenv(EnvPostgres))
	if err != nil {
		return "", "", fmt.Errorf("storetest: %s: %w", EnvPostgres, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = prefix + hex.EncodeToString(b)
	stmt := "CREATE DATABASE " + name
	if template != "" {
		stmt += " TEMPLATE " + template
	}
	if fileCopy() {
		stmt += " STRATEGY FILE_COPY"
	}
	if err := adminExec(stmt); err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// fileCopy reports whether the server copies a database's files for
// CREATE DATABASE when told to (STRATEGY FILE_COPY, PostgreSQL 15 and
// later): faster for the small test databases than the default, which
// writes every block of the copy through the write-ahead log (about a
// fifth of the server's CPU in the engine's tests; docs/performance.md,
// "Test suite time"). Asked once per test binary.
var fileCopy = sync.OnceValue(func() bool {
	ctx := context.Background()
	admin, err := store.Open(ctx, os.Getenv(EnvPostgres))
	if err != nil {
		return false
	}
	defer admin.Close()
	var version int
	err = admin.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
	return err == nil && version >= 150000
})

// dropDatabase drops a database of the server named by CRM_TEST_POSTGRES,
// ending its connections.
func dropDatabase(name string) error {
	err := adminExec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return nil
	}
	return err
}

// adminExec runs one statement on the server's database named by
// CRM_TEST_POSTGRES.
func adminExec(stmt string) error {
	ctx := context.Background()
	admin, err := store.Open(ctx, os.Getenv(EnvPostgres))
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("storetest: %s: %w", stmt, err)
	}
	return nil
}

// Reopen opens a second connection pool on the database of db, as another
// server sharing it would, and closes it when the test ends.
func Reopen(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	if db.Dialect == metadata.DialectPostgres {
		var name string
		if err := db.SQL().QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(os.Getenv(EnvPostgres))
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		dsn = u.String()
	} else {
		var seq int
		var name string
		if err := db.SQL().QueryRowContext(ctx, "SELECT seq, name, file FROM pragma_database_list WHERE name = 'main'").Scan(&seq, &name, &dsn); err != nil {
			t.Fatal(err)
		}
	}
	other, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

// Strings runs a query with "?" placeholders on db and returns its first
// column as strings (never nil), failing the test on an error.
func Strings(t testing.TB, db *store.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), store.Rebind(db.Dialect, query), store.Args(db.Dialect, args)...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
