package apitest

import (
	"math/big"
	"testing"
)

// Rat parses an exact decimal such as "1330.95" (a test's expected
// amount, worked out apart from the platform); t fails on anything else.
func Rat(t testing.TB, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a decimal: %q", s)
	}
	return r
}

// RoundCents rounds an exact amount half away from zero to two decimals,
// as the platform stores currency, independently of it.
func RoundCents(r *big.Rat) *big.Rat {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	n, d := new(big.Int).Abs(x.Num()), x.Denom()
	q, m := new(big.Int).QuoRem(n, d, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, big.NewInt(100))
}
