package engine

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestRecordJSONLikeEncodingJSON checks that a record encodes byte for
// byte as encoding/json encodes the same map, for every kind of value a
// record holds and for strings that need escaping.
func TestRecordJSONLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	strs := []string{"", "plain", `quote " and \ backslash`, "<b>Tom & Jerry</b>", "tab\tnew\nline\rret\bbs\fff",
		"\x00\x01\x1f\x7f", "汉字 and emoji 🙂", "line\u2028sep\u2029para", "bad \xff\xfe utf8", "\xed\xa0\x80 surrogate", "é"}
	cases := []Record{
		nil,
		{},
		{"id": "01", "name": strs[3], "amount": json.Number("1000.50"), "count": int64(-42), "n": 7, "ok": true, "off": false, "none": nil},
		{"ratio": 0.1, "big": 1e21, "small": 1e-7, "neg": -3.25, "whole": float64(12)},
		{"ids": []string{"a", "<b>"}, "empty": []string{}, "nilids": []string(nil)},
		{"file": map[string]any{"name": "x.pdf", "size": 12}, "when": time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC), "zero": json.Number("")},
		{"z": 1, "a": 2, "m": 3, "A": 4, "_": 5, "é": 6, "<": 7},
	}
	for i, s := range strs {
		cases = append(cases, Record{"s": s, s: i})
	}
	for i, rec := range cases {
		want, err := json.Marshal(map[string]any(rec))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
		direct, err := rec.MarshalJSON()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(direct, want) {
			t.Errorf("case %d, MarshalJSON:\n got %s\nwant %s", i, direct, want)
		}
	}
	total := int64(42)
	pages := []*ListResult{
		{},
		{Items: []Record{}},
		{Items: cases[1:4], NextCursor: "c<1>", Total: &total, TotalCapped: true},
		{Items: cases[4:], Total: new(int64)},
		{Items: []Record{cases[2], cases[2], cases[3], nil, cases[2], {"id": "x"}, cases[2]}},
		// As many keys as the record before, but not the same ones.
		{Items: []Record{{"a": 1, "b": "<2>"}, {"a": 3, "c": 4}, {"b": 5, "c": 6}, {"a": 7, "b": 8}}},
	}
	for i, page := range pages {
		type plain ListResult // without the method
		want, err := json.Marshal((*plain)(page))
		if err != nil {
			t.Fatal(err)
		}
		got, err := page.MarshalJSON()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("page %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if _, err := json.Marshal(Record{"n": json.Number("12abc")}); err == nil {
		t.Error("an invalid json.Number was encoded; encoding/json refuses it")
	}
}
