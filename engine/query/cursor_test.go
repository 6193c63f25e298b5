package query

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/metadata"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestCursorValueForms(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	keys, err := ParseSort("price,weight,active,close_date,seen_at,name", item, opt)
	if err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2026, 11, 1, 8, 0, 0, 123_000_000, time.UTC)
	want := []any{int64(100), 0.1, true, "2026-11-05", "2026-11-01T08:00:00.123Z", "x", uid(1)}
	for name, row := range map[string]map[string]any{
		"sqlite driver": {"price": int64(100), "weight": 0.1, "active": int64(1), "close_date": "2026-11-05", "seen_at": "2026-11-01T08:00:00.123Z", "name": "x", "id": uid(1)},
		"pg driver":     {"price": []byte("100"), "weight": []byte("0.1"), "active": true, "close_date": time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), "seen_at": seen, "name": []byte("x"), "id": uid(1)},
		"normalized":    {"price": int64(100), "weight": 0.1, "active": true, "close_date": "2026-11-05", "seen_at": seen.In(time.FixedZone("x", 3600)), "name": "x", "id": uid(1)},
	} {
		c, err := EncodeCursor(keys, row)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := After(keys, c, item, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Each value appears as "after" and then as "equal" except the last.
		var got []any
		for i := 0; i < len(p.Args); i += 2 {
			got = append(got, p.Args[i])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: args %#v, want %#v", name, got, want)
		}
	}
}

// TestEncodeCursorWritesJSONMarshal checks that the JSON of a cursor,
// written by hand, is byte for byte what json.Marshal writes for the same
// values (cursors handed out before stay valid and look the same): each
// value is the first key's, as the driver or the normalizer gives it,
// beside the form it takes in the cursor.
func TestEncodeCursorWritesJSONMarshal(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 8, 0, 0, 123_000_000, time.FixedZone("x", 3600))
	for _, c := range []struct {
		in, as any
	}{
		{nil, nil},
		{"", ""},
		{"0196f0c2-6d3b-7c4e-9a3f-0c1d2e3f4a5b", "0196f0c2-6d3b-7c4e-9a3f-0c1d2e3f4a5b"},
		{`say "hi"`, `say "hi"`},
		{`back\slash`, `back\slash`},
		{"<b>&amp;</b>", "<b>&amp;</b>"},
		{"a<b", "a<b"},
		{"a>b", "a>b"},
		{"a&b", "a&b"},
		{"中文 name", "中文 name"},
		{"tab\tnew\nline\x01", "tab\tnew\nline\x01"},
		{"\x7f del", "\x7f del"},
		{"line\u2028sep", "line\u2028sep"},
		{"bad \xff utf-8", "bad \xff utf-8"},
		{int64(0), int64(0)},
		{int64(-42), int64(-42)},
		{int64(math.MaxInt64), int64(math.MaxInt64)},
		{int64(math.MinInt64), int64(math.MinInt64)},
		{0.1, 0.1},
		{-0.0001, -0.0001},
		{1e21, 1e21},
		{123456789.0, 123456789.0},
		{true, true},
		{false, false},
		{[]byte("100"), "100"},
		{[]byte(`a"b`), `a"b`},
		{new(string), ""},
		{(*string)(nil), nil},
		{at, "2026-11-01T07:00:00.123Z"},
		{json.Number("12.50"), json.Number("12.50")},
		{int(7), int(7)},
	} {
		keys := []SortKey{{Field: "amount", Desc: true}, {Field: "id"}}
		got, err := EncodeCursor(keys, map[string]any{"amount": c.in, "id": "r-1"})
		if err != nil {
			t.Fatalf("%#v: %v", c.in, err)
		}
		want, err := json.Marshal(cursorData{Sort: "-amount,id", Values: []any{c.as, "r-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if got != base64.RawURLEncoding.EncodeToString(want) {
			raw, _ := base64.RawURLEncoding.DecodeString(got)
			t.Errorf("%#v: cursor %s, want %s", c.in, raw, want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1)} {
		if _, err := EncodeCursor([]SortKey{{Field: "amount"}}, map[string]any{"amount": bad}); err == nil {
			t.Errorf("%v: encoded, want an error", bad)
		}
	}
}

// cursorJSONs are cursor JSONs that parseCursorData reads (true) or
// leaves to the decoder (false): the forms EncodeCursor writes, and
// others a client may send.
var cursorJSONs = []struct {
	raw  string
	fast bool
}{
	{`{"s":"-amount,id","v":[99548400,"0196f0c2-6d3b-7c4e-9a3f-0c1d2e3f4a5b"]}`, true},
	{`{"s":"-price,weight,active,close_date,-seen_at,name","v":[null,-5,true,false,"2026-11-05","<a&b>",0]}`, true},
	{`{"s":"id","v":[]}`, true},
	{`{"s":"","v":[-0]}`, true},
	{`{"s":"a","v":[1.5]}`, false},
	{`{"s":"a","v":[1e3]}`, false},
	{`{"s":"a","v":[01]}`, false},
	{`{"s":"a","v":[-]}`, false},
	{`{"s":"a","v":["tab\t"]}`, false},
	{`{"s":"a","v":["esc\"aped"]}`, false},
	{`{"s":"a","v":["\u0041"]}`, false},
	{`{"s":"a","v":["名"]}`, false},
	{` {"s":"a","v":[1]}`, false},
	{`{"s":"a","v":[1]} `, false},
	{`{"s":"a","v":[1]}{}`, false},
	{`{"s":"a","v":[1],"s":"b"}`, false},
	{`{"S":"a","v":[1]}`, false},
	{`{"v":[1],"s":"a"}`, false},
	{`{"s":"a","v":[1,]}`, false},
	{`{"s":"a","v":[nul]}`, false},
	{`{"s":"a","v":[1`, false},
	{`{"s":"a","v":null}`, false},
	{`{"s":"a`, false},
	{``, false},
}

// TestParseCursorData checks which cursor JSONs are read without the
// decoder (those EncodeCursor writes, so a page after the first reads
// its cursor that way) and that each reads as the decoder reads it.
func TestParseCursorData(t *testing.T) {
	t.Parallel()
	for _, c := range cursorJSONs {
		if _, ok := parseCursorData([]byte(c.raw)); ok != c.fast {
			t.Errorf("%s: read without the decoder %v, want %v", c.raw, ok, c.fast)
		}
		sameAsDecoder(t, c.raw)
	}
	keys := []SortKey{{Field: "amount", Desc: true}, {Field: "id"}}
	cursor, err := EncodeCursor(keys, map[string]any{"amount": int64(-12), "id": "r-1"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(cursor)
	if _, ok := parseCursorData(raw); !ok {
		t.Errorf("%s: EncodeCursor's JSON is left to the decoder", raw)
	}
}

// FuzzCursorData checks that whatever JSON parseCursorData reads, a
// json.Decoder with UseNumber reads to the same sort and values.
func FuzzCursorData(f *testing.F) {
	for _, c := range cursorJSONs {
		f.Add(c.raw)
	}
	f.Fuzz(sameAsDecoder)
}

// sameAsDecoder fails t when parseCursorData reads raw differently from
// the decoder.
func sameAsDecoder(t *testing.T, raw string) {
	got, ok := parseCursorData([]byte(raw))
	if !ok {
		return
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var want cursorData
	if err := dec.Decode(&want); err != nil {
		t.Fatalf("%s: read without the decoder as %#v, the decoder refuses it: %v", raw, got, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: read without the decoder as %#v, the decoder reads %#v", raw, got, want)
	}
}
