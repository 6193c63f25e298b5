package ui_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestImportAndExport: a rep imports leads from a CSV file through the
// preview (columns mapped by label, one changed to ignored, a bad line
// reported with its number) and the import; lists export as CSV for
// holders of the export right only.
func TestImportAndExport(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{})
		rep1, mgr, agent := signedIn(t, s, "rep1"), signedIn(t, s, "manager"), signedIn(t, s, "agent")
		file := []byte("姓名,Company,Email,Notes\nWang Fang,Lotus Tea,wang@lotus.example,call back\nBad Mail,Nowhere,not-an-email,\n")
		run(t, rep1, []pageCase{
			{name: "the list offers the import", path: "/ui/o/lead", status: 200, contains: []string{`href="/ui/import/lead"`}, notContain: []string{"/ui/o/lead/export"}},
			{name: "the import page", path: "/ui/import/lead", status: 200, contains: []string{`type="file"`, `enctype="multipart/form-data"`}},
		})
		st, body, _ := rep1.multipartPost("/ui/import/lead", map[string][]string{"step": {"preview"}}, "file", "leads.csv", file)
		for _, want := range []string{`<option value="person" selected>`, `<option value="company" selected>`, `<option value="email" selected>`, "Wang Fang",
			"As mapped, 1 would be created, 0 updated and 1 skipped.", "<td>3</td>", `name="data"`} {
			if st != 200 || !strings.Contains(body, want) {
				t.Errorf("preview: %d lacks %q: %s", st, want, body)
			}
		}
		data := base64.StdEncoding.EncodeToString(file)
		run(t, rep1, []pageCase{
			{name: "the import as mapped", method: "POST", path: "/ui/import/lead", form: url.Values{"data": {data}, "step": {"import"}, "m_0": {"person"}, "m_1": {"company"}, "m_2": {"email"}, "m_3": {""}},
				status: 200, contains: []string{"1 created, 0 updated, 1 skipped.", "<td>3</td>"}, notContain: []string{"Notes"}},
			{name: "the imported lead is listed", path: "/ui/o/lead", status: 200, contains: []string{"Wang Fang", "Lotus Tea"}, notContain: []string{"Bad Mail"}},
			{name: "a rep may not export", path: "/ui/o/opportunity/export", status: 403},
		})
		run(t, agent, []pageCase{
			{name: "no import without the right", path: "/ui/import/lead", status: 403},
		})
		acc := s.Create("rep1", "account", `{"name": "Hangzhou Tea Co"}`)
		s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "stage": "proposal"}`)
		run(t, mgr, []pageCase{
			{name: "the list offers the export", path: "/ui/o/opportunity", status: 200, contains: []string{"/ui/o/opportunity/export?"}},
		})
		st, body, resp := mgr.do("GET", "/ui/o/opportunity/export?sort=name", nil)
		if st != 200 || !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "Tea machines") || !strings.Contains(body, "Hangzhou Tea Co") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("export: %d %q %s", st, resp.Header.Get("Content-Disposition"), body)
		}
	})
}
