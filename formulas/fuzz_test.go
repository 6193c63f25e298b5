package formulas

import (
	"context"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// FuzzFormula compiles arbitrary formulas on the test schema and evaluates
// those that compile: neither may panic.
func FuzzFormula(f *testing.F) {
	for _, seed := range []string{
		`amount * option(stage).probability / 100`, `label(account.industry, "zh")`, `sum(opportunity, amount, stage == "won")`,
		`if(amount > 1, "a", "b")`, `case(stage, "won", 1, 2)`, `today() + 30`, `days_between(created_at, today())`,
		`account.parent.parent.name`, `owner.manager.name`, `all(tags, # != "a")`, `let x = 1; x + amount`, `concat(name, 1, nil)`,
		`1..3`, `[1, 2][5]`, `name[1:2]`, `amount / 0`, `int("x")`, `tags[0]`,
	} {
		f.Add(seed)
	}
	s := loadSchema(f)
	base := s.Clone()
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 300 {
			return
		}
		s := base.Clone()
		o, _ := s.Object("opportunity")
		o.Fields = append(o.Fields, &metadata.Field{Name: "fuzz", Type: "text", Formula: "string(" + src + ")"})
		c, ps := CompileSchema(s)
		if len(ps) > 0 {
			return
		}
		r := newMemResolver(s)
		rec := opp(idOpp1, idAcc1, "won", int64(100))
		_, _ = c.Object("opportunity").Compute(context.Background(), rec, r)
	})
}
