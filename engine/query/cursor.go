package query

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/jsonenc"
	"github.com/crmplatform/crm/metadata"
)

// cursorData is the decoded form of a cursor: the sort it was made for and
// the sort values of the last row of the page.
type cursorData struct {
	Sort   string `json:"s"`
	Values []any  `json:"v"`
}

// EncodeCursor returns the cursor that continues after row, the last item
// of a page sorted by keys. row holds the storage values of at least the
// sort fields, as the driver returned them or as normalized (int64 or
// []byte numbers, 0/1 or bool booleans, time.Time or text datetimes):
// After converts them back through the field types. The cursor is opaque
// to clients (URL-safe base64 of JSON) but not secret: it holds only
// values of fields the sort already names.
func EncodeCursor(keys []SortKey, row map[string]any) (string, error) {
	// The JSON is that of json.Marshal(cursorData{…}), written without
	// reflection.
	b := make([]byte, 0, 96)
	b = append(b, `{"s":`...)
	b = jsonenc.AppendString(b, spec(keys))
	b = append(b, `,"v":[`...)
	for i, k := range keys {
		v, ok := row[k.Field]
		if !ok {
			return "", fmt.Errorf("query: encode cursor: the row has no %q", k.Field)
		}
		switch x := v.(type) {
		case []byte:
			v = string(x)
		case *string:
			if x == nil {
				v = nil
			} else {
				v = *x
			}
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "", fmt.Errorf("query: encode cursor: %s is %v", k.Field, x)
			}
		case time.Time:
			v = x.UTC().Format(time.RFC3339Nano)
		}
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = jsonenc.AppendValue(b, v); err != nil {
			return "", fmt.Errorf("query: encode cursor: %w", err)
		}
	}
	b = append(b, "]}"...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// After returns the keyset predicate selecting the rows that come after
// the cursor in the order of keys (which must be the sort the cursor was
// made with): for keys k1, k2 … and cursor values c1, c2 …,
// k1 after c1 OR (k1 = c1 AND (k2 after c2 OR …)), where "after" follows
// each key's direction with NULLs last and "=" matches NULL with NULL.
// An empty cursor gives an empty Predicate. A cursor that does not decode
// or was made for another sort is an *Error. Segments gives the same rows
// as conditions a database can answer from an index in sort order.
func After(keys []SortKey, cursor string, obj *metadata.Object, opt Options) (Predicate, error) {
	if cursor == "" {
		return Predicate{}, nil
	}
	cols, vals, err := decodeCursor(keys, cursor, obj, opt)
	if err != nil {
		return Predicate{}, err
	}
	sql, args := afterSQL(keys, cols, vals)
	return Predicate{SQL: paren(sql), Args: args}, nil
}

// Segments splits the rows of a sorted list that come after the cursor
// (every row when the cursor is empty) into disjoint conditions, in sort
// order, each of which an index on the sort's columns answers as one
// range read in order, so that a page costs the same whatever its depth
// and the size of the table. With first sort key k1 and cursor value c1:
// the rest of c1's tie group and the values after c1 as one range (k1 <=
// c1 AND (k1 < c1 OR the following keys after theirs), descending), then
// the empty values (k1 IS NULL), which come last; a cursor in the empty
// values gives the rest of them. Without a cursor the
// segments are every row, or, when the dialect's index order puts NULLs
// first in the key's direction (SQLite ascending, PostgreSQL descending),
// the set values then the empty ones. Read each segment with ORDER BY
// OrderBy(keys) and merge (UNION ALL, then the same ORDER BY) or read them
// in turn. A cursor that does not decode or was made for another sort is
// an *Error, as with After.
func Segments(keys []SortKey, cursor string, obj *metadata.Object, opt Options) ([]Predicate, error) {
	k1 := keys[0]
	c1 := column(obj, k1.Field)
	nullable := !store.NotNullColumn(k1.Field)
	if cursor == "" {
		if nullable && nullsFirstInIndex(opt.Dialect, k1.Desc) {
			return []Predicate{{SQL: c1 + " IS NOT NULL"}, {SQL: c1 + " IS NULL"}}, nil
		}
		return []Predicate{{}}, nil
	}
	cols, vals, err := decodeCursor(keys, cursor, obj, opt)
	if err != nil {
		return nil, err
	}
	var tail string
	var tailArgs []any
	if len(keys) > 1 {
		tail, tailArgs = afterSQL(keys[1:], cols[1:], vals[1:])
	}
	if vals[0] == nil {
		if tail == "" {
			return []Predicate{}, nil
		}
		return []Predicate{{SQL: c1 + " IS NULL AND " + paren(tail), Args: tailArgs}}, nil
	}
	// The rest of the tie group and the values after it are one range of
	// k1 (k1 <= c1 descending): the few rows of the tie group that come
	// before the cursor are read and skipped.
	op, opEq := " > ?", " >= ?"
	if k1.Desc {
		op, opEq = " < ?", " <= ?"
	}
	segs := []Predicate{{SQL: c1 + op, Args: []any{vals[0]}}}
	if tail != "" {
		segs[0] = Predicate{SQL: c1 + opEq + " AND (" + c1 + op + " OR " + paren(tail) + ")", Args: append([]any{vals[0], vals[0]}, tailArgs...)}
	}
	if nullable {
		segs = append(segs, Predicate{SQL: c1 + " IS NULL"})
	}
	return segs, nil
}

// nullsFirstInIndex reports whether reading an index in the direction of
// a key gives NULLs first: SQLite orders NULL below every value,
// PostgreSQL above.
func nullsFirstInIndex(dialect string, desc bool) bool {
	if dialect == metadata.DialectPostgres {
		return desc
	}
	return !desc
}

// decodeCursor checks a cursor against keys and returns the qualified
// column and the storage value of each key.
func decodeCursor(keys []SortKey, cursor string, obj *metadata.Object, opt Options) ([]string, []any, error) {
	bad := func(format string, args ...any) ([]string, []any, error) {
		return nil, nil, &Error{Message: "bad cursor: " + fmt.Sprintf(format, args...)}
	}
	if len(cursor) > MaxCursorLength {
		return bad("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not a cursor of this list")
	}
	d, err := readCursorData(raw)
	if err != nil {
		return bad("not a cursor of this list")
	}
	if d.Sort != spec(keys) || len(d.Values) != len(keys) {
		return bad("it was made for another sort order; start again without a cursor")
	}
	cols := make([]string, len(keys))
	vals := make([]any, len(keys))
	for i, k := range keys {
		f, ok := obj.FieldOrSystem(k.Field)
		if !ok {
			return nil, nil, &Error{Field: k.Field, Message: fmt.Sprintf("unknown sort field %q on %s", k.Field, obj.Name)}
		}
		if err := opt.check(obj.Name, k.Field, 0); err != nil {
			return nil, nil, err
		}
		v, err := cursorValue(f, d.Values[i])
		if err != nil {
			return bad("%s: %v", k.Field, err)
		}
		cols[i] = column(obj, k.Field)
		vals[i] = metadata.DBValue(opt.Dialect, v)
	}
	return cols, vals, nil
}

// readCursorData reads the JSON of a cursor as a json.Decoder with
// UseNumber reads it, the form EncodeCursor writes without the decoder
// (parseCursorData).
func readCursorData(raw []byte) (cursorData, error) {
	if d, ok := parseCursorData(raw); ok {
		return d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var d cursorData
	err := dec.Decode(&d)
	return d, err
}

// parseCursorData reads the JSON EncodeCursor writes, {"s":"…","v":[…]}
// with strings of printable ASCII without escapes, whole numbers,
// booleans and nulls, and nothing around it, into what a json.Decoder
// with UseNumber reads from it. It reports false for anything else (which
// the decoder reads or refuses).
func parseCursorData(raw []byte) (cursorData, bool) {
	var d cursorData
	rest, ok := strings.CutPrefix(string(raw), `{"s":`)
	if !ok {
		return d, false
	}
	if d.Sort, rest, ok = plainString(rest); !ok {
		return d, false
	}
	if rest, ok = strings.CutPrefix(rest, `,"v":[`); !ok {
		return d, false
	}
	d.Values = []any{}
	if after, ok := strings.CutPrefix(rest, "]"); ok {
		return d, after == "}"
	}
	for {
		var v any
		switch {
		case strings.HasPrefix(rest, "null"):
			rest = rest[len("null"):]
		case strings.HasPrefix(rest, "true"):
			v, rest = true, rest[len("true"):]
		case strings.HasPrefix(rest, "false"):
			v, rest = false, rest[len("false"):]
		case strings.HasPrefix(rest, `"`):
			var str string
			if str, rest, ok = plainString(rest); !ok {
				return d, false
			}
			v = str
		default:
			n := wholeNumber(rest)
			if n == 0 {
				return d, false
			}
			v, rest = json.Number(rest[:n]), rest[n:]
		}
		d.Values = append(d.Values, v)
		if after, ok := strings.CutPrefix(rest, ","); ok {
			rest = after
			continue
		}
		after, ok := strings.CutPrefix(rest, "]")
		return d, ok && after == "}"
	}
}

// plainString reads the JSON string s starts with when it holds only
// printable ASCII and no escape, and returns it and what follows.
func plainString(s string) (string, string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[1:i], s[i+1:], true
		case c < 0x20, c > 0x7e, c == '\\':
			return "", s, false
		}
	}
	return "", s, false
}

// wholeNumber returns the length of the whole number in JSON's grammar
// (-?(0|[1-9][0-9]*)) s starts with, 0 when there is none.
func wholeNumber(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		return i + 1
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	return 0
}

// afterSQL builds the keyset condition for keys with cursor values vals
// on columns cols, from the last key outwards:
// p_i = after_i OR (eq_i AND p_i+1).
func afterSQL(keys []SortKey, cols []string, vals []any) (string, []any) {
	var sql string
	var args []any
	for i := len(keys) - 1; i >= 0; i-- {
		col, v := cols[i], vals[i]
		var after, eq string
		var afterArgs, eqArgs []any
		if v == nil {
			// NULLs come last: nothing is after NULL in this key.
			eq = col + " IS NULL"
		} else {
			op := " > ?"
			if keys[i].Desc {
				op = " < ?"
			}
			after, afterArgs = "("+col+op+" OR "+col+" IS NULL)", []any{v}
			if store.NotNullColumn(keys[i].Field) {
				after = col + op // never NULL
			}
			eq, eqArgs = col+" = ?", []any{v}
		}
		switch {
		case sql == "":
			// Last key: equal is not after.
			if after == "" {
				sql, args = "1=0", nil
			} else {
				sql, args = after, afterArgs
			}
		case after == "":
			sql, args = eq+" AND "+paren(sql), append(eqArgs, args...)
		default:
			inner := eq + " AND " + paren(sql)
			sql = "(" + after + " OR (" + inner + "))"
			args = append(append(afterArgs, eqArgs...), args...)
		}
	}
	return sql, args
}

// paren wraps s in parentheses unless it is already a single group.
func paren(s string) string {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && balanced(s[1:len(s)-1]) {
		return s
	}
	return "(" + s + ")"
}

// balanced reports whether the parentheses of s pair up without closing
// below depth zero.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// cursorValue converts a decoded cursor value into the storage form of f.
func cursorValue(f *metadata.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch metadata.TypeOf(f).Kind() {
	case metadata.KindString, metadata.KindRef, metadata.KindStringList:
		if s, ok := v.(string); ok {
			if p := metadata.TextProblem(s); p != "" {
				return nil, fmt.Errorf("the value %s", p)
			}
			return s, nil
		}
	case metadata.KindInt, metadata.KindMoney:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
			if fl, err := x.Float64(); err == nil && fl == math.Trunc(fl) && math.Abs(fl) < 1<<53 {
				return int64(fl), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case metadata.KindFloat:
		switch x := v.(type) {
		case json.Number:
			if fl, err := x.Float64(); err == nil {
				return fl, nil
			}
		case string:
			if fl, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return fl, nil
			}
		}
	case metadata.KindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case json.Number:
			return x.String() != "0", nil
		}
	case metadata.KindDate:
		if s, ok := v.(string); ok && len(s) >= len(metadata.DateLayout) {
			if t, err := time.Parse(metadata.DateLayout, s[:len(metadata.DateLayout)]); err == nil {
				return t.Format(metadata.DateLayout), nil
			}
		}
	case metadata.KindDateTime:
		if s, ok := v.(string); ok {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
				if t, err := time.Parse(layout, s); err == nil {
					return t.UTC(), nil
				}
			}
		}
	}
	return nil, fmt.Errorf("unexpected value %v", v)
}
