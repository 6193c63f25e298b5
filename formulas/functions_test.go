package formulas

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// testNow is the clock of the function tests: Monday 23 November 2026.
var testNow = time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestFunctions(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		// Dates.
		{`today()`, day(2026, 11, 23)},
		{`now()`, testNow},
		{`date(2024, 2, 29)`, day(2024, 2, 29)},
		{`date("2024-12-31")`, day(2024, 12, 31)},
		{`add_days(date(2024, 12, 30), 3)`, day(2025, 1, 2)},
		{`add_days(now(), -7)`, testNow.AddDate(0, 0, -7)},
		{`today() + 30`, day(2026, 12, 23)},
		{`today() - 23`, day(2026, 10, 31)},
		{`sub_days(today(), 1)`, day(2026, 11, 22)},
		{`add_months(date(2024, 1, 31), 1)`, day(2024, 2, 29)},
		{`add_months(date(2024, 3, 31), -1)`, day(2024, 2, 29)},
		{`add_months(date(2024, 11, 15), 3)`, day(2025, 2, 15)},
		{`add_years(date(2024, 2, 29), 1)`, day(2025, 2, 28)},
		{`days_between(date(2026, 1, 1), today())`, 326},
		{`days_between(today(), date(2026, 1, 1))`, -326},
		{`days_between(now(), today())`, 0},
		{`start_of_week(date(2026, 11, 29))`, day(2026, 11, 23)},
		{`start_of_week(today())`, day(2026, 11, 23)},
		{`start_of_month(today())`, day(2026, 11, 1)},
		{`start_of_quarter(today())`, day(2026, 10, 1)},
		{`start_of_quarter(date(2026, 3, 31))`, day(2026, 1, 1)},
		{`start_of_year(today())`, day(2026, 1, 1)},
		{`end_of_month(date(2024, 2, 10))`, day(2024, 2, 29)},
		{`end_of_month(date(2026, 12, 31))`, day(2026, 12, 31)},
		{`year(today())`, 2026},
		{`month(today())`, 11},
		{`day(today())`, 23},
		{`weekday(today())`, 1},
		{`weekday(date(2026, 11, 29))`, 7},
		{`next_birthday(date(1990, 2, 28))`, day(2027, 2, 28)},
		{`next_birthday(date(1990, 12, 1))`, day(2026, 12, 1)},
		{`next_birthday(date(1990, 11, 23))`, day(2026, 11, 23)},
		{`next_birthday(date(2000, 2, 29), date(2027, 1, 1))`, day(2027, 2, 28)},
		// Text.
		{`concat("a", 1, " ", 2.5, " ", today(), true)`, "a1 2.5 2026-11-23true"},
		{`concat()`, ""},
		{`upper("abc")`, "ABC"},
		{`lower("ÀB")`, "àb"},
		{`left("héllo", 2)`, "hé"},
		{`left("hi", 5)`, "hi"},
		{`right("héllo", 3)`, "llo"},
		{`right("hello", -1)`, ""},
		{`text_contains("Hello World", "WORLD")`, true},
		{`"Hello" contains "ell"`, true},
		{`format("%s owes %.2f", "Ann", 12.345)`, "Ann owes 12.35"},
		{`format("%05d", 42)`, "00042"},
		{`len("héllo")`, 5},
		// Numbers.
		{`round(2.5)`, 3.0},
		{`round(-2.5)`, -3.0},
		{`round(1.005, 2)`, 1.01},
		{`round(1234.5678, 2)`, 1234.57},
		{`round(7, 1)`, 7.0},
		{`abs(-3)`, 3},
		{`abs(-3.5)`, 3.5},
		{`min(3, 1, 2)`, 1},
		{`max(3, 1, 2)`, 3},
		{`max(1, 2.5)`, 2.5},
		{`min(1.5, 2)`, 1.5},
		{`sum(1, 2, 3)`, 6},
		{`sum(1, 2.5)`, 3.5},
		{`avg(1, 2, 4, 5)`, 3.0},
		{`count(["a", "b"])`, 2},
		{`reduce(1..100, #acc + #, 0)`, 5050},
		{`2 in -3..3`, true},
		// Logic.
		{`if(1 < 2, "yes", "no")`, "yes"},
		{`if(1 > 2, "yes", "no")`, "no"},
		{`if(false, 1 / 0, 2)`, 2},
		{`case(2, 1, "one", 2, "two", "many")`, "two"},
		{`case(9, 1, "one", 2, "two", "many")`, "many"},
		{`true ? 1 : 2`, 1},
		{`is_empty("")`, true},
		{`is_empty("x")`, false},
		{`is_empty(nil)`, true},
		{`is_empty([])`, true},
		{`is_empty(0)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := EvalConstAt(tt.src, testNow)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`add_days("x", 1)`, "cannot use string as argument"},
		{`days_between(today())`, "not enough arguments"},
		{`upper(1)`, "cannot use int as argument"},
		{`date(2024, 2, 30)`, "is not a date"},
		{`date("31/12/2024")`, "is not a date"},
		{`round(1.5, 99)`, "places must be between"},
		{`format("%999999d", 1)`, "too large"},
		{`case(1, 2, 3)`, "case"},
		{`unknown_fn(1)`, "unknown name unknown_fn"},
		{`len(repeat("x", 100000000))`, "memory budget exceeded"},
		{`len(map(split(repeat("x", 90000), ""), # + #))`, "memory budget exceeded"},
		{`reduce(1..100000, #acc + #, 0)`, "line 1, column 9: a range (a..b) needs whole-number literals at most 10000 apart"},
		{`all(["a"], any(["b"], # == "b"))`, "a loop inside another loop (all) is not available"},
		{`$env["_now"]`, "line 1, column 1: $env is not available"},
		{`if(1, 2, 3)`, "non-bool"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := EvalConstAt(tt.src, testNow)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRegisterFuncDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering a function twice did not panic")
		}
	}()
	RegisterFunc(Func{Name: "today", Fn: func(...any) (any, error) { return nil, nil }})
}

func TestFuncNamesDocumented(t *testing.T) {
	for _, n := range FuncNames() {
		f, _ := LookupFunc(n)
		if f.Doc == "" || len(f.Types) == 0 {
			t.Errorf("function %s needs a doc and typed signatures", n)
		}
	}
}

func TestTodayFollowsTheTimeZoneOfNow(t *testing.T) {
	shanghai := time.FixedZone("UTC+8", 8*3600)
	now := time.Date(2026, 12, 1, 7, 0, 0, 0, shanghai) // still 30 November in UTC
	for src, want := range map[string]time.Time{
		"today()":                 day(2026, 12, 1),
		"start_of_month(today())": day(2026, 12, 1),
		"start_of_month(now())":   day(2026, 12, 1),
	} {
		got, err := EvalConstAt(src, now)
		if err != nil || !got.(time.Time).Equal(want) {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	got, _ := EvalConstAt("today()", now.UTC())
	if !got.(time.Time).Equal(day(2026, 11, 30)) {
		t.Errorf("today() in UTC = %v", got)
	}
}
