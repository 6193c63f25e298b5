package ui_test

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestImportAndExport: a rep imports leads from a CSV file through the
// preview (columns mapped by label, one changed to ignored, a bad line
// reported with its number) and the import; lists export as CSV for
// holders of the export right only.
func TestImportAndExport(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, mgr, agent := signedIn(t, s, "rep1"), signedIn(t, s, "manager"), signedIn(t, s, "agent")
		file := []byte("姓名,Company,Email,Notes\nWang Fang,Lotus Tea,wang@lotus.example,call back\nBad Mail,Nowhere,not-an-email,\n")
		run(t, rep1, []pageCase{
			{name: "the list offers the import", path: "/ui/o/lead", status: 200, contains: []string{`href="/ui/import/lead"`}, notContain: []string{"/ui/o/lead/export"}},
			{name: "the import page", path: "/ui/import/lead", status: 200, contains: []string{`type="file"`, `enctype="multipart/form-data"`}},
		})
		st, body, _ := rep1.multipartPost("/ui/import/lead", map[string][]string{"step": {"preview"}}, "file", "leads.csv", file)
		for _, want := range []string{`<option value="person" selected>`, `<option value="company" selected>`, `<option value="email" selected>`, "Wang Fang",
			"As mapped, 1 would be created, 0 updated and 1 skipped.", "<td>3</td>", `name="upload"`} {
			if st != 200 || !strings.Contains(body, want) {
				t.Errorf("preview: %d lacks %q: %s", st, want, body)
			}
		}
		m := regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the preview keeps no upload: %s", body)
		}
		upload := m[1]
		mapped := func() url.Values { // a fresh form each time (a post adds its token)
			return url.Values{"upload": {upload}, "step": {"import"}, "m_0": {"person"}, "m_1": {"company"}, "m_2": {"email"}, "m_3": {""}}
		}
		run(t, signedIn(t, s, "rep2"), []pageCase{
			{name: "another rep may not use the upload", method: "POST", path: "/ui/import/lead", form: mapped(), status: 400, contains: []string{"upload it again"}, notContain: []string{"Wang Fang"}},
		})
		st, body, resp := rep1.post("/ui/import/lead", mapped())
		loc := resp.Header.Get("Location")
		if st != 303 || !strings.HasPrefix(loc, "/ui/imports/") {
			t.Fatalf("the import: %d %s %s", st, loc, body)
		}
		run(t, rep1, []pageCase{
			{name: "the import runs in the background", path: loc, status: 200, contains: []string{"Importing…", "0 of 2 records through.", `hx-trigger="every 2s"`}},
			{name: "the upload is gone once the import started", method: "POST", path: "/ui/import/lead", form: mapped(), status: 400, contains: []string{"upload it again"}},
		})
		s.RunJobs()
		run(t, rep1, []pageCase{
			{name: "the import as mapped", path: loc, status: 200, contains: []string{"Imported", "1 created, 0 updated, 1 skipped.", "<td>3</td>"}, notContain: []string{"Notes", "hx-trigger"}},
			{name: "the imported lead is listed", path: "/ui/o/lead", status: 200, contains: []string{"Wang Fang", "Lotus Tea"}, notContain: []string{"Bad Mail"}},
			{name: "a rep may not export", path: "/ui/o/opportunity/export", status: 403},
		})
		run(t, signedIn(t, s, "rep2"), []pageCase{
			{name: "another rep's import is not theirs to see", path: loc, status: 404, notContain: []string{"Wang Fang"}},
		})
		// A file longer than the preview checks: its first lines are checked, the import takes it all.
		var long strings.Builder
		long.WriteString("姓名,Company\n")
		for i := range 1500 {
			fmt.Fprintf(&long, "Person %d,Company %d\n", i, i)
		}
		st, body, _ = rep1.multipartPost("/ui/import/lead", map[string][]string{"step": {"preview"}}, "file", "many.csv", []byte(long.String()))
		if st != 200 || !strings.Contains(body, "of the first 1000 lines 1000 would be created") {
			t.Errorf("the preview of a long file: %d %s", st, body)
		}
		run(t, agent, []pageCase{
			{name: "no import without the right", path: "/ui/import/lead", status: 403},
		})
		acc := s.Create("rep1", "account", `{"name": "Hangzhou Tea Co"}`)
		s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "stage": "proposal"}`)
		// A name that a spreadsheet would run as a formula.
		s.Create("rep1", "opportunity", `{"name": "=HYPERLINK(\"http://evil.test\",\"Open\")", "account": "`+acc+`", "amount": "5", "stage": "proposal"}`)
		run(t, mgr, []pageCase{
			{name: "the list offers the export", path: "/ui/o/opportunity", status: 200, contains: []string{"/ui/o/opportunity/export?"}},
		})
		st, body, resp = mgr.do("GET", "/ui/o/opportunity/export?sort=name", nil)
		if st != 200 || !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "Tea machines") || !strings.Contains(body, "Hangzhou Tea Co") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("export: %d %q %s", st, resp.Header.Get("Content-Disposition"), body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var formula []string
		for _, row := range rows {
			if strings.Contains(row[0], "HYPERLINK") {
				formula = row
			}
		}
		if len(formula) == 0 || formula[0] != `'=HYPERLINK("http://evil.test","Open")` || !slices.Contains(formula, "5.00") {
			t.Errorf("the exported formula-like name is not kept as text (or its amount not as a number): %q", formula)
		}
	})
}
