package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmplatform/crm/metadata"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	cases := []struct{ dialect, in, want string }{
		{metadata.DialectSQLite, `a = ? AND b IN (?, ?)`, `a = ? AND b IN (?, ?)`},
		{metadata.DialectPostgres, `a = ? AND b IN (?, ?)`, `a = $1 AND b IN ($2, $3)`},
		{metadata.DialectPostgres, `SELECT 1`, `SELECT 1`},
	}
	for _, c := range cases {
		if got := Rebind(c.dialect, c.in); got != c.want {
			t.Errorf("Rebind(%s, %q) = %q, want %q", c.dialect, c.in, got, c.want)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	t.Parallel()
	if got := Ident(`we"ird`); got != `"we""ird"` {
		t.Errorf("Ident: %s", got)
	}
	long := indexName("ux", strings.Repeat("a", 30), strings.Repeat("b", 30)+"_"+strings.Repeat("c", 10))
	if len(long) > 63 || !strings.HasPrefix(long, "ux_") {
		t.Errorf("index name %q exceeds PostgreSQL's limit", long)
	}
	if indexName("ux", "a", "b") == indexName("ux", "a", "c") {
		t.Error("index names collide")
	}
	if got := newestArchive([]string{"__arch_x_text_v2", "__arch_x_text_v10", "__arch_x_integer_v11", "x"}, "x_text"); got != "__arch_x_text_v10" {
		t.Errorf("newest archive: %s", got)
	}
}

func TestMarks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    int
		want string
	}{{0, ""}, {1, "?"}, {3, "?, ?, ?"}}
	for _, c := range cases {
		if got := Marks(c.n); got != c.want {
			t.Errorf("Marks(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := In(`"id"`, 2); got != `"id" IN (?, ?)` {
		t.Errorf("In = %q", got)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ping failure", fmt.Errorf("%w: timeout", ErrUnavailable), true},
		{"connect refused", fmt.Errorf("login: %w", &pgconn.ConnectError{}), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection exception", fmt.Errorf("x: %w", &pgconn.PgError{Code: "08006"}), true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"bad connection", fmt.Errorf("q: %w", driver.ErrBadConn), true},
		{"broken pipe", &net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{"cut short", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"the request's deadline", fmt.Errorf("q: %w", context.DeadlineExceeded), false},
		{"the request's end", context.Canceled, false},
	}
	for _, c := range cases {
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %v", c.name, c.err, got)
		}
	}
}
