package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// logRecorder is a slog.Handler that keeps the records it handles.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *logRecorder) WithGroup(string) slog.Handler { return h }

// find returns the attributes (as text) of the records whose message
// starts with msg and that have every attribute of want.
func (h *logRecorder) find(msg string, want map[string]string) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.records {
		if !strings.HasPrefix(r.Message, msg) {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		ok := true
		for k, v := range want {
			ok = ok && attrs[k] == v
		}
		if ok {
			out = append(out, attrs)
		}
	}
	return out
}

// withFailingFormulas installs withFormulas' metadata plus formulas that
// fail at run time for chosen values of opportunity.units, a roll-up
// based formula on account that fails for one open deal, and a rule that
// cannot be evaluated for units 7. Logs go to the returned buffer.
func withFailingFormulas(t *testing.T, db *store.DB) (*Engine, *logRecorder) {
	t.Helper()
	e := withFormulas(t, db)
	logs := &logRecorder{}
	e.log = slog.New(logs)
	s := e.Snapshot().Schema.Clone()
	opp, _ := s.Object("opportunity")
	opp.Fields = append(opp.Fields,
		&metadata.Field{Name: "units", Type: "integer"},
		&metadata.Field{Name: "per_unit", Type: "decimal", Formula: "units == 1 ? amount / (units - 1) : amount"},
		&metadata.Field{Name: "mod_units", Type: "integer", Formula: "units == 2 ? int(amount) % (units - 2) : 0"},
		&metadata.Field{Name: "third_word", Type: "text", Formula: `units == 3 ? split(name, " ")[9] : "none"`},
		&metadata.Field{Name: "scaled", Type: "decimal", Formula: "units == 4 ? amount * 1e300 * 1e300 : amount"},
		&metadata.Field{Name: "mod_zero", Type: "integer", Formula: "units == 5 ? int(amount) % 0 : 1"},
		&metadata.Field{Name: "after_unit", Type: "decimal", Formula: "per_unit + 1"},
	)
	opp.ValidationRules = append(opp.ValidationRules,
		metadata.ValidationRule{Name: "units_rule", Condition: "units != 7 || int(name) > 0", Message: metadata.Label{"en": "units 7 needs a numeric name"}, Field: "units"},
	)
	acc, _ := s.Object("account")
	acc.Fields = append(acc.Fields, &metadata.Field{Name: "per_deal", Type: "decimal", Formula: "open_deals == 1 ? credit_limit / (open_deals - 1) : credit_limit"})
	if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Jobs().Drain(context.Background(), jobs.DrainOptions{}); err != nil {
		t.Fatal(err)
	}
	return e, logs
}

// TestFormulaRunTimeFailures is the regression test of a formula failing
// at run time: it used to refuse every write of the record and leave the
// object's other formula fields empty. Now the failed field is empty, the
// others are computed, the write and later updates succeed, the failure is
// logged once per formula and metadata version with the record id, and a
// rule that cannot be evaluated fails the write naming the rule.
func TestFormulaRunTimeFailures(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e, logs := withFailingFormulas(t, db)
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", body(t, `{"name": "Acme", "credit_limit": 1000}`))
		if err != nil {
			t.Fatal(err)
		}
		accID := acc["id"].(string)
		failing := []string{"per_unit", "mod_units", "third_word", "scaled", "mod_zero"}
		tests := []struct {
			name  string
			units int
			field string
			err   string
		}{
			{"division by zero", 1, "per_unit", "not a finite number"},
			{"integer division by zero", 2, "mod_units", "integer divide by zero"},
			{"index out of range", 3, "third_word", "index out of range"},
			{"overflow", 4, "scaled", "not a finite number"},
			{"int(x) % 0", 5, "mod_zero", "integer divide by zero"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rec, err := e.Create(ctx, "opportunity", map[string]any{"name": "Lathes", "account": accID, "stage": "proposal", "amount": 500, "units": tt.units})
				if err != nil {
					t.Fatalf("the write must not be blocked: %v", err)
				}
				id := rec["id"].(string)
				if v, ok := rec[tt.field]; !ok || v != nil {
					t.Fatalf("%s must be empty, got %#v", tt.field, rec[tt.field])
				}
				if rec["weighted"] != json.Number("250.00") || rec["account_industry"] != nil && rec["account_industry"] != "" {
					t.Fatalf("the other formulas: %v", rec)
				}
				for _, f := range failing {
					if f != tt.field && rec[f] == nil {
						t.Fatalf("%s must still be computed: %v", f, rec)
					}
				}
				if tt.field == "per_unit" && fmt.Sprint(rec["after_unit"]) != "1" {
					t.Fatalf("a formula reading the failed field reads it as empty: %#v", rec["after_unit"])
				}
				// Updates of the record go through, and still compute.
				up, err := e.Update(ctx, "opportunity", id, map[string]any{"version": 1, "stage": "negotiation"})
				if err != nil || up["weighted"] != json.Number("375.00") || up[tt.field] != nil {
					t.Fatalf("update: %v %v", up, err)
				}
				// Logged once, with the record that failed first.
				logged := logs.find("formula failed at run time", map[string]string{"field": tt.field})
				if len(logged) != 1 || logged[0]["record"] != id || logged[0]["object"] != "opportunity" || !strings.Contains(logged[0]["err"], tt.err) {
					t.Fatalf("log of %s: %v", tt.field, logged)
				}
			})
		}
		// A second record failing the same way is not logged again.
		if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Mills", "account": accID, "stage": "proposal", "amount": 10, "units": 1}); err != nil {
			t.Fatal(err)
		}
		if n := len(logs.find("formula failed at run time", map[string]string{"field": "per_unit"})); n != 1 {
			t.Fatalf("per_unit logged %d times", n)
		}

		// The roll-up based formula of the parent fails for one open deal:
		// the child's write goes through, the parent's field is empty.
		acc2, err := e.Create(ctx, "account", body(t, `{"name": "Beta", "credit_limit": 800}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Drill", "account": acc2["id"], "stage": "proposal", "amount": 10}); err != nil {
			t.Fatalf("a failing formula of the parent blocks the child: %v", err)
		}
		if got, err := e.Get(ctx, "account", acc2["id"].(string)); err != nil || got["per_deal"] != nil || got["open_deals"] != int64(1) || got["headroom"] != json.Number("800.00") {
			t.Fatalf("parent after the child's create: %v %v", got, err)
		}

		// A rule that cannot be evaluated does not pass: 422 naming it.
		_, err = e.Create(ctx, "opportunity", map[string]any{"name": "Lathes", "account": accID, "stage": "proposal", "amount": 5, "units": 7})
		var verr *ValidationError
		if !errors.As(err, &verr) || len(verr.Errors) != 1 || verr.Errors[0].Code != "rule.units_rule" || verr.Errors[0].Field != "units" ||
			!strings.Contains(verr.Errors[0].Message, "the validation rule units_rule could not be evaluated") {
			t.Fatalf("rule that cannot be evaluated: %v", err)
		}
		zh := WithLanguage(ctx, "zh")
		_, err = e.Create(zh, "opportunity", map[string]any{"name": "Lathes", "account": accID, "stage": "proposal", "amount": 5, "units": 7})
		if !errors.As(err, &verr) || !strings.Contains(verr.Errors[0].Message, "校验规则 units_rule 无法计算") {
			t.Fatalf("in Chinese: %v", err)
		}

		// A new metadata version logs the failure again, once.
		s := e.Snapshot().Schema.Clone()
		opp, _ := s.Object("opportunity")
		f, _ := opp.Field("per_unit")
		f.Formula = "units == 1 ? amount / (units - 1) / 2 : amount / 2"
		if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		// The recomputation the change queued meets the failing records:
		// it finishes, leaving the field empty on them.
		if err := e.Jobs().Drain(ctx, jobs.DrainOptions{}); err != nil {
			t.Fatalf("recompute with failing formulas: %v", err)
		}
		list, err := e.List(ctx, "opportunity", ListOptions{Filter: "units == 1", Limit: 10})
		if err != nil || len(list.Items) != 2 {
			t.Fatalf("records with units 1: %v %v", list, err)
		}
		for _, r := range list.Items {
			if r["per_unit"] != nil {
				t.Fatalf("per_unit after recompute: %v", r)
			}
		}
		other, err := e.List(ctx, "opportunity", ListOptions{Filter: "units == 2", Limit: 10})
		if err != nil || len(other.Items) != 1 || fmt.Sprint(other.Items[0]["per_unit"]) != "250" {
			t.Fatalf("recomputed per_unit: %v %v", other, err)
		}
		done, err := e.Jobs().List(ctx, jobs.Filter{Kind: RecomputeKind, State: jobs.Failed})
		if err != nil || len(done) != 0 {
			t.Fatalf("failed recompute jobs: %v %v", done, err)
		}
		if n := len(logs.find("formula failed at run time", map[string]string{"field": "per_unit"})); n != 2 {
			t.Fatalf("per_unit logged %d times over two versions", n)
		}
	})
}
