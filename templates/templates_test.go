package templates_test

import (
	"context"
	"errors"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/internal/server"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/templates"
)

// fresh wires a platform with every part on an empty database and returns
// it with a template service.
func fresh(t *testing.T, db *store.DB) (*platform.Platform, *templates.Service) {
	t.Helper()
	ctx := context.Background()
	p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Parts(ctx, p); err != nil {
		t.Fatal(err)
	}
	sv, err := templates.New(ctx, p.Engine)
	if err != nil {
		t.Fatal(err)
	}
	return p, sv
}

// another opens a second fresh database of db's dialect.
func another(t *testing.T, db *store.DB) *store.DB {
	if db.Dialect == metadata.DialectPostgres {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

// mapFS turns exported files into a folder.
func mapFS(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for f, b := range files {
		m[f] = &fstest.MapFile{Data: b}
	}
	return defaults.WithBases(m)
}

// copyFS reads a folder into a map of files.
func copyFS(t *testing.T, fsys fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportRoundTrip installs every built-in template, exports it,
// installs the export on a fresh database and exports again: the files are
// byte-identical and the schemas equal.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range defaults.Names() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				db1 := db
				if name != defaults.Names()[0] {
					db1 = another(t, db)
				}
				p1, sv1 := fresh(t, db1)
				fsys, err := defaults.FS(name)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sv1.Apply(ctx, fsys, "test", false); err != nil {
					t.Fatal(err)
				}
				first, err := sv1.Export(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := first["objects/account.yaml"]; !ok {
					t.Fatalf("no account in the export: %v", keys(first))
				}
				if !strings.Contains(string(first["template.yaml"]), "name: "+name) {
					t.Errorf("manifest: %s", first["template.yaml"])
				}
				p2, sv2 := fresh(t, another(t, db))
				if _, err := sv2.Apply(ctx, mapFS(first), "test", false); err != nil {
					t.Fatal(err)
				}
				second, err := sv2.Export(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(keys(first), ",") != strings.Join(keys(second), ",") {
					t.Fatalf("files differ:\n%v\n%v", keys(first), keys(second))
				}
				for f, b := range first {
					if string(b) != string(second[f]) {
						t.Errorf("%s differs:\n%s\n---\n%s", f, b, second[f])
					}
				}
				// Roles have no order: a folder lists them by file name.
				s1, s2 := p1.Engine.Snapshot().Schema.Clone(), p2.Engine.Snapshot().Schema.Clone()
				for _, s := range []*metadata.Schema{s1, s2} {
					sort.Slice(s.Roles, func(i, j int) bool { return s.Roles[i].Name < s.Roles[j].Name })
				}
				if ch := metadata.Diff(s1, s2); len(ch) > 0 {
					t.Errorf("the installed export differs from the original: %v", ch)
				}
			})
		}
	})
}

// keys lists the files of an export, sorted.
func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// engineOptions are the options of an administrator's change.
func engineOptions(comment string) engine.ApplyOptions {
	return engine.ApplyOptions{Author: "admin", Comment: comment}
}

// replace edits a file of a folder, failing when old is not there.
func replace(t *testing.T, m fstest.MapFS, file, old, new string) {
	t.Helper()
	s := string(m[file].Data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s lacks %q", file, old)
	}
	m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
}

// TestUpgradeKeepsAdminChanges installs the standard template, lets an
// administrator add a field, change a label and tighten a right, and
// upgrades to a newer version that adds a field, relabels another and
// changes the label the administrator changed too: the plan reports the
// conflict and changes nothing; the upgrade keeps the records and every
// administrator's change, takes the template's other changes, and records
// the conflict in the version's comment.
func TestUpgradeKeepsAdminChanges(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, sv := fresh(t, db)
		v1, err := defaults.FS("standard")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sv.Apply(ctx, v1, "test", false); err != nil {
			t.Fatal(err)
		}
		admin := access.System(nil)
		if _, err := p.Engine.Create(access.WithPrincipal(ctx, admin), "lead", map[string]any{"person": "Li Lei"}); err != nil {
			t.Fatal(err)
		}
		// The administrator's changes.
		_, _, err = p.Engine.Change(ctx, func(s *metadata.Schema) error {
			contact, _ := s.Object("contact")
			contact.Fields = append(contact.Fields, &metadata.Field{Name: "wechat", Type: "text", Label: metadata.Label{"en": "WeChat", "zh": "微信"}})
			lead, _ := s.Object("lead")
			person, _ := lead.Field("person")
			person.Label = metadata.Label{"en": "Full name", "zh": "联系人姓名"}
			email, _ := lead.Field("email")
			email.Label = metadata.Label{"en": "E-mail", "zh": "邮箱"}
			for _, r := range s.Roles {
				if r.Name == "sales_rep" {
					for i := range r.Permissions {
						if r.Permissions[i].Object == "competitor" {
							r.Permissions[i].Actions = nil
						}
					}
				}
			}
			return nil
		}, engineOptions("admin's changes"))
		if err != nil {
			t.Fatal(err)
		}
		// The template's next version.
		v2 := copyFS(t, v1)
		replace(t, v2, "template.yaml", `version: "1.0.0"`, `version: "1.1.0"`)
		replace(t, v2, "objects/lead.yaml", `{name: email, type: email, label: {en: Email, zh: 邮箱}}`, `{name: email, type: email, label: {en: Email address, zh: 邮箱}}`)
		replace(t, v2, "objects/lead.yaml", `  - {name: phone, type: phone, label: {en: Phone, zh: 电话}}`, "  - {name: phone, type: phone, label: {en: Phone, zh: 电话}}\n  - {name: linkedin, type: url, label: {en: LinkedIn, zh: 领英}}")
		replace(t, v2, "objects/account.yaml", `{en: Account name, zh: 客户名称}`, `{en: Company name, zh: 公司名称}`)
		before := p.Engine.Snapshot().Version

		plan, err := sv.Apply(ctx, defaults.WithBases(v2), "test", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Conflicts) != 1 || plan.Conflicts[0].Path != "objects/lead/fields/email/label/en" {
			t.Fatalf("conflicts %+v", plan.Conflicts)
		}
		if p.Engine.Snapshot().Version != before || plan.Applied {
			t.Fatal("the plan changed the metadata")
		}
		if !strings.Contains(strings.Join(plan.Described, "\n"), "lead.linkedin") || !strings.Contains(plan.SQL, "linkedin") {
			t.Errorf("the plan lacks the new field: %v\n%s", plan.Described, plan.SQL)
		}

		// A plan reviewed on an older version is refused, and nothing changes.
		if _, err := sv.ApplyFrom(ctx, defaults.WithBases(v2), "test", false, before-1); !errors.Is(err, engine.ErrStale) {
			t.Fatalf("an install reviewed on version %d at %d: %v", before-1, before, err)
		}
		if p.Engine.Snapshot().Version != before {
			t.Fatal("a stale install changed the metadata")
		}
		done, err := sv.ApplyFrom(ctx, defaults.WithBases(v2), "test", false, before)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Engine.Snapshot().Schema
		lead, _ := s.Object("lead")
		email, _ := lead.Field("email")
		person, _ := lead.Field("person")
		account, _ := s.Object("account")
		accName, _ := account.Field("name")
		contact, _ := s.Object("contact")
		checks := []struct {
			what string
			ok   bool
		}{
			{"the template's new field", func() bool { _, ok := lead.Field("linkedin"); return ok }()},
			{"the admin's field", func() bool { _, ok := contact.Field("wechat"); return ok }()},
			{"the admin's label", person.Label.Get("en") == "Full name" && person.Label.Get("zh") == "联系人姓名"},
			{"the admin's side of the conflict", email.Label.Get("en") == "E-mail"},
			{"the template's label", accName.Label.Get("en") == "Company name"},
		}
		for _, c := range checks {
			if !c.ok {
				t.Errorf("%s is lost", c.what)
			}
		}
		for _, r := range s.Roles {
			for _, pm := range r.Permissions {
				if r.Name == "sales_rep" && pm.Object == "competitor" && len(pm.Actions) > 0 {
					t.Errorf("the tightened right came back: %+v", pm)
				}
			}
		}
		in, err := sv.Current(ctx)
		if err != nil || in.Version != "1.1.0" || in.MetadataVersion != done.Version {
			t.Fatalf("installed %+v %v", in, err)
		}
		v, err := db.LoadVersion(ctx, db.SQL(), done.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(v.Comment, "upgrade template standard 1.0.0 → standard 1.1.0") || !strings.Contains(v.Comment, "objects/lead/fields/email/label/en") {
			t.Errorf("version comment %q", v.Comment)
		}
		var n int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM lead").Scan(&n); err != nil || n != 1 {
			t.Errorf("leads after the upgrade: %d %v", n, err)
		}
		// The next upgrade merges from 1.1.0: the admin's label still wins
		// and nothing is in conflict any more.
		again, err := sv.Apply(ctx, defaults.WithBases(v2), "test", true)
		if err != nil || len(again.Conflicts) != 0 || len(again.Changes) != 0 {
			t.Errorf("upgrading to the same version: %+v %v", again, err)
		}
	})
}
