package formulas

import (
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// markWhere supports the roll-up spelling sum(opportunities where stage ==
// "won", amount): it replaces each keyword where (outside string literals)
// by a comma padded to the same length, so the expression parses as a call
// and every position in error messages stays that of the source. It
// returns the new source and the offsets of the replaced keywords. "where"
// is a reserved word, so no field or object can be named so.
func markWhere(src string) (string, []int) {
	if !strings.Contains(src, "where") {
		return src, nil
	}
	b := []byte(src)
	var at []int
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if quote != 0 {
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == 'w' && strings.HasPrefix(src[i:], "where") &&
			(i == 0 || !identByte(b[i-1])) && (i+5 == len(b) || !identByte(b[i+5])):
			copy(b[i:], ",    ")
			at = append(at, i)
			i += 4
		}
	}
	return string(b), at
}

// identByte reports whether c can be part of an identifier.
func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '$' || c >= 0x80
}

// childObject finds the object a roll-up names: its name, or its plural
// (opportunities, the English plural label as a name).
func childObject(s *metadata.Schema, name string) (*metadata.Object, bool) {
	if o, ok := s.Object(name); ok {
		return o, true
	}
	for _, o := range s.Objects {
		plural := strings.ReplaceAll(strings.ToLower(o.PluralLabel.Get("en")), " ", "_")
		if name == plural || name == o.Name+"s" || name == o.Name+"es" ||
			(strings.HasSuffix(o.Name, "y") && name == strings.TrimSuffix(o.Name, "y")+"ies") {
			return o, true
		}
	}
	return nil, false
}
