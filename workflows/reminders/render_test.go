package reminders

import (
	"testing"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// TestFieldText checks how a message shows a field's stored value: options
// by their labels, a multi-picklist's too, yes and no in the recipient's
// language, a datetime in the server's zone whichever database stored it,
// an amount grouped.
func TestFieldText(t *testing.T) {
	opts := []metadata.Option{{Value: "tea", Label: metadata.Label{"en": "Tea", "zh": "茶"}}, {Value: "silk", Label: metadata.Label{"en": "Silk", "zh": "丝绸"}}, {Value: "jade"}}
	shanghai := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 5, 1, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    *metadata.Field
		v    any
		lang string
		want string
	}{
		{"a picklist option", &metadata.Field{Name: "p", Type: "picklist", Options: opts}, "tea", "zh", "茶"},
		{"an option without a label", &metadata.Field{Name: "p", Type: "picklist", Options: opts}, "jade", "en", "jade"},
		{"a multi-picklist", &metadata.Field{Name: "m", Type: "multi_picklist", Options: opts}, `["silk","tea"]`, "en", "Silk, Tea"},
		{"a multi-picklist in Chinese", &metadata.Field{Name: "m", Type: "multi_picklist", Options: opts}, `["jade","silk"]`, "zh", "jade, 丝绸"},
		{"a boolean", &metadata.Field{Name: "b", Type: "boolean"}, true, "zh", "是"},
		{"a boolean stored as a number", &metadata.Field{Name: "b", Type: "boolean"}, int64(0), "en", "No"},
		{"a datetime from PostgreSQL", &metadata.Field{Name: "d", Type: "datetime"}, at, "en", "2026-03-05 09:30"},
		{"a datetime from SQLite", &metadata.Field{Name: "d", Type: "datetime"}, "2026-03-05T01:30:00.000Z", "en", "2026-03-05 09:30"},
		{"a date", &metadata.Field{Name: "d", Type: "date"}, "2026-03-05", "en", "2026-03-05"},
		{"text", &metadata.Field{Name: "t", Type: "text"}, "Acme", "en", "Acme"},
		{"an amount (minor units)", &metadata.Field{Name: "a", Type: "currency"}, int64(1299050), "en", "12,990.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldText(tt.f, tt.v, tt.lang, shanghai); got != tt.want {
				t.Errorf("fieldText(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}
