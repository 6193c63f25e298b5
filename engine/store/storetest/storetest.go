// Package storetest opens fresh databases for tests: always a SQLite file
// in a temporary folder and, when CRM_TEST_POSTGRES holds a PostgreSQL URL,
// a fresh database on that server. Tests run the same body on each.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(EnvPostgres) == "" {
			t.Skip("PostgreSQL run skipped: set " + EnvPostgres + " to a postgres:// URL to run it")
		}
		fn(t, Postgres(t))
	})
}

// SQLite opens a fresh SQLite database in a temporary folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres creates a fresh database on the server named by
// CRM_TEST_POSTGRES, opens it and drops it when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresURL creates a fresh database on the server named by
// CRM_TEST_POSTGRES and returns its URL (for a command that opens it
// itself); the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		t.Skip("PostgreSQL skipped: " + EnvPostgres + " is not set")
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "crmtest_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		_, err := admin.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			t.Logf("drop %s: %v", name, err)
		}
		admin.Close()
	})
	return u.String()
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
