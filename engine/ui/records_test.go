package ui_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/internal/apitest"
)

func TestRecordPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		// A lead named like a script is created through the form and shown as text.
		st, body, resp := rep1.post("/ui/o/lead", url.Values{"person": {"<script>alert(1)</script>"}, "company": {"Acme & Co"},
			"country": {"cn"}, "province": {"zj"}, "status": {"new"}, "email": {"li@example.com"}})
		if st != 303 {
			t.Fatalf("create: %d %s", st, body)
		}
		lead := createdID(t, resp)
		acc := s.Create("rep1", "account", `{"name": "Rep1 Account"}`)
		other := s.Create("rep2", "account", `{"name": "Rep2 Secret Account"}`)
		s.Create("rep1", "opportunity", `{"name": "Big deal", "account": "`+acc+`", "amount": "1234567.5", "stage": "proposal"}`)
		camp := s.Create("admin", "campaign", `{"name": "Spring fair", "budget": "99999.00"}`)
		run(t, rep1, []pageCase{
			{name: "detail escapes values", path: "/ui/o/lead/" + lead, status: 200,
				contains:   []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Acme &amp; Co", "Zhejiang", "History"},
				notContain: []string{"<script>alert(1)"}},
			{name: "list shows own lead", path: "/ui/o/lead", status: 200, contains: []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "1 records"}},
			{name: "validation error next to its field", method: "POST", path: "/ui/o/lead", form: url.Values{"company": {"No person"}, "country": {"us"}, "province": {"zj"}},
				status: 422, contains: []string{`id="f_person_error"`, `aria-invalid="true"`, `id="f_province_error"`, `value="No person"`}},
			{name: "bad email next to its field", method: "POST", path: "/ui/o/lead", form: url.Values{"person": {"P"}, "email": {"not-an-email"}},
				status: 422, contains: []string{`id="f_email_error"`}},
			{name: "account detail with related opportunities", path: "/ui/o/account/" + acc, status: 200,
				contains: []string{"Rep1 Account", "Big deal", "/ui/o/opportunity/new?account=" + acc}},
			{name: "currency with scale in the list", path: "/ui/o/opportunity", status: 200, contains: []string{"1,234,567.50", "Rep1 Account"}},
			{name: "currency input with its step", path: "/ui/o/opportunity/new?account=" + acc, status: 200,
				contains: []string{`step="0.01"`, "Amount with 2 decimal places", `type="date"`, `value="` + acc + `" selected`}},
			{name: "another rep's record is not found", path: "/ui/o/account/" + other, status: 404, notContain: []string{"Rep2 Secret Account"}},
			{name: "another rep's record is not listed", path: "/ui/o/account", status: 200, contains: []string{"Rep1 Account"}, notContain: []string{"Rep2 Secret Account"}},
			{name: "lookup search only finds readable records", path: "/ui/lookup/opportunity/account?_q=Account", status: 200,
				contains: []string{"Rep1 Account"}, notContain: []string{"Rep2 Secret Account"}},
			{name: "lookup search narrows", path: "/ui/lookup/opportunity/account?_q=zzz", status: 200, notContain: []string{"Rep1 Account"}},
			{name: "lookup search keeps the chosen record", path: "/ui/lookup/opportunity/account?_q=zzz&account=" + acc, status: 200, contains: []string{`value="` + acc + `" selected`}},
			{name: "cascade narrows", path: "/ui/cascade/lead/province?country=us", status: 200,
				contains: []string{"California", "New York"}, notContain: []string{"Zhejiang"}},
			{name: "hidden fields are absent from the detail", path: "/ui/o/campaign/" + camp, status: 200,
				contains: []string{"Spring fair"}, notContain: []string{"Budget", "99,999", "Actual cost"}},
			{name: "hidden fields are absent from the filter builder", path: "/ui/o/campaign", status: 200, notContain: []string{`value="budget"`}},
			{name: "filtering on a hidden field is refused", path: "/ui/o/campaign?filter=" + url.QueryEscape("budget > 1"), status: 400, notContain: []string{"Spring fair"}},
			{name: "filter builder", path: "/ui/o/lead?ff=company&fo=contains&fv=acme", status: 200, contains: []string{"1 records", `company contains &#34;acme&#34;`}},
			{name: "filter builder excludes", path: "/ui/o/lead?ff=company&fo=contains&fv=zzz", status: 200, contains: []string{"0 records"}},
			{name: "a bad filter is explained", path: "/ui/o/lead?filter=" + url.QueryEscape("nope == 1"), status: 400, contains: []string{`role="alert"`, "nope"}},
			{name: "sort link", path: "/ui/o/lead?sort=-person", status: 200, contains: []string{`aria-sort="descending"`}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 sees no lead of rep1", path: "/ui/o/lead", status: 200, notContain: []string{"alert(1)"}},
			{name: "rep2 cannot open it", path: "/ui/o/lead/" + lead, status: 404, notContain: []string{"alert(1)", "Acme"}},
			{name: "rep2 cannot edit it", path: "/ui/o/lead/" + lead + "/edit", status: 404},
		})
		// Edit: the form holds the version; a stale version is a conflict explained.
		st, body = rep1.get("/ui/o/lead/" + lead + "/edit")
		if st != 200 || !strings.Contains(body, `name="version" value="1"`) {
			t.Fatalf("edit form: %d %s", st, body)
		}
		form := url.Values{"person": {"Li Lei"}, "company": {"Acme & Co"}, "country": {"cn"}, "province": {"zj"}, "status": {"contacted"}, "version": {"1"}}
		if st, body, _ := rep1.post("/ui/o/lead/"+lead, form); st != 303 {
			t.Fatalf("update: %d %s", st, body)
		}
		form.Set("person", "Han Meimei")
		st, body, _ = rep1.post("/ui/o/lead/"+lead, form)
		if st != 409 || !strings.Contains(body, "changed by someone else") || !strings.Contains(body, "/ui/o/lead/"+lead+"/edit") {
			t.Fatalf("stale update: %d %s", st, body)
		}
		run(t, rep1, []pageCase{
			{name: "history shows the tracked change", path: "/ui/o/lead/" + lead, status: 200, contains: []string{"Li Lei", "Contacted"}},
		})
		// Chinese: from the browser, then chosen and remembered.
		zh := signedIn(t, s, "rep1")
		zh.Header["Accept-Language"] = "zh-CN,zh;q=0.9"
		run(t, zh, []pageCase{
			{name: "chinese from the browser", path: "/ui/o/lead/" + lead, status: 200, contains: []string{"线索", "浙江", "修改历史", `lang="zh-CN"`}},
		})
		delete(zh.Header, "Accept-Language")
		if st, _, _ := zh.post("/ui/lang", url.Values{"lang": {"zh"}, "back": {"/ui/o/lead"}}); st != 303 {
			t.Fatalf("language switch: %d", st)
		}
		run(t, zh, []pageCase{
			{name: "chinese remembered", path: "/ui/o/lead", status: 200, contains: []string{"新建", "筛选"}},
			{name: "chinese validation messages", method: "POST", path: "/ui/o/lead", form: url.Values{"company": {"x"}}, status: 422, contains: []string{`id="f_person_error"`}},
		})
		// Remembered for the user: signing in on another browser, and what the platform sends them.
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "chinese on another browser", path: "/ui/", status: 200, contains: []string{"欢迎，", `lang="zh-CN"`}},
		})
		run(t, signedIn(t, s, "rep2"), []pageCase{
			{name: "another user keeps English", path: "/ui/", status: 200, contains: []string{"Welcome, "}, notContain: []string{"欢迎"}},
		})
		if u, err := s.Platform.Access.GetUser(t.Context(), "rep1"); err != nil || u.Language != "zh" {
			t.Errorf("rep1's language: %v %v", u, err)
		}
	})
}

func TestSavedViews(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		s.Create("rep1", "lead", `{"person": "Wang", "company": "Big Co"}`)
		s.Create("rep1", "lead", `{"person": "Zhao", "company": "Small Co"}`)
		s.Create("rep2", "lead", `{"person": "Qian", "company": "Big Two"}`)
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		rep1.get("/ui/o/lead")
		st, body, resp := rep1.post("/ui/views/lead", url.Values{"name": {"Big ones"}, "filter": {`company contains "big"`}, "sort": {"person"}, "cols": {"person,company,budget"}, "role": {"sales_rep"}})
		if st != 303 {
			t.Fatalf("save view: %d %s", st, body)
		}
		loc := resp.Header.Get("Location")
		run(t, rep1, []pageCase{
			{name: "the view lists", path: loc, status: 200, contains: []string{"Big ones", "Wang", "1 records"}, notContain: []string{"Zhao", "Qian"}},
			{name: "a bad filter is not saved", method: "POST", path: "/ui/views/lead", form: url.Values{"name": {"bad"}, "filter": {"nope > 1"}}, status: 400},
			{name: "a view needs a name", method: "POST", path: "/ui/views/lead", form: url.Values{"name": {""}}, status: 422},
		})
		// Shared with the role: rep2 sees the view, and through it only their own leads.
		run(t, rep2, []pageCase{
			{name: "shared view", path: loc, status: 200, contains: []string{"Big ones", "Qian"}, notContain: []string{"Wang"}},
		})
		id := loc[strings.Index(loc, "view=")+5 : strings.Index(loc, "&")]
		if st, _, _ := rep2.post("/ui/views/lead/"+id+"/delete", nil); st != 404 {
			t.Fatalf("rep2 deleting rep1's view: %d", st)
		}
		if st, _, _ := rep1.post("/ui/views/lead/"+id+"/delete", nil); st != 303 {
			t.Fatalf("deleting own view: %d", st)
		}
	})
}

// TestTemplateListViews: the standard template's list views appear on
// the lists of their object for the roles they name, and list through the
// engine as the viewer: rep1's "to contact next week" has their account
// with a call next week, not one with a call later nor rep2's.
func TestTemplateListViews(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		today := time.Now().UTC()
		nextMonday := today.AddDate(0, 0, 7-(int(today.Weekday())+6)%7)
		at := func(d time.Time) string {
			return time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, time.UTC).Format(time.RFC3339)
		}
		for _, a := range []struct{ user, name, when string }{
			{"rep1", "Soon Trading", at(nextMonday.AddDate(0, 0, 2))},
			{"rep1", "Later Trading", at(nextMonday.AddDate(0, 0, 14))},
			{"rep2", "Elsewhere Trading", at(nextMonday)},
		} {
			acc := s.Create(a.user, "account", fmt.Sprintf(`{"name": %q}`, a.name))
			s.Create(a.user, "activity", fmt.Sprintf(`{"subject": "Call", "kind": "call", "status": "planned", "starts_at": %q, "account": %q}`, a.when, acc))
		}
		view := "/ui/o/account?view=accounts_to_contact_next_week"
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "the account list offers the template's views", path: "/ui/o/account", status: 200,
				contains: []string{`href="/ui/o/account?view=accounts_to_contact_next_week" title="Accounts with an activity planned next week."`, "To contact next week", "Not contacted last week"}},
			{name: "the view lists the rep's account with a call next week", path: view, status: 200,
				contains: []string{"Soon Trading", `aria-current="page">To contact next week`}, notContain: []string{"Later Trading", "Elsewhere Trading"}},
			{name: "a view for service agents is not offered to a rep", path: "/ui/o/service_request", status: 200, notContain: []string{"service_requests_past_sla"}},
			{name: "nor opened by one", path: "/ui/o/service_request?view=service_requests_past_sla", status: 404},
		})
		run(t, signedIn(t, s, "agent"), []pageCase{
			{name: "an agent finds it", path: "/ui/o/service_request", status: 200, contains: []string{"?view=service_requests_past_sla", "Open past the SLA"}},
		})
		run(t, signedIn(t, s, "rep2"), []pageCase{
			{name: "rep2's view lists rep2's account only", path: view, status: 200, contains: []string{"Elsewhere Trading"}, notContain: []string{"Soon Trading"}},
		})
		// me() is the user reading: the manager, who reads the team's deals,
		// finds only their own in "My open deals", and a rep only theirs.
		for _, u := range []string{"manager", "rep1"} {
			acc := s.Create(u, "account", fmt.Sprintf(`{"name": "%s's account"}`, u))
			s.Create(u, "opportunity", fmt.Sprintf(`{"name": "Deal of %s", "account": %q}`, u, acc))
		}
		mine := "/ui/o/opportunity?view=my_open_deals"
		run(t, signedIn(t, s, "manager"), []pageCase{
			{name: "the manager's list has the team's deals", path: "/ui/o/opportunity", status: 200, contains: []string{"Deal of manager", "Deal of rep1"}},
			{name: "the manager's own", path: mine, status: 200, contains: []string{"Deal of manager"}, notContain: []string{"Deal of rep1"}},
		})
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "the rep's own", path: mine, status: 200, contains: []string{"Deal of rep1"}, notContain: []string{"Deal of manager"}},
		})
	})
}

// TestSharingPage: the owner shares a record from its page with another
// rep, who can then read it, and ends the share; the other rep, who
// reaches the record only through the share, may not manage its shares,
// and a rep who reaches nothing sees nothing.
func TestSharingPage(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		acc := s.Create("rep1", "account", `{"name": "Shared Trading"}`)
		page, shares := "/ui/o/account/"+acc, "/ui/o/account/"+acc+"/shares"
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		rep2ID := s.UserID("rep2")
		run(t, rep2, []pageCase{
			{name: "rep2 does not reach the account", path: page, status: 404, notContain: []string{"Shared Trading"}},
			{name: "nor its shares", path: shares, status: 404, notContain: []string{"Shared Trading"}},
			{name: "nor may share it", method: "POST", path: shares, form: url.Values{"user": {rep2ID}}, status: 404},
		})
		run(t, rep1, []pageCase{
			{name: "the record links its sharing page", path: page, status: 200, contains: []string{`href="` + shares + `"`, "Sharing"}},
			{name: "shared with nobody yet", path: shares, status: 200, contains: []string{"Not shared with anyone", `<option value="` + rep2ID + `">`, "Its details are shared along with it: ", "Contacts"}, notContain: []string{`value="` + s.UserID("rep1") + `"`}},
			{name: "an unknown user is refused", method: "POST", path: shares, form: url.Values{"user": {"nobody"}}, status: 404, contains: []string{"nobody"}},
		})
		rep1.get(shares)
		run(t, rep1, []pageCase{
			{name: "shared with rep2", method: "POST", path: shares, form: url.Values{"user": {rep2ID}, "access": {"read"}}, status: 303},
			{name: "rep2 listed for reading", path: shares + "?flash=shared", status: 200, contains: []string{"Shared.", "rep2", "Read", `action="` + shares + `/` + rep2ID + `/delete"`},
				notContain: []string{`<option value="` + rep2ID + `">`}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 reads the account now", path: page, status: 200, contains: []string{"Shared Trading"}},
			{name: "but may not manage its shares", path: shares, status: 403},
		})
		rep1.get(shares)
		run(t, rep1, []pageCase{
			{name: "stopped sharing", method: "POST", path: shares + "/" + rep2ID + "/delete", status: 303},
			{name: "nobody listed", path: shares, status: 200, contains: []string{"Not shared with anyone"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 no longer reaches it", path: page, status: 404, notContain: []string{"Shared Trading"}},
		})
	})
}

// TestListPages: a list longer than a page links its next page, and the
// next page links the first with the list's filter and sort intact.
func TestListPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		items := make([]string, 53)
		for i := range items {
			items[i] = fmt.Sprintf(`{"name": "Paged %02d", "industry": "retail"}`, i)
		}
		if st, raw := s.Do("POST", "/api/records/account/batch", "rep1", `{"records": [`+strings.Join(items, ",")+`]}`); st != 201 {
			t.Fatalf("batch: %d %v", st, raw)
		}
		rep := signedIn(t, s, "rep1")
		query := "ff=industry&fo=eq&fv=retail&sort=-name"
		st, body := rep.get("/ui/o/account?" + query)
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(body)
		if st != 200 || next == nil || !strings.Contains(body, "Paged 52") || strings.Contains(body, "Paged 02") {
			t.Fatalf("the first page: %d %s", st, body)
		}
		st, body = rep.get(html.UnescapeString(next[1]))
		if st != 200 || !strings.Contains(body, "Paged 02") || strings.Contains(body, "Paged 52") {
			t.Fatalf("the second page: %d %s", st, body)
		}
		first := `<a href="/ui/o/account?` + strings.ReplaceAll(query, "&", "&amp;") + `">First page</a>`
		if !strings.Contains(body, first) {
			t.Errorf("the second page does not link the first as %s: %s", first, body)
		}
	})
}
