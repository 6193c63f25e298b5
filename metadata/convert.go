package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Date and time layouts of the storage and JSON forms.
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02T15:04:05.000Z07:00"
)

// asString accepts a string value.
func asString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("expected text, got %s", describe(v))
}

// outString is the output of a text value: v itself when it is a string
// (the driver's value, not boxed again), else asString's.
func outString(v any) (any, error) {
	if _, ok := v.(string); ok {
		return v, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// asInt64 accepts whole numbers in any numeric form, and numeric strings.
func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("expected a whole number, got %v", x)
		}
		return int64(x), nil
	case json.Number:
		return parseWhole(string(x))
	case []byte:
		return parseWhole(string(x))
	case string:
		return parseWhole(strings.TrimSpace(x))
	}
	return 0, fmt.Errorf("expected a whole number, got %s", describe(v))
}

// parseWhole parses a whole number in decimal, with a message for people
// (not strconv's) when it is not one or does not fit in 64 bits.
func parseWhole(s string) (int64, error) {
	i, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%.40s is too large: whole numbers go from %d to %d", s, int64(math.MinInt64), int64(math.MaxInt64))
	}
	if err != nil {
		return 0, fmt.Errorf("expected a whole number, got %.40q", s)
	}
	return i, nil
}

// parseNumber parses a decimal number, with a message for people when it
// is not one or is too large for a number.
func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%.40s is too large for a number", s)
	}
	if err != nil {
		return 0, fmt.Errorf("expected a number, got %.40q", s)
	}
	return f, nil
}

// asFloat accepts any number, and numeric strings.
func asFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case json.Number:
		return parseNumber(string(x))
	case []byte:
		return parseNumber(string(x))
	case string:
		return parseNumber(strings.TrimSpace(x))
	}
	return 0, fmt.Errorf("expected a number, got %s", describe(v))
}

// asBool accepts booleans, and 0/1 as databases return them.
func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case int:
		return x != 0, nil
	case []byte:
		return asBool(string(x))
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("expected true or false, got %q", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("expected true or false, got %s", describe(v))
}

// asTime accepts time.Time and RFC 3339 or SQL-style strings.
func asTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case []byte:
		return asTime(string(x))
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05", DateLayout} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("expected a date and time (RFC 3339), got %q", x)
	}
	return time.Time{}, fmt.Errorf("expected a date and time, got %s", describe(v))
}

// describe names the JSON type of v for error messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case bool:
		return "a boolean"
	case json.Number, int, int64, float64:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// checkRange applies a field's min and max to a number.
func checkRange(f *Field, x float64) error {
	if f.Min != nil && x < *f.Min {
		return fmt.Errorf("must be at least %v", *f.Min)
	}
	if f.Max != nil && x > *f.Max {
		return fmt.Errorf("must be at most %v", *f.Max)
	}
	return nil
}

// sqlType picks the column type of a dialect.
func sqlType(dialect, sqlite, pg string) string {
	if dialect == DialectPostgres {
		return pg
	}
	return sqlite
}

// InputOf turns a value in JSON form (what Output returns) back into a
// form Normalize accepts: lists of strings as []any, file references as
// maps.
func InputOf(v any) any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case FileRef:
		return map[string]any{"id": x.ID, "name": x.Name, "size": x.Size, "content_type": x.ContentType}
	}
	return v
}
