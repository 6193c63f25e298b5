package ui_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// proposalPattern finds the reviewed change of a plan page.
var proposalPattern = regexp.MustCompile(`name="proposal" value="([^"]+)"`)

// review submits a builder form, expects the plan page holding want, and
// applies it.
func (c *client) review(t *testing.T, path string, form url.Values, want ...string) {
	t.Helper()
	st, body, _ := c.post(path, form)
	if st != 200 {
		t.Fatalf("review %s: %d %s", path, st, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("the plan of %s lacks %q: %s", path, w, body)
		}
	}
	m := proposalPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no proposal on the plan page: %s", body)
	}
	st, body, resp := c.post("/ui/admin/apply", url.Values{"proposal": {html.UnescapeString(m[1])}})
	if st != 303 || !strings.Contains(resp.Header.Get("Location"), "flash=applied") {
		t.Fatalf("apply %s: %d %s", path, st, body)
	}
}

func TestBuilder(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin, rep := signedIn(t, s, "admin"), signedIn(t, s, "rep1")
		run(t, rep, []pageCase{
			{name: "the builder is for administrators", path: "/ui/admin/", status: 403},
			{name: "nor its changes", method: "POST", path: "/ui/admin/objects", form: url.Values{"name": {"x"}}, status: 403},
		})
		run(t, admin, []pageCase{
			{name: "builder home", path: "/ui/admin/", status: 200, contains: []string{"/ui/admin/objects/lead", "/ui/admin/roles/sales_rep", "New object"}},
			{name: "a bad object name next to its input", method: "POST", path: "/ui/admin/objects", form: url.Values{"name": {"Bad Name"}}, status: 422, contains: []string{`id="b_name_error"`}},
		})
		// A custom object with a cascading picklist, a formula and a validation rule.
		admin.get("/ui/admin/")
		admin.review(t, "/ui/admin/objects", url.Values{"name": {"machine"}, "label_en": {"Machine"}, "label_zh": {"机床"}, "plural_en": {"Machines"}},
			"add_object machine", "CREATE TABLE")
		field := func(v url.Values, want ...string) {
			t.Helper()
			admin.get("/ui/admin/objects/machine")
			admin.review(t, "/ui/admin/objects/machine/fields", v, want...)
		}
		field(url.Values{"name": {"country"}, "type": {"picklist"}, "label_en": {"Country"}, "label_zh": {"国家"}, "options": {"cn | China | 中国\nus | United States | 美国"}}, "add_field machine.country", "ADD COLUMN")
		field(url.Values{"name": {"region"}, "type": {"picklist"}, "label_en": {"Region"}, "depends_on": {"country"},
			"options": {"east | East China | 华东 | cn\nwest | West Coast | 美国西部 | us"}}, "add_field machine.region")
		field(url.Values{"name": {"price"}, "type": {"currency"}, "label_en": {"Price"}, "scale": {"2"}}, "add_field machine.price")
		st, body, _ := admin.post("/ui/admin/objects/machine/fields", url.Values{"name": {"tax"}, "type": {"currency"}, "label_en": {"Tax"}, "formula": {"price *"}})
		if st != 422 || !strings.Contains(body, `id="b_formula_error"`) || !strings.Contains(body, "line 1, column") {
			t.Fatalf("a bad formula: %d %s", st, body)
		}
		field(url.Values{"name": {"tax"}, "type": {"currency"}, "label_en": {"Tax"}, "label_zh": {"税额"}, "formula": {"price * 0.1"}}, "add_field machine.tax")
		// A part of a machine: a master-detail lookup, which must be required
		// and cascade on delete.
		admin.get("/ui/admin/")
		admin.review(t, "/ui/admin/objects", url.Values{"name": {"machine_part"}, "label_en": {"Machine part"}}, "add_object machine_part")
		admin.get("/ui/admin/objects/machine_part")
		part := url.Values{"name": {"machine"}, "type": {"lookup"}, "label_en": {"Machine"}, "target": {"machine"}, "required": {"true"}, "on_delete": {"restrict"}, "master_detail": {"true"}}
		if st, body, _ := admin.post("/ui/admin/objects/machine_part/fields", part); st != 422 || !strings.Contains(body, "must be required and cascade on delete") {
			t.Fatalf("a master-detail lookup that restricts: %d %s", st, body)
		}
		part.Set("on_delete", "cascade")
		admin.get("/ui/admin/objects/machine_part")
		admin.review(t, "/ui/admin/objects/machine_part/fields", part, "add_field machine_part.machine")
		run(t, admin, []pageCase{
			{name: "the lookup is master-detail", path: "/ui/admin/objects/machine_part/fields/machine", status: 200, contains: []string{`name="master_detail" value="true" checked`, "Part of its target (master-detail)"}},
		})
		admin.get("/ui/admin/objects/machine")
		st, body, _ = admin.post("/ui/admin/objects/machine", url.Values{"label_en": {"Machine"}, "title_field": {"name"},
			"rule0_name": {"price_positive"}, "rule0_condition": {"price >"}, "rule0_field": {"price"}, "rule0_msg_en": {"Positive"}})
		if st != 422 || !strings.Contains(body, `id="b_rule0_condition_error"`) {
			t.Fatalf("a bad rule: %d %s", st, body)
		}
		admin.review(t, "/ui/admin/objects/machine", url.Values{"label_en": {"Machine"}, "label_zh": {"机床"}, "plural_en": {"Machines"}, "title_field": {"name"},
			"rule0_name": {"price_positive"}, "rule0_condition": {"price > 0"}, "rule0_field": {"price"}, "rule0_msg_en": {"The price must be positive"}, "rule0_msg_zh": {"价格必须大于零"},
			"rule1_name": {""}, "rule1_condition": {""}}, "alter_object machine")
		// Grant the sales reps their own machines (and keep their leads).
		admin.get("/ui/admin/roles/sales_rep")
		admin.review(t, "/ui/admin/roles/sales_rep", url.Values{"label_en": {"Sales rep"}, "parent": {"sales_manager"},
			"perm.machine.create": {"true"}, "perm.machine.read": {"true"}, "perm.machine.update": {"true"}, "records.machine": {"own"},
			"perm.lead.create": {"true"}, "perm.lead.read": {"true"}, "records.lead": {"own"}, "field.machine.price": {"editable"}}, "change_roles")
		// The rep fills the generated form.
		run(t, rep, []pageCase{
			{name: "the new object is in the menu", path: "/ui/", status: 200, contains: []string{`href="/ui/o/machine"`, "Machines"}},
			{name: "the generated form", path: "/ui/o/machine/new", status: 200, contains: []string{`id="f_region"`, `hx-get="/ui/cascade/machine/region"`, `step="0.01"`}, notContain: []string{`id="f_tax"`}},
			{name: "cascade", path: "/ui/cascade/machine/region?country=us", status: 200, contains: []string{"West Coast"}, notContain: []string{"East China"}},
			{name: "the rule's error next to its field", method: "POST", path: "/ui/o/machine", form: url.Values{"name": {"Lathe"}, "country": {"cn"}, "region": {"east"}, "price": {"-5"}},
				status: 422, contains: []string{`id="f_price_error"`, "The price must be positive"}},
		})
		st, body, resp := rep.post("/ui/o/machine", url.Values{"name": {"Lathe"}, "country": {"cn"}, "region": {"east"}, "price": {"1234.5"}})
		if st != 303 {
			t.Fatalf("create machine: %d %s", st, body)
		}
		run(t, rep, []pageCase{
			{name: "the computed value after save", path: "/ui/o/machine/" + createdID(t, resp), status: 200, contains: []string{"Tax", "123.45", "1,234.50", "East China"}},
		})
		run(t, admin, []pageCase{
			{name: "versions say who changed what", path: "/ui/admin/versions", status: 200, contains: []string{"add field machine.tax", "admin", "update role sales_rep"}},
			{name: "role grid", path: "/ui/admin/roles/sales_rep", status: 200, contains: []string{`name="perm.machine.read" value="true" checked`, `aria-label="Machine: Read"`}},
			{name: "field editor", path: "/ui/admin/objects/machine/fields/region", status: 200, contains: []string{"west | West Coast | 美国西部 | us", `value="country" selected`}},
		})
		_, body = admin.get("/ui/admin/versions")
		m := regexp.MustCompile(`<a href="/ui/admin/versions/(\d+)">\d+</a></td><td>[^<]*</td><td>admin</td><td>add field machine.tax`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no version of the tax field: %s", body)
		}
		run(t, admin, []pageCase{
			{name: "a version's diff", path: "/ui/admin/versions/" + m[1], status: 200, contains: []string{"add_field machine.tax", `<span class="add">&#43;       &#34;formula&#34;: &#34;price * 0.1&#34;</span>`}},
		})
		// Removing an option the Lathe holds loses data: the plan says what
		// is lost and applies only once the administrator ticks the box.
		admin.get("/ui/admin/objects/machine/fields/region")
		st, body, _ = admin.post("/ui/admin/objects/machine/fields", url.Values{"original": {"region"}, "name": {"region"}, "type": {"picklist"}, "label_en": {"Region"}, "depends_on": {"country"},
			"options": {"west | West Coast | 美国西部 | us"}})
		if st != 200 || !strings.Contains(body, "This change loses data") || !strings.Contains(body, "1 records would lose") ||
			!strings.Contains(body, `<input type="checkbox" id="force" name="force" value="true" required>`) || strings.Contains(body, "repeat with force") {
			t.Fatalf("the plan of a change that loses data: %d %s", st, body)
		}
		proposal := html.UnescapeString(proposalPattern.FindStringSubmatch(body)[1])
		if st, body, _ = admin.post("/ui/admin/apply", url.Values{"proposal": {proposal}}); st != 422 || !strings.Contains(body, "repeat with force") {
			t.Fatalf("applied without the box ticked: %d %s", st, body)
		}
		run(t, admin, []pageCase{
			{name: "nothing changed unforced", path: "/ui/admin/objects/machine/fields/region", status: 200, contains: []string{"east | East China"}},
			{name: "forced", method: "POST", path: "/ui/admin/apply", form: url.Values{"proposal": {proposal}, "force": {"true"}}, status: 303},
			{name: "the option is gone", path: "/ui/admin/objects/machine/fields/region", status: 200, notContain: []string{"east | East China"}},
		})
	})
}

// TestDeleteRole: the builder removes a role nobody holds, reviewed like
// every change; a role another role has as parent, or one users hold, is
// refused with the reason and stays; a sales rep may not remove any.
func TestDeleteRole(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin := signedIn(t, s, "admin")
		admin.get("/ui/admin/")
		admin.review(t, "/ui/admin/roles", url.Values{"role_name": {"intern"}, "role_label_en": {"Intern"}}, "intern")
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "a sales rep may not", method: "POST", path: "/ui/admin/roles/intern/delete", status: 403},
		})
		run(t, admin, []pageCase{
			{name: "the role's page offers its removal", path: "/ui/admin/roles/intern", status: 200,
				contains: []string{`action="/ui/admin/roles/intern/delete"`, `data-confirm="Delete this role?`}},
			{name: "a parent role is refused", method: "POST", path: "/ui/admin/roles/sales_manager/delete", status: 422, contains: []string{`unknown role &#34;sales_manager&#34;`}},
		})
		admin.get("/ui/admin/roles/sales_rep")
		st, body, _ := admin.post("/ui/admin/roles/sales_rep/delete", nil)
		if st == 200 {
			m := proposalPattern.FindStringSubmatch(body)
			st, body, _ = admin.post("/ui/admin/apply", url.Values{"proposal": {html.UnescapeString(m[1])}})
		}
		if st != 409 && st != 422 || !strings.Contains(body, "rep1") {
			t.Fatalf("removing a role users hold: %d %s", st, body)
		}
		admin.get("/ui/admin/roles/intern")
		admin.review(t, "/ui/admin/roles/intern/delete", nil, "intern")
		run(t, admin, []pageCase{
			{name: "gone from the builder", path: "/ui/admin/", status: 200, contains: []string{`href="/ui/admin/roles/sales_rep"`}, notContain: []string{`href="/ui/admin/roles/intern"`}},
			{name: "the roles users hold stay", path: "/ui/admin/roles/sales_rep", status: 200},
		})
	})
}

// TestExplainAccessPage: an administrator asks why a rep may or may not
// read another rep's account and gets the engine's verdicts with their
// reasons; an unknown user is an error on the page; a sales rep may not
// ask.
func TestExplainAccessPage(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Explained Co"}`)
		ask := func(user string) string {
			return "/ui/admin/access?" + url.Values{"user": {user}, "object": {"account"}, "record": {acc}, "field": {"name"}}.Encode()
		}
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "a sales rep may not ask", path: ask("rep2"), status: 403, notContain: []string{"Denied"}},
		})
		run(t, signedIn(t, s, "admin"), []pageCase{
			{name: "the form", path: "/ui/admin/access", status: 200, contains: []string{`<select id="x-user" name="user" required>`, `<option value="rep2">`, `<option value="account">Account</option>`}, notContain: []string{`id="answer-h"`}},
			{name: "rep2 may not read rep1's account", path: ask("rep2"), status: 200,
				contains: []string{`<h2 id="answer-h">rep2</h2>`, `data-verdict="read" data-allowed="false"><strong>Denied</strong>`, "sales_rep", `<option value="rep2" selected>`}},
			{name: "its owner may", path: ask("rep1"), status: 200, contains: []string{`data-verdict="read" data-allowed="true"><strong>Allowed</strong>`, `data-verdict="edit" data-allowed="true"`}},
			{name: "an unknown user", path: ask("nobody"), status: 404, contains: []string{"nobody"}, notContain: []string{`id="answer-h"`}},
		})
	})
}
