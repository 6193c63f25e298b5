package metadata

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
	"unicode/utf8"
)

// textType implements text, long_text, email, phone and url: all stored as
// TEXT, differing in their default length, format check, form input and
// the types they widen to.
type textType struct {
	name      string
	maxLength int
	check     func(string) error
	input     InputKind
	widens    []string
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ()\-.]{3,30}(\s*(x|ext\.?)\s*[0-9]{1,6})?$`)

func init() {
	toText := []string{"text", "long_text"}
	RegisterFieldType(&textType{name: "text", maxLength: 255, input: InputText, widens: []string{"long_text"}})
	RegisterFieldType(&textType{name: "long_text", maxLength: 100000, input: InputTextarea})
	RegisterFieldType(&textType{name: "email", maxLength: 254, input: InputEmail, widens: toText, check: func(s string) error {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s {
			return fmt.Errorf("%q is not an e-mail address", s)
		}
		return nil
	}})
	RegisterFieldType(&textType{name: "phone", maxLength: 40, input: InputTel, widens: toText, check: func(s string) error {
		if !phonePattern.MatchString(s) {
			return fmt.Errorf("%q is not a phone number", s)
		}
		return nil
	}})
	RegisterFieldType(&textType{name: "url", maxLength: 2048, input: InputURL, widens: toText, check: func(s string) error {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", s)
		}
		return nil
	}})
}

var patterns sync.Map // pattern string → *regexp.Regexp

// compiledPattern compiles a field pattern once per process.
func compiledPattern(p string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	patterns.Store(p, re)
	return re, nil
}

// Name implements FieldType.
func (t *textType) Name() string { return t.name }

// Kind implements FieldType.
func (t *textType) Kind() Kind { return KindString }

// Column implements FieldType.
func (t *textType) Column(dialect string, f *Field) string {
	return "TEXT"
}

// Check implements FieldType.
func (t *textType) Check(f *Field) []Problem {
	var ps []Problem
	if f.Pattern != "" {
		if _, err := regexp.Compile(f.Pattern); err != nil {
			var se *syntax.Error
			if errors.As(err, &se) {
				ps = append(ps, Problemf("/pattern", "not a valid regular expression: %s in `%s`", se.Code, se.Expr))
			} else {
				ps = append(ps, Problemf("/pattern", "not a valid regular expression"))
			}
		}
	}
	if f.MaxLength < 0 {
		ps = append(ps, Problemf("/max_length", "must not be negative"))
	}
	return ps
}

// limit is the field's maximum length in characters.
func (t *textType) limit(f *Field) int {
	if f.MaxLength > 0 {
		return f.MaxLength
	}
	return t.maxLength
}

// Normalize implements FieldType.
func (t *textType) Normalize(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(s); n > t.limit(f) {
		return nil, fmt.Errorf("is %d characters long, at most %d allowed", n, t.limit(f))
	}
	if t.check != nil {
		if err := t.check(s); err != nil {
			return nil, err
		}
	}
	if f.Pattern != "" {
		re, err := compiledPattern(f.Pattern)
		if err != nil {
			return nil, fmt.Errorf("bad pattern: %w", err)
		}
		if !re.MatchString(s) {
			return nil, fmt.Errorf("does not match the pattern %s", f.Pattern)
		}
	}
	return s, nil
}

// Output implements FieldType.
func (t *textType) Output(f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return outString(v)
}

// WidensTo implements Widener.
func (t *textType) WidensTo(to string) bool { return slices.Contains(t.widens, to) }

// Input implements Inputter.
func (t *textType) Input(f *Field) Input { return Input{Kind: t.input, MaxLength: t.limit(f)} }

// Compile-time checks that the type implements FieldType and its optional
// abilities.
var (
	_ FieldType = (*textType)(nil)
	_ Widener   = (*textType)(nil)
	_ Inputter  = (*textType)(nil)
)
