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
			return "", fmt.Errorf("parameter %s: a period is one of %s, or YYYY-MM-DD..YYYY-MM-DD, not %q", p.Def.Name, strings.Join(Periods, ", "), value)
		}
		return fmt.Sprintf("%s >= %q && %s < %q", path, from, path, b.AddDate(0, 0, 1).Format(metadata.DateLayout)), nil
	case ParamBucket:
		if !slices.Contains(metadata.Buckets(p.Ref.Field), metadata.Bucket(value)) {
			return "", fmt.Errorf("parameter %s: a bucket is day, week, month, quarter or year, not %q", p.Def.Name, value)
		}
		return "", nil
	case ParamIdleDays:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 3650 {
			return "", fmt.Errorf("parameter %s: a number of days from 1 to 3650, not %q", p.Def.Name, value)
		}
		return fmt.Sprintf("is_empty(%s) || !last_n_days(%s, %d)", path, path, n), nil
	case ParamUser:
		if value == "me" {
			value = me
		}
		if !metadata.ValidID(value) {
			return "", fmt.Errorf("parameter %s: a user is a user id or me, not %q", p.Def.Name, value)
		}
		return fmt.Sprintf("%s == %s", path, strconv.Quote(value)), nil
	}
	switch metadata.TypeOf(p.Ref.Field).Kind() {
	case metadata.KindInt, metadata.KindFloat, metadata.KindMoney:
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "", fmt.Errorf("parameter %s: %q is not a number", p.Def.Name, value)
		}
		return fmt.Sprintf("%s == %s", path, value), nil
	case metadata.KindBool:
		if value != "true" && value != "false" {
			return "", fmt.Errorf("parameter %s: %q is not true or false", p.Def.Name, value)
		}
		return fmt.Sprintf("%s == %s", path, value), nil
	}
	return fmt.Sprintf("%s == %s", path, strconv.Quote(value)), nil
}
