package metadata

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDisplay checks how a value shows to people: options by their labels
// (a multi-picklist's too), yes and no in the language, a datetime in the
// given zone, numbers and amounts grouped, a file by its name, and values
// without a field as the API writes them.
func TestDisplay(t *testing.T) {
	opts := []Option{{Value: "tea", Label: Label{"en": "Tea", "zh": "茶"}}, {Value: "silk", Label: Label{"en": "Silk", "zh": "丝绸"}}, {Value: "jade"}}
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		f    *Field
		v    any
		lang string
		want string
	}{
		{"empty", &Field{Name: "t", Type: "text"}, nil, "en", ""},
		{"text", &Field{Name: "t", Type: "text"}, "Acme", "en", "Acme"},
		{"text that looks like a number", &Field{Name: "t", Type: "text"}, "13800138000", "en", "13800138000"},
		{"a picklist option", &Field{Name: "p", Type: "picklist", Options: opts}, "tea", "zh", "茶"},
		{"an option without a label", &Field{Name: "p", Type: "picklist", Options: opts}, "jade", "en", "jade"},
		{"a multi-picklist", &Field{Name: "m", Type: "multi_picklist", Options: opts}, []string{"silk", "tea"}, "en", "Silk, Tea"},
		{"a multi-picklist from JSON", &Field{Name: "m", Type: "multi_picklist", Options: opts}, []any{"jade", "silk"}, "zh", "jade, 丝绸"},
		{"yes", &Field{Name: "b", Type: "boolean"}, true, "en", "Yes"},
		{"no in Chinese", &Field{Name: "b", Type: "boolean"}, false, "zh", "否"},
		{"a datetime in the zone", &Field{Name: "d", Type: "datetime"}, "2026-03-05T01:30:00.000Z", "en", "2026-03-05 09:30"},
		{"a datetime across midnight", &Field{Name: "d", Type: "datetime"}, "2026-03-05T20:15:00Z", "en", "2026-03-06 04:15"},
		{"a date", &Field{Name: "d", Type: "date"}, "2026-03-05", "en", "2026-03-05"},
		{"an amount", &Field{Name: "a", Type: "currency"}, json.Number("12990.50"), "en", "12,990.50"},
		{"a negative amount", &Field{Name: "a", Type: "currency"}, json.Number("-1234567.5"), "zh", "-1,234,567.5"},
		{"a small amount", &Field{Name: "a", Type: "currency"}, json.Number("995.25"), "en", "995.25"},
		{"a whole number", &Field{Name: "n", Type: "integer"}, int64(1200), "en", "1,200"},
		{"a file", &Field{Name: "f", Type: "file"}, map[string]any{"id": "x", "name": "quote.pdf"}, "en", "quote.pdf"},
		{"a lookup's id", &Field{Name: "account", Type: "lookup", Target: "account"}, "0190-ab", "en", "0190-ab"},
		{"no field: a number as the API writes it", nil, json.Number("12990.50"), "en", "12990.50"},
		{"no field: a boolean", nil, true, "zh", "是"},
		{"no field: a list", nil, []any{"a", json.Number("2")}, "en", "a, 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Display(tt.f, tt.v, tt.lang, shanghai); got != tt.want {
				t.Errorf("Display(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

// TestGroupDigits checks the thousands separators of decimal text, and
// that anything else is left as it is.
func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "999": "999", "1000": "1,000", "1234567.50": "1,234,567.50", "-1234": "-1,234",
		"-999.5": "-999.5", "": "", "-": "-", ".5": ".5", "1e5": "1e5", "1/2": "1/2", "12a4": "12a4", "1.2.3": "1.2.3",
	} {
		if got := GroupDigits(in); got != want {
			t.Errorf("GroupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUngroupDigits checks that UngroupDigits undoes GroupDigits and
// leaves any other text as it is.
func TestUngroupDigits(t *testing.T) {
	for in, want := range map[string]string{
		"1,000": "1000", "1,234,567.50": "1234567.50", "-1,234": "-1234", "999": "999", "0.5": "0.5",
		"1,00": "1,00", "1,0000": "1,0000", "1234,567": "1234,567", ",123": ",123", "1,234.5.6": "1,234.5.6", "a,bcd": "a,bcd", "1,234.x": "1,234.x", "": "",
	} {
		if got := UngroupDigits(in); got != want {
			t.Errorf("UngroupDigits(%q) = %q, want %q", in, got, want)
		}
	}
	for _, n := range []string{"0", "12", "1000", "1234567.50", "-98765.4321"} {
		if got := UngroupDigits(GroupDigits(n)); got != n {
			t.Errorf("UngroupDigits(GroupDigits(%q)) = %q", n, got)
		}
	}
}
