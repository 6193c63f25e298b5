package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/metadata"
)

// indexExists reports whether the database of s has an index named name.
func indexExists(t *testing.T, s *apitest.Server, name string) bool {
	t.Helper()
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
	if s.DB.Dialect == metadata.DialectPostgres {
		q = "SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1"
	}
	var n int
	if err := s.DB.SQL().QueryRowContext(context.Background(), q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestObjectIndexes: the builder's object page shows the declared indexes
// and those the engine keeps by itself; an index added there goes through
// the review (its plan shows the CREATE INDEX, CONCURRENTLY on
// PostgreSQL) and exists in the database once applied; an unknown field
// and a duplicate index are shown next to their input; removing the
// index drops it; a sales rep may not change indexes.
func TestObjectIndexes(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		const name = "idx_opportunity_owner_id_stage_amount_desc_id"
		form := func(rows ...string) url.Values {
			v := url.Values{"label_en": {"Opportunity"}, "label_zh": {"商机"}, "plural_en": {"Opportunities"}, "plural_zh": {"商机"}, "title_field": {"name"}}
			for i, r := range rows {
				v.Set("index"+string(rune('0'+i))+"_fields", r)
			}
			return v
		}
		rep := signedIn(t, s, "rep1")
		run(t, rep, []pageCase{
			{name: "a sales rep may not see the object's indexes", path: "/ui/admin/objects/opportunity", status: 403, notContain: []string{"index0_fields"}},
			{name: "nor change them", method: "POST", path: "/ui/admin/objects/opportunity", form: form("owner_id\nstage"), status: 403},
		})
		admin := signedIn(t, s, "admin")
		run(t, admin, []pageCase{
			{name: "the declared indexes of lead", path: "/ui/admin/objects/lead", status: 200,
				contains: []string{`<legend>Indexes</legend>`, `name="index0_fields" rows="3" spellcheck="false" aria-describedby="b_index0_fields_help">email</textarea>`, `name="index0_remove"`, `name="index1_fields"`, "Fields of a new index"}},
			{name: "a unique index is ticked", path: "/ui/admin/objects/price_list_item", status: 200, contains: []string{`id="b_index0_unique" name="index0_unique" value="true" checked`}},
			{name: "the indexes the engine keeps", path: "/ui/admin/objects/opportunity", status: 200,
				contains: []string{"Indexes the engine keeps by itself", "<code>idx_opportunity_owner_id_id</code>", "owner_id, id", "records by owner"}},
			{name: "an unknown field next to its input", method: "POST", path: "/ui/admin/objects/opportunity", form: form("owner_id\nnosuch"),
				status: 422, contains: []string{`id="b_index0_fields_error"`, `no field &#34;nosuch&#34;`}},
			{name: "the page again", path: "/ui/admin/objects/opportunity", status: 200},
			{name: "a duplicate index next to the second", method: "POST", path: "/ui/admin/objects/opportunity", form: form("stage", "stage"),
				status: 422, contains: []string{`id="b_index1_fields_error"`, "the same index is declared twice"}, notContain: []string{`id="b_index0_fields_error"`}},
			{name: "a many-to-many field cannot be indexed", path: "/ui/admin/objects/opportunity", status: 200},
			{name: "refused", method: "POST", path: "/ui/admin/objects/opportunity", form: form("competitors"),
				status: 422, contains: []string{`id="b_index0_fields_error"`, "cannot be indexed"}},
		})
		zh := signedIn(t, s, "admin")
		zh.Header["Accept-Language"] = "zh-CN"
		run(t, zh, []pageCase{
			{name: "in Chinese", path: "/ui/admin/objects/opportunity", status: 200, contains: []string{"新索引的字段", "系统自动维护的索引"}},
		})
		if indexExists(t, s, name) {
			t.Fatalf("%s exists before it is declared", name)
		}
		sql := "CREATE INDEX IF NOT EXISTS"
		if s.DB.Dialect == metadata.DialectPostgres {
			sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS"
		}
		admin.get("/ui/admin/objects/opportunity")
		admin.review(t, "/ui/admin/objects/opportunity", form("owner_id\nstage\n-amount"), "update object opportunity", sql, name)
		if !indexExists(t, s, name) {
			t.Fatalf("%s is missing after apply", name)
		}
		run(t, admin, []pageCase{
			{name: "the declared index on the page", path: "/ui/admin/objects/opportunity", status: 200, contains: []string{">owner_id\nstage\n-amount</textarea>", `name="index0_remove"`}},
		})
		removed := form("owner_id\nstage\n-amount")
		removed.Set("index0_remove", "true")
		admin.review(t, "/ui/admin/objects/opportunity", removed, "DROP INDEX IF EXISTS", name)
		if indexExists(t, s, name) {
			t.Fatalf("%s remains after its removal", name)
		}
		_, body := admin.get("/ui/admin/objects/opportunity")
		if strings.Contains(body, `name="index1_fields"`) {
			t.Fatalf("the removed index is still declared: %s", body)
		}
	})
}
