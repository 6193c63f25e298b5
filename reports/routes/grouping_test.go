package routes_test

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestGroupingOnBooleansAndUsers groups by a boolean field, a boolean row
// formula and a user: keys, labels in the user's language, the natural
// order (false first, users by name) and counts computed here.
func TestGroupingOnBooleansAndUsers(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		f := newFixture(t, s)
		contacts := []struct {
			creator, account string
			decides          bool
		}{{"rep1", "Acme", true}, {"rep1", "Acme", false}, {"rep1", "北方机床", false}, {"rep2", "Globex", true}}
		for i, c := range contacts {
			s.Create(c.creator, "contact", fmt.Sprintf(`{"name": "Contact %d", "account": %q, "is_decision_maker": %t}`, i, f.ids[c.account], c.decides))
		}
		t.Run("a boolean field, in Chinese", func(t *testing.T) {
			res := adhoc(t, s, "manager", `{"name": "b", "object": "contact", "kind": "summary", "group_by": [{"field": "is_decision_maker"}],
				"aggregates": [{"name": "n", "func": "count"}]}`, map[string]string{"Accept-Language": "zh"})
			want := map[bool]int64{}
			for _, c := range contacts {
				want[c.decides]++
			}
			got := rows(t, res)
			if len(got) != 2 || got[0]["is_decision_maker"] != false || got[1]["is_decision_maker"] != true {
				t.Fatalf("rows %v: want false, then true", got)
			}
			for _, row := range got {
				v := row["is_decision_maker"].(bool)
				label := map[bool]string{true: "是", false: "否"}[v]
				if !eq(t, row["n"], big.NewRat(want[v], 1)) || row["_labels"].(map[string]any)["is_decision_maker"] != label || row["_group"] != fmt.Sprint(v) {
					t.Errorf("%v: want %d contacts labelled %s", row, want[v], label)
				}
			}
		})
		t.Run("a boolean formula and the owner", func(t *testing.T) {
			res := adhoc(t, s, "admin", `{"name": "b", "object": "opportunity", "kind": "summary",
				"formulas": [{"name": "big", "type": "boolean", "formula": "amount >= 1000"}],
				"group_by": [{"field": "owner_id"}, {"field": "big"}], "aggregates": [{"name": "n", "func": "count"}]}`, nil)
			want := map[string]int64{}
			for _, d := range f.deals {
				want[fmt.Sprintf("%s/%t", f.ids[d.owner], apitest.Rat(t, d.amount).Cmp(big.NewRat(1000, 1)) >= 0)]++
			}
			checkCounts(t, res, "n", want)
			// Users by display name, then false before true within each.
			var prev string
			for i, row := range rows(t, res) {
				lbl := row["_labels"].(map[string]any)
				name := lbl["owner_id"].(string)
				if name == "" || name == row["owner_id"] {
					t.Errorf("row %d: the owner's display name is missing: %v", i, lbl)
				}
				if name < prev {
					t.Errorf("row %d: owner %s after %s", i, name, prev)
				}
				if name == prev && row["big"] != true {
					t.Errorf("row %d: within an owner false comes first: %v", i, row)
				}
				if want := map[bool]string{true: "Yes", false: "No"}[row["big"].(bool)]; lbl["big"] != want {
					t.Errorf("row %d: label %v, want %s", i, lbl["big"], want)
				}
				prev = name
			}
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a rep's contacts only", Method: "POST", Path: "/api/reports/run", User: "rep2",
				Body:   `{"name": "b", "object": "contact", "kind": "summary", "group_by": [{"field": "is_decision_maker"}], "aggregates": [{"name": "n", "func": "count"}]}`,
				Status: 200, Contains: []string{`"totals":{"n":1}`}},
		})
	})
}

// TestManyGroupsInOrder runs a summary of more groups than the runner
// reads in one chunk of rows (150 accounts by industry and name, with
// subtotals): every account is one group, in the natural order (industries
// by option, no industry last, names as text), each industry followed by
// its subtotal, and the counts and paths computed here.
func TestManyGroupsInOrder(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		industries := []string{"manufacturing", "retail", "finance", "telecom", "healthcare", "it", "other"}
		var records []string
		perIndustry := map[string]int64{}
		for i := range 150 {
			industry := industries[(i*3)%len(industries)]
			if i%10 == 0 {
				industry = "" // no industry: the empty group, last
			}
			perIndustry[industry]++
			body := fmt.Sprintf(`{"name": "Bulk %03d"}`, 149-i) // names sent out of order
			if industry != "" {
				body = fmt.Sprintf(`{"name": "Bulk %03d", "industry": %q}`, 149-i, industry)
			}
			records = append(records, body)
		}
		if status, m := s.Do("POST", "/api/records/account/batch", "rep1", `{"records": [`+strings.Join(records, ", ")+`]}`); status != 201 {
			t.Fatalf("batch: %d %v", status, m)
		}
		res := adhoc(t, s, "rep1", `{"name": "many", "object": "account", "kind": "summary", "filter": "name startsWith \"Bulk \"",
			"group_by": [{"field": "industry"}, {"field": "name"}], "aggregates": [{"name": "n", "func": "count"}], "subtotals": true}`, nil)
		got := rows(t, res)
		if want := 150 + len(perIndustry); len(got) != want {
			t.Fatalf("%d rows, want %d (150 accounts and %d subtotals)", len(got), want, len(perIndustry))
		}
		rank := func(industry string) int {
			if industry == "" {
				return len(industries)
			}
			return slices.Index(industries, industry)
		}
		var prevIndustry, prevName string
		var inIndustry int64
		for i, row := range got {
			industry, _ := row["industry"].(string)
			if fmt.Sprint(row["_level"]) == "1" {
				addr := cmp.Or(industry, "*none") // the address of no industry
				if industry != prevIndustry || inIndustry != perIndustry[industry] || !eq(t, row["n"], big.NewRat(perIndustry[industry], 1)) || row["_group"] != addr {
					t.Fatalf("row %d: subtotal %v after %d accounts of %q, want %d of them", i, row, inIndustry, prevIndustry, perIndustry[industry])
				}
				continue
			}
			name := row["name"].(string)
			switch {
			case i > 0 && industry != prevIndustry && rank(industry) <= rank(prevIndustry):
				t.Fatalf("row %d: industry %q after %q", i, industry, prevIndustry)
			case industry != prevIndustry:
				inIndustry = 0
			case name <= prevName:
				t.Fatalf("row %d: %s after %s within %q", i, name, prevName, industry)
			}
			if !eq(t, row["n"], big.NewRat(1, 1)) || row["_group"] != industry+"/"+name {
				t.Errorf("row %d: %v, want one account with path %s/%s", i, row, industry, name)
			}
			prevIndustry, prevName = industry, name
			inIndustry++
		}
		if !eq(t, res["totals"].(map[string]any)["n"], big.NewRat(150, 1)) {
			t.Errorf("totals %v, want 150", res["totals"])
		}
	})
}
