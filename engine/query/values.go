package query

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// describe names the type of a constant for error messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "text"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return "a number"
	case time.Time:
		return "a date and time"
	case time.Duration:
		return "a duration"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}

// toRat converts a numeric constant to an exact rational.
func toRat(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int8:
		return new(big.Rat).SetInt64(int64(x)), true
	case int16:
		return new(big.Rat).SetInt64(int64(x)), true
	case int32:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	case uint:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint8:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint16:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint32:
		return new(big.Rat).SetUint64(uint64(x)), true
	case uint64:
		return new(big.Rat).SetUint64(x), true
	case float32:
		return toRat(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		// The shortest decimal that round-trips is what the user wrote
		// (100.1, not 100.09999…).
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		return r, ok
	case json.Number:
		return new(big.Rat).SetString(string(x))
	}
	return nil, false
}

// toFloat converts a numeric constant to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return toFloat(float64(x))
	}
	r, ok := toRat(v)
	if !ok {
		return 0, false
	}
	f, _ := r.Float64()
	return f, true
}

// rounding says what to do with a number that falls between two stored
// values of an integer or currency column.
type rounding int

const (
	exact rounding = iota // equality: a fractional value matches nothing
	floor                 // x > 2.5 is x > 2, x <= 2.5 is x <= 2
	ceil                  // x >= 2.5 is x >= 3, x < 2.5 is x < 3
)

// roundingFor returns the rounding that keeps the meaning of op.
func roundingFor(op string) rounding {
	switch op {
	case ">", "<=":
		return floor
	case ">=", "<":
		return ceil
	}
	return exact
}

// scaledInt converts a numeric constant into the integer storage form of
// an integer (scale 0) or currency (minor units) column. ok is false when
// the value has more decimals than the column and r is exact: it then
// equals no stored value.
func scaledInt(v any, scale int, r rounding) (n int64, ok bool, err error) {
	x, isNum := toRat(v)
	if !isNum {
		return 0, false, fmt.Errorf("expected a number, got %s", describe(v))
	}
	x.Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	num, den := x.Num(), x.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated towards zero
	if m.Sign() != 0 {
		switch r {
		case exact:
			return 0, false, nil
		case floor:
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			}
		case ceil:
			if num.Sign() > 0 {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if !q.IsInt64() {
		return 0, false, fmt.Errorf("number %s is out of range", x.FloatString(0))
	}
	return q.Int64(), true, nil
}

// literal converts a constant compared with field f (with operator op,
// field on the left) into a driver argument. ok is false when the value
// can equal no stored value (2.5 for an integer field with "==").
func (c *compiler) literal(f *metadata.Field, v any, op string, pos int) (arg any, ok bool, err error) {
	fail := func(format string, args ...any) (any, bool, error) {
		return nil, false, errorf(pos, f.Name, "%s (a %s field) "+format, append([]any{f.Name, f.Type}, args...)...)
	}
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindString, metadata.KindRef:
		s, isStr := v.(string)
		if !isStr {
			return fail("cannot be compared with %s", describe(v))
		}
		return s, true, nil
	case metadata.KindInt:
		n, ok, err := scaledInt(v, 0, roundingFor(op))
		if err != nil {
			return fail("cannot be compared with %s", describe(v))
		}
		return n, ok, nil
	case metadata.KindMoney:
		n, ok, err := scaledInt(v, f.ScaleOr(metadata.DefaultCurrencyScale), roundingFor(op))
		if err != nil {
			return fail("cannot be compared with %s", describe(v))
		}
		return n, ok, nil
	case metadata.KindFloat:
		x, isNum := toFloat(v)
		if !isNum {
			return fail("cannot be compared with %s", describe(v))
		}
		return x, true, nil
	case metadata.KindBool:
		b, isBool := v.(bool)
		if !isBool {
			return fail("cannot be compared with %s", describe(v))
		}
		return b, true, nil
	case metadata.KindDate:
		switch x := v.(type) {
		case time.Time:
			return x.Format(metadata.DateLayout), true, nil
		case string:
			t, err := time.Parse(metadata.DateLayout, x)
			if err != nil {
				return fail("needs a date as YYYY-MM-DD, got %q", x)
			}
			return t.Format(metadata.DateLayout), true, nil
		}
		return fail("cannot be compared with %s", describe(v))
	case metadata.KindDateTime:
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		case string:
			var err error
			if t, err = parseTime(x, c.now.Location()); err != nil {
				return fail("needs a date and time (RFC 3339), got %q", x)
			}
		default:
			return fail("cannot be compared with %s", describe(v))
		}
		return metadata.DBValue(c.opt.Dialect, t.UTC().Truncate(time.Microsecond)), true, nil
	}
	return fail("cannot be compared")
}

// parseTime reads an RFC 3339 date and time, or a bare date taken as
// midnight in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(metadata.DateLayout, s, loc); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04:05", s, loc)
}

// likeEscape escapes the LIKE wildcards of s for ESCAPE '\'.
func likeEscape(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	return likeEscaper.Replace(s)
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
