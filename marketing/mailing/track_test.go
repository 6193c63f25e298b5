package mailing

import (
	"strings"
	"testing"
)

// TestTokenCanonical: a tracking token is read only as it was written;
// spellings a lenient base64 decoder reads as the same bytes (the last
// character's unused bits set) are refused, as is any other change.
func TestTokenCanonical(t *testing.T) {
	m := &Mailer{key: []byte("a key for the test")}
	tok := m.token("01a23c8b-6599-7b1a-b98c-83c82ed08a70", purposeClick, 3)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	for _, c := range []struct {
		name, tok string
		ok        bool
	}{
		{"as written", tok, true},
		{"unused bits set", tok[:len(tok)-1] + string(alphabet[last^1]), false},
		{"a character changed", tok[:10] + map[bool]string{true: "B", false: "A"}[tok[10] == 'A'] + tok[11:], false},
		{"another purpose", m.token("01a23c8b-6599-7b1a-b98c-83c82ed08a70", purposeOpen, 3), false},
	} {
		id, n, ok := m.parseToken(c.tok, purposeClick)
		if ok != c.ok || ok && (id != "01a23c8b-6599-7b1a-b98c-83c82ed08a70" || n != 3) {
			t.Errorf("%s: %q %d %v", c.name, id, n, ok)
		}
	}
}
