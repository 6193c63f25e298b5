package formulas

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"

	"github.com/crmplatform/crm/metadata"
)

// Func is one function of the formula language. Fn receives the arguments
// as expr passes them; Types are the typed signatures (values such as
// new(func(time.Time, int) time.Time)) the type checker matches calls
// against, in order: put an int signature before a float64 one.
type Func struct {
	Name  string
	Doc   string
	Fn    func(params ...any) (any, error)
	Types []any
}

var (
	funcsMu sync.RWMutex
	funcs   = map[string]Func{}
)

// RegisterFunc adds a function to the formula language. It panics when the
// name is empty or taken, as database/sql.Register does; call it from init.
func RegisterFunc(f Func) {
	funcsMu.Lock()
	defer funcsMu.Unlock()
	if f.Name == "" || f.Fn == nil {
		panic("formulas: RegisterFunc needs a name and a function")
	}
	if _, dup := funcs[f.Name]; dup {
		panic("formulas: function registered twice: " + f.Name)
	}
	funcs[f.Name] = f
}

// LookupFunc returns the function registered under name.
func LookupFunc(name string) (Func, bool) {
	funcsMu.RLock()
	defer funcsMu.RUnlock()
	f, ok := funcs[name]
	return f, ok
}

// FuncNames lists the registered functions in alphabetical order.
func FuncNames() []string {
	funcsMu.RLock()
	defer funcsMu.RUnlock()
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Functions returns the function library as expr options: every registered
// function with its typed signatures, the date operators (a date plus or
// minus a whole number of days), and the rewriting of if(cond, a, b) and
// case(x, v1, r1, …, default) into expr's conditional operator. expr's own
// `if … else …` statement syntax is disabled so that if can be a function.
// Registered functions take precedence over expr builtins of the same name
// (abs, round, min, max, now, date, upper, lower, concat, sum, count).
func Functions() []expr.Option {
	funcsMu.RLock()
	defer funcsMu.RUnlock()
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	opts := make([]expr.Option, 0, len(names)+4)
	for _, n := range names {
		f := funcs[n]
		opts = append(opts, expr.Function(f.Name, f.Fn, f.Types...))
	}
	opts = append(opts,
		expr.DisableIfOperator(),
		expr.Patch(conditionalPatcher{}),
		expr.Operator("+", "add_days"),
		expr.Operator("-", "sub_days"),
	)
	return opts
}

// conditionalPatcher turns if(c, a, b) into c ? a : b and case(x, v1, r1,
// …, default) into nested conditionals, so the type checker sees the types
// of the branches and only the chosen branch is evaluated.
type conditionalPatcher struct{}

// Visit rewrites one node.
func (conditionalPatcher) Visit(node *ast.Node) {
	call, id, ok := namedCall(*node)
	if !ok {
		return
	}
	switch {
	case id.Value == "if" && len(call.Arguments) == 3:
		ast.Patch(node, &ast.ConditionalNode{Cond: call.Arguments[0], Exp1: call.Arguments[1], Exp2: call.Arguments[2]})
	case id.Value == "case" && len(call.Arguments) >= 4 && len(call.Arguments)%2 == 0:
		subject, args := call.Arguments[0], call.Arguments[1:]
		var build func(i int) ast.Node
		build = func(i int) ast.Node {
			if i == len(args)-1 {
				return args[i]
			}
			cond := &ast.BinaryNode{Operator: "==", Left: subject, Right: args[i]}
			cond.SetLocation(args[i].Location())
			n := &ast.ConditionalNode{Cond: cond, Exp1: args[i+1], Exp2: build(i + 2)}
			n.SetLocation(args[i].Location())
			return n
		}
		ast.Patch(node, build(0))
	}
}

// Signatures used by several functions.
var (
	sigTimeToTime    = new(func(time.Time) time.Time)
	sigTimeToInt     = new(func(time.Time) int)
	sigTimeIntToTime = new(func(time.Time, int) time.Time)
	sigStringString  = new(func(string) string)
)

func init() {
	for _, f := range []Func{
		// Dates. A date is a time.Time at midnight UTC; a datetime any
		// time.Time. An empty date is the zero time and stays empty.
		{Name: "today", Doc: "today() is the current date (midnight UTC).",
			Fn: func(...any) (any, error) { return truncDay(time.Now().UTC()), nil }, Types: []any{new(func() time.Time)}},
		{Name: "now", Doc: "now() is the current date and time.",
			Fn: func(...any) (any, error) { return time.Now().UTC(), nil }, Types: []any{new(func() time.Time)}},
		{Name: "date", Doc: `date(y, m, d) or date("2024-12-31") is a date.`, Fn: fnDate,
			Types: []any{new(func(int, int, int) time.Time), new(func(string) time.Time)}},
		{Name: "add_days", Doc: "add_days(t, n) adds n days; also written t + n.", Fn: timeIntFn(func(t time.Time, n int) time.Time { return t.AddDate(0, 0, n) }),
			Types: []any{sigTimeIntToTime}},
		{Name: "sub_days", Doc: "sub_days(t, n) subtracts n days; also written t - n.", Fn: timeIntFn(func(t time.Time, n int) time.Time { return t.AddDate(0, 0, -n) }),
			Types: []any{sigTimeIntToTime}},
		{Name: "add_months", Doc: "add_months(t, n) adds n months, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29).", Fn: timeIntFn(addMonths),
			Types: []any{sigTimeIntToTime}},
		{Name: "add_years", Doc: "add_years(t, n) adds n years (Feb 29 + 1 year = Feb 28).", Fn: timeIntFn(func(t time.Time, n int) time.Time { return addMonths(t, 12*n) }),
			Types: []any{sigTimeIntToTime}},
		{Name: "days_between", Doc: "days_between(a, b) is the number of calendar days (UTC) from a to b; 0 when either is empty.", Fn: fnDaysBetween,
			Types: []any{new(func(time.Time, time.Time) int)}},
		{Name: "start_of_week", Doc: "start_of_week(t) is the Monday of t's week.", Fn: timeFn(func(t time.Time) time.Time {
			d := truncDay(t)
			return d.AddDate(0, 0, -(isoWeekday(d) - 1))
		}), Types: []any{sigTimeToTime}},
		{Name: "start_of_month", Doc: "start_of_month(t) is the first day of t's month.", Fn: timeFn(func(t time.Time) time.Time {
			return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		}), Types: []any{sigTimeToTime}},
		{Name: "start_of_quarter", Doc: "start_of_quarter(t) is the first day of t's quarter.", Fn: timeFn(func(t time.Time) time.Time {
			m := (int(t.Month())-1)/3*3 + 1
			return time.Date(t.Year(), time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		}), Types: []any{sigTimeToTime}},
		{Name: "start_of_year", Doc: "start_of_year(t) is January 1 of t's year.", Fn: timeFn(func(t time.Time) time.Time {
			return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		}), Types: []any{sigTimeToTime}},
		{Name: "end_of_month", Doc: "end_of_month(t) is the last day of t's month.", Fn: timeFn(func(t time.Time) time.Time {
			return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC)
		}), Types: []any{sigTimeToTime}},
		{Name: "year", Doc: "year(t) is the year of t (0 when empty).", Fn: timePartFn(func(t time.Time) int { return t.Year() }), Types: []any{sigTimeToInt}},
		{Name: "month", Doc: "month(t) is the month of t, 1 to 12 (0 when empty).", Fn: timePartFn(func(t time.Time) int { return int(t.Month()) }), Types: []any{sigTimeToInt}},
		{Name: "day", Doc: "day(t) is the day of the month of t, 1 to 31 (0 when empty).", Fn: timePartFn(func(t time.Time) int { return t.Day() }), Types: []any{sigTimeToInt}},
		{Name: "weekday", Doc: "weekday(t) is the ISO day of the week of t: 1 for Monday to 7 for Sunday (0 when empty).", Fn: timePartFn(isoWeekday), Types: []any{sigTimeToInt}},
		{Name: "next_birthday", Doc: "next_birthday(t) is the next anniversary of t's month and day on or after today; next_birthday(t, from) counts from another date.", Fn: fnNextBirthday,
			Types: []any{sigTimeToTime, new(func(time.Time, time.Time) time.Time)}},

		// Text.
		{Name: "concat", Doc: "concat(a, b, …) joins values as text; empty values add nothing.", Fn: fnConcat, Types: []any{new(func(...any) string)}},
		{Name: "upper", Doc: "upper(s) is s in upper case.", Fn: stringFn(strings.ToUpper), Types: []any{sigStringString}},
		{Name: "lower", Doc: "lower(s) is s in lower case.", Fn: stringFn(strings.ToLower), Types: []any{sigStringString}},
		{Name: "left", Doc: "left(s, n) is the first n characters of s.", Fn: fnLeft, Types: []any{new(func(string, int) string)}},
		{Name: "right", Doc: "right(s, n) is the last n characters of s.", Fn: fnRight, Types: []any{new(func(string, int) string)}},
		{Name: "text_contains", Doc: "text_contains(s, sub) reports whether s contains sub, ignoring case (the operator s contains sub is case-sensitive).", Fn: fnTextContains,
			Types: []any{new(func(string, string) bool)}},
		{Name: "format", Doc: "format(pattern, args…) formats like Go's fmt.Sprintf (%s, %d, %.2f …); widths and precisions above 64 are refused.", Fn: fnFormat,
			Types: []any{new(func(string, ...any) string)}},

		// Numbers. An int signature comes first so integers stay integers.
		{Name: "round", Doc: "round(x) rounds to a whole number and round(x, places) to places decimals, half away from zero, in decimal (round(1.005, 2) = 1.01).", Fn: fnRound,
			Types: []any{new(func(float64) float64), new(func(float64, int) float64)}},
		{Name: "abs", Doc: "abs(x) is the absolute value of x.", Fn: fnAbs, Types: []any{new(func(int) int), new(func(float64) float64)}},
		{Name: "min", Doc: "min(a, b, …) is the smallest number (and in a computed field, min(child, field) is a roll-up).", Fn: minMax(-1),
			Types: []any{new(func(int, ...int) int), new(func(float64, ...float64) float64)}},
		{Name: "max", Doc: "max(a, b, …) is the largest number (and in a computed field, max(child, field) is a roll-up).", Fn: minMax(1),
			Types: []any{new(func(int, ...int) int), new(func(float64, ...float64) float64)}},
		{Name: "sum", Doc: "sum(a, b, …) adds numbers (and in a computed field, sum(child, field[, condition]) is a roll-up).", Fn: fnSum,
			Types: []any{new(func(...int) int), new(func(...float64) float64)}},
		{Name: "avg", Doc: "avg(a, b, …) is the mean of numbers (and in a computed field, avg(child, field[, condition]) is a roll-up).", Fn: fnAvg,
			Types: []any{new(func(float64, ...float64) float64)}},
		{Name: "count", Doc: "count(list) is the number of items of a list (and in a computed field, count(child[, condition]) is a roll-up).", Fn: fnCount,
			Types: []any{new(func([]string) int), new(func([]any) int)}},

		// Logic. if and case are rewritten to conditionals (see Functions);
		// these implementations serve only calls with other arities, which
		// the checker refuses.
		{Name: "if", Doc: "if(cond, a, b) is a when cond is true, else b (same as cond ? a : b).", Fn: fnIf,
			Types: []any{new(func(bool, any, any) any)}},
		{Name: "case", Doc: "case(x, v1, r1, v2, r2, …, default) is the r of the first v equal to x, else default.", Fn: fnCaseUnreachable,
			Types: []any{new(func(any, any, any, any) any)}},
		{Name: "is_empty", Doc: "is_empty(x) reports whether x is empty: nil, \"\", an empty list or an empty date (numbers and booleans are never empty: empty numbers read as 0).", Fn: fnIsEmpty,
			Types: []any{new(func(any) bool)}},
	} {
		RegisterFunc(f)
	}
}

// truncDay returns the calendar day of t, in t's own time zone, as a date
// (midnight UTC).
func truncDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func isoWeekday(t time.Time) int {
	if t.IsZero() {
		return 0
	}
	w := int(t.Weekday())
	if w == 0 {
		return 7
	}
	return w
}

// addMonths adds n months, clamping the day to the last day of the month.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}

func fnDate(params ...any) (any, error) {
	if len(params) == 1 {
		s, err := toString(params[0])
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(metadata.DateLayout, s)
		if err != nil {
			return nil, fmt.Errorf("date: %q is not a date (YYYY-MM-DD)", s)
		}
		return t, nil
	}
	if len(params) != 3 {
		return nil, fmt.Errorf("date: want 3 arguments, got %d", len(params))
	}
	var ymd [3]int
	for i, p := range params {
		n, err := toInt(p)
		if err != nil {
			return nil, fmt.Errorf("date: %w", err)
		}
		ymd[i] = n
	}
	if ymd[1] < 1 || ymd[1] > 12 || ymd[2] < 1 || ymd[2] > 31 {
		return nil, fmt.Errorf("date: %d-%d-%d is not a date", ymd[0], ymd[1], ymd[2])
	}
	t := time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
	if t.Day() != ymd[2] {
		return nil, fmt.Errorf("date: %d-%02d-%02d is not a date", ymd[0], ymd[1], ymd[2])
	}
	return t, nil
}

func fnDaysBetween(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("days_between: want 2 arguments, got %d", len(params))
	}
	a, err := toTime(params[0])
	if err != nil {
		return nil, fmt.Errorf("days_between: %w", err)
	}
	b, err := toTime(params[1])
	if err != nil {
		return nil, fmt.Errorf("days_between: %w", err)
	}
	if a.IsZero() || b.IsZero() {
		return 0, nil
	}
	return int(truncDay(b).Sub(truncDay(a)).Hours() / 24), nil
}

func fnNextBirthday(params ...any) (any, error) {
	if len(params) < 1 || len(params) > 2 {
		return nil, fmt.Errorf("next_birthday: want 1 or 2 arguments, got %d", len(params))
	}
	b, err := toTime(params[0])
	if err != nil {
		return nil, fmt.Errorf("next_birthday: %w", err)
	}
	from := truncDay(time.Now())
	if len(params) == 2 {
		if from, err = toTime(params[1]); err != nil {
			return nil, fmt.Errorf("next_birthday: %w", err)
		}
		from = truncDay(from)
	}
	if b.IsZero() || from.IsZero() {
		return time.Time{}, nil
	}
	b = truncDay(b)
	years := from.Year() - b.Year()
	next := truncDay(addMonths(b, 12*years))
	if next.Before(from) {
		next = truncDay(addMonths(b, 12*(years+1)))
	}
	return next, nil
}

func timeFn(f func(time.Time) time.Time) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 1 {
			return nil, fmt.Errorf("want 1 argument, got %d", len(params))
		}
		t, err := toTime(params[0])
		if err != nil {
			return nil, err
		}
		if t.IsZero() {
			return time.Time{}, nil
		}
		return f(t), nil
	}
}

func timePartFn(f func(time.Time) int) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 1 {
			return nil, fmt.Errorf("want 1 argument, got %d", len(params))
		}
		t, err := toTime(params[0])
		if err != nil {
			return nil, err
		}
		if t.IsZero() {
			return 0, nil
		}
		return f(t), nil
	}
}

func timeIntFn(f func(time.Time, int) time.Time) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 2 {
			return nil, fmt.Errorf("want 2 arguments, got %d", len(params))
		}
		t, err := toTime(params[0])
		if err != nil {
			return nil, err
		}
		n, err := toInt(params[1])
		if err != nil {
			return nil, err
		}
		if t.IsZero() {
			return time.Time{}, nil
		}
		if n > 1_000_000 || n < -1_000_000 {
			return nil, fmt.Errorf("%d is too large an offset", n)
		}
		return f(t, n), nil
	}
}

func stringFn(f func(string) string) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 1 {
			return nil, fmt.Errorf("want 1 argument, got %d", len(params))
		}
		s, err := toString(params[0])
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

// textOf formats a value for concat.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		if x.Equal(truncDay(x)) {
			return x.UTC().Format(metadata.DateLayout)
		}
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return strings.Join(x, ", ")
	}
	return fmt.Sprint(v)
}

func fnConcat(params ...any) (any, error) {
	var b strings.Builder
	for _, p := range params {
		b.WriteString(textOf(p))
		if b.Len() > maxTextLen {
			return nil, errTextTooLong
		}
	}
	return b.String(), nil
}

// maxTextLen bounds the text functions can build.
const maxTextLen = 1 << 20

var errTextTooLong = fmt.Errorf("text longer than %d bytes", maxTextLen)

func stringInt(params []any) (string, int, error) {
	if len(params) != 2 {
		return "", 0, fmt.Errorf("want 2 arguments, got %d", len(params))
	}
	s, err := toString(params[0])
	if err != nil {
		return "", 0, err
	}
	n, err := toInt(params[1])
	if err != nil {
		return "", 0, err
	}
	if n < 0 {
		n = 0
	}
	return s, n, nil
}

func fnLeft(params ...any) (any, error) {
	s, n, err := stringInt(params)
	if err != nil {
		return nil, fmt.Errorf("left: %w", err)
	}
	if utf8.RuneCountInString(s) <= n {
		return s, nil
	}
	r := []rune(s)
	return string(r[:n]), nil
}

func fnRight(params ...any) (any, error) {
	s, n, err := stringInt(params)
	if err != nil {
		return nil, fmt.Errorf("right: %w", err)
	}
	if utf8.RuneCountInString(s) <= n {
		return s, nil
	}
	r := []rune(s)
	return string(r[len(r)-n:]), nil
}

func fnTextContains(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("text_contains: want 2 arguments, got %d", len(params))
	}
	s, err := toString(params[0])
	if err != nil {
		return nil, err
	}
	sub, err := toString(params[1])
	if err != nil {
		return nil, err
	}
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub)), nil
}

// formatVerb finds the width and precision of each verb of a format.
var formatVerb = regexp.MustCompile(`%[-+# 0]*(\d*)(?:\.(\d*))?`)

func fnFormat(params ...any) (any, error) {
	if len(params) < 1 {
		return nil, fmt.Errorf("format: want a pattern")
	}
	pattern, err := toString(params[0])
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	for _, m := range formatVerb.FindAllStringSubmatch(pattern, -1) {
		for _, n := range m[1:] {
			if len(n) > 2 {
				return nil, fmt.Errorf("format: width or precision %s is too large", n)
			}
			if v, _ := strconv.Atoi(n); v > 64 {
				return nil, fmt.Errorf("format: width or precision %s is too large", n)
			}
		}
	}
	if strings.Contains(pattern, "*") || strings.Contains(pattern, "[") {
		return nil, fmt.Errorf("format: * and [n] are not supported")
	}
	args := params[1:]
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = textOf(t)
		}
	}
	s := fmt.Sprintf(pattern, args...)
	if len(s) > maxTextLen {
		return nil, errTextTooLong
	}
	return s, nil
}

func fnRound(params ...any) (any, error) {
	if len(params) < 1 || len(params) > 2 {
		return nil, fmt.Errorf("round: want 1 or 2 arguments, got %d", len(params))
	}
	x, err := toFloat(params[0])
	if err != nil {
		return nil, fmt.Errorf("round: %w", err)
	}
	places := 0
	if len(params) == 2 {
		if places, err = toInt(params[1]); err != nil {
			return nil, fmt.Errorf("round: %w", err)
		}
	}
	return roundDecimal(x, places)
}

// roundDecimal rounds x to places decimals, half away from zero, on its
// shortest decimal representation (so 1.005 rounds to 1.01).
func roundDecimal(x float64, places int) (float64, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("round: %v is not a finite number", x)
	}
	if places < 0 || places > 15 {
		return 0, fmt.Errorf("round: places must be between 0 and 15, not %d", places)
	}
	if math.Abs(x) >= 1e15 {
		return math.Round(x), nil
	}
	if places < len(pow10) {
		y := x * pow10[places]
		if frac := math.Abs(y - math.Trunc(y)); math.Abs(y) < 1e15 && math.Abs(frac-0.5) >= 1e-6 {
			return math.Round(y) / pow10[places], nil
		}
	}
	units, err := metadata.MinorUnits(decimalString(x), places)
	if err != nil {
		return 0, fmt.Errorf("round: %w", err)
	}
	s := metadata.FormatMinorUnits(units, places)
	return strconv.ParseFloat(s, 64)
}

func fnAbs(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("abs: want 1 argument, got %d", len(params))
	}
	switch x := params[0].(type) {
	case int:
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case int64:
		if x < 0 {
			return -x, nil
		}
		return x, nil
	}
	f, err := toFloat(params[0])
	if err != nil {
		return nil, fmt.Errorf("abs: %w", err)
	}
	return math.Abs(f), nil
}

// numbers converts arguments, reporting whether they are all integers.
func numbers(params []any) ([]float64, bool, error) {
	out := make([]float64, len(params))
	allInt := true
	for i, p := range params {
		switch p.(type) {
		case int, int64, int32:
		default:
			allInt = false
		}
		f, err := toFloat(p)
		if err != nil {
			return nil, false, err
		}
		out[i] = f
	}
	return out, allInt, nil
}

func minMax(sign float64) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) == 0 {
			return nil, fmt.Errorf("want at least 1 argument")
		}
		xs, allInt, err := numbers(params)
		if err != nil {
			return nil, err
		}
		best := 0
		for i, x := range xs {
			if (x-xs[best])*sign > 0 {
				best = i
			}
		}
		if allInt {
			return toInt(params[best])
		}
		return xs[best], nil
	}
}

func fnSum(params ...any) (any, error) {
	xs, allInt, err := numbers(params)
	if err != nil {
		return nil, fmt.Errorf("sum: %w", err)
	}
	if allInt {
		n := 0
		for _, p := range params {
			i, _ := toInt(p)
			n += i
		}
		return n, nil
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s, nil
}

func fnAvg(params ...any) (any, error) {
	if len(params) == 0 {
		return nil, fmt.Errorf("avg: want at least 1 argument")
	}
	xs, _, err := numbers(params)
	if err != nil {
		return nil, fmt.Errorf("avg: %w", err)
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs)), nil
}

func fnCount(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("count: want 1 argument, got %d", len(params))
	}
	switch x := params[0].(type) {
	case nil:
		return 0, nil
	case []string:
		return len(x), nil
	case []any:
		return len(x), nil
	}
	return nil, fmt.Errorf("count: expected a list, got %T", params[0])
}

func fnIf(params ...any) (any, error) {
	if len(params) != 3 {
		return nil, fmt.Errorf("if: want 3 arguments, got %d", len(params))
	}
	c, ok := params[0].(bool)
	if !ok {
		return nil, fmt.Errorf("if: condition is %T, not a boolean", params[0])
	}
	if c {
		return params[1], nil
	}
	return params[2], nil
}

func fnCaseUnreachable(params ...any) (any, error) {
	return nil, fmt.Errorf("case: want a subject, pairs of value and result, and a default (an even number of arguments, at least 4)")
}

func fnIsEmpty(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("is_empty: want 1 argument, got %d", len(params))
	}
	return isEmpty(params[0]), nil
}

// isEmpty reports whether v is an empty value of its kind.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case time.Time:
		return x.IsZero()
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0 || x["id"] == ""
	}
	return false
}

// Conversions of function arguments. The checker lets an int expression
// through where a float64 is declared (and other int kinds where int is),
// so functions accept every numeric kind.

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case int32:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int(x), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("expected a whole number, got %T", v)
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case float32:
		return float64(x), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("expected a number, got %T", v)
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("expected text, got %T", v)
}

func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case nil:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("expected a date, got %T", v)
}

// namedCall returns node as a call of a function named by an identifier.
func namedCall(node ast.Node) (*ast.CallNode, *ast.IdentifierNode, bool) {
	call, ok := node.(*ast.CallNode)
	if !ok {
		return nil, nil, false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	return call, id, ok
}
