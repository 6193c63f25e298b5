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
