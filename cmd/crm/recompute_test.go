package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
)

// copyTemplate writes the built-in standard template into a folder.
func copyTemplate(t *testing.T, dir string) {
	t.Helper()
	src, _ := defaults.FS("standard")
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// acmeDB migrates a fresh database, opens it as the admin and creates the
// account Acme: the file, the open app (the caller closes it), the
// admin's context and the account.
func acmeDB(t *testing.T) (string, *app, context.Context, engine.Record) {
	t.Helper()
	db := migratedDB(t)
	a, err := open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	actx := asAdmin(t, a)
	acc, err := a.Engine.Create(actx, "account", map[string]any{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return db, a, actx, acc
}

func TestMigrateRecomputesChangedFormula(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, a, actx, acc := acmeDB(t)
	const n = 450
	for i := 0; i < n; i++ {
		if _, err := a.Engine.Create(actx, "opportunity", map[string]any{"name": fmt.Sprint("D", i), "account": acc["id"], "stage": "proposal", "amount": int64(100)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()

	dir := t.TempDir()
	copyTemplate(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, "objects", "opportunity.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, `  - {name: weighted, type: currency, formula: "amount * option(stage).probability / 100"}`)
	f.Close()
	code, out := runCmd(t, "migrate", "--db", db, "--dir", dir)
	if code != 0 || !strings.Contains(out, "ADD COLUMN \"weighted\"") || !strings.Contains(out, fmt.Sprintf("recompute opportunity [weighted]: %d/%d (100%%)", n, n)) {
		t.Fatalf("migrate with a new formula: exit %d\n%s", code, out)
	}
	if code, out := runCmd(t, "recompute", "--db", db); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second recompute: exit %d\n%s", code, out)
	}
	a, err = open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	res, err := a.Engine.List(actx, "opportunity", engine.ListOptions{Filter: `weighted == 50`, Limit: 50, Total: true})
	if err != nil || *res.Total != n {
		t.Fatalf("stored values: %v %v", err, res)
	}
}

// TestRecomputeObjectHeals puts an account's open deals off by hand (a
// count kept by shares carries such a value forward) and has crm
// recompute account count it again; an unknown object and one without
// computed fields are refused.
func TestRecomputeObjectHeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, a, actx, acc := acmeDB(t)
	for i := range 3 {
		if _, err := a.Engine.Create(actx, "opportunity", map[string]any{"name": fmt.Sprint("D", i), "account": acc["id"], "stage": "proposal"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Engine.DB().SQL().ExecContext(ctx, `UPDATE account SET open_opportunities = 40 WHERE id = ?`, acc["id"]); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if code, out := runCmd(t, "recompute", "--db", db, "account"); code != 0 || !strings.Contains(out, "recompute account") {
		t.Fatalf("recompute account: exit %d\n%s", code, out)
	}
	if code, out := runCmd(t, "recompute", "--db", db, "crm_nothing"); code == 0 {
		t.Fatalf("recompute of an unknown object: exit 0\n%s", out)
	}
	if code, out := runCmd(t, "recompute", "--db", db, "competitor"); code == 0 || !strings.Contains(out, "competitor has no computed fields") {
		t.Fatalf("recompute of an object without computed fields: exit %d\n%s", code, out)
	}
	a, err := open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.Engine.Get(actx, "account", acc["id"].(string))
	if err != nil || got["open_opportunities"] != int64(3) {
		t.Fatalf("open deals after crm recompute account: %v (%v), want 3", got["open_opportunities"], err)
	}
}
