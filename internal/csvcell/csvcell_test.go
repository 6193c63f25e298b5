package csvcell

import "testing"

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"Acme", "Acme"},
		{"北方机床", "北方机床"},
		{"a=b", "a=b"},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+86 138 0000 0000", "'+86 138 0000 0000"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\r=1", "'\r=1"},
		{"'quoted", "'quoted"},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Value(c.want); got != c.in && c.in != "'quoted" {
			t.Errorf("Value(%q) = %q, want %q", c.want, got, c.in)
		}
	}
}

// TestValue checks that Value drops only the apostrophe Text adds.
func TestValue(t *testing.T) {
	for in, want := range map[string]string{"'": "'", "''=1": "''=1", "'quoted": "'quoted", "'=1": "=1", "'-5": "-5", "Acme": "Acme", "": ""} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}
