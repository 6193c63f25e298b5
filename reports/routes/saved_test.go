package routes_test

import (
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// myPipeline is a report rep1 saves: their deals counted by stage.
const myPipeline = `{"name": "my_pipeline", "label": {"en": "My pipeline"}, "object": "opportunity", "kind": "summary",
	"group_by": [{"field": "stage"}], "aggregates": [{"name": "deals", "func": "count"}, {"name": "amount", "func": "sum", "field": "amount"}]}`

// TestSavedReports: a user saves a report for themselves through the
// checks of a run by them, finds it among theirs, runs, drills and draws
// it under their rights, shows it on their own dashboard and deletes it;
// nobody else sees, runs, reads or deletes it, and a report they could
// not run is not saved.
func TestSavedReports(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		s.Run(t, []apitest.Scenario{
			{Name: "save", Method: "PUT", Path: "/api/reports/my_pipeline", User: "rep1", Body: myPipeline, Status: 200, Contains: []string{`"my_pipeline"`}},
			{Name: "listed as mine", Method: "GET", Path: "/api/reports", User: "rep1", Status: 200,
				Contains: []string{`"name":"my_pipeline","label":"My pipeline"`, `"source":"user"`, `"source":"metadata"`}},
			{Name: "its definition", Method: "GET", Path: "/api/reports/my_pipeline", User: "rep1", Status: 200,
				Contains: []string{`"source":"user"`, `"group_by":[{"field":"stage"}]`}},
			{Name: "not listed for another", Method: "GET", Path: "/api/reports", User: "rep2", Status: 200, NotContain: []string{"my_pipeline"}},
			{Name: "another cannot run it", Method: "GET", Path: "/api/reports/my_pipeline/run", User: "rep2", Status: 404},
			{Name: "nor drill it", Method: "GET", Path: "/api/reports/my_pipeline/drill?group=won", User: "rep2", Status: 404},
			{Name: "nor draw it", Method: "GET", Path: "/api/reports/my_pipeline/chart.svg", User: "rep2", Status: 404},
			{Name: "nor read it", Method: "GET", Path: "/api/reports/my_pipeline", User: "manager", Status: 404},
			{Name: "nor delete it", Method: "DELETE", Path: "/api/reports/my_pipeline", User: "rep2", Status: 404},
			{Name: "nor show it on a dashboard", Method: "PUT", Path: "/api/dashboards/theirs", User: "rep2", Status: 422, Code: "invalid_metadata",
				Body: `{"name": "theirs", "widgets": [{"type": "table", "report": "my_pipeline"}]}`, Contains: []string{"my_pipeline"}},
			{Name: "a hidden field is refused", Method: "PUT", Path: "/api/reports/revenue", User: "mkt", Status: 422, Code: "invalid_report",
				Body:     `{"name": "revenue", "object": "account", "kind": "summary", "group_by": [{"field": "industry"}], "aggregates": [{"name": "r", "func": "sum", "field": "annual_revenue"}]}`,
				Contains: []string{"annual_revenue"}},
			{Name: "in a filter too", Method: "PUT", Path: "/api/reports/revenue", User: "mkt", Status: 422, Code: "invalid_report",
				Body:     `{"name": "revenue", "object": "account", "kind": "summary", "filter": "annual_revenue > 1000", "aggregates": [{"name": "n", "func": "count"}]}`,
				Contains: []string{"annual_revenue"}},
			{Name: "and nothing was saved", Method: "GET", Path: "/api/reports", User: "mkt", Status: 200, NotContain: []string{`"revenue"`}},
			{Name: "roles are not mine to give", Method: "PUT", Path: "/api/reports/shared", User: "rep1", Status: 422, Code: "invalid_metadata",
				Body: `{"name": "shared", "object": "opportunity", "roles": ["sales_rep"]}`},
			{Name: "the name must match", Method: "PUT", Path: "/api/reports/other", User: "rep1", Status: 400, Body: myPipeline},
			{Name: "a bad definition", Method: "PUT", Path: "/api/reports/bad", User: "rep1", Status: 422, Code: "invalid_metadata",
				Body: `{"name": "bad", "object": "opportunity", "kind": "summary", "group_by": [{"field": "nope"}]}`, Contains: []string{"nope"}},
			{Name: "mine on my dashboard", Method: "PUT", Path: "/api/dashboards/mine", User: "rep1", Status: 200,
				Body: `{"name": "mine", "widgets": [{"type": "chart", "report": "my_pipeline"}, {"type": "counter", "report": "my_pipeline", "value": "amount"}]}`},
			{Name: "draw it", Method: "GET", Path: "/api/reports/my_pipeline/chart.svg", User: "rep1", Status: 200, Contains: []string{"<svg"}},
		})
		_, res := get(t, s, "rep1", "/api/reports/my_pipeline/run", nil)
		want := map[string]int64{}
		for _, d := range f.visible("rep1") {
			want[d.stage]++
		}
		checkCounts(t, res, "deals", want)
		status, page := get(t, s, "rep1", "/api/reports/my_pipeline/drill?group=proposal", nil)
		if items, _ := page["items"].([]any); status != 200 || int64(len(items)) != want["proposal"] {
			t.Errorf("drill into proposal: %d %v, want %d records", status, page, want["proposal"])
		}
		_, dash := get(t, s, "rep1", "/api/dashboards/mine", nil)
		for _, w := range dash["widgets"].([]any) {
			if w := w.(map[string]any); w["data"] == nil {
				t.Errorf("rep1's widget of their own report has no data: %v", w)
			}
		}

		// A saved report hides the metadata one of its name, for its
		// owner only.
		s.Run(t, []apitest.Scenario{
			{Name: "mine hides the metadata one", Method: "PUT", Path: "/api/reports/pipeline_funnel", User: "rep1", Status: 200,
				Body: strings.Replace(myPipeline, "my_pipeline", "pipeline_funnel", 1)},
			{Name: "for me", Method: "GET", Path: "/api/reports/pipeline_funnel", User: "rep1", Status: 200, Contains: []string{`"source":"user"`}},
			{Name: "not for others", Method: "GET", Path: "/api/reports/pipeline_funnel", User: "manager", Status: 200, Contains: []string{`"source":"metadata"`}},
			{Name: "delete it", Method: "DELETE", Path: "/api/reports/my_pipeline", User: "rep1", Status: 204},
			{Name: "gone", Method: "GET", Path: "/api/reports/my_pipeline/run", User: "rep1", Status: 404},
			{Name: "its widget says so", Method: "GET", Path: "/api/dashboards/mine", User: "rep1", Status: 200, Contains: []string{`"code":"not_found"`}},
			{Name: "a metadata report is not mine to delete", Method: "DELETE", Path: "/api/reports/lead_sources", User: "rep1", Status: 404},
		})
	})
}
