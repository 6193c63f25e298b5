package reports_test

import (
	"context"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// TestFormulasInSQL translates row formulas and runs them on SQLite over
// amounts chosen to land on halves, comparing each record's value with
// the formula computed exactly in Go.
func TestFormulasInSQL(t *testing.T) {
	_, s, err := defaults.Load("standard")
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec(`CREATE TABLE "opportunity" ("amount" INTEGER, "stage" TEXT, "name" TEXT)`); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		cents int64
		stage string
	}
	recs := []rec{{1, "negotiation"}, {2, "qualify"}, {5, "qualify"}, {99999, "proposal"}, {150, "won"}, {0, "lost"}, {100001, "needs"}, {33333, "qualify"}}
	for _, r := range recs {
		if _, err := db.SQL().Exec(`INSERT INTO "opportunity" VALUES (?, ?, 'x')`, r.cents, r.stage); err != nil {
			t.Fatal(err)
		}
	}
	prob := map[string]int64{"qualify": 10, "needs": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}
	half := func(r *big.Rat, scale int64) string { // round half away from zero, as text
		x := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(scale), nil)))
		q, m := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(x.Denom()) >= 0 {
			q.Add(q, big.NewInt(int64(x.Sign())))
		}
		return q.String()
	}
	amount := func(r rec) *big.Rat { return big.NewRat(r.cents, 100) }
	cases := []struct {
		name, typ, formula string
		want               func(r rec) string
	}{
		{"weighted", "currency", "amount * option(stage).probability / 100", func(r rec) string {
			return half(new(big.Rat).Mul(amount(r), big.NewRat(prob[r.stage], 100)), 2)
		}},
		{"negative halves", "currency", "(amount - 500) * 0.5", func(r rec) string {
			return half(new(big.Rat).Mul(new(big.Rat).Sub(amount(r), big.NewRat(500, 1)), big.NewRat(1, 2)), 2)
		}},
		{"thirds", "currency", "amount / 3", func(r rec) string { return half(new(big.Rat).Quo(amount(r), big.NewRat(3, 1)), 2) }},
		{"minus a third", "currency", "-amount / 3", func(r rec) string { return half(new(big.Rat).Quo(amount(r), big.NewRat(-3, 1)), 2) }},
		{"tenths", "currency", "round(amount, 1)", func(r rec) string {
			tenths, _ := new(big.Int).SetString(half(amount(r), 1), 10)
			return tenths.Mul(tenths, big.NewInt(10)).String()
		}},
		{"condition", "integer", `stage == "won" || amount > 500 ? 1 : 0`, func(r rec) string {
			if r.stage == "won" || amount(r).Cmp(big.NewRat(500, 1)) > 0 {
				return "1"
			}
			return "0"
		}},
		{"label", "text", `label(stage, "zh")`, func(r rec) string {
			return map[string]string{"qualify": "初步接触", "needs": "需求分析", "proposal": "方案报价", "negotiation": "商务谈判", "won": "赢单", "lost": "输单"}[r.stage]
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ps := reports.Compile(s, &reports.Report{Name: "r", Object: "opportunity", Formulas: []reports.Formula{{Name: "v", Type: c.typ, Formula: c.formula}},
				Columns: []reports.Column{{Field: "v"}}})
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			e := &reports.Emitter{Dialect: metadata.DialectSQLite, Col: func(r *reports.Ref) string { return `"opportunity".` + store.Ident(r.Field.Name) }}
			rows, err := db.SQL().Query(`SELECT "amount", "stage", ` + p.Formulas["v"].SQL(e) + ` FROM "opportunity"`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var r rec
				var got string
				if err := rows.Scan(&r.cents, &r.stage, &got); err != nil {
					t.Fatal(err)
				}
				if want := c.want(r); got != want {
					t.Errorf("%s for %d cents, %s: %s, want %s", c.formula, r.cents, r.stage, got, want)
				}
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	_, s, err := defaults.Load("standard")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		r    reports.Report
		want []string
	}{
		{"unknown object", reports.Report{Object: "nope"}, []string{"/object"}},
		{"unknown field", reports.Report{Object: "opportunity", Kind: "summary", GroupBy: []reports.Group{{Field: "colour"}}, Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}}, []string{"/group_by/0/field", "colour"}},
		{"a path through a non-lookup", reports.Report{Object: "opportunity", Columns: []reports.Column{{Field: "stage.name"}}}, []string{"only a lookup"}},
		{"a bucket on text", reports.Report{Object: "opportunity", Kind: "summary", GroupBy: []reports.Group{{Field: "name", Bucket: "month"}}, Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}}, []string{"/group_by/0/bucket"}},
		{"sum of text", reports.Report{Object: "opportunity", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "sum", Field: "name"}}}, []string{"not a number"}},
		{"a roll-up in a report formula", reports.Report{Object: "account", Formulas: []reports.Formula{{Name: "v", Formula: "sum(opportunities, amount)"}}, Columns: []reports.Column{{Field: "v"}}}, []string{"/formulas/0/formula"}},
		{"a text function", reports.Report{Object: "account", Formulas: []reports.Formula{{Name: "v", Formula: "upper(name)"}}, Columns: []reports.Column{{Field: "v"}}}, []string{"upper()", "computed field"}},
		{"a formula of the wrong type", reports.Report{Object: "account", Formulas: []reports.Formula{{Name: "v", Type: "currency", Formula: "name"}}, Columns: []reports.Column{{Field: "v"}}}, []string{"/formulas/0"}},
		{"a bad filter", reports.Report{Object: "account", Filter: "name >>> 1", Columns: []reports.Column{{Field: "name"}}}, []string{"/filter"}},
		{"calculation of nothing", reports.Report{Object: "account", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}, Calculations: []reports.Calculation{{Name: "c", Func: "rank", Of: "x"}}}, []string{"/calculations/0/of"}},
		{"a ratio without by", reports.Report{Object: "account", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}, Calculations: []reports.Calculation{{Name: "c", Func: "ratio", Of: "n"}}}, []string{"/calculations/0/by"}},
		{"a return without by", reports.Report{Object: "account", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}, Calculations: []reports.Calculation{{Name: "c", Func: "return", Of: "n"}}}, []string{"/calculations/0/by", "return divides by"}},
		{"by on a running total", reports.Report{Object: "account", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}, Calculations: []reports.Calculation{{Name: "c", Func: "running_total", Of: "n", By: "n"}}}, []string{"/calculations/0/by", "only ratio, rate and return"}},
		{"a bad aggregate filter", reports.Report{Object: "opportunity", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "count", Filter: "colour == 1"}}}, []string{"/aggregates/0/filter", "colour"}},
		{"totals of a sum", reports.Report{Object: "opportunity", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "sum", Field: "amount", Totals: "sum"}}}, []string{"/aggregates/0/totals"}},
		{"totals of dates", reports.Report{Object: "opportunity", Kind: "summary", Aggregates: []reports.Aggregate{{Name: "n", Func: "max", Field: "close_date", Totals: "sum"}}}, []string{"/aggregates/0/totals", "adds numbers"}},
		{"totals in a tabular report", reports.Report{Object: "opportunity", Columns: []reports.Column{{Field: "name"}}, Aggregates: []reports.Aggregate{{Name: "n", Func: "max", Field: "amount", Totals: "sum"}}}, []string{"/aggregates/0/totals", "tabular"}},
		{"sort by nothing", reports.Report{Object: "account", Columns: []reports.Column{{Field: "name"}}, Sort: []string{"-x"}}, []string{"/sort/0"}},
		{"a user parameter on a text field", reports.Report{Object: "account", Columns: []reports.Column{{Field: "name"}}, Parameters: []reports.Parameter{{Name: "p", Type: "user", Field: "name"}}}, []string{"/parameters/0/field"}},
		{"a bad default period", reports.Report{Object: "opportunity", Columns: []reports.Column{{Field: "name"}}, Parameters: []reports.Parameter{{Name: "p", Type: "period", Field: "close_date", Default: "someday"}}}, []string{"/parameters/0/default"}},
		{"a matrix without across", reports.Report{Object: "account", Kind: "matrix", GroupBy: []reports.Group{{Field: "industry"}}, Aggregates: []reports.Aggregate{{Name: "n", Func: "count"}}}, []string{"/across"}},
		{"a chart of a tabular report", reports.Report{Object: "account", Columns: []reports.Column{{Field: "name"}}, Chart: &reports.Chart{Type: "bar"}}, []string{"/chart"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.Name = "r"
			_, ps := reports.Compile(s, &c.r)
			if len(ps) == 0 {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(ps.Error()+" "+paths(ps), w) {
					t.Errorf("the problems %v do not mention %q", ps, w)
				}
			}
		})
	}
}

func paths(ps metadata.Problems) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return strings.Join(out, " ")
}
