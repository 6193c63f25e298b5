package sales_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestWebToLead posts to web forms without signing in: plain and JSON
// submissions, a burst over the rate limit, the daily cap, oversized,
// unknown-field, wrong-type, honeypot and script-in-field submissions;
// the answers never carry a record id, and the admin gets the snippet.
func TestWebToLead(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{Template: overlay(t, nil, map[string]string{
			"web_forms/site.yaml":   "name: site\nlabel: {en: Site, zh: 网站}\nfields: [person, company, email, description, country]\nvalues: {source: web}\nrate_limit: 100\nowner: manager\n",
			"web_forms/burst.yaml":  "name: burst\nfields: [person]\nrate_limit: 2\n",
			"web_forms/capped.yaml": "name: capped\nfields: [person]\ndaily_cap: 2\nrate_limit: 100\nowner: manager\n",
		})})
		form := "application/x-www-form-urlencoded"
		leads := count(t, s, "lead")
		script := `<script>alert("x")</script><b>hi</b>`
		s.Run(t, []apitest.Scenario{
			{Name: "the form page", Method: "GET", Path: "/f/contact_us", Status: 200, Contains: []string{"<form", `name="person"`, "Person", `name="_website"`}},
			{Name: "the page in Chinese", Method: "GET", Path: "/f/contact_us", Header: map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}, Status: 200, Contains: []string{"姓名", "联系我们"}},
			{Name: "an unknown form", Method: "GET", Path: "/f/nope", Status: 404},
			{Name: "a plain submission", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=Li+Lei&company=Tea&email=li%40tea.cn&country=cn",
				Status: 200, Contains: []string{"Thank you"}, NotContain: []string{`"id"`, "Li Lei"}},
			{Name: "a JSON submission", Method: "POST", Path: "/f/site", Body: `{"person": "Han", "email": "han@tea.cn"}`,
				Status: 200, Contains: []string{`"ok":true`}, NotContain: []string{`"id"`}},
			{Name: "script and HTML are text", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=Evil&description=" + url.QueryEscape(script),
				Status: 200, NotContain: []string{"<script", "alert"}},
			{Name: "oversized", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=" + strings.Repeat("x", 17<<10), Status: 413, Code: "too_large"},
			{Name: "an unknown field", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=X&owner_id=someone", Status: 400, Code: "bad_request", Contains: []string{"owner_id"}},
			{Name: "a field the form does not show", Method: "POST", Path: "/f/site", Body: `{"person": "X", "status": "converted"}`, Status: 400},
			{Name: "a wrong content type", Method: "POST", Path: "/f/site", ContentType: "text/plain", Body: "person=X", Status: 415, Code: "unsupported_media_type"},
			{Name: "the honeypot is filled", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=Robot&_website=http%3A%2F%2Fspam", Status: 200, Contains: []string{"Thank you"}},
			{Name: "a bad value", Method: "POST", Path: "/f/site", ContentType: form, Body: "person=X&email=nope", Status: 422, NotContain: []string{`"id"`}},
			{Name: "burst 1", Method: "POST", Path: "/f/burst", ContentType: form, Body: "person=B1", Status: 200},
			{Name: "burst 2", Method: "POST", Path: "/f/burst", ContentType: form, Body: "person=B2", Status: 200},
			{Name: "burst 3 is throttled", Method: "POST", Path: "/f/burst", ContentType: form, Body: "person=B3", Status: 429, Code: "throttled"},
			{Name: "cap 1", Method: "POST", Path: "/f/capped", ContentType: form, Body: "person=C1", Status: 200},
			{Name: "cap 2", Method: "POST", Path: "/f/capped", ContentType: form, Body: "person=C2", Status: 200},
			{Name: "over the daily cap", Method: "POST", Path: "/f/capped", ContentType: form, Body: "person=C3", Status: 429, Code: "throttled"},
			{Name: "the snippet for an admin", Method: "GET", Path: "/api/meta/web_forms/contact_us/snippet", User: "admin", Status: 200, Contains: []string{`\u003cform`, "/f/contact_us", "_website"}},
			{Name: "no snippet for a rep", Method: "GET", Path: "/api/meta/web_forms/contact_us/snippet", User: "rep1", Status: 403},
			{Name: "no snippet anonymously", Method: "GET", Path: "/api/meta/web_forms/contact_us/snippet", Status: 401},
		})
		// Seven leads: the plain, JSON and script ones, two burst and two
		// capped; none for the robot, the bad value or the refused.
		if n := count(t, s, "lead"); n != leads+7 {
			t.Fatalf("leads: %d, want %d", n, leads+7)
		}
		status, m := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`person == "Evil"`), "admin", "")
		items, _ := m["items"].([]any)
		if status != 200 || len(items) != 1 || items[0].(map[string]any)["description"] != script {
			t.Fatalf("the script was not stored as text: %d %v", status, m)
		}
		evil := items[0].(map[string]any)
		if evil["source"] != "web" || (evil["owner_id"] != s.UserID("rep1") && evil["owner_id"] != s.UserID("rep2")) {
			t.Errorf("a web lead is assigned by the rules: %v", evil)
		}
		if status, m := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`person == "C1"`), "admin", ""); status != 200 || m["items"].([]any)[0].(map[string]any)["owner_id"] != s.UserID("manager") {
			t.Errorf("a lead no rule assigns goes to the form's owner: %v", m)
		}
		if status, m := s.Do("GET", "/api/records/lead?filter="+apitest.Query(`person == "Robot"`), "admin", ""); status != 200 || len(m["items"].([]any)) != 0 {
			t.Errorf("the honeypot submission was stored: %v", m)
		}
	})
}
