package run

import (
	"math"
	"math/big"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

// TestRoundHalfAway checks the rounding of report numbers, both in 64-bit
// integers and, where the numbers do not fit, in big.Int.
func TestRoundHalfAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r     string
		scale int
		want  string
	}{
		{"1/8", 2, "13"},                   // 12.5 → 13
		{"-1/8", 2, "-13"},                 // away from zero
		{"1/3", 2, "33"},                   // 33.33…
		{"2/3", 2, "67"},                   // 66.66…
		{"-2/3", 0, "-1"},                  // -0.66… → -1
		{"1/2", 0, "1"},                    // a half
		{"-1/2", 0, "-1"},                  // a negative half
		{"12345/100", 2, "12345"},          // exact
		{"0", 2, "0"},                      // zero
		{"1/7", 19, "1428571428571428571"}, // 10^19 does not fit an int64
		{"92233720368547758/1", 2, "9223372036854775800"},
		{"92233720368547759/1", 2, "9223372036854775900"},                          // beyond int64: big.Int
		{"123456789012345678901234567890/7", 2, "1763668414462081127160493827000"}, // a numerator beyond int64
		{"1/123456789012345678901", 25, "81000"},                                   // a denominator beyond uint64
	}
	for _, tt := range tests {
		r, ok := new(big.Rat).SetString(tt.r)
		if !ok {
			t.Fatalf("bad rational %q", tt.r)
		}
		if got := roundHalfAway(r, tt.scale).String(); got != tt.want {
			t.Errorf("roundHalfAway(%s, %d) = %s, want %s", tt.r, tt.scale, got, tt.want)
		}
	}
}

// TestDecimalPlus checks that sums stay exact: in 64 bits while they fit
// and share a scale, as a big.Rat otherwise.
func TestDecimalPlus(t *testing.T) {
	t.Parallel()
	small := func(units int64, scale int) decimal { return decimal{units: units, scale: scale, small: true} }
	rat := func(s string) decimal {
		r, _ := new(big.Rat).SetString(s)
		return ratDecimal(r)
	}
	tests := []struct {
		name      string
		a, b      decimal
		want      string
		wantSmall bool
	}{
		{"minor units", small(1050, 2), small(-25, 2), "41/4", true},
		{"no number on one side", decimal{}, small(7, 0), "7", true},
		{"no number on either side", decimal{}, decimal{}, "", false},
		{"scales differ", small(15, 1), small(25, 2), "7/4", false},
		{"past int64", small(math.MaxInt64, 0), small(1, 0), "9223372036854775808", false},
		{"past int64, negative", small(math.MinInt64, 0), small(-1, 0), "-9223372036854775809", false},
		{"signs differ near the bound", small(math.MaxInt64, 0), small(-1, 0), "9223372036854775806", true},
		{"a rational", small(1, 0), rat("1/3"), "4/3", false},
	}
	for _, tt := range tests {
		got := tt.a.plus(tt.b)
		if got.small != tt.wantSmall {
			t.Errorf("%s: small = %v, want %v", tt.name, got.small, tt.wantSmall)
		}
		s := ""
		if r := got.Rat(); r != nil {
			s = r.RatString()
		}
		if s != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, s, tt.want)
		}
	}
}

// TestToDecimal checks that a sum read from the database is the same
// number whether the driver gives it as an integer or as text (PostgreSQL's
// SUM of a BIGINT is a NUMERIC), in 64 bits when it is a whole number that
// fits and as a big.Rat otherwise.
func TestToDecimal(t *testing.T) {
	t.Parallel()
	currency := &metadata.Field{Name: "amount", Type: "currency"}
	integer := &metadata.Field{Name: "seats", Type: "integer"}
	decimalField := &metadata.Field{Name: "ratio", Type: "decimal"}
	tests := []struct {
		name      string
		f         *metadata.Field
		v         any
		want      string
		wantSmall bool
	}{
		{"minor units as an integer", currency, int64(12345), "2469/20", true},
		{"minor units as text", currency, "12345", "2469/20", true},
		{"minor units as bytes", currency, []byte("-250"), "-5/2", true},
		{"whole numbers as text", integer, "-7", "-7", true},
		{"text past int64", currency, "92233720368547758070", "922337203685477580700/1000", false},
		{"text with a fraction", currency, "1.5", "3/200", false},
		{"a decimal field as text", decimalField, "12", "12", false},
		{"no value", currency, nil, "", false},
	}
	for _, tt := range tests {
		got, err := toDecimal(tt.f, tt.v)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got.small != tt.wantSmall {
			t.Errorf("%s: small = %v, want %v", tt.name, got.small, tt.wantSmall)
		}
		s := ""
		if r := got.Rat(); r != nil {
			s = r.RatString()
		}
		want := tt.want
		if r, ok := new(big.Rat).SetString(want); ok {
			want = r.RatString()
		}
		if s != want {
			t.Errorf("%s: %s, want %s", tt.name, s, want)
		}
	}
	if _, err := toDecimal(currency, "twelve"); err == nil {
		t.Error("text that is not a number: no error")
	}
}
