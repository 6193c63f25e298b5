package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestMigratePlanChangesNothing plans on a database file that does not
// exist (nothing is created, not even its folder), on an empty PostgreSQL
// database (no table is created), and refuses in a plan what the data
// would refuse.
func TestMigratePlanChangesNothing(t *testing.T) {
	t.Parallel()
	t.Run("missing sqlite file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		db := filepath.Join(dir, "crm.db")
		code, out := runCmd(t, "migrate", "--plan", "--db", db)
		if code != 0 || !strings.Contains(out, `CREATE TABLE "account"`) || !strings.Contains(out, "apply as version 1") {
			t.Fatalf("plan: exit %d\n%s", code, out)
		}
		if code, out := runCmd(t, "migrate", "--purge", "--plan", "--db", db); code != 0 || !strings.Contains(out, "0 archived") {
			t.Fatalf("purge plan: exit %d\n%s", code, out)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("a plan created %s: %v", dir, err)
		}
	})
	t.Run("empty postgresql database", func(t *testing.T) {
		if os.Getenv(storetest.EnvPostgres) == "" {
			t.Skip("set " + storetest.EnvPostgres + " to run on PostgreSQL")
		}
		dsn := storetest.PostgresURL(t)
		if code, out := runCmd(t, "migrate", "--plan", "--db", dsn); code != 0 || !strings.Contains(out, `CREATE TABLE "account"`) {
			t.Fatalf("plan: exit %d\n%s", code, out)
		}
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		tables, err := db.Tables(context.Background(), db.SQL())
		if err != nil || len(tables) != 0 {
			t.Fatalf("a plan created tables: %v %v", tables, err)
		}
	})
	t.Run("refused by the data", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "crm.db")
		if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
			t.Fatal(out)
		}
		addAccount(t, db)
		dir := t.TempDir()
		copyTemplate(t, dir)
		f, err := os.OpenFile(filepath.Join(dir, "objects", "account.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("  - {name: tax_no, type: text, required: true}\n")
		f.Close()
		for _, args := range [][]string{{"migrate", "--plan", "--db", db, "--dir", dir}, {"migrate", "--db", db, "--dir", dir}} {
			if code, out := runCmd(t, args...); code != 1 || !strings.Contains(out, "refused: /objects/account/fields/tax_no: a new required field needs a default") {
				t.Fatalf("%v: exit %d\n%s", args, code, out)
			}
		}
	})
}

// addAccount creates one account in the database file db.
func addAccount(t *testing.T, db string) {
	t.Helper()
	a, err := open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Engine.Create(asAdmin(t, a), "account", map[string]any{"name": "Acme"}); err != nil {
		t.Fatal(err)
	}
}

// asAdmin makes sure a's database has the admin user and returns a
// context acting as them.
func asAdmin(t *testing.T, a *app) context.Context {
	t.Helper()
	ctx := context.Background()
	if _, _, err := a.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	_, p, err := a.Access.Login(ctx, "admin", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	return access.WithPrincipal(ctx, p)
}

// migratedDB returns a SQLite database file in a temporary folder with
// the standard template migrated in.
func migratedDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "crm.db")
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	return db
}

// TestCommandLine checks the command line itself: flags before or after
// positional arguments, long flags with one dash, help, and bad command
// lines (exit 2).
func TestCommandLine(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crm.db")
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatal(out)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"role", "show", "sales_rep", "--db", db}, 0, `"parent": "sales_manager"`},
		{[]string{"role", "show", "--db", db, "sales_rep"}, 0, `"parent": "sales_manager"`},
		{[]string{"role", "show", "-db", db, "marketing"}, 0, `"name": "marketing"`},
		{[]string{"user", "list", "-db=" + db}, 0, "USERNAME"},
		{[]string{"migrate", "-plan", "-db", db}, 0, "already matches"},
		{[]string{"role", "show", "--db", db}, 2, "usage: crm role show NAME"},
		{[]string{"role", "show", "a", "b", "--db", db}, 2, "usage: crm role show NAME"},
		{[]string{"migrate", "extra", "--db", db}, 2, "unexpected argument"},
		{[]string{"migrate", "--colour", "red"}, 2, "unknown flag: --colour"},
		{[]string{"user"}, 2, "usage: crm user add"},
		{[]string{"role"}, 2, "crm role explain"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"help"}, 0, "commands:"},
		{[]string{"--help"}, 0, "commands:"},
		{[]string{"migrate", "--help"}, 0, "--plan"},
		{[]string{"validate", "a", "b"}, 2, "give one folder"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out := runCmd(t, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d (want %d), output lacks %q?\n%s", code, c.code, c.want, out)
			}
		})
	}
}
