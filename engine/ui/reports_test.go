package ui_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

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
