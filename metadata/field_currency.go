package metadata

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// currencyType stores exact amounts as integer minor units (BIGINT): with
// the default scale of 2, 1234.56 is stored as 123456. Its JSON form is a
// number with exactly scale decimals.
type currencyType struct{}

func init() { RegisterFieldType(currencyType{}) }

// DefaultCurrencyScale is the number of decimals of a currency field
// without a scale.
const DefaultCurrencyScale = 2

// Name implements FieldType.
func (currencyType) Name() string { return "currency" }

// Kind implements FieldType.
func (currencyType) Kind() Kind { return KindMoney }

// Column implements FieldType.
func (currencyType) Column(dialect string, f *Field) string {
	return sqlType(dialect, "INTEGER", "BIGINT")
}

// Check implements FieldType.
func (currencyType) Check(f *Field) []Problem {
	ps := checkMinMax(f)
	if f.Scale != nil && (*f.Scale < 0 || *f.Scale > 6) {
		ps = append(ps, Problemf("/scale", "must be between 0 and 6"))
	}
	return ps
}

// Normalize parses the amount exactly (decimal strings and JSON numbers go
// through math/big, never through float64) into minor units.
func (currencyType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	scale := f.ScaleOr(DefaultCurrencyScale)
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("must be a finite amount")
		}
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return nil, fmt.Errorf("expected an amount, got %s", describe(v))
	}
	units, err := MinorUnits(s, scale)
	if err != nil {
		return nil, err
	}
	if err := checkRange(f, float64(units)/math.Pow10(scale)); err != nil {
		return nil, err
	}
	return units, nil
}

// Output implements FieldType.
func (currencyType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	units, err := asInt64(v)
	if err != nil {
		return nil, err
	}
	scale := f.ScaleOr(DefaultCurrencyScale)
	if units == 0 && scale >= 0 && scale < len(zeroAmounts) {
		return zeroAmounts[scale], nil
	}
	return json.Number(FormatMinorUnits(units, scale)), nil
}

// zeroAmounts holds the JSON form of a zero amount at each scale, made
// once: zero amounts (discounts, commissions of open deals) are common and
// cost nothing to hand out again.
var zeroAmounts = func() (z [7]any) {
	for scale := range z {
		z[scale] = json.Number(FormatMinorUnits(0, scale))
	}
	return z
}()

// MinorUnits converts a decimal amount such as "1234.565" into integer
// minor units at scale, rounding half away from zero.
func MinorUnits(s string, scale int) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half away from zero: compare 2*|remainder| with the denominator.
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("amount %s is too large", s)
	}
	return q.Int64(), nil
}

// FormatMinorUnits formats minor units as a decimal with scale decimals.
func FormatMinorUnits(units int64, scale int) string {
	if scale == 0 {
		return strconv.FormatInt(units, 10)
	}
	neg := units < 0
	abs := uint64(units)
	if neg {
		abs = -abs // two's complement: right for math.MinInt64 too
	}
	var buf [24]byte
	u := strconv.AppendUint(buf[:0], abs, 10)
	var outBuf [48]byte
	out := outBuf[:0]
	if neg {
		out = append(out, '-')
	}
	if len(u) <= scale {
		out = append(out, '0', '.')
		for range scale - len(u) {
			out = append(out, '0')
		}
		return string(append(out, u...))
	}
	out = append(out, u[:len(u)-scale]...)
	out = append(out, '.')
	return string(append(out, u[len(u)-scale:]...))
}

// Compile-time check that the type implements FieldType.
var _ FieldType = currencyType{}
