package run

import (
	"slices"
	"testing"

	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// TestOrder checks the natural order of each kind of dimension's keys, as
// sortGroups and sortRows read it: picklists by option (values that are
// no option after them), booleans false first, numbers by value (not as
// text), lookups by label, date buckets and text as text, empty keys
// last.
func TestOrder(t *testing.T) {
	t.Parallel()
	field := func(f metadata.Field) *reports.Dim {
		return &reports.Dim{Value: &reports.Value{Name: f.Name, Field: &f}}
	}
	stage := field(metadata.Field{Name: "stage", Type: "picklist", Options: []metadata.Option{{Value: "qualify"}, {Value: "won"}, {Value: "lost"}}})
	type key struct {
		k     any
		label string
	}
	tests := []struct {
		name string
		dim  *reports.Dim
		keys []key // in the order they sort
	}{
		{"picklist by option", stage, []key{{"qualify", ""}, {"won", ""}, {"lost", ""}, {"archived", ""}, {nil, ""}}},
		{"boolean false first", field(metadata.Field{Name: "vip", Type: "boolean"}), []key{{false, ""}, {true, ""}, {nil, ""}}},
		{"integer by value", field(metadata.Field{Name: "employees", Type: "integer"}), []key{{int64(-3), ""}, {int64(9), ""}, {int64(10), ""}, {int64(200), ""}, {nil, ""}}},
		{"lookup by label", field(metadata.Field{Name: "account", Type: "lookup", Target: "account"}), []key{{"id-z", "Acme"}, {"id-a", "Zenith"}, {nil, ""}}},
		{"text as text", field(metadata.Field{Name: "city", Type: "text"}), []key{{"Beijing", ""}, {"Shanghai", ""}, {"shenzhen", ""}, {nil, ""}}},
		{"month bucket as text", &reports.Dim{Value: stage.Value, Bucket: metadata.BucketMonth}, []key{{"2025-12", ""}, {"2026-01", ""}, {"2026-11", ""}, {nil, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := orderOf(tt.dim)
			for i, a := range tt.keys {
				for j, b := range tt.keys {
					want := 0
					switch {
					case i < j:
						want = -1
					case i > j:
						want = 1
					}
					ka, kb := o.key(a.k, a.label), o.key(b.k, b.label)
					got := o.compare(&ka, &kb)
					if sign(got) != want {
						t.Errorf("compare(%v, %v) = %d, want sign %d", a.k, b.k, got, want)
					}
				}
			}
			// sortGroups puts the same keys, shuffled, back in that order.
			gs := make([]*grp, len(tt.keys))
			for i, k := range tt.keys {
				gs[len(gs)-1-i] = &grp{keys: []any{k.k}, labels: []string{k.label}}
			}
			sortGroups(&builder{plan: &reports.Plan{Groups: []*reports.Dim{tt.dim}}}, gs, []int{0})
			got := make([]any, len(gs))
			want := make([]any, len(tt.keys))
			for i := range gs {
				got[i], want[i] = gs[i].keys[0], tt.keys[i].k
			}
			if !slices.Equal(got, want) {
				t.Errorf("sorted %v, want %v", got, want)
			}
		})
	}
}

// sign is -1, 0 or 1 as n is negative, zero or positive.
func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
