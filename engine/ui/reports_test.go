package ui_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestReportPages: reports, charts, drill-downs, exports and the home
// dashboard as each user may see them.
func TestReportPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, mgr := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "manager")
		acc := s.Create("rep1", "account", `{"name": "Hangzhou Tea Co"}`)
		close := time.Now().Format("2006-01-02")
		opp := s.Create("rep1", "opportunity", `{"name": "Tea machines", "account": "`+acc+`", "amount": "48000", "stage": "proposal", "close_date": "`+close+`"}`)
		acc2 := s.Create("rep2", "account", `{"name": "Rep2 Account"}`)
		s.Create("rep2", "opportunity", `{"name": "Rep2 Secret Deal", "account": "`+acc2+`", "amount": "777", "stage": "proposal", "close_date": "`+close+`"}`)
		drill := "/ui/reports/pipeline_funnel/drill?group=proposal"
		run(t, rep1, []pageCase{
			{name: "the reports in the menu", path: "/ui/", status: 200, contains: []string{`href="/ui/reports"`}},
			{name: "the reports the rep may run", path: "/ui/reports", status: 200, contains: []string{"Pipeline funnel", "/ui/reports/pipeline_funnel"}},
			{name: "a report with its parameters, chart and rows", path: "/ui/reports/pipeline_funnel", status: 200,
				contains:   []string{`<select id="p_period" name="period">`, `value="this_quarter"`, "/ui/reports/pipeline_funnel/chart.svg?width=1000", "Proposal", "48,000.00", `href="` + strings.ReplaceAll(drill, "&", "&amp;") + `"`},
				notContain: []string{"48,777", "export?format=csv"}},
			{name: "the chart is SVG", path: "/ui/reports/pipeline_funnel/chart.svg?width=400", status: 200, contains: []string{"<svg", "Proposal"}},
			{name: "the drill-down lists the records behind the group", path: drill, status: 200, contains: []string{"Tea machines", "/ui/o/opportunity/" + opp, "1 records"}, notContain: []string{"Rep2 Secret Deal"}},
			{name: "a rep may not export", path: "/ui/reports/pipeline_funnel/export?format=csv", status: 403},
			{name: "a bad parameter is explained", path: "/ui/reports/pipeline_funnel?period=someday", status: 400, contains: []string{`role="alert"`, "someday"}},
			{name: "an unknown report", path: "/ui/reports/nope", status: 404},
			{name: "the home dashboard", path: "/ui/", status: 200,
				contains: []string{"Open pipeline", `data-widget="counter"`, "/ui/reports/pipeline_funnel/chart.svg", "Closing this month", "Tea machines"}, notContain: []string{"Rep2 Secret Deal"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2's drill-down has none of rep1's", path: drill, status: 200, contains: []string{"Rep2 Secret Deal"}, notContain: []string{"Tea machines"}},
			{name: "rep2's home has none of rep1's", path: "/ui/", status: 200, notContain: []string{"Tea machines"}},
		})
		q := (time.Now().Month()-1)/3 + 1
		zh := signedIn(t, s, "rep1")
		zh.Header["Accept-Language"] = "zh-CN"
		run(t, zh, []pageCase{
			{name: "periods and buckets named in Chinese", path: "/ui/reports/weighted_forecast?period=this_year&by=quarter", status: 200,
				contains:   []string{`<option value="this_quarter">本季度</option>`, `<option value="quarter" selected>按季度</option>`, fmt.Sprintf("%d年第%d季度", time.Now().Year(), q)},
				notContain: []string{fmt.Sprintf(">%d-Q%d<", time.Now().Year(), q), ">this quarter<"}},
			{name: "months too", path: "/ui/reports/weighted_forecast?period=this_year&by=month", status: 200,
				contains: []string{fmt.Sprintf("%d年%d月", time.Now().Year(), time.Now().Month())}},
		})
		run(t, rep1, []pageCase{
			{name: "in English as they were", path: "/ui/reports/weighted_forecast?period=this_year&by=quarter", status: 200,
				contains: []string{`<option value="this_quarter">this quarter</option>`, fmt.Sprintf("%d-Q%d", time.Now().Year(), q)}},
		})
		run(t, mgr, []pageCase{
			{name: "the manager may export", path: "/ui/reports/pipeline_funnel", status: 200, contains: []string{"export?format=csv", "export?format=xlsx", "48,777.00"}},
		})
		st, body, resp := mgr.do("GET", "/ui/reports/pipeline_funnel/export?format=csv", nil)
		if st != 200 || !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "Proposal") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("export: %d %s %q", st, resp.Header.Get("Content-Disposition"), body)
		}
	})
}

// TestSalesHomeMyActivities: the sales home's "My activities this week"
// lists the reader's own planned activities (me()), not those of their
// team that the manager may read elsewhere.
func TestSalesHomeMyActivities(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		today := time.Now().UTC().Format("2006-01-02")
		for _, u := range []string{"manager", "rep1"} {
			s.Create(u, "activity", fmt.Sprintf(`{"subject": "Task of %s", "kind": "task", "status": "planned", "due_date": %q}`, u, today))
		}
		run(t, signedIn(t, s, "manager"), []pageCase{
			{name: "the manager's home", path: "/ui/", status: 200, contains: []string{"My activities this week", "Task of manager"}, notContain: []string{"Task of rep1"}},
			{name: "the manager reads the rep's task elsewhere", path: "/ui/o/activity", status: 200, contains: []string{"Task of rep1"}},
		})
		run(t, signedIn(t, s, "rep1"), []pageCase{
			{name: "the rep's home", path: "/ui/", status: 200, contains: []string{"Task of rep1"}, notContain: []string{"Task of manager"}},
		})
	})
}

// TestDashboardPages: a user switches between the dashboards offered to
// them, saves a copy as their own home, makes it home again after
// switching, and deletes it; another user neither sees nor deletes it.
func TestDashboardPages(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		save := url.Values{"from": {"overview"}, "name": {"my_overview"}, "label": {"My overview"}, "home": {"true"}}
		run(t, rep1, []pageCase{
			{name: "the home dashboard with the others to switch to", path: "/ui/", status: 200,
				contains: []string{`<h2 id="dashboard-h">Sales <span class="meta">(my home)</span>`, `<select id="dashboard" name="dashboard">`, `<option value="sales_home" selected>Sales</option>`, `<option value="overview">Overview</option>`,
					"Save as my own dashboard", `name="name" value="my_sales_home"`},
				notContain: []string{"Marketing", "Delete my dashboard"}},
			{name: "switched to another", path: "/ui/?dashboard=overview", status: 200, contains: []string{`<h2 id="dashboard-h">Overview</h2>`, `<option value="overview" selected>`}},
			{name: "one not offered", path: "/ui/?dashboard=marketing_home", status: 404},
			{name: "a bad name", method: "POST", path: "/ui/dashboards", form: url.Values{"from": {"overview"}, "name": {"My Overview"}}, status: 422},
			{name: "home is taken", method: "POST", path: "/ui/dashboards", form: url.Values{"from": {"overview"}, "name": {"home"}}, status: 422},
			{name: "saved as the rep's home", method: "POST", path: "/ui/dashboards", form: save, status: 303},
			{name: "the rep's own home now", path: "/ui/", status: 200,
				contains:   []string{`<h2 id="dashboard-h">My overview <span class="meta">(my home)</span>`, `<option value="my_overview" selected>My overview (mine)</option>`, "Delete my dashboard"},
				notContain: []string{`value="true"><button type="submit">Make it my home`}},
			{name: "back to Sales as home", method: "POST", path: "/ui/dashboards", form: url.Values{"from": {"sales_home"}, "name": {"my_sales"}, "home": {"true"}}, status: 303},
			{name: "the first copy offers to be home again", path: "/ui/?dashboard=my_overview", status: 200, contains: []string{"Make it my home", "Delete my dashboard"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 has none of rep1's", path: "/ui/", status: 200, contains: []string{`<h2 id="dashboard-h">Sales`}, notContain: []string{"my_overview", "My overview"}},
			{name: "nor may open it", path: "/ui/?dashboard=my_overview", status: 404},
			{name: "nor delete it", method: "POST", path: "/ui/dashboards/my_overview/delete", status: 404},
		})
		run(t, rep1, []pageCase{
			{name: "made home again", method: "POST", path: "/ui/dashboards", form: save, status: 303},
			{name: "home", path: "/ui/", status: 200, contains: []string{`<h2 id="dashboard-h">My overview <span class="meta">(my home)</span>`}},
			{name: "deleted", method: "POST", path: "/ui/dashboards/my_overview/delete", status: 303},
			{name: "gone", path: "/ui/?flash=dashboard_deleted", status: 200, contains: []string{"The dashboard is deleted.", `<h2 id="dashboard-h">Sales`}, notContain: []string{"My overview"}},
		})
	})
}

// cellHref is the drill-down link of a report's cell as a page writes it
// in an attribute.
func cellHref(report, group, aggregate string) string {
	q := url.Values{"group": {group}}
	if aggregate != "" {
		q.Set("aggregate", aggregate)
	}
	return `href="/ui/reports/` + report + "/drill?" + strings.ReplaceAll(q.Encode(), "&", "&amp;") + `"`
}

// TestReportDrillByAggregate: a matrix cell drills to the records of its
// row and column keys, a summary's filtered aggregate to the records it
// counted (the won deals of a campaign, not its open ones), each as the
// user may read them.
func TestReportDrillByAggregate(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, mgr, agent := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "manager"), signedIn(t, s, "agent")
		now := time.Now().UTC().Format(time.RFC3339)
		for _, a := range []struct{ user, subject, kind string }{
			{"rep1", "Call Alpha", "call"}, {"rep1", "Call Beta", "call"}, {"rep1", "Meeting Gamma", "meeting"}, {"rep2", "Rep2 Call Delta", "call"},
		} {
			s.Create(a.user, "activity", fmt.Sprintf(`{"subject": %q, "kind": %q, "status": "done", "starts_at": %q}`, a.subject, a.kind, now))
		}
		id1 := s.UserID("rep1")
		callCell := "/ui/reports/activities_by_rep/drill?" + url.Values{"group": {id1 + "/call"}, "aggregate": {"activities"}}.Encode()
		run(t, rep1, []pageCase{
			{name: "each matrix cell links to its records", path: "/ui/reports/activities_by_rep", status: 200,
				contains: []string{cellHref("activities_by_rep", id1+"/call", "activities"), cellHref("activities_by_rep", id1+"/meeting", "activities"), cellHref("activities_by_rep", id1, "activities")}},
			{name: "the call cell lists the rep's calls only", path: callCell, status: 200,
				contains: []string{"Call Alpha", "Call Beta", "2 records"}, notContain: []string{"Meeting Gamma", "Rep2 Call Delta"}},
			{name: "the row's total cell lists all the rep's activities", path: "/ui/reports/activities_by_rep/drill?" + url.Values{"group": {id1}, "aggregate": {"activities"}}.Encode(), status: 200,
				contains: []string{"Call Alpha", "Meeting Gamma", "3 records"}, notContain: []string{"Rep2 Call Delta"}},
			{name: "an unknown aggregate is refused", path: callCell + "x", status: 400},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 following rep1's cell sees none of rep1's", path: callCell, status: 200, contains: []string{"0 records"}, notContain: []string{"Call Alpha", "Call Beta"}},
		})

		camp := s.Create("admin", "campaign", `{"name": "Spring fair", "actual_cost": 1000}`)
		acc := s.Create("rep1", "account", `{"name": "Fair Account"}`)
		for _, d := range []struct{ name, stage string }{{"Fair Won Deal", "won"}, {"Fair Open Deal", "proposal"}} {
			s.Create("rep1", "opportunity", fmt.Sprintf(`{"name": %q, "account": %q, "campaign": %q, "stage": %q, "amount": 100}`, d.name, acc, camp, d.stage))
		}
		won := "/ui/reports/campaign_roi/drill?" + url.Values{"group": {camp}, "aggregate": {"won"}}.Encode()
		run(t, mgr, []pageCase{
			{name: "the campaign's cells link by aggregate", path: "/ui/reports/campaign_roi", status: 200,
				contains: []string{cellHref("campaign_roi", camp, "won"), cellHref("campaign_roi", camp, "deals"), cellHref("campaign_roi", camp, "")}},
			{name: "the won cell lists the won deal only", path: won, status: 200, contains: []string{"Fair Won Deal", "1 records"}, notContain: []string{"Fair Open Deal"}},
			{name: "the chart and the exports keep the parameters", path: "/ui/reports/campaign_roi?period=this_year", status: 200,
				contains: []string{"/ui/reports/campaign_roi/chart.svg?width=1000&amp;period=this_year", "/ui/reports/campaign_roi/export?format=csv&amp;period=this_year"}},
			{name: "the deals cell lists both", path: "/ui/reports/campaign_roi/drill?" + url.Values{"group": {camp}, "aggregate": {"deals"}}.Encode(), status: 200,
				contains: []string{"Fair Won Deal", "Fair Open Deal", "2 records"}},
		})
		run(t, agent, []pageCase{
			{name: "a user who may not read deals gets nothing", path: won, status: 404, notContain: []string{"Fair Won Deal"}},
		})
	})
}

// TestReportDrillNoValue: the row of a group without a value (deals whose
// account has no source) links to its records, as does each of its cells,
// in a one-level summary (revenue_by_source) and a matrix (source ×
// stage, a report added to the standard template); the whole report is
// still the drill-down without a group, another rep following the link
// sees only their own records, and a user who may not read deals nothing.
func TestReportDrillNoValue(t *testing.T) {
	t.Parallel()
	tmpl := defaults.WithBases(fstest.MapFS{
		"template.yaml": {Data: []byte("name: test\nextends: standard\n")},
		"reports/deals_by_source_stage.yaml": {Data: []byte(`name: deals_by_source_stage
label: {en: Deals by source and stage, zh: 按来源和阶段的机会}
object: opportunity
kind: matrix
group_by: [{field: account.source}]
across: [{field: stage}]
aggregates: [{name: n, label: {en: Deals, zh: 机会数}, func: count}]
`)},
	})
	apitest.Dialects(t, apitest.Options{Template: tmpl}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, agent := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "agent")
		accounts := map[string]string{
			"rep1 web": s.Create("rep1", "account", `{"name": "Sourced Co", "source": "web"}`),
			"rep1":     s.Create("rep1", "account", `{"name": "Bare Co"}`),
			"rep2":     s.Create("rep2", "account", `{"name": "Rep2 Bare Co"}`),
		}
		for _, d := range []struct{ user, account, name, stage string }{
			{"rep1", "rep1 web", "Web Deal", "won"}, {"rep1", "rep1", "Bare Won Deal", "won"}, {"rep1", "rep1", "Bare Open Deal", "proposal"}, {"rep2", "rep2", "Rep2 Bare Deal", "won"},
		} {
			s.Create(d.user, "opportunity", fmt.Sprintf(`{"name": %q, "account": %q, "stage": %q, "amount": 100}`, d.name, accounts[d.account], d.stage))
		}
		drill := func(report, group, aggregate string) string {
			return html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(cellHref(report, group, aggregate), `href="`), `"`))
		}
		none := drill("revenue_by_source", "*none", "")
		run(t, rep1, []pageCase{
			{name: "the row without a source links to its records, cell by cell", path: "/ui/reports/revenue_by_source", status: 200,
				contains: []string{cellHref("revenue_by_source", "*none", "") + ">(none)</a>", cellHref("revenue_by_source", "*none", "won"), cellHref("revenue_by_source", "web", "")}},
			{name: "its records", path: none, status: 200, contains: []string{"Bare Won Deal", "Bare Open Deal", "2 records"}, notContain: []string{"Web Deal", "Rep2 Bare Deal"}},
			{name: "those its won cell counted", path: drill("revenue_by_source", "*none", "won"), status: 200,
				contains: []string{"Bare Won Deal", "1 records"}, notContain: []string{"Bare Open Deal", "Web Deal"}},
			{name: "the whole report", path: drill("revenue_by_source", "", ""), status: 200, contains: []string{"Bare Won Deal", "Bare Open Deal", "Web Deal", "3 records"}},
			{name: "the matrix row without a source links its cells", path: "/ui/reports/deals_by_source_stage", status: 200,
				contains: []string{cellHref("deals_by_source_stage", "*none", "") + ">(none)</a>", cellHref("deals_by_source_stage", "*none/won", "n"), cellHref("deals_by_source_stage", "*none/proposal", "n"), cellHref("deals_by_source_stage", "*none", "n")}},
			{name: "a cell of the matrix row without a source", path: drill("deals_by_source_stage", "*none/won", "n"), status: 200,
				contains: []string{"Bare Won Deal", "1 records"}, notContain: []string{"Bare Open Deal", "Web Deal", "Rep2 Bare Deal"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 following rep1's link sees their own only", path: none, status: 200, contains: []string{"Rep2 Bare Deal", "1 records"}, notContain: []string{"Bare Won Deal", "Bare Open Deal"}},
			{name: "and in the matrix cell", path: drill("deals_by_source_stage", "*none/won", "n"), status: 200, contains: []string{"Rep2 Bare Deal", "1 records"}, notContain: []string{"Bare Won Deal"}},
		})
		run(t, agent, []pageCase{
			{name: "a user who may not read deals gets nothing", path: none, status: 404, notContain: []string{"Bare Won Deal", "Rep2 Bare Deal"}},
			{name: "nor from the matrix", path: drill("deals_by_source_stage", "*none/won", "n"), status: 404, notContain: []string{"Bare Won Deal", "Rep2 Bare Deal"}},
		})
	})
}

// TestAdhocReport: any signed-in user builds a report on an object they
// may read, sees its rows and chart unsaved; the fields offered are
// those they may read, a hidden one posted is refused by the engine, and
// records out of their reach are never counted.
func TestAdhocReport(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, mkt := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "mkt")
		acc := s.Create("admin", "account", `{"name": "Adhoc Tea Co", "annual_revenue": 5000000, "owner_id": "`+s.UserID("rep1")+`"}`)
		for _, o := range []struct{ name, stage, amount string }{{"Adhoc One", "proposal", "1200"}, {"Adhoc Two", "proposal", "800"}, {"Adhoc Three", "won", "3000"}} {
			s.Create("rep1", "opportunity", fmt.Sprintf(`{"name": %q, "account": %q, "stage": %q, "amount": %s}`, o.name, acc, o.stage, o.amount))
		}
		s.Create("rep2", "opportunity", `{"name": "Rep2 Adhoc", "account": "`+s.Create("rep2", "account", `{"name": "Rep2 Co"}`)+`", "stage": "proposal", "amount": 99999}`)
		summary := "/ui/adhoc?" + url.Values{"object": {"opportunity"}, "kind": {"summary"}, "g1": {"stage"}, "af1": {"count"}, "af2": {"sum"}, "ax2": {"amount"},
			"sort": {"-sum_amount"}, "chart": {"bar"}, "run": {"1"}}.Encode()
		run(t, rep1, []pageCase{
			{name: "the reports page links the ad-hoc report", path: "/ui/reports", status: 200, contains: []string{`href="/ui/adhoc"`, "New ad-hoc report"}},
			{name: "the objects the rep may read", path: "/ui/adhoc", status: 200, contains: []string{`<option value="opportunity">`, `<option value="account">`}, notContain: []string{`name="kind"`}},
			{name: "the fields of the object", path: "/ui/adhoc?object=account", status: 200, contains: []string{`name="g1"`, `<option value="annual_revenue">`, `<option value="owner_id">`}},
			{name: "a summary by stage with a chart", path: summary, status: 200,
				contains:   []string{"Proposal", "2,000.00", "3,000.00", "5,000.00", "Sum of Amount", "/ui/adhoc/chart.svg?width=1000&amp;", "Save as my report", `action="/ui/adhoc/save"`},
				notContain: []string{"99,999", "101,999"}},
			{name: "its chart", path: strings.Replace(summary, "/ui/adhoc?", "/ui/adhoc/chart.svg?width=400&", 1), status: 200, contains: []string{"<svg", "Proposal", "Ad-hoc report"}, notContain: []string{">adhoc<"}},
			{name: "a tabular report with a filter", path: "/ui/adhoc?" + url.Values{"object": {"opportunity"}, "kind": {"tabular"}, "col": {"name", "amount"}, "filter": {`stage == "proposal"`}, "sort": {"name"}, "run": {"1"}}.Encode(), status: 200,
				contains: []string{"Adhoc One", "Adhoc Two", "/ui/o/opportunity/"}, notContain: []string{"Adhoc Three", "Rep2 Adhoc"}},
			{name: "a bad filter is explained", path: "/ui/adhoc?" + url.Values{"object": {"opportunity"}, "g1": {"stage"}, "filter": {"nope ==="}, "run": {"1"}}.Encode(), status: 422, contains: []string{`role="alert"`}},
			{name: "a bad sort is explained", path: "/ui/adhoc?" + url.Values{"object": {"opportunity"}, "g1": {"stage"}, "sort": {"nothing"}, "run": {"1"}}.Encode(), status: 422, contains: []string{`role="alert"`, "nothing is not a column"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2's summary counts none of rep1's", path: summary, status: 200, contains: []string{"99,999.00"}, notContain: []string{"5,000.00", "2,000.00"}},
		})
		// The proposal row drills to its deals, as the user may read them.
		_, body := rep1.get(summary)
		drill := regexp.MustCompile(`href="(/ui/adhoc/drill\?[^"]*group=proposal[^"]*)"`).FindAllStringSubmatch(body, -1)
		if len(drill) < 2 {
			t.Fatalf("the proposal row and its cells link no drill-down: %s", body)
		}
		row := html.UnescapeString(drill[0][1])
		run(t, rep1, []pageCase{
			{name: "a group's records", path: row, status: 200, contains: []string{"Adhoc One", "Adhoc Two", "2 records", `href="/ui/adhoc?`}, notContain: []string{"Adhoc Three", "Rep2 Adhoc"}},
			{name: "an aggregate's cell", path: html.UnescapeString(drill[1][1]), status: 200, contains: []string{"Adhoc One", "Adhoc Two"}, notContain: []string{"Adhoc Three"}},
		})
		run(t, rep2, []pageCase{
			{name: "rep2 following rep1's link sees only theirs", path: row, status: 200, contains: []string{"Rep2 Adhoc", "1 record"}, notContain: []string{"Adhoc One", "Adhoc Two"}},
		})
		run(t, mkt, []pageCase{
			{name: "marketing may not drill into deals", path: row, status: 403, notContain: []string{"Adhoc One"}},
		})
		revenue := "/ui/adhoc?" + url.Values{"object": {"account"}, "g1": {"name"}, "af1": {"sum"}, "ax1": {"annual_revenue"}, "run": {"1"}}.Encode()
		run(t, rep1, []pageCase{
			{name: "the rep may add up revenues", path: revenue, status: 200, contains: []string{"5,000,000"}},
		})
		run(t, mkt, []pageCase{
			{name: "marketing is offered no deals", path: "/ui/adhoc", status: 200, contains: []string{`<option value="account">`}, notContain: []string{`<option value="opportunity">`}},
			{name: "nor may run a report on them", path: summary, status: 403, notContain: []string{"Adhoc", "5,000.00"}},
			{name: "the hidden revenue is no choice", path: "/ui/adhoc?object=account", status: 200, contains: []string{`<option value="name">`}, notContain: []string{`value="annual_revenue"`}},
			{name: "and refused when posted", path: revenue, status: 422, contains: []string{"annual_revenue is hidden from you"}, notContain: []string{"5,000,000"}},
		})
	})
}

// TestSavedAdhocReport: a report defined on the ad-hoc page is saved as
// the user's own (the form carries its definition), listed as theirs,
// run under their rights and deleted; another user neither sees, runs nor
// deletes it, and a report the user could not run is not saved.
func TestSavedAdhocReport(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2, mkt := signedIn(t, s, "rep1"), signedIn(t, s, "rep2"), signedIn(t, s, "mkt")
		acc := s.Create("rep1", "account", `{"name": "Saved Tea Co"}`)
		s.Create("rep1", "opportunity", `{"name": "Saved One", "account": "`+acc+`", "stage": "proposal", "amount": 1200}`)
		s.Create("rep1", "opportunity", `{"name": "Saved Two", "account": "`+acc+`", "stage": "won", "amount": 3000.5}`)
		s.Create("rep2", "opportunity", `{"name": "Rep2 Saved", "account": "`+s.Create("rep2", "account", `{"name": "Rep2 Saved Co"}`)+`", "stage": "won", "amount": 77777}`)
		def := url.Values{"object": {"opportunity"}, "kind": {"summary"}, "g1": {"stage"}, "af1": {"sum"}, "ax1": {"amount"}, "chart": {"bar"}}
		save := func(name, label string) url.Values {
			f := url.Values{"name": {name}, "label": {label}}
			for k, v := range def {
				f[k] = v
			}
			return f
		}
		_, page := rep1.get("/ui/adhoc?" + def.Encode() + "&run=1")
		for _, carried := range []string{`<input type="hidden" name="ax1" value="amount">`, `<input type="hidden" name="g1" value="stage">`, `name="name" value="" required`} {
			if !strings.Contains(page, carried) {
				t.Errorf("the save form lacks %s", carried)
			}
		}
		run(t, rep1, []pageCase{
			{name: "a bad name", method: "POST", path: "/ui/adhoc/save", form: save("My Stages", ""), status: 422},
			{name: "saved", method: "POST", path: "/ui/adhoc/save", form: save("my_stages", "My stages"), status: 303},
			{name: "listed as mine", path: "/ui/reports?flash=report_saved", status: 200,
				contains: []string{"The report is saved", `<a href="/ui/reports/my_stages">My stages</a> <span class="meta">(mine)</span>`, `action="/ui/reports/my_stages/delete"`}},
			{name: "run as the rep", path: "/ui/reports/my_stages", status: 200,
				contains: []string{"My stages", "1,200.00", "3,000.50", "/ui/reports/my_stages/chart.svg", `action="/ui/reports/my_stages/delete"`}, notContain: []string{"77,777"}},
			{name: "a metadata report has no delete", path: "/ui/reports/lead_sources", status: 200, notContain: []string{"/delete"}},
		})
		// Edit opens it on the ad-hoc page, run, named to be saved again.
		st, _, resp := rep1.do("GET", "/ui/reports/my_stages/edit", nil)
		edit := resp.Header.Get("Location")
		if st != 303 || !strings.HasPrefix(edit, "/ui/adhoc?") {
			t.Fatalf("edit: %d to %q", st, edit)
		}
		run(t, rep1, []pageCase{
			{name: "opened on the ad-hoc page", path: edit, status: 200,
				contains: []string{`<option value="stage" selected>`, `<option value="sum" selected>`, `<option value="amount" selected>`, `<option value="bar" selected>`,
					"3,000.50", `name="name" value="my_stages"`, `name="label" value="My stages"`}},
			{name: "saved again by another value", method: "POST", path: "/ui/adhoc/save", form: func() url.Values {
				f := save("my_stages", "My stages")
				f.Set("af2", "count")
				return f
			}(), status: 303},
			{name: "which it shows", path: "/ui/reports/my_stages", status: 200, contains: []string{`<th scope="col" class="num">Records</th>`, "3,000.50"}},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "one saved through the API with a parameter", Method: "PUT", Path: "/api/reports/by_period", User: "rep1", Status: 200,
				Body: `{"name": "by_period", "object": "opportunity", "kind": "summary", "parameters": [{"name": "period", "type": "period", "field": "close_date"}],
					"group_by": [{"field": "stage"}], "aggregates": [{"name": "count", "func": "count"}]}`},
		})
		run(t, rep1, []pageCase{
			{name: "is not edited on the ad-hoc page", path: "/ui/reports/by_period/edit", status: 400, contains: []string{"PUT /api/reports/by_period"}},
		})
		run(t, rep2, []pageCase{
			{name: "nor opened by another", path: "/ui/reports/my_stages/edit", status: 404},
			{name: "not listed for another", path: "/ui/reports", status: 200, notContain: []string{"my_stages", "My stages"}},
			{name: "nor run by them", path: "/ui/reports/my_stages", status: 404, notContain: []string{"1,200.00"}},
			{name: "nor deleted by them", method: "POST", path: "/ui/reports/my_stages/delete", status: 404},
		})
		revenue := url.Values{"object": {"account"}, "kind": {"summary"}, "g1": {"name"}, "af1": {"sum"}, "ax1": {"annual_revenue"}, "name": {"revenue"}}
		run(t, mkt, []pageCase{
			{name: "a hidden field is not saved", method: "POST", path: "/ui/adhoc/save", form: revenue, status: 422, contains: []string{"annual_revenue is hidden from you"}},
			{name: "nothing saved", path: "/ui/reports", status: 200, notContain: []string{"/ui/reports/revenue"}},
			{name: "nor a report on deals they may not read", method: "POST", path: "/ui/adhoc/save", form: save("deals", ""), status: 403},
		})
		// A report on a field removed since is listed with the problem,
		// not run.
		s.Run(t, []apitest.Scenario{
			{Name: "a custom field", Method: "POST", Path: "/api/meta/objects/opportunity/fields", User: "admin", Status: 201, Body: `{"name": "tier", "type": "text"}`},
		})
		run(t, rep1, []pageCase{
			{name: "a report on it", method: "POST", path: "/ui/adhoc/save", form: url.Values{"object": {"opportunity"}, "kind": {"summary"}, "g1": {"tier"}, "name": {"by_tier"}}, status: 303},
		})
		s.Run(t, []apitest.Scenario{
			{Name: "the field removed", Method: "DELETE", Path: "/api/meta/objects/opportunity/fields/tier", User: "admin", Status: 200},
		})
		run(t, rep1, []pageCase{
			{name: "listed with its problem", path: "/ui/reports", status: 200,
				contains: []string{"This report no longer fits the object&#39;s fields:", "tier", `action="/ui/reports/by_tier/delete"`}, notContain: []string{`href="/ui/reports/by_tier"`}},
			{name: "not run", path: "/ui/reports/by_tier", status: 422},
			{name: "deleted anyway", method: "POST", path: "/ui/reports/by_tier/delete", status: 303},
			{name: "still there", path: "/ui/reports/my_stages", status: 200, contains: []string{"3,000.50"}},
			{name: "deleted", method: "POST", path: "/ui/reports/my_stages/delete", status: 303},
			{name: "gone", path: "/ui/reports?flash=report_deleted", status: 200, contains: []string{"The report is deleted."}, notContain: []string{"My stages"}},
			{name: "not found", path: "/ui/reports/my_stages", status: 404},
		})
	})
}

// TestDashboardEditor: a user edits their own dashboard (rename, label,
// width, title, add, reorder, remove a widget), each save checked as PUT
// /api/dashboards/{name} (a problem shown next to its widget, 422,
// nothing saved); another user's dashboard, or one offered to them, is
// 404.
func TestDashboardEditor(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1, rep2 := signedIn(t, s, "rep1"), signedIn(t, s, "rep2")
		run(t, rep1, []pageCase{
			{name: "a copy of its own", method: "POST", path: "/ui/dashboards", form: url.Values{"from": {"sales_home"}, "name": {"mine"}, "label": {"Mine"}}, status: 303},
			{name: "the home of its own offers the editor", path: "/ui/?dashboard=mine", status: 200, contains: []string{`href="/ui/dashboards/mine/edit"`}},
			{name: "one offered to the rep is not theirs to edit", path: "/ui/dashboards/sales_home/edit", status: 404},
			{name: "the editor", path: "/ui/dashboards/mine/edit", status: 200, contains: []string{`name="w0_type"`, `<option value="pipeline_funnel" selected>`, `name="n" value="`, `value="up:0" disabled`}, notContain: []string{`value="up:1" disabled`, `value="down:0" disabled`}},
		})
		st, body := rep1.get("/ui/dashboards/mine/edit")
		if st != 200 {
			t.Fatalf("editor: %d", st)
		}
		n := strings.Count(body, `<fieldset class="widget-edit"`)
		// The form as the browser would post it, widget 0 changed.
		form := func() url.Values {
			f := url.Values{"name": {"mine"}, "label": {"Mine"}, "n": {fmt.Sprint(n)}}
			for i := range n {
				for _, k := range []string{"type", "title", "report", "value", "object", "filter", "sort", "limit", "width", "from"} {
					key := fmt.Sprintf("w%d_%s", i, k)
					f.Set(key, inputValue(body, key))
				}
			}
			return f
		}
		bad := form()
		bad.Set("w1_type", "chart")
		bad.Set("w1_report", "accounts_not_contacted")
		renamed := form()
		renamed.Set("name", "my_board")
		renamed.Set("label", "My board")
		renamed.Set("w0_title", "Pipeline now")
		renamed.Set("w0_width", "12")
		add := form()
		add.Set("_op", "add")
		add.Set("add_type", "list")
		run(t, rep1, []pageCase{
			{name: "a tabular report is no chart: shown next to the widget", method: "POST", path: "/ui/dashboards/mine/edit", form: bad, status: 422,
				contains: []string{`id="w1_error"`, "accounts_not_contacted is tabular", "Nothing was saved"}},
			{name: "nothing saved", path: "/ui/dashboards/mine/edit", status: 200, contains: []string{`name="w1_type"`}, notContain: []string{`id="w1_error"`}},
			{name: "renamed, retitled, widened", method: "POST", path: "/ui/dashboards/mine/edit", form: renamed, status: 303},
			{name: "the old name is gone", path: "/ui/dashboards/mine/edit", status: 404},
			{name: "the new one", path: "/ui/?dashboard=my_board", status: 200, contains: []string{"My board", "Pipeline now", "w-12"}},
			{name: "Enter saves: the form's first button", path: "/ui/dashboards/my_board/edit", status: 200, contains: []string{`name="n" value="` + fmt.Sprint(n) + `">
  
  <button type="submit" name="_op" value="save" class="sr-only"`}},
			{name: "a new widget to fill in, unsaved", method: "POST", path: "/ui/dashboards/my_board/edit", form: func() url.Values { f := add; f.Set("name", "my_board"); return f }(), status: 200,
				contains: []string{fmt.Sprintf(`name="w%d_type"`, n), `<option value="list" selected>`}},
			{name: "filled in and saved", method: "POST", path: "/ui/dashboards/my_board/edit", form: func() url.Values {
				f := form()
				f.Set("name", "my_board")
				f.Set("n", fmt.Sprint(n+1))
				for k, v := range map[string]string{"type": "list", "object": "opportunity", "title": "My deals list", "width": "6", "limit": "5"} {
					f.Set(fmt.Sprintf("w%d_%s", n, k), v)
				}
				return f
			}(), status: 303},
			{name: "the list on the dashboard", path: "/ui/?dashboard=my_board", status: 200, contains: []string{"My deals list"}},
			{name: "an incomplete list is refused", method: "POST", path: "/ui/dashboards/my_board/edit", form: url.Values{"name": {"my_board"}, "n": {"1"}, "w0_type": {"list"}, "w0_width": {"6"}}, status: 422,
				contains: []string{`id="w0_error"`, "a list widget needs an object"}},
			{name: "each input says the kinds it is for", path: "/ui/dashboards/my_board/edit", status: 200,
				contains: []string{`<div class="field" data-widget="list"><label for="w0_object">`, `<div class="field" data-widget="counter"><label for="w0_value">`, `name="w0_type" data-widget-type>`}},
		})
		// A list turned into a counter: the list's inputs, hidden by the
		// page, are not read (they would make the counter invalid).
		switched := url.Values{"name": {"switched"}, "n": {"1"}, "w0_type": {"counter"}, "w0_width": {"4"}, "w0_report": {"pipeline_funnel"}, "w0_value": {"deals"},
			"w0_object": {"opportunity"}, "w0_filter": {`stage == "won"`}, "w0_sort": {"-amount"}, "w0_limit": {"5"}}
		run(t, rep1, []pageCase{
			{name: "saved as a copy to switch", method: "POST", path: "/ui/dashboards", form: url.Values{"from": {"my_board"}, "name": {"switched"}}, status: 303},
			{name: "a list switched to a counter saves", method: "POST", path: "/ui/dashboards/switched/edit", form: switched, status: 303},
		})
		if st, raw := s.Do("GET", "/api/dashboards/switched", "rep1", ""); st != 200 || strings.Contains(fmt.Sprint(raw), "won") || !strings.Contains(fmt.Sprint(raw), "value:deals") {
			t.Errorf("the switched widget: %d %v", st, raw)
		}
		// What the page does not edit is kept: the retitled widget's
		// Chinese title, the heights.
		zh := signedIn(t, s, "rep1")
		zh.Header["Accept-Language"] = "zh-CN"
		if st, body := zh.get("/ui/?dashboard=my_board"); st != 200 || !strings.Contains(body, "在途金额") || !strings.Contains(body, "销售漏斗") {
			t.Errorf("the Chinese titles were lost: %d %s", st, body)
		}
		if st, raw := s.Do("GET", "/api/dashboards/my_board", "rep1", ""); st != 200 || !strings.Contains(fmt.Sprint(raw), "h:5") {
			t.Errorf("the charts' height was lost: %d %v", st, raw)
		}
		st, body = rep1.get("/ui/dashboards/my_board/edit")
		if st != 200 || strings.Count(body, `<fieldset class="widget-edit"`) != n+1 {
			t.Fatalf("after adding: %d, %d widgets, want %d", st, strings.Count(body, `<fieldset class="widget-edit"`), n+1)
		}
		first := inputValue(body, "w0_title")
		n++
		reorder := form()
		reorder.Set("name", "my_board")
		reorder.Set("_op", "down:0")
		run(t, rep1, []pageCase{
			{name: "moved down", method: "POST", path: "/ui/dashboards/my_board/edit", form: reorder, status: 303},
		})
		if _, body = rep1.get("/ui/dashboards/my_board/edit"); inputValue(body, "w1_title") != first {
			t.Errorf("widget 0 (%q) not moved down: w1 is %q", first, inputValue(body, "w1_title"))
		}
		remove := form()
		remove.Set("name", "my_board")
		remove.Set("_op", "remove:0")
		run(t, rep1, []pageCase{
			{name: "removed", method: "POST", path: "/ui/dashboards/my_board/edit", form: remove, status: 303},
		})
		if _, body = rep1.get("/ui/dashboards/my_board/edit"); strings.Count(body, `<fieldset class="widget-edit"`) != n-1 {
			t.Errorf("after removing: %d widgets, want %d", strings.Count(body, `<fieldset class="widget-edit"`), n-1)
		}
		run(t, rep2, []pageCase{
			{name: "rep2 may not open rep1's", path: "/ui/dashboards/my_board/edit", status: 404, notContain: []string{"My board"}},
			{name: "nor save it", method: "POST", path: "/ui/dashboards/my_board/edit", form: url.Values{"name": {"my_board"}, "n": {"0"}}, status: 404},
		})
		run(t, rep1, []pageCase{
			{name: "rep1's is untouched", path: "/ui/?dashboard=my_board", status: 200, contains: []string{`<option value="my_board" selected>`}},
		})
	})
}

// inputValue returns the value of the input or the selected option of the
// select named name in a page ("" when none).
func inputValue(body, name string) string {
	i := strings.Index(body, `name="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if end := strings.Index(rest, ">"); strings.HasPrefix(body[strings.LastIndex(body[:i], "<"):], "<input") {
		tag := rest[:end]
		if j := strings.Index(tag, `value="`); j >= 0 {
			v := tag[j+7:]
			return html.UnescapeString(v[:strings.Index(v, `"`)])
		}
		return ""
	}
	sel := rest[:strings.Index(rest, "</select>")]
	j := strings.Index(sel, " selected>")
	if j < 0 {
		return ""
	}
	k := strings.LastIndex(sel[:j], `value="`)
	v := sel[k+7:]
	return html.UnescapeString(v[:strings.Index(v, `"`)])
}

// TestDashboardEditorParameters: a widget's report parameters are inputs
// of their own (a period's choices, a user's "me" and the id it had), the
// ones of another report chosen are shown by "Show its parameters"
// without saving, a parameter the new report lacks is dropped, and the
// parameters of a widget whose report the user may not run now are kept.
func TestDashboardEditorParameters(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		rep1 := signedIn(t, s, "rep1")
		me := s.UserID("rep1")
		s.Run(t, []apitest.Scenario{{Name: "a dashboard with parameters", Method: "PUT", Path: "/api/dashboards/params", User: "rep1", Status: 200,
			Body: `{"name": "params", "widgets": [{"type": "chart", "report": "pipeline_funnel", "params": {"period": "this_quarter", "owner": "` + me + `"}, "w": 6},
				{"type": "table", "report": "campaign_roi", "params": {"period": "this_year"}, "w": 6}]}`}})
		run(t, rep1, []pageCase{
			{name: "each parameter an input", path: "/ui/dashboards/params/edit", status: 200,
				contains: []string{`<select id="w0_p_period" name="w0_p_period">`, `<option value="this_quarter" selected>`, `<label for="w0_p_owner">Report parameter: Owner</label>`,
					`<option value="` + me + `" selected>` + me + `</option>`, `<input type="hidden" name="w1_p_period" value="this_year">`, `value="refresh"`,
					`<select id="w0_value" name="w0_value"><option value="">(the report&#39;s first)</option><option value="deals">`},
				notContain: []string{`id="w1_p_period"`}},
		})
		base := url.Values{"name": {"params"}, "n": {"2"}, "w0_type": {"chart"}, "w0_width": {"6"}, "w0_from": {"0"}, "w0_report": {"pipeline_funnel"},
			"w0_p_period": {"last_quarter"}, "w0_p_owner": {"me"}, "w1_type": {"table"}, "w1_width": {"6"}, "w1_from": {"1"}, "w1_report": {"campaign_roi"}, "w1_p_period": {"this_year"}}
		with := func(kv ...string) url.Values {
			f := url.Values{}
			for k, v := range base {
				f[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		run(t, rep1, []pageCase{
			{name: "another report's parameters shown, unsaved", method: "POST", path: "/ui/dashboards/params/edit", form: with("_op", "refresh", "w0_report", "activities_by_rep"), status: 200,
				contains: []string{`<select id="w0_p_period" name="w0_p_period">`, `<option value="last_quarter" selected>`}, notContain: []string{`id="w0_p_owner"`}},
		})
		if _, d := s.Do("GET", "/api/dashboards/params", "rep1", ""); !strings.Contains(fmt.Sprint(d["widgets"]), "this_quarter") {
			t.Errorf("refreshing saved: %v", d["widgets"])
		}
		run(t, rep1, []pageCase{
			{name: "saved with its new report", method: "POST", path: "/ui/dashboards/params/edit", form: with("w0_report", "activities_by_rep"), status: 303},
		})
		_, d := s.Do("GET", "/api/dashboards/params", "rep1", "")
		ws := d["widgets"].([]any)
		if p := ws[0].(map[string]any)["params"]; fmt.Sprint(p) != "map[period:last_quarter]" {
			t.Errorf("the new report's parameters: %v (the old report's owner must be dropped)", p)
		}
		if p := ws[1].(map[string]any)["params"]; fmt.Sprint(p) != "map[period:this_year]" {
			t.Errorf("the parameters of a report the rep may not run were lost: %v", p)
		}
	})
}
