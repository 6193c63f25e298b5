package ui_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

var (
	formInput    = regexp.MustCompile(`<input [^>]*?name="([^"]+)" value="([^"]*)"`)
	formArea     = regexp.MustCompile(`(?s)<textarea [^>]*?name="([^"]+)"[^>]*>(.*?)</textarea>`)
	formSelect   = regexp.MustCompile(`(?s)<select [^>]*?name="([^"]+)"[^>]*>(.*?)</select>`)
	formSelected = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// formOf returns the values a browser would post from the first form of
// a page whose action is action, as the page shows them.
func formOf(t *testing.T, page, action string) url.Values {
	t.Helper()
	start := strings.Index(page, `<form method="post" action="`+action+`"`)
	if start < 0 {
		t.Fatalf("no form %s in:\n%s", action, page)
	}
	body := page[start:]
	body = body[:strings.Index(body, "</form>")]
	v := url.Values{}
	for _, m := range formInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for _, m := range formArea.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for _, m := range formSelect.FindAllStringSubmatch(body, -1) {
		sel := ""
		if s := formSelected.FindStringSubmatch(m[2]); s != nil {
			sel = html.UnescapeString(s[1])
		}
		v.Add(html.UnescapeString(m[1]), sel)
	}
	return v
}

// TestBuilderFormsRoundTrip: every document of every kind the standard
// template ships, shown in the form generated from its kind's JSON Schema
// and posted back unchanged, plans no change: the one generator shows
// every part of every kind faithfully.
func TestBuilderFormsRoundTrip(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin := signedIn(t, s, "admin")
		_, home := admin.get("/ui/admin/")
		kinds := regexp.MustCompile(`href="/ui/admin/kinds/([a-z_]+)"`).FindAllStringSubmatch(home, -1)
		if len(kinds) < 10 {
			t.Fatalf("kinds on the builder's page: %v", kinds)
		}
		docs := 0
		for _, k := range kinds {
			_, list := admin.get("/ui/admin/kinds/" + k[1])
			for _, d := range regexp.MustCompile(`href="/ui/admin/kinds/`+k[1]+`/([a-z0-9_]+)"`).FindAllStringSubmatch(list, -1) {
				if d[1] == "new" {
					continue
				}
				docs++
				path := "/ui/admin/kinds/" + k[1] + "/" + d[1]
				st, page := admin.get(path)
				if st != 200 {
					t.Fatalf("%s: %d", path, st)
				}
				form := formOf(t, page, "/ui/admin/kinds/"+k[1])
				st, body, _ := admin.post("/ui/admin/kinds/"+k[1], form)
				if st != 200 || !strings.Contains(body, "Nothing changes.") {
					t.Errorf("%s posted back unchanged: %d\n%s", path, st, body[strings.Index(body, "<main"):])
				}
			}
		}
		if docs < 20 {
			t.Fatalf("only %d documents", docs)
		}
	})
}

// TestBuilderForms: an administrator builds an approval process in the
// form generated from the kind's schema: rows are added and removed, a
// formula error is shown next to its input at its line and column before
// anything is saved, the plan is reviewed and applied, and the process is
// in force (a deal it covers is submitted into it). A sales rep may not
// open the builder's forms.
func TestBuilderForms(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin, rep := signedIn(t, s, "admin"), signedIn(t, s, "rep1")
		form := url.Values{"editor": {"form"}, "f/name": {"big_deal"}, "f/label": {"Big deal"}, "f/label~zh": {"大单审批"},
			"f/object": {"opportunity"}, "f/order": {"0"}, "f/entry_criteria": {"amount >\r\n  1000000 &&"}, "n/steps": {"0"}}
		with := func(extra ...string) url.Values {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v
		}
		run(t, rep, []pageCase{{name: "not for a rep", path: "/ui/admin/kinds/approvals/new", status: 403, notContain: []string{`name="f/name"`}}})
		run(t, admin, []pageCase{
			{name: "the form of a new process", path: "/ui/admin/kinds/approvals/new", status: 200,
				contains: []string{`<label for="d-name">Name <span class="req">*</span></label>`, `<select id="d-object" name="f/object">`, `<option value="opportunity">Opportunity (opportunity)</option>`,
					`<textarea id="d-entry_criteria" name="f/entry_criteria"`, `name="n/steps" value="0"`, `<datalist id="doc-fields"></datalist>`, `value="add:/steps"`, `<label for="d-label_zh">Label (Chinese)</label>`, "Advanced: edit as JSON"}},
			{name: "a step added", method: "POST", path: "/ui/admin/kinds/approvals", form: with("_op", "add:/steps"), status: 200,
				contains: []string{`name="f/steps/0/name"`, `name="n/steps/0/approvers" value="0"`, `value="del:/steps/0"`, "amount &gt;\n  1000000 &amp;&amp;</textarea>", `value="大单审批"`}},
			{name: "an approver added to it", method: "POST", path: "/ui/admin/kinds/approvals", form: with("n/steps", "1", "f/steps/0/name", "gm", "n/steps/0/approvers", "0", "_op", "add:/steps/0/approvers"), status: 200,
				contains: []string{`<select id="d-steps-0-approvers-0" name="f/steps/0/approvers/0">`, `<option value="role">Role …</option>`, `name="f/steps/0/approvers/0~v"`}},
			{name: "a second step added and removed", method: "POST", path: "/ui/admin/kinds/approvals", form: with("n/steps", "2", "f/steps/0/name", "gm", "f/steps/1/name", "other", "_op", "del:/steps/0"), status: 200,
				contains: []string{`name="f/steps/0/name" value="other"`}, notContain: []string{`value="gm"`, `name="f/steps/1/name"`}},
			{name: "the formula's error next to it, at its line and column", method: "POST", path: "/ui/admin/kinds/approvals",
				form: with("n/steps", "1", "f/steps/0/name", "gm", "n/steps/0/approvers", "1", "f/steps/0/approvers/0", "role", "f/steps/0/approvers/0~v", "admin"), status: 422,
				contains: []string{`aria-invalid="true" aria-describedby="d-entry_criteria_error"`, `<p class="field-error" id="d-entry_criteria_error">line 2, column 12:`, `value="admin"`}},
			{name: "an unknown role next to its approver", method: "POST", path: "/ui/admin/kinds/approvals",
				form: with("f/entry_criteria", "amount > 1000000", "n/steps", "1", "f/steps/0/name", "gm", "n/steps/0/approvers", "1", "f/steps/0/approvers/0", "role", "f/steps/0/approvers/0~v", "nobody"), status: 422,
				contains: []string{`id="d-steps-0-approvers-0_error"`, "nobody"}},
			{name: "nothing was saved", path: "/ui/admin/kinds/approvals", status: 200, notContain: []string{`href="/ui/admin/kinds/approvals/big_deal"`}},
		})
		admin.review(t, "/ui/admin/kinds/approvals", with("f/entry_criteria", "amount > 1000000", "n/steps", "1", "f/steps/0/name", "gm", "f/steps/0/label", "General manager",
			"n/steps/0/approvers", "1", "f/steps/0/approvers/0", "role", "f/steps/0/approvers/0~v", "admin"), "add_document approvals big_deal")
		acc := s.Create("rep1", "account", `{"name": "Acme"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "Plant", "account": "`+acc+`", "amount": "2000000", "stage": "proposal"}`)
		run(t, rep, []pageCase{
			{name: "the process is in force", method: "POST", path: "/ui/o/opportunity/" + opp + "/actions/submit", form: url.Values{"comment": {"big"}}, status: 303},
			{name: "the deal waits in it", path: "/ui/o/opportunity/" + opp, status: 200, contains: []string{"Big deal", "General manager", "Pending"}},
		})
		run(t, admin, []pageCase{
			{name: "the form shows the process as applied", path: "/ui/admin/kinds/approvals/big_deal", status: 200,
				contains: []string{`name="f/name" value="big_deal"`, `<option value="opportunity" selected>`, `<option value="discount"></option>`, "amount &gt; 1000000</textarea>", `<option value="role" selected>`, `value="admin"`}},
		})
	})
}
