package sales_test

import (
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestDuplicateRules creates records that match existing ones under the
// standard template's rules (company names, English and Chinese, e-mail)
// and under a rule added later, whose keys are filled in for the records
// already there.
func TestDuplicateRules(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		db := s.DB
		acme := s.Create("rep1", "account", `{"name": "ACME Trading Co., Ltd."}`)
		s.Create("rep1", "account", `{"name": "杭州阿里巴巴网络技术有限公司"}`)
		s.Create("rep1", "contact", `{"name": "Li Lei", "account": "`+acme+`", "email": "Li.Lei@Example.com", "phone": "+86 571 8888 0000"}`)
		s.Create("rep1", "contact", `{"name": "Han Meimei", "account": "`+acme+`", "phone": "0571-88880001"}`)
		s.Run(t, []apitest.Scenario{
			{Name: "company name without suffix, readable match", Method: "POST", Path: "/api/records/account", User: "rep1", Body: `{"name": "Acme Trading"}`,
				Status: 409, Code: "duplicate", Contains: []string{acme, "ACME Trading Co., Ltd.", "account_name"}},
			{Name: "a match the user cannot read has no data", Method: "POST", Path: "/api/records/account", User: "rep2", Body: `{"name": "acme trading inc"}`,
				Status: 409, Code: "duplicate", Contains: []string{"a record you cannot see"}, NotContain: []string{acme, "ACME"}},
			{Name: "Chinese legal suffix", Method: "POST", Path: "/api/records/account", User: "rep1", Body: `{"name": "杭州阿里巴巴网络技术股份有限公司"}`,
				Status: 409, Code: "duplicate", Contains: []string{"杭州阿里巴巴网络技术有限公司"}},
			{Name: "e-mail case", Method: "POST", Path: "/api/records/contact", User: "rep1", Body: `{"name": "L. Lei", "account": "` + acme + `", "email": "li.lei@EXAMPLE.com"}`,
				Status: 409, Code: "duplicate", Contains: []string{"Li Lei"}},
			{Name: "a different company", Method: "POST", Path: "/api/records/account", User: "rep1", Body: `{"name": "Acme Logistics"}`, Status: 201},
			{Name: "warn rule: created anyway when asked", Method: "POST", Path: "/api/records/account?allow_duplicate=true", User: "rep2", Body: `{"name": "Acme Trading Inc."}`, Status: 201},
			{Name: "bad flag", Method: "POST", Path: "/api/records/account?allow_duplicate=maybe", User: "rep2", Body: `{"name": "Zeta"}`, Status: 400},
			{Name: "a blocking rule on phone digits, added later", Method: "POST", Path: "/api/meta/duplicate_rules", User: "admin",
				Body: `{"name": "contact_phone", "object": "contact", "action": "block", "fields": [{"field": "phone", "normalize": "phone"}]}`, Status: 201},
			{Name: "existing records got their keys", Method: "POST", Path: "/api/records/contact?allow_duplicate=true", User: "rep1",
				Body: `{"name": "Wei", "account": "` + acme + `", "phone": "(0571) 8888-0001"}`, Status: 409, Code: "duplicate", Contains: []string{"Han Meimei"}},
			{Name: "an object whose title is optional", Method: "POST", Path: "/api/meta/objects", User: "admin",
				Body: `{"name": "gadget", "label": {"en": "Gadget", "zh": "小工具"}, "title_field": "nickname", "fields": [{"name": "nickname", "type": "text"}, {"name": "serial", "type": "text"}]}`, Status: 201},
			{Name: "with a rule on its serial", Method: "POST", Path: "/api/meta/duplicate_rules", User: "admin",
				Body: `{"name": "gadget_serial", "object": "gadget", "action": "block", "fields": [{"field": "serial"}]}`, Status: 201},
			{Name: "one without a title", Method: "POST", Path: "/api/records/gadget", User: "admin", Body: `{"serial": "SN-1"}`, Status: 201},
			{Name: "a match without a title is named by its id, not <nil>", Method: "POST", Path: "/api/records/gadget", User: "admin", Body: `{"serial": "SN-1"}`,
				Status: 409, Code: "duplicate", Contains: []string{"gadget_serial", `"message":"gadget `}, NotContain: []string{"nil", "nickname"}},
			{Name: "a rule on a number field is refused", Method: "POST", Path: "/api/meta/duplicate_rules", User: "admin",
				Body: `{"name": "by_size", "object": "account", "fields": [{"field": "employees"}]}`, Status: 422, Contains: []string{"/fields/0/field"}},
		})
		// The key column is indexed: the lookup of a match is an index
		// search, not a scan.
		var n int
		q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%crm_dup_contact_phone%'`
		if db.Dialect == "pg" {
			q = `SELECT COUNT(*) FROM pg_indexes WHERE indexdef LIKE '%crm_dup_contact_phone%'`
		}
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil || n != 1 {
			t.Fatalf("index of the key column: %d %v", n, err)
		}
		// Removing the rule drops its column.
		if status, m := s.Do("DELETE", "/api/meta/duplicate_rules/contact_phone", "admin", ""); status != 200 && status != 204 {
			t.Fatalf("delete rule: %d %v", status, m)
		}
		s.Create("rep1", "contact", `{"name": "Wei", "account": "`+acme+`", "phone": "(0571) 8888-0001"}`)
		cols, err := db.Columns(t.Context(), db.SQL(), "contact")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			if c == "crm_dup_contact_phone" {
				t.Fatal("the column of a removed rule is still there")
			}
		}
	})
}
