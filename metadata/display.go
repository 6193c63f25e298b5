package metadata

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DisplayTime is how a datetime shows to people: in their time zone, to
// the minute.
const DisplayTime = "2006-01-02 15:04"

// yesNo are the words of a boolean by language.
var yesNo = map[bool]Label{true: {"en": "Yes", "zh": "是"}, false: {"en": "No", "zh": "否"}}

// Display writes v, a value of field f in the API's JSON form (a record as
// the engine answers it), as people read it in lang: an option by its
// label, the options of a multi-picklist by theirs, yes or no (是/否), a
// datetime in loc to the minute (DisplayTime), a number or an amount with
// its thousands grouped (1,234,567.50), a file by its name, lists joined
// with commas, nothing for an empty value. Without a field (f nil) a value
// is written as the API writes it, booleans as yes or no. The UI's pages,
// reminders' messages, mailings and printed documents all write values
// through it.
func Display(f *Field, v any, lang string, loc *time.Location) string {
	if v == nil {
		return ""
	}
	if f == nil {
		return plainText(v, lang)
	}
	in := FormInput(f)
	switch in.Kind {
	case InputSelect, InputMultiSelect:
		vals := []string{plainText(v, lang)}
		if in.Multiple {
			vals = textList(v, lang)
		}
		for i, val := range vals {
			vals[i] = f.OptionLabel(val, lang)
		}
		return strings.Join(vals, ", ")
	case InputCheckbox:
		b, _ := v.(bool)
		return yesNo[b].Get(lang)
	case InputDateTime:
		s := plainText(v, lang)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			if loc == nil {
				loc = time.UTC
			}
			return t.In(loc).Format(DisplayTime)
		}
		return s
	case InputCurrency, InputNumber:
		return GroupDigits(plainText(v, lang))
	case InputFile:
		if m, ok := v.(map[string]any); ok {
			return plainText(m["name"], lang)
		}
	}
	return plainText(v, lang)
}

// plainText writes a value as the API writes it: text as it is, numbers
// as JSON has them, yes or no, lists joined with commas.
func plainText(v any, lang string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return yesNo[x].Get(lang)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string, []any:
		return strings.Join(textList(x, lang), ", ")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// textList returns the texts of a list value (nil for anything else).
func textList(v any, lang string) []string {
	switch x := v.(type) {
	case []string:
		return append([]string(nil), x...)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = plainText(e, lang)
		}
		return out
	}
	return nil
}

// GroupDigits puts thousands separators into the whole part of a decimal
// number written as text ("1234567.50" → "1,234,567.50"); anything else is
// returned as it is.
func GroupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !digits(whole) || (hasFrac && !digits(frac)) {
		return sign + s
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// UngroupDigits takes the thousands separators out of a number as
// GroupDigits writes it ("1,234,567.50" → "1234567.50"); text that is not
// a number grouped that way is returned as it is.
func UngroupDigits(s string) string {
	sign, rest := "", s
	if strings.HasPrefix(rest, "-") {
		sign, rest = "-", rest[1:]
	}
	whole, frac, hasFrac := strings.Cut(rest, ".")
	groups := strings.Split(whole, ",")
	if len(groups) < 2 || len(groups[0]) > 3 || !digits(groups[0]) || (hasFrac && !digits(frac)) {
		return s
	}
	for _, g := range groups[1:] {
		if len(g) != 3 || !digits(g) {
			return s
		}
	}
	out := sign + strings.Join(groups, "")
	if hasFrac {
		out += "." + frac
	}
	return out
}

// digits reports whether s is one or more decimal digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
