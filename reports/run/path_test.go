package run

import "testing"

// TestPrefix checks a group's prefixes, cut from its own path, against
// the path of its first keys made afresh: empty keys, keys escaped and
// one to three keys.
func TestPrefix(t *testing.T) {
	tests := []struct {
		name string
		keys []any
		want string
	}{
		{"one key", []any{"won"}, "won"},
		{"two keys", []any{"won", "2026-03"}, "won/2026-03"},
		{"an empty key first", []any{nil, "2026-03", true}, "/2026-03/true"},
		{"an empty key last", []any{"won", nil}, "won/"},
		{"keys with a slash, a percent and a star", []any{"a/b", "50%", "*"}, "a%2Fb/50%25/%2A"},
		{"no key", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &grp{keys: tt.keys}
			if got := g.prefix(len(tt.keys)); got != tt.want {
				t.Fatalf("path %q, want %q", got, tt.want)
			}
			for l := 0; l <= len(tt.keys); l++ {
				if got, want := g.prefix(l), path(tt.keys[:l]); got != want {
					t.Errorf("prefix(%d) = %q, want %q", l, got, want)
				}
			}
		})
	}
}

// TestAddress checks that the address of a group row (groupRow's
// "_group") reads back (parsePath) as the group's keys, a key without a
// value as such, and that the empty address stays the whole report.
func TestAddress(t *testing.T) {
	tests := []struct {
		name string
		keys []any
		want string
	}{
		{"the whole report", nil, ""},
		{"one key", []any{"won"}, "won"},
		{"one key without a value", []any{nil}, NoValue},
		{"a key *none", []any{"*none"}, "%2Anone"},
		{"no value first", []any{nil, "2026-03"}, "/2026-03"},
		{"no value last", []any{"won", nil}, "won/"},
		{"no value twice", []any{nil, nil}, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &grp{keys: tt.keys, out: map[string]any{}}
			row := groupRow([]string{"a", "b"}, g)
			if got := row["_group"]; got != tt.want {
				t.Fatalf("_group %q, want %q", got, tt.want)
			}
			segs, err := parsePath(tt.want, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != len(tt.keys) {
				t.Fatalf("%d segments %v, want %d keys", len(segs), segs, len(tt.keys))
			}
			for i, k := range tt.keys {
				if s := segs[i]; s.any || s.null != (k == nil) || k != nil && s.text != k {
					t.Errorf("segment %d: %+v, want key %v", i, s, k)
				}
			}
		})
	}
}
