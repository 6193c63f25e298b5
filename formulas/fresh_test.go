package formulas

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// TestComputeNew computes new accounts with ComputeNew and with Compute:
// every field gets the same value and the same failures come back, naming
// each record, while ComputeNew asks for no roll-up (the fields reading
// only roll-ups are constant on a new record) yet still evaluates what
// reads the record (headroom), the clock (checked_on) or fails on empty
// roll-ups (per_deal).
func TestComputeNew(t *testing.T) {
	s := loadSchema(t)
	acc, _ := s.Object("account")
	acc.Fields = append(acc.Fields,
		&metadata.Field{Name: "per_deal", Type: "decimal", Formula: "total_won / opportunity_count"},
		&metadata.Field{Name: "checked_on", Type: "date", Formula: "today()"},
	)
	f := &fixture{schema: s, c: mustCompile(t, s), r: newMemResolver(s)}
	f.ctx = WithNow(t.Context(), testNow)
	op := f.c.Object("account")
	tests := []struct {
		name string
		rec  map[string]any
	}{
		{"with a credit limit", map[string]any{"id": "01a00000-0000-7000-8000-00000000000a", "name": "A", "credit_limit": int64(700)}},
		{"without", map[string]any{"id": "01a00000-0000-7000-8000-00000000000b", "name": "B"}},
		{"again", map[string]any{"id": "01a00000-0000-7000-8000-00000000000c", "name": "C", "credit_limit": int64(5)}},
	}
	for _, tt := range tests {
		want := map[string]any{}
		for k, v := range tt.rec {
			want[k] = v
		}
		wantFails, err := op.Compute(f.ctx, want, f.r)
		if err != nil {
			t.Fatal(err)
		}
		f.r.calls = nil
		got := tt.rec
		gotFails, err := op.ComputeNew(f.ctx, got, f.r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ComputeNew gave\n%v\nCompute gave\n%v", tt.name, got, want)
		}
		if len(gotFails) != 1 || len(wantFails) != 1 || gotFails[0].Field != "per_deal" || gotFails[0].ID != tt.rec["id"] || gotFails[0].Error() != wantFails[0].Error() {
			t.Errorf("%s: failures %v, want %v (per_deal of this record)", tt.name, gotFails, wantFails)
		}
		for _, c := range f.r.calls {
			if strings.HasPrefix(c, "rollup ") {
				t.Errorf("%s: ComputeNew asked for %s", tt.name, c)
			}
		}
		if got["checked_on"] != "2026-11-15" && got["checked_on"] != testNow.Format(metadata.DateLayout) {
			t.Errorf("%s: checked_on = %v", tt.name, got["checked_on"])
		}
	}
}

// TestFreshOnly tells the objects whose new records need nothing but the
// computed values worked out once (roll-ups only, no rule) from those
// that need evaluating: a formula reading the record, the clock, or a
// validation rule.
func TestFreshOnly(t *testing.T) {
	tests := []struct {
		name string
		edit func(o *metadata.Object)
		want bool
	}{
		{"roll-ups only", func(o *metadata.Object) {}, true},
		{"a formula reading the record", func(o *metadata.Object) {
			o.Fields = append(o.Fields, &metadata.Field{Name: "label", Type: "text", Formula: `name + "!"`})
		}, false},
		{"the clock", func(o *metadata.Object) {
			o.Fields = append(o.Fields, &metadata.Field{Name: "checked_on", Type: "date", Formula: "today()"})
		}, false},
		{"a validation rule", func(o *metadata.Object) {
			o.ValidationRules = append(o.ValidationRules, metadata.ValidationRule{Name: "named", Condition: `name != ""`, Message: metadata.Label{"en": "a name"}})
		}, false},
	}
	for _, tt := range tests {
		s := loadSchema(t)
		o, _ := s.Object("account")
		// headroom reads the record (credit_limit); the other computed
		// fields of the test account are roll-ups.
		o.Fields = slices.DeleteFunc(o.Fields, func(f *metadata.Field) bool { return f.Name == "headroom" })
		tt.edit(o)
		if got := mustCompile(t, s).Object("account").FreshOnly(); got != tt.want {
			t.Errorf("%s: FreshOnly() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
