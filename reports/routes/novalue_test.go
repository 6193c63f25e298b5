package routes_test

import (
	"fmt"
	"io/fs"
	"math/big"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/apitest"
)

// noValueReports are reports whose groups include one without a value:
// a picklist, a date bucket, a lookup, a picklist through a lookup, a text
// field holding both NULL and "" (written around the engine), a text
// formula (which reads an empty field as ""), two levels with subtotals
// and a matrix. Each counts the deals (n) and the won ones (won).
var noValueReports = map[string]string{
	"nv_method":   "group_by: [{field: sales_method}]",
	"nv_close":    "group_by: [{field: close_date, bucket: month}]",
	"nv_contact":  "group_by: [{field: contact}]",
	"nv_industry": "group_by: [{field: account.industry}]",
	"nv_step":     "group_by: [{field: next_step}]",
	"nv_formula":  "formulas: [{name: step, type: text, formula: next_step}]\ngroup_by: [{field: step}]",
	"nv_two":      "group_by: [{field: sales_method}, {field: close_date, bucket: month}]\nsubtotals: true",
	"nv_matrix":   "group_by: [{field: sales_method}]\nacross: [{field: close_date, bucket: month}]",
}

// noValueTemplate is the standard template with noValueReports.
func noValueTemplate(t *testing.T) fs.FS {
	files := fstest.MapFS{"template.yaml": {Data: []byte("name: test\nextends: standard\n")}}
	for name, dims := range noValueReports {
		kind := "summary"
		if strings.Contains(dims, "across") {
			kind = "matrix"
		}
		files["reports/"+name+".yaml"] = &fstest.MapFile{Data: fmt.Appendf(nil, `name: %s
label: {en: %s, zh: %s}
object: opportunity
kind: %s
%s
aggregates:
  - {name: n, label: {en: Deals, zh: 机会数}, func: count}
  - {name: won, label: {en: Won, zh: 赢单数}, func: count, filter: 'stage == "won"'}
`, name, name, name, kind, dims)}
	}
	return defaults.WithBases(files)
}

// nvDeal is an opportunity of TestDrillNoValue; an empty field is left
// out, and step emptyText is written as "" behind the engine's back.
type nvDeal struct {
	name, creator, account, stage, method, close, contact, step string
}

// emptyText is the step of a deal whose next_step is an empty text.
const emptyText = "(empty)"

// TestDrillNoValue drills into the groups without a value of summary and
// matrix reports (picklist, date bucket, lookup, a picklist through a
// lookup, text with NULL and "", a text formula, two levels, a matrix):
// every group row, subtotal and matrix cell has an address, and its
// drill-down lists exactly the records it counted, as the user may read
// them; the whole report is still the empty address, the old forms of an
// address still work, and a user who may not read the deals gets nothing.
func TestDrillNoValue(t *testing.T) {
	t.Parallel()
	apitest.Dialects(t, apitest.Options{Template: noValueTemplate(t)}, func(t *testing.T, s *apitest.Server) {
		ids := map[string]string{
			"Acme":     s.Create("rep1", "account", `{"name": "Acme", "industry": "retail"}`),
			"Nameless": s.Create("rep1", "account", `{"name": "Nameless"}`),
			"Globex":   s.Create("rep2", "account", `{"name": "Globex"}`),
		}
		ids["Li"] = s.Create("rep1", "contact", fmt.Sprintf(`{"name": "Li", "account": %q}`, ids["Acme"]))
		deals := []nvDeal{
			{"A1", "rep1", "Acme", "qualify", "direct", "2026-01-10", "Li", "call back"},
			{"A2", "rep1", "Acme", "proposal", "", "", "", emptyText},
			{"A3", "rep1", "Nameless", "won", "", "2026-02-01", "", ""},
			{"A4", "rep1", "Nameless", "qualify", "online", "", "", "send quote"},
			{"B1", "rep2", "Globex", "qualify", "", "", "", emptyText},
			{"B2", "rep2", "Globex", "won", "direct", "2026-01-20", "", "call back"},
		}
		for _, d := range deals {
			body := fmt.Sprintf(`{"name": %q, "account": %q, "stage": %q, "amount": 10`, d.name, ids[d.account], d.stage)
			for k, v := range map[string]string{"sales_method": d.method, "close_date": d.close, "contact": ids[d.contact], "next_step": d.step} {
				if v != "" && v != emptyText {
					body += fmt.Sprintf(", %q: %q", k, v)
				}
			}
			id := s.Create(d.creator, "opportunity", body+"}")
			if d.step == emptyText {
				if _, err := s.DB.SQL().ExecContext(t.Context(), store.Rebind(s.DB.Dialect, `UPDATE opportunity SET next_step = '' WHERE id = ?`), id); err != nil {
					t.Fatal(err)
				}
			}
		}
		// none tells whether a deal has no value in a report's first
		// dimension: the deals its "*none" address finds.
		none := map[string]func(nvDeal) bool{
			"nv_method":   func(d nvDeal) bool { return d.method == "" },
			"nv_close":    func(d nvDeal) bool { return d.close == "" },
			"nv_contact":  func(d nvDeal) bool { return d.contact == "" },
			"nv_industry": func(d nvDeal) bool { return d.account != "Acme" },
			"nv_step":     func(d nvDeal) bool { return d.step == "" || d.step == emptyText },
			"nv_formula":  func(d nvDeal) bool { return d.step == "" || d.step == emptyText },
			"nv_two":      func(d nvDeal) bool { return d.method == "" },
			"nv_matrix":   func(d nvDeal) bool { return d.method == "" },
		}
		// drill lists the names of the deals behind an address as user.
		drill := func(t *testing.T, user, report, group, aggregate string) []string {
			t.Helper()
			path := "/api/reports/" + report + "/drill?total=true&limit=500&group=" + q(group)
			if aggregate != "" {
				path += "&aggregate=" + aggregate
			}
			st, list := get(t, s, user, path, nil)
			if st != 200 {
				t.Fatalf("drill %q: %d %v", group, st, list)
			}
			var names []string
			for _, it := range list["items"].([]any) {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			if !eq(t, list["total"], big.NewRat(int64(len(names)), 1)) {
				t.Errorf("drill %q: total %v for %d records", group, list["total"], len(names))
			}
			slices.Sort(names)
			return names
		}
		for _, user := range []string{"admin", "rep1", "rep2"} {
			for report := range noValueReports {
				t.Run(user+" "+report, func(t *testing.T) {
					st, res := get(t, s, user, "/api/reports/"+report+"/run", nil)
					if st != 200 {
						t.Fatalf("run: %d %v", st, res)
					}
					var want []string
					for _, d := range deals {
						if d.creator == user || user == "admin" {
							if none[report](d) {
								want = append(want, d.name)
							}
						}
					}
					slices.Sort(want)
					seen := false
					for _, row := range rows(t, res) {
						g, _ := row["_group"].(string)
						if g == "" {
							t.Fatalf("a group row without an address: %v", row)
						}
						// Each row, subtotal and cell lists what it counted,
						// and each aggregate's cell what that one counted.
						cells := map[string]string{"n": g, "won": g}
						for name := range row {
							if _, keys, ok := strings.Cut(name, "@"); ok {
								cells[name] = g + "/" + keys
							}
						}
						for col, addr := range cells {
							agg, _, _ := strings.Cut(col, "@")
							if got := drill(t, user, report, addr, agg); !eq(t, row[col], big.NewRat(int64(len(got)), 1)) {
								t.Errorf("%s (%s of %v): drill lists %v", addr, col, row[col], got)
							}
						}
						if g == "*none" {
							seen = true
							if got := drill(t, user, report, g, ""); !slices.Equal(got, want) {
								t.Errorf("no value: %v, want %v", got, want)
							}
						}
					}
					if seen != (len(want) > 0) {
						t.Errorf("a row *none: %t, want %t (deals %v)", seen, len(want) > 0, want)
					}
					// The empty address is the whole report.
					if got := drill(t, user, report, "", ""); !eq(t, res["totals"].(map[string]any)["n"], big.NewRat(int64(len(got)), 1)) {
						t.Errorf("whole report: %v, want %v records", got, res["totals"])
					}
				})
			}
		}
		t.Run("the forms of an address", func(t *testing.T) {
			for _, c := range []struct {
				user, report, group string
				want                []string
			}{
				{"admin", "nv_matrix", "*none", []string{"A2", "A3", "B1"}},
				{"admin", "nv_matrix", "*none/", []string{"A2", "B1"}},
				{"admin", "nv_matrix", "/", []string{"A2", "B1"}},
				{"admin", "nv_matrix", "*none/*none", []string{"A2", "B1"}},
				{"admin", "nv_matrix", "*none/2026-02", []string{"A3"}},
				{"admin", "nv_matrix", "*/*none", []string{"A2", "A4", "B1"}},
				{"admin", "nv_matrix", "direct/*", []string{"A1", "B2"}},
				{"admin", "nv_two", "/*", []string{"A2", "A3", "B1"}},
				{"rep1", "nv_two", "*none/", []string{"A2"}},
				{"rep2", "nv_method", "*none", []string{"B1"}},
				{"rep2", "nv_industry", "*none", []string{"B1", "B2"}},
				{"rep1", "nv_step", "*none", []string{"A2", "A3"}},
				{"rep1", "nv_step", "call back", []string{"A1"}},
				{"admin", "nv_method", "", []string{"A1", "A2", "A3", "A4", "B1", "B2"}},
			} {
				if got := drill(t, c.user, c.report, c.group, ""); !slices.Equal(got, c.want) {
					t.Errorf("%s %s %q: %v, want %v", c.user, c.report, c.group, got, c.want)
				}
			}
		})
		s.Run(t, []apitest.Scenario{
			{Name: "a key *none is escaped", Method: "GET", Path: "/api/reports/nv_step/drill?group=%252Anone", User: "admin", Status: 200, Contains: []string{`"items":[]`}},
			{Name: "the agent may not read deals", Method: "GET", Path: "/api/reports/nv_method/drill?group=" + q("*none"), User: "agent", Status: 404, NotContain: []string{"A2", "B1"}},
			{Name: "nor a matrix cell of them", Method: "GET", Path: "/api/reports/nv_matrix/drill?group=" + q("*none/"), User: "agent", Status: 404, NotContain: []string{"A2", "B1"}},
		})
	})
}
