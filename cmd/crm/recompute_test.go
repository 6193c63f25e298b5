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
	"github.com/crmplatform/crm/engine/access"
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

func TestMigrateRecomputesChangedFormula(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "crm.db")
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("first migrate: %s", out)
	}
	a, err := open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	_, p, err := a.Access.Login(ctx, "admin", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	actx := access.WithPrincipal(ctx, p)
	acc, err := a.Engine.Create(actx, "account", map[string]any{"name": "Acme"})
	if err != nil {
		t.Fatal(err)
	}
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
