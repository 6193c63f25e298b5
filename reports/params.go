package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// Periods are the relative values a period parameter takes, as the
// filter language names them: the user's calendar decides where they
// start, weeks on Monday.
var Periods = []string{"today", "yesterday", "this_week", "last_week", "next_week", "this_month", "last_month", "next_month",
	"this_quarter", "last_quarter", "next_quarter", "this_year", "last_year", "next_year"}

// ParamError is a value a report's parameter cannot take, said in English
// and Chinese (Message, by language).
type ParamError struct {
	// Param is the parameter's name.
	Param   string
	Message metadata.Label
}

// Error says it in English.
func (e *ParamError) Error() string { return e.Message.Get("en") }

// fail is the ParamError of p saying en (or zh, in Chinese, where the
// parameter is named by its Chinese label) with args.
func (p *Param) fail(en, zh string, args ...any) *ParamError {
	name := p.Def.Name
	if l := p.Def.Label.Get("zh"); l != "" {
		name = l
	}
	return &ParamError{Param: p.Def.Name, Message: metadata.Label{
		"en": fmt.Sprintf("parameter %s: ", p.Def.Name) + fmt.Sprintf(en, args...),
		"zh": fmt.Sprintf("参数“%s”：", name) + fmt.Sprintf(zh, args...),
	}}
}

// ParamFilter returns the condition, in the list filter language, that
// parameter p adds for value: a period ("this_quarter", or
// "2026-01-01..2026-03-31" with both days included), a user ("me" for the
// user running the report, whose id is me), a number of idle days or a
// value of the field. An empty value adds nothing.
func ParamFilter(p *Param, value, me string) (string, error) {
	if value == "" {
		return "", nil
	}
	path := p.Ref.Path
	switch p.Def.Type {
	case ParamPeriod:
		for _, name := range Periods {
			if value == name {
				return fmt.Sprintf("%s(%s)", name, path), nil
			}
		}
		from, to, ok := strings.Cut(value, "..")
		a, err1 := time.Parse(metadata.DateLayout, from)
		b, err2 := time.Parse(metadata.DateLayout, to)
		if !ok || err1 != nil || err2 != nil || b.Before(a) {
			return "", p.fail("a period is one of %s, or YYYY-MM-DD..YYYY-MM-DD, not %q", "期间应为 %s 之一，或 YYYY-MM-DD..YYYY-MM-DD，而不是 %q", strings.Join(Periods, ", "), value)
		}
		return fmt.Sprintf("%s >= %q && %s < %q", path, from, path, b.AddDate(0, 0, 1).Format(metadata.DateLayout)), nil
	case ParamBucket:
		if !slices.Contains(metadata.Buckets(p.Ref.Field), metadata.Bucket(value)) {
			return "", p.fail("a bucket is day, week, month, quarter or year, not %q", "分组周期应为 day、week、month、quarter 或 year，而不是 %q", value)
		}
		return "", nil
	case ParamIdleDays:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 3650 {
			return "", p.fail("a number of days from 1 to 3650, not %q", "天数应为 1 到 3650，而不是 %q", value)
		}
		return fmt.Sprintf("is_empty(%s) || !last_n_days(%s, %d)", path, path, n), nil
	case ParamUser:
		if value == "me" {
			value = me
		}
		if !metadata.ValidID(value) {
			return "", p.fail("a user is a user id or me, not %q", "用户应为用户 ID 或 me，而不是 %q", value)
		}
		return fmt.Sprintf("%s == %s", path, strconv.Quote(value)), nil
	}
	switch metadata.TypeOf(p.Ref.Field).Kind() {
	case metadata.KindInt, metadata.KindFloat, metadata.KindMoney:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "", p.fail("%q is not a number", "%q 不是数字", value)
		}
		return fmt.Sprintf("%s == %s", path, value), nil
	case metadata.KindBool:
		if value != "true" && value != "false" {
			return "", p.fail("%q is not true or false", "%q 不是 true 或 false", value)
		}
		return fmt.Sprintf("%s == %s", path, value), nil
	}
	return fmt.Sprintf("%s == %s", path, strconv.Quote(value)), nil
}
