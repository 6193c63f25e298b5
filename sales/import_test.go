package sales_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/sales/imports"
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

// imported uploads a file, which must be accepted (202, pending), runs
// the background jobs and returns the import's final status.
func imported(t *testing.T, s *apitest.Server, user, object string, file []byte, values map[string]string) map[string]any {
	t.Helper()
	status, m := upload(t, s, user, object, file, values)
	if status != 202 || m["state"] != "pending" || m["id"] == nil {
		t.Fatalf("import: %d %v", status, m)
	}
	s.RunJobs()
	status, m = s.Do("GET", "/api/imports/"+m["id"].(string), user, "")
	if status != 200 || m["state"] != "done" {
		t.Fatalf("import status: %d %v", status, m)
	}
	return m
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
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		file := "姓名,Company,email,Lead source,国家,Fax\n" +
			"Li Lei,Tea Co,li@tea.cn,Cold call,中国,1\n" +
			"Bad Mail,X,not-an-email,cold_call,cn,2\n" +
			",No Person,np@x.cn,referral,cn,3\n" +
			"Han Meimei,\"Silk, Ltd\",han@silk.cn,客户介绍,us,4\n"
		m := imported(t, s, "rep1", "lead", []byte(file), nil)
		created, updated, skipped, errs := summary(t, m)
		if created != 2 || updated != 0 || skipped != 2 {
			t.Fatalf("import: %v", m)
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
		m = imported(t, s, "rep1", "lead", []byte(gbk), map[string]string{"key": "email"})
		if created, _, _, errs := summary(t, m); created != 1 {
			t.Fatalf("GBK import: %v %s", m, errs)
		}
		st, list = s.Do("GET", "/api/records/lead?filter="+apitest.Query(`email == "wang@cha.cn"`), "rep1", "")
		if items := list["items"].([]any); st != 200 || len(items) != 1 || items[0].(map[string]any)["person"] != "王小明" || items[0].(map[string]any)["company"] != "杭州茶叶有限公司" || items[0].(map[string]any)["source"] != "trade_show" {
			t.Fatalf("GBK lead: %v", list)
		}
		// The same file again with the key updates instead of duplicating.
		again, _ := simplifiedchinese.GBK.NewEncoder().String("姓名,公司,邮箱,线索来源\n王小明,杭州茶叶股份有限公司,wang@cha.cn,展会\n")
		m = imported(t, s, "rep1", "lead", []byte(again), map[string]string{"key": "email"})
		if created, updated, _, _ := summary(t, m); created != 0 || updated != 1 {
			t.Fatalf("re-import: %v", m)
		}
		// Without the key the duplicate rule on e-mail refuses the row.
		m = imported(t, s, "rep1", "lead", []byte(again), nil)
		if created, _, skipped, errs := summary(t, m); created != 0 || skipped != 1 || !strings.Contains(errs, "lead_email") {
			t.Fatalf("re-import without key: %v", m)
		}
		leads := count(t, s, "lead")
		m = imported(t, s, "rep1", "lead", []byte("person,email\nDry Run,dry@x.cn\n"), map[string]string{"dry_run": "true"})
		if created, _, _, _ := summary(t, m); created != 1 || m["dry_run"] != true || count(t, s, "lead") != leads {
			t.Fatalf("dry run: %v, leads %d → %d", m, leads, count(t, s, "lead"))
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

// TestImportJob follows an import through its job: accepted with the
// number of records, written a batch per step with its progress visible
// through GET /api/imports/{id} to the user who started it only, resumed
// where it stopped without writing a row twice, bad rows reported at
// their line across batches (a quoted cell spans two lines), the
// assignment rules applied to rows without an owner; an import whose
// user loses the right fails instead of writing.
func TestImportJob(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		db := s.DB
		file := "person,company,email,source,description\n" +
			"Web 1,A,w1@x.cn,web,\n" +
			"Web 2,B,w2@x.cn,web,\"two\nlines\"\n" +
			"Bad,C,not-mail,web,\n" +
			",,,,\n" +
			"Web 3,D,w3@x.cn,web,\n" +
			"Call 1,E,c1@x.cn,cold_call,\n" +
			"Web 4,F,w4@x.cn,web,\n"
		status, m := upload(t, s, "rep1", "lead", []byte(file), map[string]string{"batch": "2"})
		if status != 202 || m["state"] != "pending" || m["total"] != json.Number("7") || m["done"] != json.Number("0") {
			t.Fatalf("import: %d %v", status, m)
		}
		id := m["id"].(string)
		// One step, then the runner stops.
		ctx, cancel := context.WithCancel(context.Background())
		s.Platform.Engine.Jobs().Drain(ctx, jobs.DrainOptions{Kinds: []string{imports.Kind}, Progress: func(jobs.Job) { cancel() }})
		s.Run(t, []apitest.Scenario{
			{Name: "one batch done", Method: "GET", Path: "/api/imports/" + id, User: "rep1", Status: 200,
				Contains: []string{`"state":"running"`, `"done":2`, `"total":7`, `"created":2`, `"skipped":0`}},
			{Name: "another user sees nothing", Method: "GET", Path: "/api/imports/" + id, User: "rep2", Status: 404, NotContain: []string{"lead", `"done"`}},
			{Name: "not even an administrator through this route", Method: "GET", Path: "/api/imports/" + id, User: "admin", Status: 404},
			{Name: "anonymous", Method: "GET", Path: "/api/imports/" + id, Status: 401},
			{Name: "an unknown import", Method: "GET", Path: "/api/imports/nope", User: "rep1", Status: 404},
			{Name: "an import that is not multipart", Method: "POST", Path: "/api/import/lead", User: "rep1", Status: 415},
		})
		if status, m := upload(t, s, "rep1", "lead", []byte(file), map[string]string{"batch": "0"}); status != 400 || !strings.Contains(fmt.Sprint(m), "batch") {
			t.Errorf("batch 0: %d %v", status, m)
		}
		s.RunJobs()
		status, m = s.Do("GET", "/api/imports/"+id, "rep1", "")
		created, updated, skipped, errs := summary(t, m)
		if status != 200 || m["state"] != "done" || m["done"] != json.Number("7") || created != 5 || updated != 0 || skipped != 1 || m["finished_at"] == nil {
			t.Fatalf("finished import: %d %v", status, m)
		}
		if !strings.Contains(errs, `{"field":"email","line":5`) {
			t.Errorf("the bad row is not reported at line 5: %s", errs)
		}
		owners := map[string]int{}
		for _, person := range []string{"Web 1", "Web 2", "Web 3", "Web 4", "Call 1"} {
			st, list := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`person == "`+person+`"`), "admin", "")
			items, _ := list["items"].([]any)
			if st != 200 || len(items) != 1 {
				t.Fatalf("%s imported %d times: %v", person, len(items), list)
			}
			lead := items[0].(map[string]any)
			if person == "Call 1" {
				if lead["owner_id"] != s.UserID("rep1") {
					t.Errorf("a row no rule assigns belongs to %v, not to the importing user", lead["owner_id"])
				}
				continue
			}
			owners[lead["owner_id"].(string)]++
			if person == "Web 2" && lead["description"] != "two\nlines" {
				t.Errorf("a quoted cell over two lines: %q", lead["description"])
			}
		}
		if owners[s.UserID("rep1")] != 2 || owners[s.UserID("rep2")] != 2 {
			t.Errorf("web leads per owner after the assignment rule: %v", owners)
		}
		var chunks int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM crm_sales_import_chunks`).Scan(&chunks); err != nil || chunks != 0 {
			t.Errorf("stored files left after the imports: %d %v", chunks, err)
		}

		// The user loses the import right after the first batch: the
		// import fails and writes no more.
		status, m = upload(t, s, "mkt", "lead", []byte("person,email\nM1,m1@x.cn\nM2,m2@x.cn\nM3,m3@x.cn\n"), map[string]string{"batch": "1"})
		if status != 202 {
			t.Fatalf("import as mkt: %d %v", status, m)
		}
		ctx, cancel = context.WithCancel(context.Background())
		s.Platform.Engine.Jobs().Drain(ctx, jobs.DrainOptions{Kinds: []string{imports.Kind}, Progress: func(jobs.Job) { cancel() }})
		if _, err := s.Platform.Access.UpdateUser(context.Background(), "mkt", access.UserUpdate{Roles: &[]string{"service_agent"}}); err != nil {
			t.Fatal(err)
		}
		s.RunJobs()
		status, m = s.Do("GET", "/api/imports/"+m["id"].(string), "mkt", "")
		if created, _, _, _ := summary(t, m); status != 200 || m["state"] != "failed" || created != 1 || !strings.Contains(fmt.Sprint(m["message"]), "import") {
			t.Fatalf("import after the right was taken: %d %v", status, m)
		}
		if st, list := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`person == "M2"`), "admin", ""); st != 200 || len(list["items"].([]any)) != 0 {
			t.Errorf("rows were written after the right was taken: %v", list)
		}

		// The daily purge deletes imports started more than 30 days ago
		// (the first one, made old here) and keeps the others.
		failed := m["id"].(string)
		if _, err := db.SQL().Exec(store.Rebind(db.Dialect, `UPDATE crm_sales_imports SET created_at = ? WHERE id = ?`), "2020-01-01T00:00:00.000000Z", id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Platform.Engine.Jobs().Enqueue(context.Background(), db.SQL(), jobs.Spec{Kind: imports.PurgeKind}); err != nil {
			t.Fatal(err)
		}
		s.RunJobs()
		if status, m := s.Do("GET", "/api/imports/"+id, "rep1", ""); status != 404 {
			t.Errorf("an import of 2020 after the purge: %d %v", status, m)
		}
		if status, m := s.Do("GET", "/api/imports/"+failed, "mkt", ""); status != 200 {
			t.Errorf("a recent import after the purge: %d %v", status, m)
		}
	})
}

// TestImportReferences imports leads that point to campaigns: rows
// pointing to a campaign are created with it, a row pointing to no
// campaign is skipped and reported with its line and field.
func TestImportReferences(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		st, c := s.Do("POST", "/api/records/campaign", "admin", `{"name": "Spring fair"}`)
		if st != 201 {
			t.Fatalf("campaign: %d %v", st, c)
		}
		id := c["id"].(string)
		file := "person,campaign\nFirst," + id + "\nLost,00000000-0000-7000-8000-000000000000\nThird," + id + "\n"
		m := imported(t, s, "rep1", "lead", []byte(file), nil)
		created, _, skipped, errs := summary(t, m)
		if created != 2 || skipped != 1 || !strings.Contains(errs, `{"field":"campaign","line":3`) {
			t.Fatalf("import: %v %s", m, errs)
		}
		st, list := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`campaign == "`+id+`"`), "rep1", "")
		if items := list["items"].([]any); st != 200 || len(items) != 2 {
			t.Fatalf("leads of the campaign: %d %v", st, list)
		}
	})
}

// TestImportByNames imports opportunities whose lookups are given by the
// names of their records, as the list export writes them: each found
// among the records the importing user may read (another rep finds none),
// a contact's name that two accounts have narrowed by the row's account,
// a name still shared refused; numbers with thousands separators, dates
// with slashes and several competitors by name.
func TestImportByNames(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		// Sales reps may import opportunities here.
		st, role := s.Do("GET", "/api/roles/sales_rep/permissions", "admin", "")
		if st != 200 {
			t.Fatalf("sales_rep permissions: %d %v", st, role)
		}
		perms := role["permissions"].([]any)
		for _, p := range perms {
			if p := p.(map[string]any); p["object"] == "opportunity" {
				p["actions"] = append(p["actions"].([]any), "import")
			}
		}
		body, _ := json.Marshal(map[string]any{"permissions": perms})
		if st, m := s.Do("PUT", "/api/roles/sales_rep/permissions", "admin", string(body)); st != 200 {
			t.Fatalf("give sales reps the import right: %d %v", st, m)
		}
		north := s.Create("rep1", "account", `{"name": "North Ltd"}`)
		south := s.Create("rep1", "account", `{"name": "South Ltd"}`)
		wang := s.Create("rep1", "contact", `{"name": "王伟", "account": "`+south+`"}`)
		s.Create("rep1", "contact", `{"name": "王伟", "account": "`+north+`"}`)
		k1 := s.Create("admin", "competitor", `{"name": "Rival One"}`)
		k2 := s.Create("admin", "competitor", `{"name": "Rival Two"}`)
		file := "name,account,contact,amount,close_date,competitors\n" +
			"Deal A,South Ltd,王伟,\"1,234,567.50\",2026/3/9,\"Rival One, Rival Two\"\n" +
			"Deal B,,王伟,5,2026-03-10,\n" +
			"Deal C,Nowhere Ltd,,5,,\n"
		created, _, skipped, errs := summary(t, imported(t, s, "rep1", "opportunity", []byte(file), nil))
		if created != 1 || skipped != 2 || !strings.Contains(errs, `"field":"contact","line":3,"message":"several contact records have the name \"王伟\": give the id"`) ||
			!strings.Contains(errs, `"field":"account","line":4,"message":"no account you may read has the name \"Nowhere Ltd\""`) {
			t.Fatalf("import: %d created, %d skipped: %s", created, skipped, errs)
		}
		st, list := s.Do("GET", "/api/records/opportunity?filter="+apitest.Query(`name == "Deal A"`), "rep1", "")
		items, _ := list["items"].([]any)
		if st != 200 || len(items) != 1 {
			t.Fatalf("Deal A: %d %v", st, list)
		}
		deal := items[0].(map[string]any)
		if deal["account"] != south || deal["contact"] != wang || deal["amount"] != json.Number("1234567.50") || deal["close_date"] != "2026-03-09" ||
			fmt.Sprint(deal["competitors"]) != fmt.Sprint([]any{k1, k2}) && fmt.Sprint(deal["competitors"]) != fmt.Sprint([]any{k2, k1}) {
			t.Errorf("Deal A: %v", deal)
		}
		// rep2 may read neither account: the names name nothing for them.
		_, _, skipped, errs = summary(t, imported(t, s, "rep2", "opportunity", []byte("name,account\nDeal D,South Ltd\n"), nil))
		if skipped != 1 || !strings.Contains(errs, `no account you may read has the name \"South Ltd\"`) {
			t.Errorf("rep2 names rep1's account: %d skipped: %s", skipped, errs)
		}
	})
}
