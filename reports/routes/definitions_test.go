package routes_test

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/crmplatform/crm/internal/apitest"
)

// adhoc runs an ad-hoc report definition as user.
func adhoc(t *testing.T, s *apitest.Server, user, def string, hdr map[string]string) map[string]any {
	t.Helper()
	status, m, raw := post(t, s, user, "/api/reports/run", def, hdr)
	if status != 200 {
		t.Fatalf("POST /api/reports/run as %s: %d %s", user, status, raw)
	}
	return m
}

// byKey indexes the detail rows of a result by their "_group" path.
func byKey(t *testing.T, res map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range rows(t, res) {
		out[r["_group"].(string)] = r
	}
	return out
}

func TestAggregates(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		res := adhoc(t, s, "admin", `{"name": "aggs", "object": "opportunity", "kind": "summary",
			"group_by": [{"field": "stage"}],
			"aggregates": [
				{"name": "n", "func": "count"},
				{"name": "with_close", "func": "count", "field": "close_date"},
				{"name": "total", "func": "sum", "field": "amount"},
				{"name": "mean", "func": "avg", "field": "amount"},
				{"name": "least", "func": "min", "field": "amount"},
				{"name": "most", "func": "max", "field": "amount"},
				{"name": "first_close", "func": "min", "field": "close_date"},
				{"name": "accounts", "func": "count_distinct", "field": "account"}]}`, nil)
		type agg struct {
			n, withClose     int64
			sum, least, most *big.Rat
			first            string
			accounts         map[string]bool
		}
		want := map[string]*agg{}
		for _, d := range f.deals {
			a := want[d.stage]
			if a == nil {
				a = &agg{sum: new(big.Rat), accounts: map[string]bool{}}
				want[d.stage] = a
			}
			v := apitest.Rat(t, d.amount)
			a.n++
			a.sum.Add(a.sum, v)
			if a.least == nil || v.Cmp(a.least) < 0 {
				a.least = v
			}
			if a.most == nil || v.Cmp(a.most) > 0 {
				a.most = v
			}
			if d.close != "" {
				a.withClose++
				if a.first == "" || d.close < a.first {
					a.first = d.close
				}
			}
			a.accounts[d.account] = true
		}
		got := byKey(t, res)
		if len(got) != len(want) {
			t.Fatalf("%d groups, want %d", len(got), len(want))
		}
		for stage, a := range want {
			row := got[stage]
			mean := apitest.RoundCents(new(big.Rat).Quo(a.sum, big.NewRat(a.n, 1)))
			if !eq(t, row["n"], big.NewRat(a.n, 1)) || !eq(t, row["with_close"], big.NewRat(a.withClose, 1)) ||
				!eq(t, row["total"], a.sum) || !eq(t, row["mean"], mean) || !eq(t, row["least"], a.least) || !eq(t, row["most"], a.most) ||
				!eq(t, row["accounts"], big.NewRat(int64(len(a.accounts)), 1)) {
				t.Errorf("%s: %v; want n %d, with close %d, sum %s, avg %s, min %s, max %s, accounts %d", stage, row, a.n, a.withClose,
					a.sum.FloatString(2), mean.FloatString(2), a.least.FloatString(2), a.most.FloatString(2), len(a.accounts))
			}
			if first, _ := row["first_close"].(string); first != a.first && !(a.first == "" && row["first_close"] == nil) {
				t.Errorf("%s: first close %v, want %q", stage, row["first_close"], a.first)
			}
		}
		// count_distinct cannot be summed: the totals come from their own query.
		tot := res["totals"].(map[string]any)
		if !eq(t, tot["accounts"], big.NewRat(int64(len(accountSeeds)), 1)) || !eq(t, tot["n"], big.NewRat(int64(len(f.deals)), 1)) {
			t.Errorf("totals %v", tot)
		}
	})
}

// activitySeeds are activities done (start instants in UTC).
var activitySeeds = []struct {
	creator, kind, account, starts string
}{
	{"rep1", "visit", "Acme", "2026-03-01T16:30:00Z"},     // Sunday in UTC, Monday 00:30 in Shanghai
	{"rep1", "call", "Acme", "2026-02-28T23:30:00Z"},      // February in UTC, March in Shanghai
	{"rep1", "call", "北方机床", "2026-03-31T17:00:00Z"},      // March in UTC, April in Shanghai
	{"rep2", "call", "Globex", "2026-03-08T12:00:00Z"},    // Sunday everywhere
	{"rep2", "email", "Globex", "2026-03-09T03:00:00Z"},   // Monday everywhere
	{"rep2", "meeting", "Globex", "2026-01-05T15:59:00Z"}, // Monday, 23:59 in Shanghai
	{"rep1", "visit", "Acme", "2026-07-01T07:30:00Z"},     // July 1 00:30 in Los Angeles (summer time), June 30 at its winter offset
}

// monday returns the Monday of t's week, as a date.
func monday(t time.Time) string {
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)).Format("2006-01-02")
}

func TestDateBucketsAndTimeZones(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		for _, a := range activitySeeds {
			s.Create(a.creator, "activity", fmt.Sprintf(`{"subject": "s", "kind": %q, "status": "done", "account": %q, "starts_at": %q}`, a.kind, f.ids[a.account], a.starts))
		}
		for _, zone := range []string{"UTC", "Asia/Shanghai", "America/Los_Angeles"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			for _, bucket := range []string{"day", "week", "month", "quarter", "year"} {
				t.Run(zone+"/"+bucket, func(t *testing.T) {
					res := adhoc(t, s, "admin", `{"name": "b", "object": "activity", "kind": "summary", "group_by": [{"field": "starts_at", "bucket": "`+bucket+`"}], "aggregates": [{"name": "n", "func": "count"}]}`,
						map[string]string{"X-Timezone": zone})
					want := map[string]int64{}
					// Each instant is bucketed at the zone's offset at that instant.
					for _, a := range activitySeeds {
						tt, _ := time.Parse(time.RFC3339, a.starts)
						tt = tt.In(loc)
						key := map[string]string{"day": tt.Format("2006-01-02"), "week": monday(tt), "month": tt.Format("2006-01"),
							"quarter": fmt.Sprintf("%d-Q%d", tt.Year(), (int(tt.Month())+2)/3), "year": tt.Format("2006")}[bucket]
						want[key]++
					}
					checkCounts(t, res, "n", want)
					// Buckets come in order.
					var order []string
					for _, r := range rows(t, res) {
						order = append(order, r["starts_at"].(string))
					}
					if !sort.StringsAreSorted(order) {
						t.Errorf("buckets out of order: %v", order)
					}
				})
			}
		}
		t.Run("a date is not moved by the zone; weeks start on Monday", func(t *testing.T) {
			res := adhoc(t, s, "admin", `{"name": "w", "object": "opportunity", "kind": "summary", "group_by": [{"field": "close_date", "bucket": "week"}], "aggregates": [{"name": "n", "func": "count"}]}`,
				map[string]string{"X-Timezone": "Asia/Shanghai"})
			want := map[string]int64{}
			for _, d := range f.deals {
				k := "*none" // the address of the week without a date
				if d.close != "" {
					tt, _ := time.Parse("2006-01-02", d.close)
					k = monday(tt)
				}
				want[k]++
			}
			got := byKey(t, res)
			for k, n := range want {
				if !eq(t, got[k]["n"], big.NewRat(n, 1)) {
					t.Errorf("week %q: %v, want %d", k, got[k], n)
				}
			}
			// The drill-down of a week is the records counted in it.
			st, list := get(t, s, "admin", "/api/reports/pipeline_by_stage_month/drill?group="+q("won/2026-03")+"&total=true", map[string]string{"X-Timezone": "Asia/Shanghai"})
			if st != 200 || !eq(t, list["total"], big.NewRat(1, 1)) {
				t.Errorf("drill: %d %v", st, list)
			}
		})
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestCalculations(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		res := adhoc(t, s, "admin", `{"name": "c", "object": "opportunity", "kind": "summary", "filter": "close_date != nil",
			"group_by": [{"field": "close_date", "bucket": "month"}],
			"aggregates": [{"name": "total", "func": "sum", "field": "amount"}],
			"calculations": [
				{"name": "share", "func": "percent_of_total", "of": "total"},
				{"name": "diff", "func": "difference", "of": "total"},
				{"name": "change", "func": "percent_change", "of": "total"},
				{"name": "cumulative", "func": "running_total", "of": "total"},
				{"name": "position", "func": "rank", "of": "total"}]}`, nil)
		sums := map[string]*big.Rat{}
		all := new(big.Rat)
		for _, d := range f.deals {
			if d.close == "" {
				continue
			}
			m := d.close[:7]
			if sums[m] == nil {
				sums[m] = new(big.Rat)
			}
			sums[m].Add(sums[m], apitest.Rat(t, d.amount))
			all.Add(all, apitest.Rat(t, d.amount))
		}
		months := keys(sums)
		pct := func(a, b *big.Rat) *big.Rat {
			r := new(big.Rat).Quo(a, b)
			return apitest.RoundCents(r.Mul(r, big.NewRat(100, 1)))
		}
		run := new(big.Rat)
		got := rows(t, res)
		if len(got) != len(months) {
			t.Fatalf("%d rows, want %d", len(got), len(months))
		}
		for i, m := range months {
			row := got[i]
			if row["close_date"] != m {
				t.Fatalf("row %d is %v, want %s", i, row["close_date"], m)
			}
			run.Add(run, sums[m])
			rank := int64(1)
			for _, o := range sums {
				if o.Cmp(sums[m]) > 0 {
					rank++
				}
			}
			var diff, change *big.Rat
			if i > 0 {
				prev := sums[months[i-1]]
				diff = new(big.Rat).Sub(sums[m], prev)
				change = pct(diff, prev)
			}
			if !eq(t, row["share"], pct(sums[m], all)) || !eq(t, row["diff"], diff) || !eq(t, row["change"], change) ||
				!eq(t, row["cumulative"], run) || !eq(t, row["position"], big.NewRat(rank, 1)) {
				t.Errorf("%s: %v; want share %v diff %v change %v cumulative %v rank %d", m, row, pct(sums[m], all), diff, change, run, rank)
			}
		}
		if tot := res["totals"].(map[string]any); !eq(t, tot["share"], big.NewRat(100, 1)) {
			t.Errorf("total share %v", tot["share"])
		}
		t.Run("sort and top N", func(t *testing.T) {
			res := adhoc(t, s, "admin", `{"name": "top", "object": "opportunity", "kind": "summary", "group_by": [{"field": "account"}],
				"aggregates": [{"name": "total", "func": "sum", "field": "amount"}], "sort": ["-total"], "limit": 2}`, nil)
			per := map[string]*big.Rat{}
			for _, d := range f.deals {
				if per[d.account] == nil {
					per[d.account] = new(big.Rat)
				}
				per[d.account].Add(per[d.account], apitest.Rat(t, d.amount))
			}
			names := keys(per)
			sort.Slice(names, func(i, j int) bool { return per[names[i]].Cmp(per[names[j]]) > 0 })
			got := rows(t, res)
			if len(got) != 2 {
				t.Fatalf("%d rows, want the top 2", len(got))
			}
			for i, row := range got {
				if row["account"] != f.ids[names[i]] || !eq(t, row["total"], per[names[i]]) {
					t.Errorf("row %d: %v, want %s with %s", i, row, names[i], per[names[i]].FloatString(2))
				}
				if lbl := row["_labels"].(map[string]any)["account"]; lbl != names[i] {
					t.Errorf("row %d: label %v, want the account's name %s", i, lbl, names[i])
				}
			}
			all := new(big.Rat)
			for _, v := range per {
				all.Add(all, v)
			}
			if !eq(t, res["totals"].(map[string]any)["total"], all) {
				t.Errorf("the totals of a top N cover every record: %v, want %s", res["totals"], all.FloatString(2))
			}
		})
		t.Run("funnel conversion", func(t *testing.T) {
			_, res := get(t, s, "admin", "/api/reports/pipeline_funnel/run", nil)
			counts := map[string]int64{}
			for _, d := range f.deals {
				if d.stage != "lost" {
					counts[d.stage]++
				}
			}
			var stages []string
			for _, st := range stageOrder {
				if counts[st] > 0 {
					stages = append(stages, st)
				}
			}
			got := rows(t, res)
			if len(got) != len(stages) {
				t.Fatalf("%d rows, want %d", len(got), len(stages))
			}
			for i, row := range got {
				reached := int64(0)
				for _, st := range stages[i:] {
					reached += counts[st]
				}
				var conv *big.Rat
				if i > 0 {
					prev := int64(0)
					for _, st := range stages[i-1:] {
						prev += counts[st]
					}
					conv = pct(big.NewRat(reached, 1), big.NewRat(prev, 1))
				}
				if row["stage"] != stages[i] || !eq(t, row["reached"], big.NewRat(reached, 1)) || !eq(t, row["conversion"], conv) {
					t.Errorf("row %d: %v; want %s reached %d conversion %v", i, row, stages[i], reached, conv)
				}
			}
		})
	})
}

func TestCrossObjectColumnsAndRights(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		def := `{"name": "x", "object": "opportunity", "kind": "summary", "group_by": [{"field": "account.industry"}],
			"aggregates": [{"name": "n", "func": "count"}, {"name": "total", "func": "sum", "field": "amount"}]}`
		for _, user := range []string{"admin", "rep1"} {
			t.Run(user, func(t *testing.T) {
				res := adhoc(t, s, user, def, map[string]string{"Accept-Language": "zh"})
				want := map[string]int64{}
				for _, d := range f.visible(user) {
					ind := f.industry[d.account]
					// An account the user may not read gives an empty industry,
					// never the account's.
					if user != "admin" && f.accounts[d.account] != user {
						ind = "*none" // the address of no value
					}
					want[ind]++
				}
				got := byKey(t, res)
				if len(got) != len(want) {
					t.Fatalf("groups %v, want %v", keys(got), want)
				}
				for k, n := range want {
					row := got[k]
					if !eq(t, row["n"], big.NewRat(n, 1)) {
						t.Errorf("industry %q: %v, want %d", k, row, n)
					}
				}
				if user == "rep1" {
					if _, ok := got["*none"]; !ok {
						t.Fatal("rep1's deal on an account they cannot read should be in the empty group")
					}
					if lbl := got["*none"]["_labels"].(map[string]any)["account.industry"]; lbl != "(空)" {
						t.Errorf("empty group label %v", lbl)
					}
					if lbl := got["retail"]["_labels"].(map[string]any)["account.industry"]; lbl != "零售" {
						t.Errorf("picklist label in Chinese: %v", lbl)
					}
				}
			})
		}
		t.Run("several hops: opportunity → account → owner", func(t *testing.T) {
			res := adhoc(t, s, "admin", `{"name": "h", "object": "opportunity", "kind": "tabular", "columns": [{"field": "name"}, {"field": "account.name"}, {"field": "account.owner_id"}, {"field": "account.parent.name"}], "sort": ["name"]}`, nil)
			got := rows(t, res)
			if len(got) != len(f.deals) {
				t.Fatalf("%d rows, want %d", len(got), len(f.deals))
			}
			for _, row := range got {
				var i int
				fmt.Sscanf(row["name"].(string), "Deal %d", &i)
				d := f.deals[i]
				if row["account.name"] != d.account || row["account.owner_id"] != f.ids[f.accounts[d.account]] {
					t.Errorf("%v: want account %s owned by %s", row, d.account, f.accounts[d.account])
				}
				if lbl := row["_labels"].(map[string]any)["account.owner_id"]; lbl == nil || lbl == "" {
					t.Errorf("%v: the owner's name is missing", row)
				}
			}
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a hidden field cannot be aggregated", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "account", "kind": "summary", "group_by": [{"field": "industry"}], "aggregates": [{"name": "r", "func": "sum", "field": "annual_revenue"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"annual_revenue"}},
			{Name: "nor grouped on", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "account", "kind": "summary", "group_by": [{"field": "credit_limit"}], "aggregates": [{"name": "n", "func": "count"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"credit_limit"}},
			{Name: "nor filtered on", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "account", "kind": "summary", "filter": "annual_revenue > 1000", "aggregates": [{"name": "n", "func": "count"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"annual_revenue"}},
			{Name: "nor shown through a lookup", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "activity", "kind": "tabular", "columns": [{"field": "subject"}, {"field": "account.credit_limit"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"account.credit_limit"}},
			{Name: "nor read by a formula", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "account", "kind": "tabular", "formulas": [{"name": "half", "type": "currency", "formula": "annual_revenue / 2"}], "columns": [{"field": "half"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"half"}},
			{Name: "the administrator may", Method: "POST", Path: "/api/reports/run", User: "admin",
				Body:   `{"name": "h", "object": "account", "kind": "summary", "group_by": [{"field": "industry"}], "aggregates": [{"name": "r", "func": "sum", "field": "annual_revenue"}]}`,
				Status: 200, Contains: []string{`"rows"`}},
			{Name: "a bad definition", Method: "POST", Path: "/api/reports/run", User: "admin",
				Body:   `{"name": "h", "object": "opportunity", "kind": "summary", "group_by": [{"field": "nope"}], "aggregates": [{"name": "n", "func": "sum"}]}`,
				Status: 422, Code: "invalid_metadata", Contains: []string{"/group_by/0/field", "/aggregates/0/field"}},
			{Name: "a formula outside SQL", Method: "POST", Path: "/api/reports/run", User: "admin",
				Body:   `{"name": "h", "object": "opportunity", "kind": "tabular", "formulas": [{"name": "u", "formula": "upper(name)"}], "columns": [{"field": "u"}]}`,
				Status: 422, Code: "invalid_metadata", Contains: []string{"upper()"}},
			{Name: "a formula of the wrong type", Method: "POST", Path: "/api/reports/run", User: "admin",
				Body:   `{"name": "h", "object": "opportunity", "kind": "tabular", "formulas": [{"name": "u", "type": "currency", "formula": "name"}], "columns": [{"field": "u"}]}`,
				Status: 422, Code: "invalid_metadata"},
			{Name: "unknown keys are refused", Method: "POST", Path: "/api/reports/run", User: "admin",
				Body:   `{"name": "h", "object": "opportunity", "colour": "red"}`,
				Status: 422, Code: "invalid_metadata", Contains: []string{"colour"}},
		})
	})
}
