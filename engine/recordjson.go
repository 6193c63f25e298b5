package engine

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes the record as encoding/json encodes its map (keys
// sorted, HTML characters escaped) without reflection for the values
// records hold most (strings, numbers as json.Number and int64, booleans,
// null, lists of ids); other values go through encoding/json. Lists of
// records are most of what the API writes, and reflecting over each map
// (sorting its keys through reflect.Value) cost more than reading them.
func (r Record) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	b, _, err := r.appendJSON(make([]byte, 0, 64*len(r)), nil)
	return b, err
}

// appendJSON appends the record's JSON to b. keys may be the sorted keys
// of the record before (records of one list have the same): when they are
// exactly the record's keys they are used as they are, otherwise the
// record's own are sorted; the keys used are returned for the next.
func (r Record) appendJSON(b []byte, keys []string) ([]byte, []string, error) {
	if len(keys) == len(r) {
		// The same number of keys: they are the record's if it has
		// every one (each is looked up once, as it is written).
		out, ok, err := r.appendFields(b, keys)
		if err != nil || ok {
			return out, keys, err
		}
		b = out[:len(b)]
	}
	keys = make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b, _, err := r.appendFields(b, keys)
	return b, keys, err
}

// appendFields appends the record to b as an object of the fields keys
// names, in their order; it stops and reports false at a key the record
// lacks.
func (r Record) appendFields(b []byte, keys []string) ([]byte, bool, error) {
	b = append(b, '{')
	for i, k := range keys {
		v, ok := r[k]
		if !ok {
			return b, false, nil
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, v); err != nil {
			return nil, false, err
		}
	}
	return append(b, '}'), true, nil
}

// MarshalJSON encodes the page as encoding/json encodes the struct (fields
// in order, empty ones left out as tagged), its records by
// Record.MarshalJSON.
func (l *ListResult) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	b := append(make([]byte, 0, 1024*max(1, len(l.Items))), `{"items":`...)
	if l.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		var keys []string
		for i, r := range l.Items {
			if i > 0 {
				b = append(b, ',')
			}
			if r == nil {
				b = append(b, "null"...)
				continue
			}
			var err error
			if b, keys, err = r.appendJSON(b, keys); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if l.NextCursor != "" {
		b = appendJSONString(append(b, `,"next_cursor":`...), l.NextCursor)
	}
	if l.Total != nil {
		b = strconv.AppendInt(append(b, `,"total":`...), *l.Total, 10)
	}
	if l.TotalCapped {
		b = append(b, `,"total_capped":true`...)
	}
	return append(b, '}'), nil
}

// appendJSONValue appends v encoded as encoding/json would.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case json.Number:
		if x == "" {
			return append(b, '0'), nil
		}
		if !isJSONNumber(string(x)) {
			break // encoding/json's error
		}
		return append(b, x...), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, out...), nil
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	digits := func() int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n
	}
	switch {
	case s == "":
		return false
	case s[0] == '0':
		s = s[1:]
	case digits() == 0:
		return false
	}
	if s != "" && s[0] == '.' {
		s = s[1:]
		if digits() == 0 {
			return false
		}
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if digits() == 0 {
			return false
		}
	}
	return s == ""
}

// jsonSafe tells the ASCII characters a JSON string holds as they are,
// as encoding/json writes them: printable ones but the quote, the
// backslash and the HTML characters <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string the way encoding/json writes
// it: HTML characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
