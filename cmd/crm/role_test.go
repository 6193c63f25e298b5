package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoleCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "crm.db")
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(ctx, append(args, "--db", dbPath), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	// Flags after positional arguments stop flag parsing, so show takes
	// --db first.
	show := func(name string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"role", "show", "--db", dbPath, name}, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, _, e := cmd("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, e)
	}
	for _, u := range [][]string{
		{"user", "add", "--username", "boss", "--password", "boss-password", "--role", "sales_manager"},
		{"user", "add", "--username", "rep", "--password", "rep-password", "--role", "sales_rep", "--manager", "boss"},
	} {
		if code, _, e := cmd(u...); code != 0 {
			t.Fatalf("%v: %d %s", u, code, e)
		}
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"list", []string{"role", "list"}, 0, []string{"sales_rep", "sales_manager", "Administrator"}},
		{"grant", []string{"role", "grant", "--username", "rep", "--role", "marketing"}, 0, []string{"rep now has roles: marketing, sales_rep"}},
		{"revoke", []string{"role", "revoke", "--username", "rep", "--role", "marketing"}, 0, []string{"rep now has roles: sales_rep"}},
		{"grant unknown role", []string{"role", "grant", "--username", "rep", "--role", "wizard"}, 1, []string{"unknown role"}},
		{"grant unknown user", []string{"role", "grant", "--username", "ghost", "--role", "marketing"}, 1, []string{"user not found"}},
		{"explain", []string{"role", "explain", "--user", "rep", "--object", "account", "--field", "credit_limit"}, 0, []string{`"field_level": "read_only"`, "policy p, sales_rep, account.credit_limit, read_only)"}},
		{"explain needs object", []string{"role", "explain", "--user", "rep"}, 2, []string{"usage"}},
		{"unknown command", []string{"role", "bogus"}, 2, []string{"usage"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, e := cmd(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s %s", code, c.code, out, e)
			}
			for _, w := range c.want {
				if !strings.Contains(out+e, w) {
					t.Errorf("output lacks %q: %s %s", w, out, e)
				}
			}
		})
	}
	code, out := show("sales_rep")
	if code != 0 || !strings.Contains(out, `"parent": "sales_manager"`) || !strings.Contains(out, "p, sales_rep, account, read, own") {
		t.Fatalf("show: %d %s", code, out)
	}
	if code, out := show("wizard"); code != 1 || !strings.Contains(out, "no role") {
		t.Fatalf("show unknown: %d %s", code, out)
	}
}
