package run

import (
	"math"
	"math/big"
	"testing"
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
