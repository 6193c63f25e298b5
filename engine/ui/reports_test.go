package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestReportPages: reports, charts, drill-downs, exports and the home
// dashboard as each user may see them.
func TestReportPages(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db, apitest.Options{})
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
