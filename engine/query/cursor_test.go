package query

import (
	"encoding/base64"
	"reflect"
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
