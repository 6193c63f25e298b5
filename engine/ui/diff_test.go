package ui

import (
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	t.Parallel()
	lines := func(s string) []string { return splitLines(s) }
	render := func(ds []diffLine) string {
		var b strings.Builder
		for _, d := range ds {
			b.WriteString(d.Op + d.Text + "\n")
		}
		return b.String()
	}
	cases := []struct {
		name, a, b, want string
	}{
		{"same", "x\ny", "x\ny", ""},
		{"added", "a\nb", "a\nx\nb", " a\n+x\n b\n"},
		{"removed", "a\nb\nc", "a\nc", " a\n-b\n c\n"},
		{"changed", "a\nb\nc", "a\nB\nc", " a\n-b\n+B\n c\n"},
		{"new document", "", "a\nb", "+a\n+b\n"},
		{"far context left out", "1\n2\n3\n4\n5\n6\n7\n8\n9", "1\n2\n3\n4\n5\n6\n7\n8\nX", "…\n 6\n 7\n 8\n-9\n+X\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := render(lineDiff(lines(c.a), lines(c.b))); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}
