package rules

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// The ways a duplicate rule normalises a field's value before comparing.
const (
	// NormalizeExact compares values as they are.
	NormalizeExact = "exact"
	// NormalizeFold folds case, full-width letters and digits, and runs of
	// white space (ASCII and ideographic) into one space.
	NormalizeFold = "fold"
	// NormalizePhone keeps only the digits (full-width ones too).
	NormalizePhone = "phone"
	// NormalizeEmail trims and lower-cases an address.
	NormalizeEmail = "email"
	// NormalizeCompany folds like NormalizeFold, drops punctuation and
	// spaces and then the legal suffixes of a company name (Ltd, Inc,
	// Corp, LLC, GmbH, 有限公司, 股份有限公司 …), so "ACME Trading Co., Ltd."
	// and "Acme Trading" match.
	NormalizeCompany = "company"
)

// Normalizers maps each normalisation's name to its function.
var Normalizers = map[string]func(string) string{
	NormalizeExact:   func(s string) string { return s },
	NormalizeFold:    fold,
	NormalizePhone:   phoneDigits,
	NormalizeEmail:   func(s string) string { return strings.ToLower(strings.TrimSpace(width.Fold.String(s))) },
	NormalizeCompany: company,
}

// fold lower-cases s, folds full-width forms to their narrow ones and
// collapses white space.
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(width.Fold.String(s))), " ")
}

// phoneDigits keeps the digits of a phone number.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range width.Fold.String(s) {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// latinSuffixes are legal forms dropped from the end of a company name,
// as words (after folding and without punctuation).
var latinSuffixes = map[string]bool{
	"ltd": true, "limited": true, "inc": true, "incorporated": true, "corp": true, "corporation": true,
	"co": true, "company": true, "llc": true, "plc": true, "gmbh": true, "ag": true, "sa": true, "bv": true, "pte": true,
}

// hanSuffixes are legal forms dropped from the end of a Chinese company
// name, longest first.
var hanSuffixes = []string{"股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "公司"}

// company normalises a company name (NormalizeCompany).
func company(s string) string {
	s = strings.ToLower(width.Fold.String(s))
	words := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
	for len(words) > 1 && latinSuffixes[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	out := strings.Join(words, "")
	for changed := true; changed; {
		changed = false
		for _, suf := range hanSuffixes {
			if rest, ok := strings.CutSuffix(out, suf); ok && rest != "" {
				out, changed = rest, true
				break
			}
		}
	}
	return out
}
