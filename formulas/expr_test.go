package formulas

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestExprCompile(t *testing.T) {
	s := loadSchema(t)
	opp, _ := s.Object("opportunity")
	amount, _ := opp.Field("amount")
	name, _ := opp.Field("name")
	cases := []struct {
		name, src string
		value     bool   // a value for amount (else a condition)
		err       string // "" when it compiles
	}{
		{"condition", `amount > 500000 || discount > 10`, false, ""},
		{"through lookups", `account.industry == "retail" && owner.manager.name != ""`, false, ""},
		{"option attribute", `option(stage).probability >= 50`, false, ""},
		{"not a condition", `amount * 2`, false, "a condition must be true or false"},
		{"unknown field", `amout > 1`, false, "amout"},
		{"value", `amount * 0.9`, true, ""},
		{"value of the wrong type", `name`, true, "the formula gives text but field amount is a number"},
		{"syntax", `amount >`, false, "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.value {
				_, err = CompileValue(s, "opportunity", amount, c.src)
			} else {
				_, err = CompileCondition(s, "opportunity", c.src)
			}
			if c.err == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
	if _, err := CompileCondition(s, "nothing", "true"); err == nil {
		t.Fatal("an unknown object compiled")
	}
	// A value for a field of another object reads the record of the first.
	if _, err := CompileValue(s, "account", name, `concat("Follow up ", name)`); err != nil {
		t.Fatal(err)
	}
}

func TestExprEval(t *testing.T) {
	f := newFixture(t)
	opp, _ := f.schema.Object("opportunity")
	amount, _ := opp.Field("amount")
	rec := opp1(t)
	cond := func(src string) bool {
		t.Helper()
		x, err := CompileCondition(f.schema, "opportunity", src)
		if err != nil {
			t.Fatal(err)
		}
		v, err := x.Eval(f.ctx, rec, f.r)
		if err != nil {
			t.Fatal(err)
		}
		return v.(bool)
	}
	if !cond(`amount > 1000000 && account.industry == "retail"`) {
		t.Error("true condition evaluated false")
	}
	if cond(`owner.manager.name == "Nobody"`) {
		t.Error("false condition evaluated true")
	}
	x, err := CompileValue(f.schema, "opportunity", amount, `amount * 0.9`)
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Reads(); !reflect.DeepEqual(got, []string{"amount"}) {
		t.Errorf("Reads = %v", got)
	}
	v, err := x.Eval(f.ctx, rec, f.r)
	if err != nil {
		t.Fatal(err)
	}
	if v != int64(111111110) { // 1234567.89 * 0.9 = 1111111.101 → 1111111.10
		t.Errorf("value %#v", v)
	}
	bad, err := CompileCondition(f.schema, "opportunity", `[1, 2][int(amount)] > 0`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Eval(f.ctx, rec, f.r); !errors.Is(err, ErrEval) {
		t.Fatalf("run-time failure: %v", err)
	}
}

// opp1 is an opportunity of the fixture's first account.
func opp1(t *testing.T) map[string]any {
	t.Helper()
	return opp(idOpp1, idAcc1, "proposal", int64(123456789))
}
