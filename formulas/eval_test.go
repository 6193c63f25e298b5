package formulas

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// fixture is the testdata schema with an account tree, two users and
// three opportunities.
type fixture struct {
	schema *metadata.Schema
	c      *Compiled
	r      *memResolver
	ctx    context.Context
}

func newFixture(t testing.TB) *fixture {
	s := loadSchema(t)
	f := &fixture{schema: s, c: mustCompile(t, s), r: newMemResolver(s)}
	f.ctx = WithNow(context.Background(), testNow)
	f.r.put("account", map[string]any{"id": idParent, "name": "Parent Co"})
	f.r.put("account", map[string]any{"id": idAcc1, "name": "Acme", "industry": "retail", "parent": idParent, "credit_limit": int64(500000000)})
	f.r.put("account", map[string]any{"id": idAcc2, "name": "Solo", "industry": "finance"})
	f.r.put(UserObject, map[string]any{"id": idUser1, "name": "Rep", "manager": idUser2})
	f.r.put(UserObject, map[string]any{"id": idUser2, "name": "Boss"})
	return f
}

func opp(id, account, stage string, amount any) map[string]any {
	return map[string]any{"id": id, "name": "deal " + id[len(id)-1:], "account": account, "stage": stage, "amount": amount,
		"created_at": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "owner_id": idUser1}
}

func TestCompute(t *testing.T) {
	f := newFixture(t)
	rec := opp(idOpp1, idAcc1, "proposal", int64(123456789))
	rec["name"] = "big deal"
	rec["discount"] = 10.0
	rec["tags"] = `["a","b"]`
	if err := noFails(f.c.Object("opportunity").Compute(f.ctx, rec, f.r)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"weighted":       int64(61728395), // 1234567.89 * 50 / 100 = 617283.945 → 617283.95
		"net":            int64(55555556), // 617283.95 * 0.9 = 555555.555 → 555555.56
		"stage_label":    "Proposal",
		"stage_label_zh": "方案报价",
		"is_big":         true,
		"days_open":      int64(22),
		"industry":       "retail",
		"industry_label": "零售",
		"parent_name":    "Parent Co",
		"manager_name":   "Boss",
		"tag_count":      int64(2),
		"summary":        "BIG-Proposal (big)",
	}
	for k, v := range want {
		if !reflect.DeepEqual(rec[k], v) {
			t.Errorf("%s = %#v, want %#v", k, rec[k], v)
		}
	}
}

func TestComputeEmptyValues(t *testing.T) {
	f := newFixture(t)
	rec := map[string]any{"id": idOpp1, "name": "x", "account": nil, "stage": nil}
	if err := noFails(f.c.Object("opportunity").Compute(f.ctx, rec, f.r)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"weighted": int64(0), "net": int64(0), "stage_label": nil, "is_big": false,
		"days_open": int64(0), "industry": nil, "parent_name": nil, "manager_name": nil, "tag_count": int64(0), "summary": "X-"}
	for k, v := range want {
		if !reflect.DeepEqual(rec[k], v) {
			t.Errorf("%s = %#v, want %#v", k, rec[k], v)
		}
	}
	if len(f.r.calls) != 0 {
		t.Errorf("no lookup should be made without ids: %v", f.r.calls)
	}
}

func TestCurrencyRounding(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		amount any
		stage  string
		want   int64
	}{
		{int64(5), "proposal", 3},         // 0.05 * 50% = 0.025 → 0.03
		{int64(-5), "proposal", -3},       // half away from zero
		{int64(1), "qualify", 0},          // 0.001 → 0.00
		{int64(15), "qualify", 2},         // 0.015 → 0.02
		{int64(100), "won", 100},          // exact
		{int64(33333), "proposal", 16667}, // 166.665 → 166.67
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v %s", tt.amount, tt.stage), func(t *testing.T) {
			rec := opp(idOpp1, idAcc1, tt.stage, tt.amount)
			if err := noFails(f.c.Object("opportunity").Compute(f.ctx, rec, f.r)); err != nil {
				t.Fatal(err)
			}
			if rec["weighted"] != tt.want {
				t.Fatalf("weighted = %#v, want %d", rec["weighted"], tt.want)
			}
		})
	}
}

func TestCurrencyScale(t *testing.T) {
	s := schemaOf(t, `
name: invoice
fields:
  - {name: total, type: currency, scale: 3}
  - {name: third, type: currency, scale: 0, formula: "total / 3"}
  - {name: fine, type: currency, scale: 3, formula: "total / 3"}
  - {name: ratio, type: decimal, scale: 2, formula: "total / 3"}
`)
	c := mustCompile(t, s)
	rec := map[string]any{"id": idOpp1, "total": int64(1000)} // 1.000
	if err := noFails(c.Object("invoice").Compute(context.Background(), rec, nil)); err != nil {
		t.Fatal(err)
	}
	if rec["third"] != int64(0) || rec["fine"] != int64(333) || rec["ratio"] != 0.33 {
		t.Fatalf("got third=%#v fine=%#v ratio=%#v", rec["third"], rec["fine"], rec["ratio"])
	}
}

func TestComputeBatchOneQueryPerPath(t *testing.T) {
	f := newFixture(t)
	recs := []map[string]any{
		opp(idOpp1, idAcc1, "won", int64(1000)),
		opp(idOpp2, idAcc2, "qualify", int64(2000)),
		opp(idOpp3, idAcc1, "lost", nil),
	}
	if err := noFails(f.c.Object("opportunity").ComputeBatch(f.ctx, recs, f.r)); err != nil {
		t.Fatal(err)
	}
	if len(f.r.calls) != 4 {
		t.Fatalf("want 4 lookups (account, account.parent, owner, owner.manager) for the batch, got %d: %v", len(f.r.calls), f.r.calls)
	}
	if recs[1]["industry"] != "finance" || recs[1]["parent_name"] != nil || recs[2]["parent_name"] != "Parent Co" {
		t.Fatalf("got %v / %v", recs[1], recs[2])
	}
}

func TestRollups(t *testing.T) {
	f := newFixture(t)
	op := f.c.Object("opportunity")
	o1 := opp(idOpp1, idAcc1, "won", int64(150000))
	o1["close_date"] = "2026-12-01"
	o2 := opp(idOpp2, idAcc1, "won", int64(50001))
	o2["close_date"] = "2027-01-15"
	o3 := opp(idOpp3, idAcc1, "qualify", int64(999))
	for _, o := range []map[string]any{o1, o2, o3} {
		if err := noFails(op.Compute(f.ctx, o, f.r)); err != nil {
			t.Fatal(err)
		}
		f.r.put("opportunity", o)
	}
	acc := f.r.records["account"][idAcc1]
	accOp := f.c.Object("account")
	if err := noFails(accOp.Compute(f.ctx, acc, f.r)); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"total_won":                int64(200001),
		"total_won_issue_spelling": int64(200001),
		"lost_count":               int64(0),
		"open_count":               int64(1),
		"opportunity_count":        int64(3),
		"biggest":                  int64(150000),
		"average":                  float64(150000+50001+999) / 3 / 100,
		"last_close":               "2027-01-15",
		"headroom":                 int64(500000000 - 200001),
	}
	for k, v := range want {
		got := acc[k]
		if fv, ok := v.(float64); ok {
			if g, _ := got.(float64); !approx(g, fv) {
				t.Errorf("%s = %#v, want %v", k, got, v)
			}
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	// An account without children.
	solo := f.r.records["account"][idAcc2]
	if err := noFails(accOp.Compute(f.ctx, solo, f.r)); err != nil {
		t.Fatal(err)
	}
	if solo["total_won"] != int64(0) || solo["opportunity_count"] != int64(0) || solo["biggest"] != int64(0) || solo["last_close"] != nil {
		t.Fatalf("empty roll-ups: %v", solo)
	}
}

// TestRecomputeTriggers checks what the engine is told to recompute for
// each kind of change.
func TestRecomputeTriggers(t *testing.T) {
	f := newFixture(t)
	t.Run("same record", func(t *testing.T) {
		op := f.c.Object("opportunity")
		if got := op.Reads("weighted"); !reflect.DeepEqual(got, []string{"amount", "stage"}) {
			t.Fatalf("weighted reads %v", got)
		}
		if got := op.Reads("net"); !reflect.DeepEqual(got, []string{"discount", "weighted"}) {
			t.Fatalf("net reads %v", got)
		}
		if got := op.Reads("rule:credit"); !reflect.DeepEqual(got, []string{"account", "amount"}) {
			t.Fatalf("rule reads %v", got)
		}
	})
	t.Run("lookup target change", func(t *testing.T) {
		deps := f.c.LookupDependents("account")
		want := []LookupDependency{
			{Object: "opportunity", Path: []string{"account"}, Target: "account", Fields: []string{"credit_limit", "industry", "parent"}, Computed: []string{"industry", "industry_label", "parent_name"}, Rules: []string{"credit"}},
			{Object: "opportunity", Path: []string{"account", "parent"}, Target: "account", Fields: []string{"name"}, Computed: []string{"parent_name"}},
		}
		if !reflect.DeepEqual(deps, want) {
			t.Fatalf("got %+v\nwant %+v", deps, want)
		}
		users := f.c.LookupDependents(UserObject)
		if len(users) != 2 || users[1].Fields[0] != "name" || !reflect.DeepEqual(users[1].Path, []string{"owner", "manager"}) {
			t.Fatalf("user deps %+v", users)
		}
	})
	t.Run("child create, update, delete, re-parent", func(t *testing.T) {
		specs := f.c.RollupsOnChild("opportunity")
		if len(specs) != 8 {
			t.Fatalf("want 8 roll-ups on opportunity, got %d", len(specs))
		}
		s := specs[0]
		if s.Object != "account" || s.Field != "total_won" || s.Via != "account" || s.Func != "sum" || s.ValueField != "amount" || s.Condition != `stage == "won"` ||
			!reflect.DeepEqual(s.Reads, []string{"account", "amount", "stage"}) {
			t.Fatalf("spec %+v", s)
		}
		child, _ := f.schema.Object("opportunity")
		for stage, want := range map[string]bool{"won": true, "lost": false} {
			ok, err := s.Matches(map[string]any{"stage": stage}, child, time.Now())
			if err != nil || ok != want {
				t.Fatalf("Matches(%s) = %v, %v", stage, ok, err)
			}
		}
		if len(f.c.RollupsOnChild("account")) != 0 {
			t.Fatal("no roll-up aggregates accounts")
		}
	})
}

func TestValidateRulesFailTogether(t *testing.T) {
	f := newFixture(t)
	op := f.c.Object("opportunity")
	rec := opp(idOpp1, idAcc1, "won", nil)
	rec["name"] = "a name that is far too long"
	rec["amount"] = int64(0)
	fails, err := op.Validate(f.ctx, rec, f.r)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 2 || fails[0].Rule != "won_needs_amount" || fails[0].Field != "amount" || fails[0].Message.Get("zh") != "赢单必须填写金额" ||
		fails[1].Rule != "short_name" || fails[1].Field != "name" {
		t.Fatalf("got %+v", fails)
	}
	rec["amount"] = int64(600000000) // over the credit limit too
	fails, _ = op.Validate(f.ctx, rec, f.r)
	if len(fails) != 2 || fails[1].Rule != "credit" {
		// won_needs_amount passes now; short_name and credit fail
		t.Fatalf("got %+v", fails)
	}
	rec["name"] = "ok"
	rec["amount"] = int64(100)
	if fails, _ = op.Validate(f.ctx, rec, f.r); len(fails) != 0 {
		t.Fatalf("got %+v", fails)
	}
}

func TestDefaults(t *testing.T) {
	f := newFixture(t)
	op := f.c.Object("opportunity")
	if !op.DefaultsRelated() || f.c.Object("account").DefaultsRelated() {
		t.Fatal("DefaultsRelated: opportunity.opened_under reads its account, account has no such default")
	}
	rec := map[string]any{"name": "Acme", "stage": "proposal", "account": idAcc1}
	if err := noFails(op.Defaults(f.ctx, rec, testNow, f.r)); err != nil {
		t.Fatal(err)
	}
	if rec["close_date"] != "2026-12-23" || rec["first_probability"] != int64(50) || rec["opened_under"] != "Acme / Parent Co" ||
		rec["parent_credit"] != int64(500000000) || rec["credit_by_name"] != int64(500000000) {
		t.Fatalf("defaults: %#v", rec)
	}
	rec = map[string]any{"close_date": "2027-01-01", "account": idAcc2, "opened_under": "given"}
	if err := noFails(op.Defaults(f.ctx, rec, testNow, f.r)); err != nil {
		t.Fatal(err)
	}
	if rec["close_date"] != "2027-01-01" || rec["opened_under"] != "given" {
		t.Fatal("a given value was overwritten")
	}
	// A value read through a lookup that is empty is nil: ?? gives
	// another, and a default computed with it is none. Acme's parent has
	// no credit limit (Acme's own is taken); no account is named Other
	// (vlookup gives nil); Solo has no parent; an account the resolver
	// does not give (missing, or one the reader may not see), or none.
	for _, c := range []struct {
		account, name any
		want          map[string]any
	}{
		{idAcc1, "Other", map[string]any{"opened_under": "Acme / Parent Co", "parent_credit": int64(500000000), "credit_by_name": int64(150)}},
		{idAcc2, "Solo", map[string]any{"opened_under": nil, "parent_credit": nil, "credit_by_name": int64(150)}},
		{"00000000-0000-0000-0000-0000000000ff", "Acme", map[string]any{"opened_under": nil, "parent_credit": nil, "credit_by_name": int64(150)}},
		{nil, "Acme", map[string]any{"opened_under": nil, "parent_credit": nil, "credit_by_name": int64(150)}},
	} {
		rec = map[string]any{"account": c.account, "name": c.name}
		if err := noFails(op.Defaults(f.ctx, rec, testNow, f.r)); err != nil {
			t.Fatalf("account %v: %v", c.account, err)
		}
		for k, want := range c.want {
			if rec[k] != want {
				t.Errorf("account %v, %s = %#v, want %#v", c.account, k, rec[k], want)
			}
		}
	}
	if _, err := op.Defaults(f.ctx, map[string]any{"account": idAcc1}, testNow, nil); err == nil || !strings.Contains(err.Error(), "no resolver") {
		t.Fatalf("no resolver: %v", err)
	}
}

// TestRuntimeErrors checks that a formula failing at run time leaves its
// field empty, with the failure reported, and never stops the other
// fields: one reading the failed field reads it as empty.
func TestRuntimeErrors(t *testing.T) {
	s := schemaOf(t, `
name: thing
fields:
  - {name: n, type: integer}
  - {name: zero, type: integer}
  - {name: s, type: text}
  - {name: amount, type: currency}
  - {name: first, type: decimal, formula: "n + 1"}
  - {name: broken, type: decimal, formula: "n"}
  - {name: after, type: decimal, formula: "broken + first"}
  - {name: note, type: text, formula: "s"}
  - {name: code, type: text}
  - {name: p, type: picklist, options: [{value: a}], formula: "code"}
  - {name: d, type: date, default_formula: "today() + 100 % zero"}
validation_rules:
  - {name: r, condition: "int(s) > 0", message: m}
  - {name: ok, condition: "n > 100", message: too small}
`)
	tests := []struct {
		name    string
		formula string
		rec     map[string]any
		want    string
	}{
		{"integer division by zero", "n / zero", map[string]any{"n": int64(1), "zero": int64(0)}, "not a finite number"},
		{"modulo by zero", "int(n) % 0", map[string]any{"n": int64(1)}, "integer divide by zero"},
		{"index out of range", `int(split(s, ",")[5])`, map[string]any{"s": "a,b"}, "out of range"},
		{"overflow", "n * 1e300 * 1e300", map[string]any{"n": int64(2)}, "not a finite number"},
		{"memory budget", "len(repeat('x', n))", map[string]any{"n": int64(10_000_000)}, "memory budget exceeded"},
		{"conversion", "int(s)", map[string]any{"s": "zzz"}, "invalid operation: int(zzz)"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.Clone()
			o, _ := s.Object("thing")
			f, _ := o.Field("broken")
			f.Formula = tt.formula
			op := mustCompile(t, s).Object("thing")
			rec := map[string]any{"id": "r1"}
			for k, v := range tt.rec {
				rec[k] = v
			}
			if _, ok := rec["n"]; !ok {
				rec["n"] = int64(41)
			}
			fails, err := op.Compute(ctx, rec, nil)
			if err != nil || len(fails) != 1 {
				t.Fatalf("want one failure, got %v %v", fails, err)
			}
			ee := fails[0]
			if !errors.Is(ee, ErrEval) || ee.Field != "broken" || ee.ID != "r1" || !strings.Contains(ee.Error(), tt.want) {
				t.Fatalf("failure %#v (%v), want broken/r1 containing %q", ee, ee, tt.want)
			}
			if v, ok := rec["broken"]; !ok || v != nil {
				t.Fatalf("the failed field must be empty, got %#v", rec["broken"])
			}
			if rec["first"] == nil || rec["after"] != rec["first"] {
				t.Fatalf("the other fields: first=%#v after=%#v", rec["first"], rec["after"])
			}
		})
	}
	op := mustCompile(t, s).Object("thing")
	rec := map[string]any{"id": "r2", "n": int64(5), "s": "zzz", "code": "zzz", "zero": int64(0)}
	fails, err := op.Compute(ctx, rec, nil)
	if err != nil || len(fails) != 1 || fails[0].Field != "p" || !strings.Contains(fails[0].Error(), `formulas: thing.field p: "zzz" is not one of the options`) {
		t.Fatalf("picklist: %v %v", fails, err)
	}
	if rec["note"] != "zzz" || rec["p"] != nil {
		t.Fatalf("picklist record %v", rec)
	}
	if dfails, _ := op.Defaults(ctx, rec, testNow, nil); len(dfails) != 1 || dfails[0].Field != "d" || rec["d"] != nil {
		t.Fatalf("default formula: %v, d=%#v", dfails, rec["d"])
	}
	rules, err := op.Validate(ctx, rec, nil)
	if err != nil || len(rules) != 2 || rules[0].Rule != "r" || rules[0].Err == nil || !strings.Contains(rules[0].Err.Error(), "validation rule r") ||
		rules[1].Rule != "ok" || rules[1].Err != nil {
		t.Fatalf("rules: %+v %v", rules, err)
	}
}

func TestChangedComputed(t *testing.T) {
	s := loadSchema(t)
	old := mustCompile(t, s)
	if got := ChangedComputed(old, old); len(got) != 0 {
		t.Fatalf("nothing changed, got %v", got)
	}
	s2 := s.Clone()
	o, _ := s2.Object("opportunity")
	w, _ := o.Field("weighted")
	w.Formula = "amount * option(stage).probability / 100 * 2"
	got := ChangedComputed(old, mustCompile(t, s2))
	if !reflect.DeepEqual(got, map[string][]string{"opportunity": {"weighted", "net"}}) {
		t.Fatalf("got %v", got)
	}
	all := ChangedComputed(nil, old)
	if len(all["account"]) != 9 || len(all["opportunity"]) != 13 {
		t.Fatalf("from nothing: %v", all)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	op := f.c.Object("opportunity")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				rec := opp(idOpp1, idAcc1, "proposal", int64(i*100+j))
				if err := noFails(op.Compute(f.ctx, rec, f.r)); err != nil {
					errs <- err
					return
				}
				if want := int64((i*100 + j + 1) / 2); rec["weighted"] != want && rec["weighted"] != want-1 {
					errs <- fmt.Errorf("weighted %v for %d", rec["weighted"], i*100+j)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestCommission computes a tiered sales commission, the kind of
// configurable algorithm seed CRMs ship.
func TestCommission(t *testing.T) {
	f := newFixture(t)
	op := f.c.Object("opportunity")
	for _, tt := range []struct{ amount, want int64 }{
		{800000, 40000},   // 8,000.00 at 5%
		{1000000, 50000},  // 10,000.00 at 5%
		{2000000, 130000}, // 500 + 10,000 at 8%
		{6000000, 470000}, // 3,700 + 10,000 at 10%
		{1234567, 68765},  // 500 + 2,345.67 at 8% = 687.6536 → 687.65
	} {
		rec := opp(idOpp1, idAcc1, "won", tt.amount)
		if err := noFails(op.Compute(f.ctx, rec, f.r)); err != nil {
			t.Fatal(err)
		}
		if rec["commission"] != tt.want {
			t.Errorf("commission of %d = %v, want %d", tt.amount, rec["commission"], tt.want)
		}
	}
}

func TestPanickingFunctionIsAnError(t *testing.T) {
	RegisterFunc(Func{Name: "test_boom", Doc: "test_boom() panics.", Fn: func(...any) (any, error) { panic("boom") }, Types: []any{new(func() int)}})
	_, err := EvalConst("test_boom() + 1")
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v", err)
	}
}

// TestComputeAfterRollups recomputes an account after a change that can
// only move total_won: total_won and headroom (which reads it) follow,
// only that roll-up is asked for, and the other computed fields keep what
// the record holds.
func TestComputeAfterRollups(t *testing.T) {
	f := newFixture(t)
	o1 := opp(idOpp1, idAcc1, "won", int64(150000))
	f.r.put("opportunity", o1)
	f.r.put("opportunity", opp(idOpp2, idAcc1, "qualify", int64(999)))
	accOp := f.c.Object("account")
	acc := f.r.records["account"][idAcc1]
	if err := noFails(accOp.Compute(f.ctx, acc, f.r)); err != nil {
		t.Fatal(err)
	}
	var totalWon *RollupSpec
	for _, s := range f.c.RollupsOnChild("opportunity") {
		if s.Field == "total_won" {
			totalWon = s
		}
	}
	if totalWon == nil {
		t.Fatal("no roll-up for total_won")
	}
	o1["amount"] = int64(250000)
	acc["opportunity_count"] = int64(99) // not reached by total_won: kept
	f.r.calls = nil
	if err := noFails(accOp.ComputeAfterRollups(f.ctx, []map[string]any{acc}, f.r, []*RollupSpec{totalWon})); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"total_won": int64(250000), "headroom": int64(500000000 - 250000), "opportunity_count": int64(99)}
	for k, v := range want {
		if !reflect.DeepEqual(acc[k], v) {
			t.Errorf("%s = %#v, want %#v", k, acc[k], v)
		}
	}
	var rollups []string
	for _, c := range f.r.calls {
		if strings.HasPrefix(c, "rollup ") {
			rollups = append(rollups, c)
		}
	}
	if len(rollups) != 1 || !strings.HasPrefix(rollups[0], "rollup sum(opportunity.account)") {
		t.Errorf("roll-ups asked for: %q, want only total_won's sum", rollups)
	}
}

// TestByChild checks how roll-ups are grouped for the resolver: those over
// one child object through one lookup together, the groups in the order
// they first appear, each keeping its roll-ups' order.
func TestByChild(t *testing.T) {
	t.Parallel()
	spec := func(name, child, via string) *RollupSpec { return &RollupSpec{Field: name, Child: child, Via: via} }
	tests := []struct {
		name  string
		specs []*RollupSpec
		want  string
	}{
		{"one", []*RollupSpec{spec("a", "opportunity", "account")}, "[a]"},
		{"one child", []*RollupSpec{spec("a", "opportunity", "account"), spec("b", "opportunity", "account")}, "[a b]"},
		{"two children interleaved", []*RollupSpec{spec("a", "opportunity", "account"), spec("b", "contract", "account"), spec("c", "opportunity", "account")}, "[a c] [b]"},
		{"one child through two lookups", []*RollupSpec{spec("a", "contact", "account"), spec("b", "contact", "parent_account")}, "[a] [b]"},
	}
	for _, tt := range tests {
		got := ""
		for i, group := range byChild(tt.specs) {
			if i > 0 {
				got += " "
			}
			names := make([]string, len(group))
			for j, s := range group {
				names[j] = s.Field
			}
			got += fmt.Sprint(names)
		}
		if got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestComputeChanged computes a record being updated: only the computed
// fields its changed fields reach, directly or through another computed
// field, and those that read the clock, another record or a timed
// roll-up; the others keep the (here deliberately wrong) values the record
// holds, and no roll-up runs unless a computed field selected reads it.
func TestComputeChanged(t *testing.T) {
	f := newFixture(t)
	f.r.put("opportunity", opp(idOpp1, idAcc1, "won", int64(150000)))
	isTotalWon := func(s *RollupSpec) bool { return s.Field == "total_won" }
	never := func(*RollupSpec) bool { return false }
	tests := []struct {
		name    string
		object  string
		rec     map[string]any
		changed []string
		timed   func(*RollupSpec) bool
		want    map[string]any
		rollups int
	}{
		{"a field no formula reads", "account",
			map[string]any{"id": idAcc1, "employees": int64(5), "credit_limit": int64(1000), "total_won": int64(1), "opportunity_count": int64(99), "headroom": int64(5)},
			[]string{"employees"}, never,
			map[string]any{"total_won": int64(1), "opportunity_count": int64(99), "headroom": int64(5)}, 0},
		{"a field a computed field reads", "account",
			map[string]any{"id": idAcc1, "credit_limit": int64(1000), "total_won": int64(1), "opportunity_count": int64(99), "headroom": int64(5)},
			[]string{"credit_limit"}, never,
			map[string]any{"total_won": int64(1), "opportunity_count": int64(99), "headroom": int64(999)}, 0},
		{"a timed roll-up, and what reads it", "account",
			map[string]any{"id": idAcc1, "credit_limit": int64(1000), "total_won": int64(1), "opportunity_count": int64(99), "headroom": int64(5)},
			[]string{"employees"}, isTotalWon,
			map[string]any{"total_won": int64(150000), "opportunity_count": int64(99), "headroom": int64(1000 - 150000)}, 1},
		{"the clock, a lookup, and the fields an amount reaches", "opportunity",
			map[string]any{"id": idOpp2, "name": "deal 2", "account": idAcc1, "stage": "proposal", "amount": int64(200000), "owner_id": idUser1,
				"created_at": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "stage_label": "stale", "weighted": int64(1), "days_open": int64(-1), "industry": "stale"},
			[]string{"amount"}, never,
			map[string]any{"stage_label": "stale", "weighted": int64(100000), "is_big": false, "days_open": int64(22), "industry": "retail"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := map[string]bool{}
			for _, c := range tt.changed {
				changed[c] = true
			}
			f.r.calls = nil
			if err := noFails(f.c.Object(tt.object).ComputeChanged(f.ctx, tt.rec, f.r, changed, tt.timed)); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if !reflect.DeepEqual(tt.rec[k], v) {
					t.Errorf("%s = %#v, want %#v", k, tt.rec[k], v)
				}
			}
			rollups := 0
			for _, c := range f.r.calls {
				if strings.HasPrefix(c, "rollup ") {
					rollups++
				}
			}
			if rollups != tt.rollups {
				t.Errorf("roll-ups run: %q, want %d", f.r.calls, tt.rollups)
			}
		})
	}
}
