package routes_test

import (
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/crmplatform/crm/internal/apitest"
)

// cell is an expected group of the pipeline report.
type cell struct {
	deals            int64
	amount, weighted *big.Rat
}

// expectPipeline computes the pipeline by stage and month from deals.
func expectPipeline(t *testing.T, deals []deal) (map[string]*cell, *cell) {
	cells := map[string]*cell{}
	total := &cell{amount: new(big.Rat), weighted: new(big.Rat)}
	for _, d := range deals {
		month := ""
		if d.close != "" {
			month = d.close[:7]
		}
		k := d.stage + "/" + month
		c := cells[k]
		if c == nil {
			c = &cell{amount: new(big.Rat), weighted: new(big.Rat)}
			cells[k] = c
		}
		for _, x := range []*cell{c, total} {
			x.deals++
			x.amount.Add(x.amount, apitest.Rat(t, d.amount))
			x.weighted.Add(x.weighted, weighted(t, d))
		}
	}
	return cells, total
}

func TestPipelineByStageAndMonth(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		for _, user := range []string{"admin", "manager", "rep1", "rep2"} {
			t.Run(user, func(t *testing.T) {
				status, res := get(t, s, user, "/api/reports/pipeline_by_stage_month/run", nil)
				if status != 200 {
					t.Fatalf("status %d: %v", status, res)
				}
				want, total := expectPipeline(t, f.visible(user))
				seen := 0
				var order []string
				for _, row := range rows(t, res) {
					if row["_level"] != fmt.Sprint(2) && fmt.Sprint(row["_level"]) != "2" {
						continue // subtotals are checked below
					}
					stage, _ := row["stage"].(string)
					month, _ := row["close_date"].(string)
					c := want[stage+"/"+month]
					if c == nil {
						t.Fatalf("unexpected group %s/%s: %v", stage, month, row)
					}
					seen++
					if !eq(t, row["deals"], big.NewRat(c.deals, 1)) || !eq(t, row["amount"], c.amount) || !eq(t, row["weighted"], c.weighted) {
						t.Errorf("%s/%s: got %v %v %v, want %d %s %s", stage, month, row["deals"], row["amount"], row["weighted"], c.deals, c.amount.FloatString(2), c.weighted.FloatString(2))
					}
					order = append(order, stage)
					// The records behind the cell are exactly those counted.
					path := fmt.Sprintf("/api/reports/pipeline_by_stage_month/drill?group=%s&total=true&limit=500", q(row["_group"].(string)))
					st, list := get(t, s, user, path, nil)
					if st != 200 {
						t.Fatalf("drill %s: %d %v", row["_group"], st, list)
					}
					items := list["items"].([]any)
					sum := new(big.Rat)
					for _, it := range items {
						sum.Add(sum, num(t, it.(map[string]any)["amount"]))
					}
					if !eq(t, list["total"], big.NewRat(c.deals, 1)) || int64(len(items)) != c.deals || sum.Cmp(c.amount) != 0 {
						t.Errorf("drill %s: %v records summing %s, want %d summing %s", row["_group"], list["total"], sum.FloatString(2), c.deals, c.amount.FloatString(2))
					}
				}
				if seen != len(want) {
					t.Errorf("%d groups, want %d", seen, len(want))
				}
				// Stages come in option order.
				if !slices.IsSortedFunc(order, func(a, b string) int { return slices.Index(stageOrder, a) - slices.Index(stageOrder, b) }) {
					t.Errorf("stages out of option order: %v", order)
				}
				tot := res["totals"].(map[string]any)
				if !eq(t, tot["deals"], big.NewRat(total.deals, 1)) || !eq(t, tot["amount"], total.amount) || !eq(t, tot["weighted"], total.weighted) {
					t.Errorf("totals %v, want %d %s %s", tot, total.deals, total.amount.FloatString(2), total.weighted.FloatString(2))
				}
			})
		}
		t.Run("subtotals per stage", func(t *testing.T) {
			_, res := get(t, s, "admin", "/api/reports/pipeline_by_stage_month/run", nil)
			perStage := map[string]*big.Rat{}
			for _, d := range f.visible("admin") {
				if perStage[d.stage] == nil {
					perStage[d.stage] = new(big.Rat)
				}
				perStage[d.stage].Add(perStage[d.stage], apitest.Rat(t, d.amount))
			}
			found := 0
			for _, row := range rows(t, res) {
				if fmt.Sprint(row["_level"]) != "1" {
					continue
				}
				found++
				if !eq(t, row["amount"], perStage[row["stage"].(string)]) {
					t.Errorf("subtotal %v: amount %v, want %s", row["stage"], row["amount"], perStage[row["stage"].(string)].FloatString(2))
				}
			}
			if found != len(perStage) {
				t.Errorf("%d subtotals, want %d", found, len(perStage))
			}
		})
		t.Run("parameters", func(t *testing.T) {
			_, res := get(t, s, "manager", "/api/reports/pipeline_by_stage_month/run?owner="+f.ids["rep2"]+"&period=2026-01-01..2026-02-28", nil)
			var want []deal
			for _, d := range f.visible("manager") {
				if d.owner == "rep2" && d.close != "" && d.close <= "2026-02-28" {
					want = append(want, d)
				}
			}
			_, total := expectPipeline(t, want)
			if tot := res["totals"].(map[string]any); !eq(t, tot["deals"], big.NewRat(total.deals, 1)) || !eq(t, tot["amount"], total.amount) {
				t.Errorf("totals %v, want %d %s", tot, total.deals, total.amount.FloatString(2))
			}
			_, mine := get(t, s, "rep1", "/api/reports/pipeline_by_stage_month/run?owner=me", nil)
			_, all := get(t, s, "rep1", "/api/reports/pipeline_by_stage_month/run", nil)
			if fmt.Sprint(mine["totals"]) != fmt.Sprint(all["totals"]) {
				t.Errorf("owner=me for a rep: %v, want their whole pipeline %v", mine["totals"], all["totals"])
			}
		})
		t.Run("a deal shared with a rep counts in their report until unshared", func(t *testing.T) {
			shared, id := f.deals[9], f.dealIDs[9] // rep2's won deal at Globex
			totals := func() map[string]any {
				t.Helper()
				status, res := get(t, s, "rep1", "/api/reports/pipeline_by_stage_month/run", nil)
				if status != 200 {
					t.Fatalf("status %d: %v", status, res)
				}
				return res["totals"].(map[string]any)
			}
			expect := func(when string, deals []deal) {
				t.Helper()
				_, want := expectPipeline(t, deals)
				if tot := totals(); !eq(t, tot["deals"], big.NewRat(want.deals, 1)) || !eq(t, tot["amount"], want.amount) {
					t.Errorf("%s: rep1's totals %v, want %d deals of %s", when, tot, want.deals, want.amount.FloatString(2))
				}
			}
			own := f.visible("rep1")
			expect("before the share", own)
			if status, res, _ := post(t, s, "rep2", "/api/records/opportunity/"+id+"/shares", fmt.Sprintf(`{"user": %q, "access": "read"}`, f.ids["rep1"]), nil); status >= 300 {
				t.Fatalf("share: %d %v", status, res)
			}
			expect("shared", append(slices.Clone(own), shared))
			if status, res := s.Do("DELETE", "/api/records/opportunity/"+id+"/shares/"+f.ids["rep1"], "rep2", ""); status >= 300 {
				t.Fatalf("unshare: %d %v", status, res)
			}
			expect("unshared", own)
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a user who may not read opportunities cannot run it", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/run", User: "agent", Status: 404, Code: "not_found", NotContain: []string{"12000"}},
			{Name: "nor drill into it", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/drill?group=won", User: "agent", Status: 404, NotContain: []string{"Deal"}},
			{Name: "the list offers what each may run", Method: "GET", Path: "/api/reports", User: "agent", Status: 200, Contains: []string{"accounts_not_contacted"}, NotContain: []string{"pipeline_by_stage_month"}},
			{Name: "the list for a rep", Method: "GET", Path: "/api/reports", User: "rep1", Status: 200, Contains: []string{"pipeline_by_stage_month", "pipeline_funnel"}},
			{Name: "unknown report", Method: "GET", Path: "/api/reports/nope/run", User: "admin", Status: 404, Code: "not_found"},
			{Name: "unknown parameter", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/run?colour=red", User: "admin", Status: 400, Code: "bad_request", Contains: []string{"colour"}},
			{Name: "bad period", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/run?period=someday", User: "admin", Status: 400, Contains: []string{"parameter period: a period is one of"}},
			{Name: "a bad period, said in Chinese", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/run?period=someday", User: "admin", Header: map[string]string{"Accept-Language": "zh"}, Status: 400,
				Contains: []string{`参数“预计成交”：期间应为`, "someday"}, NotContain: []string{"a period is"}},
			{Name: "an unknown parameter, said in Chinese", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/run?colour=red", User: "admin", Header: map[string]string{"Accept-Language": "zh"}, Status: 400,
				Contains: []string{"没有参数 colour"}},
			{Name: "too many drill keys", Method: "GET", Path: "/api/reports/pipeline_by_stage_month/drill?group=a/b/c", User: "admin", Status: 400},
			{Name: "not signed in", Method: "GET", Path: "/api/reports", Status: 401},
		})
	})
}

func TestWeightedForecastByPeriod(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		for _, by := range []string{"week", "month", "quarter"} {
			t.Run(by, func(t *testing.T) {
				params := "?period=2026-01-01..2026-12-31&by=" + by
				status, res := get(t, s, "manager", "/api/reports/weighted_forecast/run"+params, nil)
				if status != 200 {
					t.Fatalf("%d %v", status, res)
				}
				want := map[string]*big.Rat{}
				count := map[string]int64{}
				for _, d := range f.visible("manager") {
					if d.stage == "lost" || d.close == "" {
						continue
					}
					day, _ := time.Parse("2006-01-02", d.close)
					k := map[string]string{"week": monday(day), "month": d.close[:7], "quarter": fmt.Sprintf("%d-Q%d", day.Year(), (int(day.Month())+2)/3)}[by]
					if want[k] == nil {
						want[k] = new(big.Rat)
					}
					want[k].Add(want[k], weighted(t, d))
					count[k]++
				}
				got := byKey(t, res)
				if len(got) != len(want) {
					t.Fatalf("periods %v, want %v", keys(got), keys(want))
				}
				for k, w := range want {
					if !eq(t, got[k]["weighted"], w) {
						t.Errorf("%s: weighted %v, want %s", k, got[k]["weighted"], w.FloatString(2))
					}
					_, list := get(t, s, "manager", "/api/reports/weighted_forecast/drill"+params+"&total=true&group="+q(k), nil)
					if !eq(t, list["total"], big.NewRat(count[k], 1)) {
						t.Errorf("drill %s: %v records, want %d", k, list["total"], count[k])
					}
				}
			})
		}
		s.Run(t, []apitest.Scenario{
			{Name: "a bad bucket", Method: "GET", Path: "/api/reports/weighted_forecast/run?by=decade", User: "manager", Status: 400, Contains: []string{"by"}},
		})
	})
}
