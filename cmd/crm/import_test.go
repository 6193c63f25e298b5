package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestImportCommand runs crm import on a GBK file into a migrated SQLite
// database: the summary names the bad row by line, a second run with
// --key updates instead of creating, and bad command lines exit 2.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	if code, out := runCmd(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	a, err := open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("姓名,公司,邮箱\n王小明,杭州茶叶有限公司,wang@cha.cn\n李雷,,not-a-mail\n")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "leads.csv")
	if err := os.WriteFile(file, []byte(gbk), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCmd(t, "import", "lead", file, "--db", db, "--key", "email")
	if code != 0 || !strings.Contains(out, `"created": 1`) || !strings.Contains(out, `"skipped": 1`) || !strings.Contains(out, `"line": 3`) {
		t.Fatalf("import: %d %s", code, out)
	}
	if code, out := runCmd(t, "import", "lead", file, "--db", db, "--key", "email"); code != 0 || !strings.Contains(out, `"updated": 1`) || !strings.Contains(out, `"created": 0`) {
		t.Fatalf("second import: %d %s", code, out)
	}
	if code, out := runCmd(t, "import", "lead", "--db", db); code != 2 {
		t.Fatalf("missing file: %d %s", code, out)
	}
}
