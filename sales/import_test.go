package sales_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// upload posts a CSV file to /api/import/{object} as user with the other
// form values, and returns the status and the answer.
func upload(t *testing.T, s *apitest.Server, user, object string, file []byte, values map[string]string) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", "leads.csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	for k, v := range values {
		mw.WriteField(k, v)
	}
	mw.Close()
	status, raw := s.Raw("POST", "/api/import/"+object, user, mw.FormDataContentType(), &b, nil)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("import answer: %s", raw)
	}
	return status, m
}

// summary is an import answer as numbers and raw errors.
func summary(t *testing.T, m map[string]any) (created, updated, skipped int64, errs string) {
	t.Helper()
	n := func(k string) int64 { v, _ := m[k].(json.Number).Int64(); return v }
	b, _ := json.Marshal(m["errors"])
	return n("created"), n("updated"), n("skipped"), string(b)
}

// TestImportCSV imports leads through POST /api/import/{object}: columns
// by name and Chinese or English label, picklist labels, bad rows
// reported by line, a GBK file, a re-import with a key that updates, a dry
// run, and users without the rights.
func TestImportCSV(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{})
		file := "姓名,Company,email,Lead source,国家,Fax\n" +
			"Li Lei,Tea Co,li@tea.cn,Cold call,中国,1\n" +
			"Bad Mail,X,not-an-email,cold_call,cn,2\n" +
			",No Person,np@x.cn,referral,cn,3\n" +
			"Han Meimei,\"Silk, Ltd\",han@silk.cn,客户介绍,us,4\n"
		status, m := upload(t, s, "rep1", "lead", []byte(file), nil)
		created, updated, skipped, errs := summary(t, m)
		if status != 200 || created != 2 || updated != 0 || skipped != 2 {
			t.Fatalf("import: %d %v", status, m)
		}
		for _, want := range []string{`{"field":"email","line":3`, `{"field":"person","line":4`, `{"field":"Fax","line":1`} {
			if !strings.Contains(errs, want) {
				t.Errorf("errors lack %s: %s", want, errs)
			}
		}
		st, list := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`email == "han@silk.cn"`), "rep1", "")
		if items := list["items"].([]any); st != 200 || len(items) != 1 || items[0].(map[string]any)["source"] != "referral" || items[0].(map[string]any)["company"] != "Silk, Ltd" || items[0].(map[string]any)["country"] != "us" {
			t.Fatalf("imported lead: %v", list)
		}

		// A GBK file from a Chinese spreadsheet.
		gbk, err := simplifiedchinese.GBK.NewEncoder().String("姓名,公司,邮箱,线索来源\n王小明,杭州茶叶有限公司,wang@cha.cn,展会\n")
		if err != nil {
			t.Fatal(err)
		}
		status, m = upload(t, s, "rep1", "lead", []byte(gbk), map[string]string{"key": "email"})
		if created, _, _, errs := summary(t, m); status != 200 || created != 1 {
			t.Fatalf("GBK import: %d %v %s", status, m, errs)
		}
		st, list = s.Do("GET", "/api/records/lead?filter="+apitest.Query(`email == "wang@cha.cn"`), "rep1", "")
		if items := list["items"].([]any); st != 200 || len(items) != 1 || items[0].(map[string]any)["person"] != "王小明" || items[0].(map[string]any)["company"] != "杭州茶叶有限公司" || items[0].(map[string]any)["source"] != "trade_show" {
			t.Fatalf("GBK lead: %v", list)
		}
		// The same file again with the key updates instead of duplicating.
		again, _ := simplifiedchinese.GBK.NewEncoder().String("姓名,公司,邮箱,线索来源\n王小明,杭州茶叶股份有限公司,wang@cha.cn,展会\n")
		status, m = upload(t, s, "rep1", "lead", []byte(again), map[string]string{"key": "email"})
		if created, updated, _, _ := summary(t, m); status != 200 || created != 0 || updated != 1 {
			t.Fatalf("re-import: %d %v", status, m)
		}
		// Without the key the duplicate rule on e-mail refuses the row.
		status, m = upload(t, s, "rep1", "lead", []byte(again), nil)
		if created, _, skipped, errs := summary(t, m); status != 200 || created != 0 || skipped != 1 || !strings.Contains(errs, "lead_email") {
			t.Fatalf("re-import without key: %d %v", status, m)
		}
		leads := count(t, s, "lead")
		status, m = upload(t, s, "rep1", "lead", []byte("person,email\nDry Run,dry@x.cn\n"), map[string]string{"dry_run": "true"})
		if created, _, _, _ := summary(t, m); status != 200 || created != 1 || count(t, s, "lead") != leads {
			t.Fatalf("dry run: %d %v, leads %d → %d", status, m, leads, count(t, s, "lead"))
		}
		for _, c := range []struct {
			name, user, object, file string
			status                   int
		}{
			{"no import right", "agent", "lead", "person\nX\n", 403},
			{"import right but not on accounts", "rep1", "account", "name\nX\n", 403},
			{"a field the user may not write", "rep1", "lead", "person,converted_account\nX,y\n", 403},
			{"anonymous", "", "lead", "person\nX\n", 401},
			{"an unknown object", "admin", "nope", "person\nX\n", 404},
		} {
			if status, m := upload(t, s, c.user, c.object, []byte(c.file), nil); status != c.status {
				t.Errorf("%s: %d %v, want %d", c.name, status, m, c.status)
			}
		}
		if status, raw := s.Raw("POST", "/api/import/lead", "rep1", "text/csv", strings.NewReader("person\nX\n"), nil); status != 415 {
			t.Errorf("a bare CSV body: %d %s", status, raw)
		}
	})
}
