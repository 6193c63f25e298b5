package metadata

import (
	"strings"
	"unicode/utf8"
)

// TextProblem says why s cannot be stored or compared as text, or returns
// "" when it can. PostgreSQL refuses the NUL character and invalid UTF-8
// in text, which SQLite would store: both are refused on every database so
// they behave alike.
func TextProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains the NUL character (\\u0000), which text cannot hold"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	return ""
}
