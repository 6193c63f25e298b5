package query

import "time"

// rangeFunc computes the half-open interval [from, to) of days a date range
// function names, relative to today (midnight in the user's time zone).
// n is the day count of last_n_days and next_n_days.
type rangeFunc func(today time.Time, n int) (from, to time.Time)

// dateRanges are the filter functions that take a date or datetime field
// and become "x >= from AND x < to". Weeks start on Monday.
var dateRanges = map[string]rangeFunc{
	"today":        func(d time.Time, _ int) (time.Time, time.Time) { return d, d.AddDate(0, 0, 1) },
	"yesterday":    func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, -1), d },
	"tomorrow":     func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, 1), d.AddDate(0, 0, 2) },
	"this_week":    func(d time.Time, _ int) (time.Time, time.Time) { return weeks(d, 0) },
	"last_week":    func(d time.Time, _ int) (time.Time, time.Time) { return weeks(d, -1) },
	"next_week":    func(d time.Time, _ int) (time.Time, time.Time) { return weeks(d, 1) },
	"this_month":   func(d time.Time, _ int) (time.Time, time.Time) { return months(d, 0, 1) },
	"last_month":   func(d time.Time, _ int) (time.Time, time.Time) { return months(d, -1, 1) },
	"next_month":   func(d time.Time, _ int) (time.Time, time.Time) { return months(d, 1, 1) },
	"this_quarter": func(d time.Time, _ int) (time.Time, time.Time) { return quarters(d, 0) },
	"last_quarter": func(d time.Time, _ int) (time.Time, time.Time) { return quarters(d, -1) },
	"next_quarter": func(d time.Time, _ int) (time.Time, time.Time) { return quarters(d, 1) },
	"this_year":    func(d time.Time, _ int) (time.Time, time.Time) { return years(d, 0) },
	"last_year":    func(d time.Time, _ int) (time.Time, time.Time) { return years(d, -1) },
	"next_year":    func(d time.Time, _ int) (time.Time, time.Time) { return years(d, 1) },
	// last_n_days(x, 7) is the 7 days ending today, today included.
	"last_n_days": func(d time.Time, n int) (time.Time, time.Time) { return d.AddDate(0, 0, 1-n), d.AddDate(0, 0, 1) },
	// next_n_days(x, 7) is the 7 days starting today, today included.
	"next_n_days": func(d time.Time, n int) (time.Time, time.Time) { return d, d.AddDate(0, 0, n) },
}

// rangeTakesCount reports whether a range function has a day count.
func rangeTakesCount(name string) bool { return name == "last_n_days" || name == "next_n_days" }

// maxRangeDays bounds the day count of last_n_days and next_n_days.
const maxRangeDays = 100 * 366

// midnight returns the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// weeks returns the Monday-based week k weeks from d's.
func weeks(d time.Time, k int) (time.Time, time.Time) {
	back := (int(d.Weekday()) + 6) % 7 // days since Monday
	mon := d.AddDate(0, 0, -back+7*k)
	return mon, mon.AddDate(0, 0, 7)
}

// months returns the span of n months starting k months from d's month.
func months(d time.Time, k, n int) (time.Time, time.Time) {
	first := time.Date(d.Year(), d.Month()+time.Month(k), 1, 0, 0, 0, 0, d.Location())
	return first, time.Date(first.Year(), first.Month()+time.Month(n), 1, 0, 0, 0, 0, d.Location())
}

// quarters returns the calendar quarter k quarters from d's.
func quarters(d time.Time, k int) (time.Time, time.Time) {
	q := (int(d.Month()) - 1) / 3
	first := time.Date(d.Year(), time.Month(3*q+1+3*k), 1, 0, 0, 0, 0, d.Location())
	return first, time.Date(first.Year(), first.Month()+3, 1, 0, 0, 0, 0, d.Location())
}

// years returns the calendar year k years from d's.
func years(d time.Time, k int) (time.Time, time.Time) {
	first := time.Date(d.Year()+k, 1, 1, 0, 0, 0, 0, d.Location())
	return first, first.AddDate(1, 0, 0)
}
