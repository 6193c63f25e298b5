package ui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

func TestLayouts(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		admin, rep := signedIn(t, s, "admin"), signedIn(t, s, "rep1")
		lead := s.Create("rep1", "lead", `{"person": "Li Lei", "company": "Acme"}`)
		// The generated default, as a start.
		run(t, admin, []pageCase{
			{name: "new layout from the default", path: "/ui/admin/kinds/layouts/new?object=lead", status: 200,
				contains: []string{`name="f/name" value="lead_default"`, `name="f/list_columns"`, `href="/ui/admin/kinds/layouts/new?editor=json&amp;object=lead"`}},
			{name: "and as JSON", path: "/ui/admin/kinds/layouts/new?object=lead&editor=json", status: 200, contains: []string{"&#34;lead_default&#34;", "&#34;list_columns&#34;"}},
			{name: "a layout naming an unknown field is refused", method: "POST", path: "/ui/admin/kinds/layouts",
				form: url.Values{"doc": {`{"name": "bad", "object": "lead", "sections": [{"label": "X", "fields": ["nope"]}]}`}}, status: 422, contains: []string{"no field", "nope"}},
			{name: "not JSON", method: "POST", path: "/ui/admin/kinds/layouts", form: url.Values{"doc": {`{`}}, status: 422, contains: []string{"Not valid JSON"}},
		})
		admin.get("/ui/admin/kinds/layouts")
		admin.review(t, "/ui/admin/kinds/layouts", url.Values{"doc": {`{"name": "rep_leads", "object": "lead", "roles": ["sales_rep"],
			"sections": [{"label": {"en": "Who", "zh": "联系人"}, "fields": ["company", "person"]}], "list_columns": ["company", "person", "status"]}`}},
			"add_document layouts rep_leads")
		run(t, rep, []pageCase{
			{name: "the role's layout orders the form", path: "/ui/o/lead/new", status: 200, contains: []string{"Who", "Other fields"}},
			{name: "the role's list columns", path: "/ui/o/lead", status: 200, contains: []string{"Acme"}},
			{name: "the role's detail sections", path: "/ui/o/lead/" + lead, status: 200, contains: []string{"Who"}},
		})
		_, body := rep.get("/ui/o/lead/new")
		if strings.Index(body, `id="f_company"`) > strings.Index(body, `id="f_person"`) || strings.Index(body, `id="f_person"`) > strings.Index(body, `id="f_email"`) {
			t.Error("the form does not follow the layout's order")
		}
		_, body = rep.get("/ui/o/lead")
		head := body[strings.Index(body, "<thead>"):strings.Index(body, "</thead>")]
		if !(strings.Index(head, "Company") < strings.Index(head, "Person") && strings.Index(head, "Person") < strings.Index(head, "Status")) || strings.Contains(head, "Email") {
			t.Errorf("list columns: %s", head)
		}
		run(t, admin, []pageCase{
			{name: "other roles keep the generated layout", path: "/ui/o/lead/" + lead, status: 200, contains: []string{"Details"}, notContain: []string{">Who<"}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "layouts through the API", Method: "GET", Path: "/api/meta/layouts", User: "rep1", Status: 200, Contains: []string{"rep_leads"}},
		})
	})
}
