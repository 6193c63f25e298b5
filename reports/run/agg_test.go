package run

import (
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
