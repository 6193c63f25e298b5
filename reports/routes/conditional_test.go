package routes_test

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// percentOf is a ÷ b × 100 rounded to two decimals (nil when b is zero).
func percentOf(a, b *big.Rat) *big.Rat {
	if b == nil || b.Sign() == 0 || a == nil {
		return nil
	}
	return apitest.RoundCents(new(big.Rat).Mul(new(big.Rat).Quo(a, b), big.NewRat(100, 1)))
}

// TestFilteredAggregatesRatiosAndSummedTotals checks aggregates limited by
// a filter, ratio and rate calculations, and an aggregate whose subtotals
// and totals add the rows' values, against figures computed here from the
// fixture, for a manager who reads their team's deals only.
func TestFilteredAggregatesRatiosAndSummedTotals(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		res := adhoc(t, s, "manager", `{"name": "won", "object": "opportunity", "kind": "summary",
			"group_by": [{"field": "owner_id"}, {"field": "account"}], "subtotals": true,
			"aggregates": [
				{"name": "deals", "func": "count"},
				{"name": "won", "func": "count", "filter": "stage == \"won\""},
				{"name": "won_amount", "func": "sum", "field": "amount", "filter": "stage == \"won\""},
				{"name": "open_amount", "func": "sum", "field": "amount", "filter": "stage not in [\"won\", \"lost\"]"},
				{"name": "biggest", "func": "max", "field": "amount", "totals": "sum"}],
			"calculations": [
				{"name": "win_rate", "func": "rate", "of": "won", "by": "deals"},
				{"name": "avg_won", "func": "ratio", "of": "won_amount", "by": "won"}]}`, nil)
		type cell struct {
			deals, won            int64
			wonAmount, openAmount *big.Rat
			biggest               *big.Rat
			hasWon, hasOpen       bool
		}
		add := func(m map[string]*cell, k string, d deal) *cell {
			c := m[k]
			if c == nil {
				c = &cell{wonAmount: new(big.Rat), openAmount: new(big.Rat)}
				m[k] = c
			}
			v := apitest.Rat(t, d.amount)
			c.deals++
			switch d.stage {
			case "won":
				c.won++
				c.wonAmount.Add(c.wonAmount, v)
				c.hasWon = true
			case "lost":
			default:
				c.openAmount.Add(c.openAmount, v)
				c.hasOpen = true
			}
			return c
		}
		detail, owners, total := map[string]*cell{}, map[string]*cell{}, map[string]*cell{}
		ownerOf := map[string]string{}
		for _, d := range f.visible("manager") {
			k := f.ids[d.owner] + "/" + f.ids[d.account]
			ownerOf[k] = f.ids[d.owner]
			c := add(detail, k, d)
			if v := apitest.Rat(t, d.amount); c.biggest == nil || v.Cmp(c.biggest) > 0 {
				c.biggest = v
			}
			add(owners, f.ids[d.owner], d)
			add(total, "", d)
		}
		// The summed totals add the rows' maxima.
		for k, c := range detail {
			for _, sum := range []*cell{owners[ownerOf[k]], total[""]} {
				if sum.biggest == nil {
					sum.biggest = new(big.Rat)
				}
				sum.biggest.Add(sum.biggest, c.biggest)
			}
		}
		check := func(where string, row map[string]any, c *cell) {
			t.Helper()
			orNil := func(r *big.Rat, ok bool) *big.Rat {
				if !ok {
					return nil
				}
				return r
			}
			var avg *big.Rat
			if c.won > 0 {
				avg = apitest.RoundCents(new(big.Rat).Quo(c.wonAmount, big.NewRat(c.won, 1)))
			}
			if !eq(t, row["deals"], big.NewRat(c.deals, 1)) || !eq(t, row["won"], big.NewRat(c.won, 1)) ||
				!eq(t, row["won_amount"], orNil(c.wonAmount, c.hasWon)) || !eq(t, row["open_amount"], orNil(c.openAmount, c.hasOpen)) ||
				!eq(t, row["biggest"], c.biggest) || !eq(t, row["win_rate"], percentOf(big.NewRat(c.won, 1), big.NewRat(c.deals, 1))) ||
				!eq(t, row["avg_won"], avg) {
				t.Errorf("%s: %v; want deals %d, won %d (%s), open %s, biggest %s, average won %v", where, row, c.deals, c.won,
					c.wonAmount.FloatString(2), c.openAmount.FloatString(2), c.biggest.FloatString(2), avg)
			}
		}
		var nDetail, nSub int
		for _, row := range rows(t, res) {
			g := row["_group"].(string)
			switch row["_level"].(json.Number).String() {
			case "2":
				nDetail++
				c := detail[g]
				if c == nil {
					t.Fatalf("unexpected group %s", g)
				}
				check("group "+g, row, c)
			case "1":
				nSub++
				check("subtotal "+g, row, owners[g])
			}
		}
		if nDetail != len(detail) || nSub != len(owners) {
			t.Errorf("%d groups and %d subtotals, want %d and %d", nDetail, nSub, len(detail), len(owners))
		}
		check("totals", res["totals"].(map[string]any), total[""])

		s.Run(t, []apitest.Scenario{
			{Name: "a hidden field cannot filter an aggregate", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "account", "kind": "summary", "group_by": [{"field": "industry"}], "aggregates": [{"name": "big", "func": "count", "filter": "annual_revenue > 1000"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"annual_revenue"}},
			{Name: "nor through a lookup", Method: "POST", Path: "/api/reports/run", User: "mkt",
				Body:   `{"name": "h", "object": "activity", "kind": "summary", "aggregates": [{"name": "big", "func": "count", "filter": "account.credit_limit > 0"}]}`,
				Status: 422, Code: "invalid_report", Contains: []string{"credit_limit"}},
		})
	})
}
