package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// wideObject is an object document with n text fields.
func wideObject(name string, n int) string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = fmt.Sprintf(`{"name": "f%d", "type": "text"}`, i)
	}
	return fmt.Sprintf(`{"name": %q, "fields": [%s]}`, name, strings.Join(fields, ","))
}

// TestDefinitionLimits refuses, at definition time and in a dry run
// alike, objects named like the database's own tables, objects with more
// fields than allowed, and changes the data forbids.
func TestDefinitionLimits(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.create("admin", "account", `{"name": "Acme"}`)
		var scs []scenario
		for _, name := range []string{"sqlite_master", "sqlite_stat1", "pg_class", "pg_stat_activity", "crm_users", "crm_meta_versions"} {
			for _, q := range []string{"", "?dry_run=true"} {
				scs = append(scs, scenario{name: name + q, method: "POST", path: "/api/meta/objects" + q, user: "admin",
					body: `{"name": "` + name + `", "fields": [{"name": "title", "type": "text"}]}`, status: 422, code: "invalid_metadata",
					contains: []string{`"path":"/name"`, "reserved for"}})
			}
		}
		scs = append(scs,
			scenario{name: "too many fields", method: "POST", path: "/api/meta/objects", user: "admin", body: wideObject("wide", 3000),
				status: 422, code: "invalid_metadata", contains: []string{`"path":"/fields"`, fmt.Sprintf("at most %d", metadata.MaxFields)}},
			scenario{name: "too many fields in a dry run", method: "POST", path: "/api/meta/objects?dry_run=true", user: "admin", body: wideObject("wide", metadata.MaxFields+1),
				status: 422, code: "invalid_metadata", contains: []string{"at most"}},
			scenario{name: "as many fields as allowed", method: "POST", path: "/api/meta/objects?dry_run=true", user: "admin", body: wideObject("wide", metadata.MaxFields),
				status: 200, contains: []string{`"dry_run":true`, `CREATE TABLE \"wide\"`}},
			scenario{name: "required field without default on a table with rows, dry run", method: "POST", path: "/api/meta/objects/account/fields?dry_run=true", user: "admin",
				body: `{"name": "tax_no", "type": "text", "required": true}`, status: 422, code: "invalid_metadata", contains: []string{"/objects/account/fields/tax_no", "needs a default"}},
			scenario{name: "required field without default on a table with rows", method: "POST", path: "/api/meta/objects/account/fields", user: "admin",
				body: `{"name": "tax_no", "type": "text", "required": true}`, status: 422, code: "invalid_metadata", contains: []string{"/objects/account/fields/tax_no", "needs a default"}},
			scenario{name: "with a default the dry run passes", method: "POST", path: "/api/meta/objects/account/fields?dry_run=true", user: "admin",
				body: `{"name": "tax_no", "type": "text", "required": true, "default": "none"}`, status: 200, contains: []string{`"dry_run":true`, "tax_no"}},
			scenario{name: "a formula cycle is refused in a dry run", method: "POST", path: "/api/meta/objects?dry_run=true", user: "admin",
				body:   `{"name": "loop", "fields": [{"name": "a", "type": "integer", "formula": "b + 1"}, {"name": "b", "type": "integer", "formula": "a + 1"}]}`,
				status: 422, code: "invalid_metadata", contains: []string{"cycle"}},
		)
		f.run(t, scs)
		// Nothing was applied: the dry runs and refusals left version 1.
		status, m := f.do("GET", "/api/meta/versions", "admin", "")
		items, _ := m["items"].([]any)
		if status != 200 || len(items) != 1 {
			t.Fatalf("versions after refusals and dry runs: %d %v", status, m)
		}
		if first, _ := items[0].(map[string]any); first["version"] != json.Number("1") {
			t.Fatalf("newest version %v", first)
		}
	})
}
