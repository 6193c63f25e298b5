package routes_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/apitest"
)

// TestEveryReportDrillsDown: every report of every built-in template, run
// by every user on the template's sample data (some of each object's
// records given to two reps), drills down to exactly what its cells
// count. For each row, matrix cell and the totals, the drill-down of a
// count aggregate has that many records, and that of a sum of a field of
// the base object adds up to the cell: the report and the list behind it
// apply the same rights and the same conditions. The standard template runs
// on both databases, the industry packs on SQLite.
func TestEveryReportDrillsDown(t *testing.T) {
	t.Parallel()
	apitest.EveryTemplate(t, func(t *testing.T, s *apitest.Server, _ string, fsys fs.FS) { drillsDown(t, s, fsys) })
}

// drillsDown loads the sample data of template fsys, installed on s, gives
// the first records of each object to rep1 and the next to rep2, and
// checks every report each user may run.
func drillsDown(t *testing.T, s *apitest.Server, fsys fs.FS) {
	res := s.LoadSample(fsys)
	s.RunJobs()
	for object := range res.Created {
		s.Give(object, 6, "rep1", "rep2")
	}
	users := []string{"admin"}
	for _, u := range apitest.Users {
		users = append(users, u.Username)
	}
	checked := 0
	for _, user := range users {
		_, list := get(t, s, user, "/api/reports", nil)
		items, _ := list["items"].([]any)
		for _, it := range items {
			checked += drillReport(t, s, user, it.(map[string]any)["name"].(string))
		}
	}
	if checked == 0 {
		t.Fatal("no cell was drilled into")
	}
	t.Logf("%d cells drilled into", checked)
}

// aggregateDef is what the test reads of a report's aggregate.
type aggregateDef struct {
	Name, Func, Field string
}

// drillReport runs report as user and drills into each cell of its count
// and sum aggregates; it returns how many cells it checked.
func drillReport(t *testing.T, s *apitest.Server, user, report string) int {
	t.Helper()
	st, def := get(t, s, user, "/api/reports/"+report, nil)
	if st != 200 {
		t.Errorf("%s reads report %s, which it is offered: %d %v", user, report, st, def)
		return 0
	}
	raw, _ := json.Marshal(def["report"].(map[string]any)["aggregates"])
	var aggs []aggregateDef
	if err := json.Unmarshal(raw, &aggs); err != nil {
		t.Fatal(err)
	}
	checkable := map[string]aggregateDef{}
	for _, a := range aggs {
		if a.Func == "count" || a.Func == "sum" && !strings.Contains(a.Field, ".") {
			checkable[a.Name] = a
		}
	}
	st, run := get(t, s, user, "/api/reports/"+report+"/run", nil)
	if st != 200 {
		t.Errorf("%s runs %s: %d %v", user, report, st, run)
		return 0
	}
	if run["kind"] == "tabular" {
		return 0 // its rows are records: nothing to drill into
	}
	n := 0
	cell := func(group string, col map[string]any, value any) {
		a, ok := checkable[aggregateOf(col)]
		if !ok {
			return
		}
		group += drillSuffix(col)
		where := fmt.Sprintf("%s: %s, group %q, %s", user, report, group, col["name"])
		q := url.Values{"group": {group}, "aggregate": {a.Name}, "total": {"exact"}, "limit": {"200"}}
		st, page := get(t, s, user, "/api/reports/"+report+"/drill?"+q.Encode(), nil)
		if st != 200 {
			t.Errorf("%s: drill %d %v", where, st, page)
			return
		}
		items, _ := page["items"].([]any)
		want := rat(t, value)
		switch a.Func {
		case "count":
			if got := rat(t, page["total"]); got.Cmp(want) != 0 {
				t.Errorf("%s: the cell counts %s, its drill-down lists %s", where, want.RatString(), got.RatString())
			}
		case "sum":
			if page["next_cursor"] != nil {
				return // more than a page: the count checks it
			}
			sum := new(big.Rat)
			for _, it := range items {
				v, isField := it.(map[string]any)[a.Field]
				if !isField {
					return // a column of the report's own (a row formula)
				}
				if v != nil {
					sum.Add(sum, rat(t, v))
				}
			}
			if sum.Cmp(want) != 0 {
				t.Errorf("%s: the cell sums %s, its drill-down's %d records %s", where, want.FloatString(2), len(items), sum.FloatString(2))
			}
		}
		n++
	}
	cols, _ := run["columns"].([]any)
	rows, _ := run["rows"].([]any)
	for _, c := range cols {
		col := c.(map[string]any)
		if col["role"] != "aggregate" {
			continue
		}
		for _, r := range rows {
			row := r.(map[string]any)
			if g, ok := row["_group"].(string); ok {
				cell(g, col, row[col["name"].(string)])
			}
		}
		if totals, _ := run["totals"].(map[string]any); totals != nil && aggregateOf(col) == col["name"] {
			cell("", col, totals[col["name"].(string)])
		}
	}
	return n
}

// aggregateOf names the aggregate of a result's aggregate column.
func aggregateOf(col map[string]any) string {
	if a, ok := col["aggregate"].(string); ok && a != "" {
		return a
	}
	n, _ := col["name"].(string)
	return n
}

// drillSuffix is what a matrix cell's column adds to its row's address
// (docs/reports.md): "/" and a segment per column key, "%", "/" and "*"
// escaped, no value an empty segment.
func drillSuffix(col map[string]any) string {
	across, ok := col["across"].([]any)
	if !ok {
		return ""
	}
	esc := strings.NewReplacer("%", "%25", "/", "%2F", "*", "%2A")
	var b strings.Builder
	for _, k := range across {
		b.WriteString("/")
		if k != nil {
			b.WriteString(esc.Replace(fmt.Sprint(k)))
		}
	}
	return b.String()
}

// rat reads a number of an answer (JSON number or its text; null is 0).
func rat(t *testing.T, v any) *big.Rat {
	t.Helper()
	if v == nil {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(fmt.Sprint(v))
	if !ok {
		t.Fatalf("not a number: %v", v)
	}
	return r
}
