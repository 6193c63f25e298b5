package formulas_test

import (
	"context"
	"fmt"
	"time"

	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

const exampleObject = `
name: opportunity
fields:
  - {name: name, type: text}
  - name: stage
    type: picklist
    options:
      - {value: qualify, label: {en: Qualify, zh: 初步接触}, probability: 10}
      - {value: won, label: {en: Won, zh: 赢单}, probability: 100}
  - {name: amount, type: currency}
  - {name: weighted_amount, type: currency, formula: "amount * option(stage).probability / 100"}
  - {name: close_date, type: date, default_formula: "today() + 30"}
validation_rules:
  - {name: won_needs_amount, condition: "stage != 'won' || amount > 0", message: {en: A won opportunity needs an amount}, field: amount}
`

func exampleSchema() *metadata.Schema {
	o, ps := metadata.ParseObject("opportunity.yaml", []byte(exampleObject))
	if len(ps) > 0 {
		panic(ps)
	}
	return &metadata.Schema{Objects: []*metadata.Object{o}}
}

// Compile the formulas of a schema once, then fill defaults, compute and
// validate records in storage form.
func ExampleCompileSchema() {
	compiled, problems := formulas.CompileSchema(exampleSchema())
	if len(problems) > 0 {
		fmt.Println(problems)
		return
	}
	op := compiled.Object("opportunity")
	rec := map[string]any{"id": "00000000-0000-0000-0000-000000000001", "name": "Lathes", "stage": "qualify", "amount": int64(1234567)}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	ctx := formulas.WithNow(context.Background(), now)
	_, _ = op.Defaults(ctx, rec, now, nil)
	if _, err := op.Compute(ctx, rec, nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec["close_date"], rec["weighted_amount"])

	rec["stage"], rec["amount"] = "won", int64(0)
	failures, _ := op.Validate(ctx, rec, nil)
	for _, f := range failures {
		fmt.Println(f.Rule, f.Field, f.Message.Get("en"))
	}
	// Output:
	// 2026-12-23 123457
	// won_needs_amount amount A won opportunity needs an amount
}

// A formula that does not fit its field is refused with its position.
func ExampleCompileSchema_problems() {
	s := exampleSchema()
	f, _ := s.Objects[0].Field("weighted_amount")
	f.Formula = "amount * probability"
	_, problems := formulas.CompileSchema(s)
	fmt.Println(problems[0].Path, problems[0].Message)
	// Output:
	// /fields/3/formula line 1, column 10: unknown name probability
}

// Constant parts of filters are evaluated with the function library.
func ExampleEvalConstAt() {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	v, _ := formulas.EvalConstAt("start_of_month(today())", now)
	fmt.Println(v.(time.Time).Format("2006-01-02"))
	v, _ = formulas.EvalConstAt("add_days(now(), -7)", now)
	fmt.Println(v.(time.Time).Format(time.RFC3339))
	// Output:
	// 2026-11-01
	// 2026-11-16T09:00:00Z
}

// The function library is a registry; Functions gives it as expr options.
func ExampleRegisterFunc() {
	formulas.RegisterFunc(formulas.Func{
		Name: "initials",
		Doc:  "initials(s) is the first letter of each word of s.",
		Fn: func(params ...any) (any, error) {
			out := ""
			prev := ' '
			for _, r := range params[0].(string) {
				if prev == ' ' && r != ' ' {
					out += string(r)
				}
				prev = r
			}
			return out, nil
		},
		Types: []any{new(func(string) string)},
	})
	v, _ := formulas.EvalConst(`initials("Ada Lovelace")`)
	fmt.Println(v)
	// Output:
	// AL
}
