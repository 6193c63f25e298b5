package jsonenc

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAppendValueWritesJSONMarshal checks that every value is written byte
// for byte as json.Marshal writes it, and that what json.Marshal refuses
// is refused.
func TestAppendValueWritesJSONMarshal(t *testing.T) {
	t.Parallel()
	values := []any{
		nil, "", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x1f\x7f",
		"中文 ünïcode", "line\u2028para\u2029", "bad \xff utf-8", true, false,
		int64(-42), int64(0), 7, json.Number("1000.50"), json.Number("-0.5e-3"), json.Number(""),
		[]string{"a", "<b>"}, []string{}, []string(nil), 3.25, time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC),
		map[string]any{"name": "x.pdf", "size": 12},
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%#v): %v", v, err)
		}
		got, err := AppendValue([]byte("x"), v)
		if err != nil || string(got) != "x"+string(want) {
			t.Errorf("AppendValue(%#v) = %s, %v; want x%s", v, got, err, want)
		}
	}
	for _, bad := range []json.Number{"12abc", "01", "1.", "-", "1e"} {
		if _, err := AppendValue(nil, bad); err == nil {
			t.Errorf("AppendValue(json.Number(%q)) wrote it; json.Marshal refuses it", bad)
		}
	}
}
