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
	textScripts = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`)
	textAttrs   = regexp.MustCompile(`(?:placeholder|aria-label|title|alt)="([^"]*)"`)
	textTags    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// visibleText is what a page shows and says to people: its text and the
// placeholders, labels, titles and alternative texts of its elements (not
// its markup, names and values).
func visibleText(body string) string {
	body = textScripts.ReplaceAllString(body, " ")
	var b strings.Builder
	for _, m := range textAttrs.FindAllStringSubmatch(body, -1) {
		b.WriteString(html.UnescapeString(m[1]) + "\n")
	}
	b.WriteString(html.UnescapeString(textTags.ReplaceAllString(body, "\n")))
	return b.String()
}

// englishWords are English texts of the UI (its messages, the engine's
// errors, the templates' report descriptions and the builder's names)
// that a page in Chinese must not show. The pages' data are in Chinese,
// and words are matched whole and case-sensitively, so that ids,
// usernames, formulas in help texts and markup do not match.
var englishWords = regexp.MustCompile(`\b(Sign out|Save|Cancel|Delete|Edit|Search|Reports|Notifications|Approvals|Dashboard|Required|Filter|Mark as read|Welcome|Nothing|Records|Account|Accounts|Opportunity|Opportunities|Leads?|Contacts?|Quote|is required|not found|no report|Open and won|Calculations|On submit|On approved|Reopen on|Summary|Tabular|Subtotals|Quarter|required, unique|depends on|problem\(s\)|forbidden|denied|Marketing|The standard CRM)\b`)

// TestPagesInChinese: the main pages of every kind of user, read in
// Chinese, show no English text of the UI — messages, the engine's
// errors (a field left empty, a page not found, a dashboard widget whose
// report the user may not run), the report descriptions of the standard
// template and the builder's generated forms.
func TestPagesInChinese(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "华龙贸易"}`)
		con := s.Create("rep1", "contact", `{"name": "王芳", "email": "wang@hl.example", "account": "`+acc+`"}`)
		opp := s.Create("rep1", "opportunity", `{"name": "茶具采购", "account": "`+acc+`", "amount": "2000000", "stage": "proposal", "discount": 25}`)
		lead := s.Create("rep1", "lead", `{"person": "李雷", "company": "韩梅梅公司"}`)
		quote := s.Create("rep1", "quote", `{"name": "大堂茶具", "account": "`+acc+`"}`)
		camp := s.Create("mkt", "campaign", `{"name": "秋季品鉴会"}`)
		sr := s.Create("agent", "service_request", `{"subject": "设备故障", "kind": "repair", "priority": "high", "account": "`+acc+`"}`)
		pages := map[string][]string{
			"rep1": {"/ui/", "/ui/notifications", "/ui/account", "/ui/reports", "/ui/adhoc", "/ui/adhoc?object=opportunity&kind=summary&run=1&g1=stage&v1=count&chart=bar",
				"/ui/o/account", "/ui/o/account/" + acc, "/ui/o/account/" + acc + "/edit", "/ui/o/contact/" + con, "/ui/o/contact/" + con + "/edit",
				"/ui/o/opportunity", "/ui/o/opportunity/" + opp, "/ui/o/opportunity/" + opp + "/edit", "/ui/o/lead/" + lead, "/ui/o/lead/" + lead + "/convert",
				"/ui/o/quote/" + quote, "/ui/o/quote/" + quote + "/edit", "/ui/board/opportunity", "/ui/calendar/activity", "/ui/import/lead",
				"/ui/reports/pipeline_funnel", "/ui/reports/weighted_forecast", "/ui/reports/sales_vs_target", "/ui/reports/pipeline_funnel/drill?group=proposal",
				"/ui/o/account/00000000-0000-0000-0000-000000000000"},
			"manager": {"/ui/", "/ui/reports/sales_vs_target", "/ui/o/opportunity/" + opp},
			"mkt":     {"/ui/", "/ui/o/campaign/" + camp, "/ui/o/campaign/" + camp + "/edit", "/ui/reports/lead_sources"},
			"agent":   {"/ui/", "/ui/o/service_request/" + sr, "/ui/o/service_request/" + sr + "/edit", "/ui/reports/service_requests_by_priority"},
			"admin": {"/ui/", "/ui/admin", "/ui/admin/objects/account", "/ui/admin/objects/account/fields/name", "/ui/admin/roles/sales_rep",
				"/ui/admin/kinds/reports/pipeline_funnel", "/ui/admin/kinds/approvals/discount_approval", "/ui/admin/kinds/dashboards/sales_home",
				"/ui/admin/users", "/ui/admin/access", "/ui/admin/templates"},
		}
		for _, user := range []string{"rep1", "manager", "mkt", "agent", "admin"} {
			c := signedIn(t, s, user)
			c.Header["Accept-Language"] = "zh-CN"
			for _, path := range pages[user] {
				st, body := c.get(path)
				if want := 200; strings.HasSuffix(path, "00000000-0000-0000-0000-000000000000") && st != 404 || !strings.HasSuffix(path, "00000000-0000-0000-0000-000000000000") && st != want {
					t.Errorf("%s %s: %d", user, path, st)
					continue
				}
				if m := englishWords.FindAllString(visibleText(body), -1); m != nil {
					t.Errorf("%s %s in Chinese shows English: %q", user, path, m)
				}
			}
		}
		rep := signedIn(t, s, "rep1")
		rep.Header["Accept-Language"] = "zh-CN"
		rep.get("/ui/o/account/new")
		st, body, _ := rep.post("/ui/o/account", url.Values{"name": {""}})
		if st != 422 || !strings.Contains(body, "此项为必填项") || englishWords.MatchString(visibleText(body)) {
			t.Errorf("a field left empty, in Chinese: %d %s", st, visibleText(body))
		}
		st, body = signedInZh(t, s, "agent").get("/ui/")
		if st != 200 || !strings.Contains(body, "该组件的报表不存在，或未向您开放。") {
			t.Errorf("the agent's home says in Chinese why a widget is empty: %d %s", st, visibleText(body))
		}
	})
}

// signedInZh returns a client signed in as user reading in Chinese.
func signedInZh(t *testing.T, s *apitest.Server, user string) *client {
	c := signedIn(t, s, user)
	c.Header["Accept-Language"] = "zh-CN"
	return c
}
