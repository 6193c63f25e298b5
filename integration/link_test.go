package integration_test

import (
	"fmt"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestLinks: custom links are checked when defined, resolve with their
// placeholders URL-encoded from the record as the viewing user reads it,
// and a link needing a field the user may not read (or whose condition
// does not hold) is absent; a user who cannot read the record sees
// nothing.
func TestLinks(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		link := func(name, url, rest string) string {
			return fmt.Sprintf(`{"name": %q, "object": "account", "label": {"en": "Link %s", "zh": "链接%s"}, "url": %q%s}`, name, name, name, url, rest)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "only http and https", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("js", "javascript:alert({{name}})", ""), Status: 422, Contains: []string{"/url"}},
			{Name: "a placeholder in the host", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("host", "https://{{website}}/x", ""), Status: 422, Contains: []string{"host"}},
			{Name: "a placeholder right after the host", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("host", "https://erp.example.com{{name}}", ""), Status: 422, Contains: []string{"host"}},
			{Name: "an unknown field", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("nick", "https://erp.example.com/{{nickname}}", ""), Status: 422, Contains: []string{"nickname"}},
			{Name: "an unclosed placeholder", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("open", "https://erp.example.com/{{name", ""), Status: 422, Contains: []string{"placeholder"}},
			{Name: "a condition through a lookup", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("parent", "https://erp.example.com/{{id}}", `, "condition": "parent.name != ''"`), Status: 422, Contains: []string{"own fields"}},
			{Name: "a condition that does not type-check", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("bad", "https://erp.example.com/{{id}}", `, "condition": "employees + 'x'"`), Status: 422, Contains: []string{"/condition"}},
			{Name: "not an administrator", Method: "POST", Path: "/api/meta/links", User: "manager", Body: link("erp", "https://erp.example.com/customer/{{id}}", ""), Status: 403},
			{Name: "the ERP customer", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("erp", "https://erp.example.com/customer/{{ id }}", ""), Status: 201},
			{Name: "the credit check", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("credit", "https://erp.example.com/credit/{{name}}?limit={{credit_limit}}", ""), Status: 201},
			{Name: "the map in China", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("map", "https://maps.example.com/?q={{address}}&c={{city}}", `, "condition": "country == 'cn'"`), Status: 201},
			{Name: "a condition on a hidden field", Method: "POST", Path: "/api/meta/links", User: "admin", Body: link("rich", "https://erp.example.com/vip/{{id}}", `, "condition": "annual_revenue > 1000"`), Status: 201},
			{Name: "every user reads links", Method: "GET", Path: "/api/meta/links", User: "rep1", Status: 200, Contains: []string{`"credit"`}},
		})
		cn := s.Create("manager", "account", `{"name": "Acme & Sons/李", "credit_limit": 987654.32, "annual_revenue": 90000, "country": "cn", "address": "1 Main St #2", "city": "上海"}`)
		us := s.Create("manager", "account", `{"name": "Beta", "country": "us"}`)
		links := "/api/records/account/" + cn + "/links"
		erp := `https://erp.example.com/customer/` + cn
		credit := `https://erp.example.com/credit/Acme%20%26%20Sons%2F%E6%9D%8E?limit=987654.32`
		// JSON escapes the query's own "&" as \u0026.
		mapURL := `https://maps.example.com/?q=1%20Main%20St%20%232\u0026c=%E4%B8%8A%E6%B5%B7`
		vip := `https://erp.example.com/vip/` + cn
		s.Run(t, []apitest.Scenario{
			{Name: "a user reading every field", Method: "GET", Path: links, User: "manager", Status: 200,
				Contains: []string{erp, credit, mapURL, vip, `"label":"Link credit"`}},
			{Name: "in Chinese", Method: "GET", Path: links, User: "manager", Header: map[string]string{"Accept-Language": "zh-CN"}, Status: 200,
				Contains: []string{`"label":"链接credit"`}},
			{Name: "a user who may not read the credit limit and revenue", Method: "GET", Path: links, User: "mkt", Status: 200,
				Contains: []string{erp, mapURL}, NotContain: []string{"credit", "987654", "vip"}},
			{Name: "a user who cannot read the record", Method: "GET", Path: links, User: "rep2", Status: 404,
				NotContain: []string{"erp.example.com", "maps.example.com"}},
			{Name: "a condition that does not hold", Method: "GET", Path: "/api/records/account/" + us + "/links", User: "manager", Status: 200,
				Contains: []string{"customer/" + us}, NotContain: []string{"maps.example.com", "vip"}},
			{Name: "an empty value fills nothing", Method: "GET", Path: "/api/records/account/" + us + "/links", User: "manager", Status: 200,
				Contains: []string{`https://erp.example.com/credit/Beta?limit=`}},
			{Name: "an unknown record", Method: "GET", Path: "/api/records/account/nope/links", User: "manager", Status: 404},
			{Name: "an unknown object", Method: "GET", Path: "/api/records/spaceship/" + cn + "/links", User: "manager", Status: 404},
			{Name: "signed in only", Method: "GET", Path: links, Status: 401},
		})
		// The record's page in the web UI shows the same links.
		page := "/ui/o/account/" + cn
		s.Run(t, []apitest.Scenario{
			{Name: "the page shows the links", Method: "GET", Path: page, Header: map[string]string{"Cookie": "crm_session=" + s.Token("manager")}, ContentType: "text/html", Status: 200,
				Contains: []string{`href="https://erp.example.com/credit/Acme%20%26%20Sons%2F%E6%9D%8E?limit=987654.32"`, "Link credit", `href="https://maps.example.com/?q=1%20Main%20St%20%232&amp;c=`}},
			{Name: "not those of hidden fields", Method: "GET", Path: page, Header: map[string]string{"Cookie": "crm_session=" + s.Token("mkt")}, ContentType: "text/html", Status: 200,
				Contains: []string{"Link map", "customer/" + cn}, NotContain: []string{"Link credit", "erp.example.com/credit"}},
		})
	})
}
