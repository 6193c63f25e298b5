package metadata

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestNormalize(t *testing.T) {
	picks := []Option{{Value: "a"}, {Value: "b"}}
	cases := []struct {
		name  string
		field Field
		in    any
		want  any
		fail  bool
	}{
		{"text", Field{Type: "text"}, "hello", "hello", false},
		{"text empty is null", Field{Type: "text"}, "", nil, false},
		{"text too long", Field{Type: "text", MaxLength: 3}, "abcd", nil, true},
		{"text pattern", Field{Type: "text", Pattern: "^[A-Z]+$"}, "abc", nil, true},
		{"long text", Field{Type: "long_text"}, "x", "x", false},
		{"integer", Field{Type: "integer"}, json.Number("42"), int64(42), false},
		{"integer from float", Field{Type: "integer"}, 1.5, nil, true},
		{"integer min", Field{Type: "integer", Min: ptr(0.0)}, json.Number("-1"), nil, true},
		{"decimal", Field{Type: "decimal", Scale: ptr(2)}, json.Number("1.005"), 1.0, false},
		{"percent", Field{Type: "percent", Max: ptr(100.0)}, json.Number("101"), nil, true},
		{"currency exact", Field{Type: "currency"}, json.Number("0.1"), int64(10), false},
		{"currency rounds half away", Field{Type: "currency"}, "-2.345", int64(-235), false},
		{"currency scale 0", Field{Type: "currency", Scale: ptr(0)}, json.Number("19.5"), int64(20), false},
		{"currency not a number", Field{Type: "currency"}, "ten", nil, true},
		{"boolean", Field{Type: "boolean"}, true, true, false},
		{"boolean from text", Field{Type: "boolean"}, "yes", nil, true},
		{"date", Field{Type: "date"}, "2026-02-28", "2026-02-28", false},
		{"date invalid", Field{Type: "date"}, "2026-02-30", nil, true},
		{"datetime", Field{Type: "datetime"}, "2026-01-02T03:04:05+08:00", time.Date(2026, 1, 1, 19, 4, 5, 0, time.UTC), false},
		{"email", Field{Type: "email"}, "a@b.cn", "a@b.cn", false},
		{"email bad", Field{Type: "email"}, "not mail", nil, true},
		{"phone", Field{Type: "phone"}, "+86 571 1234-5678", "+86 571 1234-5678", false},
		{"phone bad", Field{Type: "phone"}, "call me", nil, true},
		{"url", Field{Type: "url"}, "https://example.com/x", "https://example.com/x", false},
		{"url bad", Field{Type: "url"}, "javascript:alert(1)", nil, true},
		{"picklist", Field{Type: "picklist", Options: picks}, "a", "a", false},
		{"picklist unknown", Field{Type: "picklist", Options: picks}, "c", nil, true},
		{"multi picklist sorted unique", Field{Type: "multi_picklist", Options: picks}, []any{"b", "a", "b"}, `["a","b"]`, false},
		{"multi picklist unknown", Field{Type: "multi_picklist", Options: picks}, []any{"z"}, nil, true},
		{"lookup", Field{Type: "lookup", Target: "x"}, "01234567-89ab-7def-8123-456789abcdef", "01234567-89ab-7def-8123-456789abcdef", false},
		{"lookup bad id", Field{Type: "lookup", Target: "x"}, "1 OR 1=1", nil, true},
		{"many to many", Field{Type: "many_to_many", Target: "x"}, []any{"01234567-89ab-7def-8123-456789abcdef"}, []string{"01234567-89ab-7def-8123-456789abcdef"}, false},
		{"file needs uploaded id", Field{Type: "file"}, map[string]any{"id": "nope"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.field
			got, err := TypeOf(&f).Normalize(&f, c.in)
			if c.fail {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(c.want)
			if string(gj) != string(wj) {
				t.Fatalf("got %s, want %s", gj, wj)
			}
		})
	}
}

func TestMinorUnits(t *testing.T) {
	cases := []struct {
		in    string
		scale int
		units int64
		out   string
	}{
		{"1234.56", 2, 123456, "1234.56"},
		{"0.005", 2, 1, "0.01"},
		{"-0.005", 2, -1, "-0.01"},
		{"7", 3, 7000, "7.000"},
		{"99999999999.99", 2, 9999999999999, "99999999999.99"},
	}
	for _, c := range cases {
		u, err := MinorUnits(c.in, c.scale)
		if err != nil || u != c.units {
			t.Errorf("MinorUnits(%s, %d) = %d, %v; want %d", c.in, c.scale, u, err, c.units)
		}
		if s := FormatMinorUnits(u, c.scale); s != c.out {
			t.Errorf("FormatMinorUnits(%d, %d) = %s, want %s", u, c.scale, s, c.out)
		}
	}
	formats := []struct {
		units int64
		scale int
		out   string
	}{
		{0, 2, "0.00"}, {5, 2, "0.05"}, {-5, 3, "-0.005"}, {-100, 2, "-1.00"}, {42, 0, "42"}, {-42, 0, "-42"},
		{math.MaxInt64, 2, "92233720368547758.07"}, {math.MinInt64, 2, "-92233720368547758.08"}, {math.MinInt64, 20, "-0.09223372036854775808"},
	}
	for _, c := range formats {
		if s := FormatMinorUnits(c.units, c.scale); s != c.out {
			t.Errorf("FormatMinorUnits(%d, %d) = %s, want %s", c.units, c.scale, s, c.out)
		}
	}
}

func TestAutoNumber(t *testing.T) {
	at := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	p := AutoNumberPrefix("CT-{YYYY}{MM}-{0000}", at)
	if got := RenderAutoNumber(p, 42); got != "CT-202603-0042" {
		t.Fatalf("got %s", got)
	}
}

// TestOutputAsStored checks the outputs that hand the stored value back
// as it is (an instant SQLite keeps in DateTimeLayout, a date, text, a
// whole number) against the general conversion (parse, then format), and
// that other forms still go through it.
func TestOutputAsStored(t *testing.T) {
	dt := &Field{Name: "at", Type: "datetime"}
	// The general path: parse the value, format it in UTC.
	general := func(v any) string {
		tm, err := asTime(v)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC().Format(DateTimeLayout)
	}
	instants := []time.Time{
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1, 2, 3, 4, 5, 6, 7_000_000, time.UTC),
		time.Date(9999, 6, 15, 12, 30, 45, 123_456_789, time.FixedZone("x", 5*3600+1800)),
		time.Date(2024, 2, 29, 8, 0, 0, 10_000_000, time.FixedZone("y", -8*3600)),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, at := range instants {
		want := at.UTC().Format(DateTimeLayout)
		if got := formatDateTime(at); got != want {
			t.Errorf("formatDateTime(%v) = %q, want %q", at, got, want)
		}
		inputs := []any{at}
		if y := at.UTC().Year(); y >= 0 && y <= 9999 { // text outside is not parsed
			inputs = append(inputs, want, at.Format(time.RFC3339Nano), at.Format("2006-01-02 15:04:05.999999999Z07:00"))
		}
		for _, v := range inputs {
			got, err := TypeOf(dt).Output(dt, v)
			if err != nil {
				t.Fatalf("output of %v: %v", v, err)
			}
			if got != general(v) {
				t.Errorf("output of %#v = %#v, want %q", v, got, general(v))
			}
		}
	}
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"2026-01-31T23:59:59.999Z", true},
		{"2026-01-31T23:59:59.999+00:00", false},
		{"2026-01-31 23:59:59.999Z", false},
		{"2026-13-31T23:59:59.999Z", false},
		{"2026-01-00T23:59:59.999Z", false},
		{"2026-01-31T24:00:00.000Z", false},
		{"2026-01-31T23:60:00.000Z", false},
		{"2026-01-31T23:59:60.000Z", false},
		{"2026-01-31T23:59:59.99xZ", false},
		{"2026-01-31T23:59:59Z", false},
	} {
		if got := isDateTimeUTC(c.in); got != c.want {
			t.Errorf("isDateTimeUTC(%q) = %v", c.in, got)
		}
	}
	// The other types: the value comes back as stored, or converted.
	for _, c := range []struct {
		typ  string
		in   any
		want any
	}{
		{"date", "2026-03-04", "2026-03-04"},
		{"date", "2026-03-04T00:00:00Z", "2026-03-04"},
		{"date", time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), "2026-03-04"},
		{"text", "abc", "abc"},
		{"text", []byte("abc"), "abc"},
		{"integer", int64(7), int64(7)},
		{"integer", int32(7), int64(7)},
	} {
		f := &Field{Name: "x", Type: c.typ}
		got, err := TypeOf(f).Output(f, c.in)
		if err != nil || got != c.want {
			t.Errorf("%s output of %#v = %#v, %v; want %#v", c.typ, c.in, got, err, c.want)
		}
	}
	// Amounts, zero ones (handed out from a table made once) among them,
	// at their field's scale.
	for _, c := range []struct {
		scale *int
		in    any
		want  json.Number
	}{
		{nil, int64(0), "0.00"},
		{nil, []byte("0"), "0.00"},
		{ptr(0), int64(0), "0"},
		{ptr(3), int64(0), "0.000"},
		{ptr(6), int64(0), "0.000000"},
		{nil, int64(-5), "-0.05"},
		{nil, int64(123456), "1234.56"},
		{ptr(0), int64(42), "42"},
	} {
		f := &Field{Name: "x", Type: "currency", Scale: c.scale}
		got, err := TypeOf(f).Output(f, c.in)
		if err != nil || got != any(c.want) {
			t.Errorf("currency output of %#v at scale %v = %#v, %v; want %#v", c.in, f.ScaleOr(DefaultCurrencyScale), got, err, c.want)
		}
	}
}

func TestOptionLabel(t *testing.T) {
	f := &Field{Name: "p", Type: "picklist", Options: []Option{
		{Value: "tea", Label: Label{"en": "Tea", "zh": "茶"}},
		{Value: "silk", Label: Label{"en": "Silk"}},
		{Value: "jade"},
	}}
	tests := []struct{ value, lang, want string }{
		{"tea", "zh", "茶"},
		{"tea", "en", "Tea"},
		{"silk", "zh", "Silk"}, // no Chinese label: the English one
		{"jade", "en", "jade"}, // no label: the value
		{"gold", "en", "gold"}, // no option: the value
		{"", "en", ""},
	}
	for _, tt := range tests {
		if got := f.OptionLabel(tt.value, tt.lang); got != tt.want {
			t.Errorf("OptionLabel(%q, %q) = %q, want %q", tt.value, tt.lang, got, tt.want)
		}
	}
}
