package apitest

import (
	"math/big"
	"testing"
)

func TestRoundCents(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"1.005", "1.01"}, {"1.004", "1"}, {"-1.005", "-1.01"}, {"-1.004", "-1"},
		{"2/3", "0.67"}, {"-2/3", "-0.67"}, {"0.125", "0.13"}, {"12.5", "12.5"},
	} {
		got := RoundCents(Rat(t, c.in))
		if want := Rat(t, c.want); got.Cmp(want) != 0 {
			t.Errorf("RoundCents(%s) = %s, want %s", c.in, got.FloatString(2), c.want)
		}
	}
	if got := RoundCents(big.NewRat(1, 200)); got.Cmp(big.NewRat(1, 100)) != 0 {
		t.Errorf("RoundCents(0.005) = %s", got.FloatString(2))
	}
}
