package engine

import (
	"slices"
	"strconv"

	"github.com/crmplatform/crm/internal/jsonenc"
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
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = jsonenc.AppendValue(b, v); err != nil {
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
		b = jsonenc.AppendString(append(b, `,"next_cursor":`...), l.NextCursor)
	}
	if l.Total != nil {
		b = strconv.AppendInt(append(b, `,"total":`...), *l.Total, 10)
	}
	if l.TotalCapped {
		b = append(b, `,"total_capped":true`...)
	}
	return append(b, '}'), nil
}
