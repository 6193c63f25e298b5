package metadata

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// autoNumberType is a number the engine assigns on insert from a pattern
// such as "CT-{YYYY}-{0000}": {YYYY}, {YY}, {MM} and {DD} are the date of
// creation, and a run of zeros in braces is the counter, zero-padded to its
// width. The counter is gap-free per object, field and rendered prefix (so a
// pattern with {YYYY} restarts every year).
type autoNumberType struct{}

var (
	counterToken = regexp.MustCompile(`\{0+\}`)
	autoTokens   = regexp.MustCompile(`\{(YYYY|YY|MM|DD|0+)\}`)
)

func init() { RegisterFieldType(autoNumberType{}) }

// Name implements FieldType.
func (autoNumberType) Name() string { return "auto_number" }

// Kind implements FieldType.
func (autoNumberType) Kind() Kind { return KindString }

// Column implements FieldType.
func (autoNumberType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (autoNumberType) Check(f *Field) []Problem {
	if f.Format == "" {
		return []Problem{Problemf("/format", `an auto_number needs a format such as "CT-{YYYY}-{0000}"`)}
	}
	if n := len(counterToken.FindAllString(f.Format, -1)); n != 1 {
		return []Problem{Problemf("/format", "the format needs exactly one counter such as {0000}, found %d", n)}
	}
	if rest := autoTokens.ReplaceAllString(f.Format, ""); strings.ContainsAny(rest, "{}") {
		return []Problem{Problemf("/format", "unknown placeholder in %q: use {YYYY}, {YY}, {MM}, {DD} and one {000…}", f.Format)}
	}
	if f.Default != nil {
		return []Problem{Problemf("/default", "an auto_number cannot have a default")}
	}
	return nil
}

// Normalize implements FieldType.
func (autoNumberType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return asString(v)
}

// Output implements FieldType.
func (autoNumberType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return outString(v)
}

// Assign implements Assigner: the format rendered at the record's
// creation with the next number of the counter of its rendered prefix.
func (autoNumberType) Assign(f *Field, created time.Time, next func(key string) (int64, error)) (any, error) {
	prefix := AutoNumberPrefix(f.Format, created)
	n, err := next(prefix)
	if err != nil {
		return nil, err
	}
	return RenderAutoNumber(prefix, n), nil
}

// WidensTo implements Widener: numbers are text.
func (autoNumberType) WidensTo(to string) bool { return to == "text" || to == "long_text" }

// AutoNumberPrefix renders the date placeholders of an auto-number format
// at t and returns the result with the counter left as "{n}" for
// RenderAutoNumber; the rendered prefix is the counter's key.
func AutoNumberPrefix(format string, t time.Time) string {
	r := strings.NewReplacer("{YYYY}", t.Format("2006"), "{YY}", t.Format("06"), "{MM}", t.Format("01"), "{DD}", t.Format("02"))
	return r.Replace(format)
}

// RenderAutoNumber puts counter n into a prefix made by AutoNumberPrefix.
func RenderAutoNumber(prefix string, n int64) string {
	return counterToken.ReplaceAllStringFunc(prefix, func(tok string) string {
		return fmt.Sprintf("%0*d", len(tok)-2, n)
	})
}

// Compile-time checks that the type implements FieldType and its optional
// abilities.
var (
	_ FieldType = autoNumberType{}
	_ Assigner  = autoNumberType{}
	_ Widener   = autoNumberType{}
)
