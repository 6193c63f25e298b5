package query

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

var errHidden = errors.New("access: field hidden")

// testOptions hides item.secret and account.name... only when asked.
func testOptions(s *metadata.Schema, dialect string) Options {
	return Options{Dialect: dialect, Now: now, Schema: s, CheckField: func(object, field string) error {
		if field == "secret" || object == "account" && field == "parent" && false {
			return errHidden
		}
		return nil
	}}
}

var (
	a1, a2, a3 = uid(901), uid(902), uid(903)
)

// seedItems creates the item and account tables and their rows.
func seedItems(t *testing.T, db *store.DB, s *metadata.Schema) {
	account, _ := s.Object("account")
	item, _ := s.Object("item")
	createTable(t, db, account)
	createTable(t, db, item)
	insert(t, db, account, a1, map[string]any{"name": "Bank One", "industry": "bank"})
	insert(t, db, account, a2, map[string]any{"name": "Tech Co", "industry": "tech", "parent": a1})
	insert(t, db, account, a3, map[string]any{"name": "Nobody", "parent": a2})
	insert(t, db, item, uid(1), map[string]any{"name": "Acme Lathe", "kind": "lathe", "price": "150.00", "qty": 3, "weight": 1.5,
		"active": true, "close_date": "2026-11-17", "seen_at": "2026-11-16T10:00:00Z", "tags": []any{"vip"}, "account": a1,
		"competitors": []string{a2}, "email": "a@x.com", "cost": 100, "version": 1})
	insert(t, db, item, uid(2), map[string]any{"name": "Beta_Mill Ltd", "kind": "mill", "price": 100, "qty": 10, "weight": 2.25,
		"active": false, "close_date": "2026-11-09", "seen_at": "2026-11-08T10:00:00Z", "tags": []any{"vip", "new"}, "account": a2,
		"email": "b@x.com", "cost": 150})
	insert(t, db, item, uid(3), map[string]any{"name": "gamma 100%", "kind": "drill", "price": "99.99", "close_date": "2026-10-31",
		"competitors": []string{a1, a2}, "account": a3, "cost": "99.99"})
	insert(t, db, item, uid(4), map[string]any{"kind": "lathe", "qty": 3, "weight": 1.5, "active": true, "close_date": "2026-12-01",
		"seen_at": "2026-11-18T11:00:00Z", "tags": []any{"old"}, "account": a1})
	insert(t, db, item, uid(5), map[string]any{"name": raw{""}, "kind": "mill", "price": 0, "qty": 0, "weight": 0, "active": false,
		"tags": raw{"[]"}})
	insert(t, db, item, uid(6), map[string]any{"name": "Delta", "price": 100, "qty": 5, "close_date": "2026-11-18",
		"seen_at": "2026-11-18T00:30:00Z"})
}

// filterCases are filters on the seeded items with the rows they select.
var filterCases = []struct {
	filter string
	want   []int
}{
	{`kind == "lathe"`, []int{1, 4}},
	{`kind != "lathe"`, []int{2, 3, 5, 6}},
	{`"lathe" == kind`, []int{1, 4}},
	{`price > 100`, []int{1}},
	{`price >= 100`, []int{1, 2, 6}},
	{`100 <= price`, []int{1, 2, 6}},
	{`price == 99.99`, []int{3}},
	{`price < 100`, []int{3, 5}},
	{`price > 99.995`, []int{1, 2, 6}},
	{`price == 99.995`, nil},
	{`price != 99.995`, []int{1, 2, 3, 4, 5, 6}},
	{`price in [100, 99.99]`, []int{2, 3, 6}},
	{`qty > 2.5`, []int{1, 2, 4, 6}},
	{`qty >= 2.5`, []int{1, 2, 4, 6}},
	{`qty < 3.5`, []int{1, 4, 5}},
	{`qty <= 3`, []int{1, 4, 5}},
	{`qty in [3, 2.5]`, []int{1, 4}},
	{`qty == -1`, nil},
	{`weight > 1.5`, []int{2}},
	{`weight == 1.5`, []int{1, 4}},
	{`weight <= 1.5`, []int{1, 4, 5}},
	{`active`, []int{1, 4}},
	{`!active`, []int{2, 3, 5, 6}},
	{`not active`, []int{2, 3, 5, 6}},
	{`active == false`, []int{2, 5}},
	{`active != true`, []int{2, 3, 5, 6}},
	{`active == nil`, []int{3, 6}},
	{`close_date >= "2026-11-16"`, []int{1, 4, 6}},
	{`close_date == date("2026-11-17")`, []int{1}},
	{`this_week(close_date)`, []int{1, 6}},
	{`last_week(close_date)`, []int{2}},
	{`next_week(close_date)`, nil},
	{`this_month(close_date)`, []int{1, 2, 6}},
	{`last_month(close_date)`, []int{3}},
	{`next_month(close_date)`, []int{4}},
	{`today(close_date)`, []int{6}},
	{`yesterday(close_date)`, []int{1}},
	{`last_n_days(close_date, 2)`, []int{1, 6}},
	{`next_n_days(close_date, 14)`, []int{4, 6}},
	{`this_quarter(close_date)`, []int{1, 2, 3, 4, 6}},
	{`last_quarter(close_date) || next_quarter(close_date)`, nil},
	{`this_year(close_date) && !last_year(close_date) && !next_year(close_date)`, []int{1, 2, 3, 4, 6}},
	{`!this_month(close_date)`, []int{3, 4, 5}},
	{`close_date >= start_of_month(today())`, []int{1, 2, 4, 6}},
	{`close_date < today() - 7`, []int{2, 3}},
	{`close_date == today()`, []int{6}},
	{`seen_at >= add_days(now(), -7)`, []int{1, 4, 6}},
	{`seen_at > now()`, []int{4}},
	{`seen_at < "2026-11-10T00:00:00Z"`, []int{2}},
	{`seen_at == "2026-11-16T10:00:00Z"`, []int{1}},
	{`today(seen_at)`, []int{4, 6}},
	{`this_week(seen_at)`, []int{1, 4, 6}},
	{`last_n_days(seen_at, 3)`, []int{1, 4, 6}},
	{`name startsWith "ac"`, []int{1}},
	{`name endsWith "LTD"`, []int{2}},
	{`name contains "_"`, []int{2}},
	{`name contains "100%"`, []int{3}},
	{`name contains "a"`, []int{1, 2, 3, 6}},
	{`name not contains "a"`, []int{4, 5}},
	{`not (name startsWith "ac")`, []int{2, 3, 4, 5, 6}},
	{`name == nil`, []int{4, 5}},
	{`is_empty(name)`, []int{4, 5}},
	{`name != nil`, []int{1, 2, 3, 6}},
	{`!is_empty(name)`, []int{1, 2, 3, 6}},
	{`name > "D"`, []int{3, 6}},
	{`tags contains "vip"`, []int{1, 2}},
	{`"vip" in tags`, []int{1, 2}},
	{`!(tags contains "vip")`, []int{3, 4, 5, 6}},
	{`is_empty(tags)`, []int{3, 5, 6}},
	{`tags == nil`, []int{3, 5, 6}},
	{`competitors contains "` + a2 + `"`, []int{1, 3}},
	{`!(competitors contains "` + a2 + `")`, []int{2, 4, 5, 6}},
	{`is_empty(competitors)`, []int{2, 4, 5, 6}},
	{`kind in ["lathe", "drill"]`, []int{1, 3, 4}},
	{`kind not in ["lathe", "drill"]`, []int{2, 5, 6}},
	{`kind in ["lathe", nil]`, []int{1, 4, 6}},
	{`kind in []`, nil},
	{`kind not in []`, []int{1, 2, 3, 4, 5, 6}},
	{`account.industry == "bank"`, []int{1, 4}},
	{`account.industry != "bank"`, []int{2, 3, 5, 6}},
	{`!(account.industry == "bank")`, []int{2, 3, 5, 6}},
	{`account.industry in ["bank", "tech"]`, []int{1, 2, 4}},
	{`account.parent.industry == "bank"`, []int{2}},
	{`account.parent.name startsWith "tech"`, []int{3}},
	{`is_empty(account.industry)`, []int{3, 5, 6}},
	{`account.industry == nil`, []int{3, 5, 6}},
	{`account.industry != nil`, []int{1, 2, 4}},
	{`account == "` + a1 + `"`, []int{1, 4}},
	{`account.id == "` + a1 + `"`, []int{1, 4}},
	{`price > cost`, []int{1}},
	{`price == cost`, []int{3}},
	{`price != cost`, []int{1, 2, 4, 5, 6}},
	{`qty < weight`, []int{}},
	{`kind == "lathe" && price > 100 || qty == 0`, []int{1, 5}},
	{`kind == "lathe" and (price > 100 or qty == 3)`, []int{1, 4}},
	{`!(kind == "lathe" || kind == "mill")`, []int{3, 6}},
	{`email endsWith "@x.com"`, []int{1, 2}},
	{`created_at == nil`, []int{1, 2, 3, 4, 5, 6}},
	{`version == 1`, []int{1, 2, 3, 4, 5, 6}},
	{`id == "` + uid(2) + `"`, []int{2}},
	{`true`, []int{1, 2, 3, 4, 5, 6}},
	{`1 == 2`, nil},
	{`!(1 == 2) && kind == "mill"`, []int{2, 5}},
	{`if(true, kind == "mill", false)`, nil},
	{`qty in 1..3`, []int{1, 4}},
	{`is_not_empty(tags)`, []int{1, 2, 4}},
	{`is_not_empty(account.industry)`, []int{1, 2, 4}},
	{`close_date > today() - 30 && close_date <= today()`, []int{1, 2, 3, 6}},
	{`close_date > date(2026, 11, 17)`, []int{4, 6}},
	{`price >= 99.99 and price <= 100`, []int{2, 3, 6}},
	{`price == -0`, []int{5}},
}

func TestFilterOnDatabase(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := testSchema(t)
		seedItems(t, db, s)
		item, _ := s.Object("item")
		opt := testOptions(s, db.Dialect)
		for _, tc := range filterCases {
			t.Run(tc.filter, func(t *testing.T) {
				p, err := CompileFilter(tc.filter, item, opt)
				if tc.filter == `if(true, kind == "mill", false)` {
					// Conditionals are not part of the filter language.
					if err == nil {
						t.Fatalf("want an error, got %s", p)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := ids(t, db, item, "", p)
				want := make([]string, 0, len(tc.want))
				for _, n := range tc.want {
					want = append(want, uid(n))
				}
				if len(got) == 0 && len(want) == 0 {
					return
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %v, want %v\nSQL: %s", short(got), tc.want, p)
				}
			})
		}
	})
}

// short turns test ids back into their numbers.
func short(ids []string) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		fmt.Sscanf(id[len(id)-12:], "%d", &out[i])
	}
	return out
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	long := "kind in [" + strings.Repeat(`"a", `, MaxInList) + `"a"]`
	big := strings.Repeat("qty == 1 || ", MaxFilterNodes/3) + "qty == 1"
	cases := []struct {
		filter string
		pos    int
		field  string
		msg    string
	}{
		{`bogus == 1`, 0, "bogus", `unknown field "bogus" on item`},
		{`name == 1`, 8, "name", "cannot be compared with a number"},
		{`1 == name`, 0, "name", "cannot be compared with a number"},
		{`price > "x"`, 8, "price", "cannot be compared with text"},
		{`price startsWith "x"`, 6, "price", "startsWith works on text"},
		{`name`, 0, "name", "not a condition"},
		{`price + 1`, 6, "", `operator "+" cannot be used`},
		{`1 + 2`, 2, "", "must be a condition"},
		{`"x"`, 0, "", "must be a condition"},
		{`account.bogus == 1`, 8, "bogus", `unknown field "bogus" on account`},
		{`name.x == 1`, 0, "name", "only a lookup can be followed by a dot"},
		{`tags == "vip"`, 5, "tags", "use contains"},
		{`tags in ["vip"]`, 5, "tags", "use contains"},
		{`competitors > 1`, 12, "competitors", "use contains"},
		{`active > true`, 7, "active", "cannot be compared with >"},
		{`kind in ["lathe", 2]`, 18, "kind", "cannot be compared with a number"},
		{`kind in "lathe"`, 8, "kind", "must be a list"},
		{`kind in tags`, 8, "", "must be a list of values"},
		{`close_date == "tomorrow"`, 14, "close_date", "needs a date"},
		{`seen_at < "yesterday"`, 10, "seen_at", "needs a date and time"},
		{`this_week(name)`, 10, "name", "needs a date or datetime"},
		{`this_week(close_date, 2)`, 0, "", "takes one date field"},
		{`last_n_days(close_date)`, 0, "", "takes a date field and a number"},
		{`last_n_days(close_date, 0)`, 24, "", "from 1 to"},
		{`last_n_days(close_date, qty)`, 24, "", "must be a value"},
		{`upper(name) == "X"`, 0, "", "mixes fields with computation"},
		{`len(name) > 3`, 0, "", "mixes fields with computation"},
		{`name == nosuch()`, 8, "", "cannot compute nosuch()"},
		{`name matches "a.*"`, 5, "", `operator "matches" cannot be used`},
		{`name ==`, 6, "", "syntax error"},
		{`competitors contains "x"`, 21, "competitors", "not a record id"},
		{`tags contains 1`, 14, "tags", "holds text values"},
		{`name contains 1`, 14, "name", "needs text on its right"},
		{`price < nil`, 6, "price", "use == nil or != nil"},
		{`price > qty`, 6, "price", "cannot be compared with qty"},
		{`account.name == name`, 13, "", "only on the same record"},
		{`account.parent.parent.parent.name == "x"`, 0, "account", "too long"},
		{`frobnicate(qty)`, 0, "", "frobnicate() cannot be used on a field"},
		{`is_empty(qty, 1)`, 0, "", "takes one field"},
		{`name == qty + 1`, 12, "", "mixes fields"},
		{long, 8, "kind", "at most 1000"},
		{big, 0, "", "too large"},
		{strings.Repeat(" ", MaxFilterLength) + "true", 0, "", "too long"},
		{`name == "a\u0000b"`, 8, "", "NUL character"},
		{`name in ["a", "\x00"]`, 14, "", "NUL character"},
		{`name == "a" + "\x00"`, 12, "", "NUL character"},
	}
	for _, tc := range cases {
		name := tc.filter
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			p, err := CompileFilter(tc.filter, item, opt)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("want *Error, got %v (%s)", err, p)
			}
			if qe.Pos != tc.pos || qe.Field != tc.field || !strings.Contains(qe.Message, tc.msg) {
				t.Errorf("got pos %d field %q %q; want pos %d field %q containing %q", qe.Pos, qe.Field, qe.Message, tc.pos, tc.field, tc.msg)
			}
		})
	}
}

func TestFilterCheckField(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	var seen []string
	opt.CheckField = func(object, field string) error {
		seen = append(seen, object+"."+field)
		if object == "account" && field == "industry" || field == "secret" {
			return errHidden
		}
		return nil
	}
	for _, f := range []string{`secret == "x"`, `is_empty(secret)`, `secret in ["a"]`, `account.industry == "bank"`, `kind == "x" || account.parent.industry == nil`} {
		if _, err := CompileFilter(f, item, opt); !errors.Is(err, errHidden) {
			t.Errorf("%s: got %v, want the CheckField error", f, err)
		}
	}
	seen = nil
	if _, err := CompileFilter(`account.parent.name == "x" && kind == "lathe"`, item, opt); err != nil {
		t.Fatal(err)
	}
	want := []string{"item.account", "account.parent", "account.name", "item.kind"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("CheckField calls %v, want %v", seen, want)
	}
}

func TestFilterSQL(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	cases := []struct {
		dialect, filter, sql string
		args                 []any
	}{
		{metadata.DialectSQLite, ``, ``, nil},
		{metadata.DialectSQLite, `price >= 100`, `"item"."price" >= ?`, []any{int64(10000)}},
		{metadata.DialectSQLite, `kind != "won"`, `(NOT ("item"."kind" = ?) OR "item"."kind" IS NULL)`, []any{"won"}},
		{metadata.DialectSQLite, `name startsWith "a_b%"`, `LOWER("item"."name") LIKE LOWER(?) ESCAPE '\'`, []any{`a\_b\%%`}},
		{metadata.DialectSQLite, `tags contains "vip"`, `instr("item"."tags", ?) > 0`, []any{`"vip"`}},
		{metadata.DialectPostgres, `tags contains "vip"`, `strpos("item"."tags", ?) > 0`, []any{`"vip"`}},
		{metadata.DialectSQLite, `stage in ["won"]`, ``, nil},
		{metadata.DialectSQLite, `kind in ["lathe", "mill"] && qty > 1`, `("item"."kind" IN (?, ?) AND "item"."qty" > ?)`, []any{"lathe", "mill", int64(1)}},
		{metadata.DialectSQLite, `account.industry == "bank"`,
			`"item"."account" IN (SELECT "account"."id" FROM "account" WHERE "account"."industry" = ?)`, []any{"bank"}},
		{metadata.DialectSQLite, `competitors contains "` + a1 + `"`,
			`EXISTS (SELECT 1 FROM "item__competitors" WHERE "item__competitors"."source_id" = "item"."id" AND "item__competitors"."target_id" = ?)`, []any{a1}},
		{metadata.DialectSQLite, `this_week(close_date)`, `("item"."close_date" >= ? AND "item"."close_date" < ?)`, []any{"2026-11-16", "2026-11-23"}},
		{metadata.DialectSQLite, `this_month(seen_at)`, `("item"."seen_at" >= ? AND "item"."seen_at" < ?)`, []any{"2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.dialect+" "+tc.filter, func(t *testing.T) {
			p, err := CompileFilter(tc.filter, item, testOptions(s, tc.dialect))
			if tc.filter == `stage in ["won"]` {
				if err == nil {
					t.Fatal("want unknown field")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.SQL != tc.sql || !reflect.DeepEqual(p.Args, tc.args) {
				t.Errorf("got  %s %#v\nwant %s %#v", p.SQL, p.Args, tc.sql, tc.args)
			}
		})
	}
	// Datetime arguments are time.Time for PostgreSQL.
	p, err := CompileFilter(`seen_at >= "2026-11-01T00:00:00+08:00"`, item, testOptions(s, metadata.DialectPostgres))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Args) != 1 || fmt.Sprint(p.Args[0]) != "2026-10-31 16:00:00 +0000 UTC" {
		t.Errorf("args %#v", p.Args)
	}
}

// TestFilterNoInjection checks that values never reach the SQL text.
func TestFilterNoInjection(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	evil := `x'); DROP TABLE item; --`
	for _, f := range []string{`name == "%s"`, `name contains "%s"`, `kind in ["%s"]`, `tags contains "%s"`, `account.name == "%s"`} {
		p, err := CompileFilter(fmt.Sprintf(f, evil), item, testOptions(s, metadata.DialectSQLite))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.SQL, "DROP") || strings.Contains(p.SQL, "x'") {
			t.Errorf("%s: value in SQL: %s", f, p.SQL)
		}
	}
}

// TestFilterRecordRule checks that a lookup path only sees target records
// the record rule lets through (here: tech accounts only).
func TestFilterRecordRule(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := testSchema(t)
		seedItems(t, db, s)
		item, _ := s.Object("item")
		opt := testOptions(s, db.Dialect)
		calls := 0
		opt.RecordRule = func(object string) (Predicate, error) {
			calls++
			if object != "account" {
				t.Errorf("rule asked for %s", object)
			}
			return Predicate{SQL: `"account"."industry" = ?`, Args: []any{"tech"}}, nil
		}
		for _, tc := range []struct {
			filter string
			want   []int
		}{
			{`account.industry == "bank"`, nil},
			{`account.name startsWith "tech"`, []int{2}},
			{`is_empty(account.industry)`, []int{5, 6}},
			{`account.parent.industry == "bank"`, nil},
			{`kind == "drill" || account.name startsWith "tech" && qty == 10`, []int{2, 3}},
			// a2's parent a1 is hidden: it matches no condition on its fields.
			{`qty == 10 && account.parent.name == nil && kind == "mill"`, nil},
			{`qty == 10 && account.parent.name != nil && kind == "mill"`, []int{2}},
		} {
			calls = 0
			p, err := CompileFilter(tc.filter, item, opt)
			if err != nil {
				t.Fatal(err)
			}
			if calls > 1 {
				t.Errorf("%s: RecordRule called %d times", tc.filter, calls)
			}
			got := short(ids(t, db, item, "", p))
			if len(got) != len(tc.want) || len(got) > 0 && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: got %v, want %v\nSQL: %s", tc.filter, got, tc.want, p)
			}
		}
		opt.RecordRule = func(string) (Predicate, error) { return Predicate{}, errHidden }
		if _, err := CompileFilter(`account.name == "x"`, item, opt); !errors.Is(err, errHidden) {
			t.Errorf("rule error: got %v", err)
		}
	})
}

// TestCheckFieldQueryError checks that an *Error from CheckField gets the
// position and field of the name.
func TestCheckFieldQueryError(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	opt.CheckField = func(object, field string) error {
		if field == "secret" || field == "industry" {
			return &Error{Message: fmt.Sprintf("unknown field %q on %s", field, object)}
		}
		return nil
	}
	for src, pos := range map[string]int{`kind == "x" || secret == "x"`: 15, `account.industry == nil`: 8} {
		_, err := CompileFilter(src, item, opt)
		var qe *Error
		if !errors.As(err, &qe) || qe.Pos != pos || qe.Field == "" || !strings.Contains(qe.Message, "unknown field") {
			t.Errorf("%s: got %#v", src, err)
		}
	}
	_, err := ParseSort("name,-secret", item, opt)
	var qe *Error
	if !errors.As(err, &qe) || qe.Pos != 5 || qe.Field != "secret" {
		t.Errorf("sort: got %#v", err)
	}
}

// TestFilterUsesNow checks which filters CompileFilterNow reports as
// depending on the time of the request (relative date ranges, computed
// constants): those must never be kept for another request; the others
// compile to the same predicate at any time.
func TestFilterUsesNow(t *testing.T) {
	s := testSchema(t)
	item, _ := s.Object("item")
	for _, c := range []struct {
		filter string
		timed  bool
	}{
		{``, false},
		{`kind == "won"`, false},
		{`price >= 100 && kind in ["lathe", "mill"]`, false},
		{`account.industry == "bank"`, false},
		{`seen_at > "2026-01-01T00:00:00Z"`, false},
		{`this_week(close_date)`, true},
		{`last_n_days(seen_at, 7)`, true},
		{`close_date < today()`, true},
		{`seen_at > add_days(now(), -7)`, true},
		{`kind == "won" || close_date >= today() - 7`, true},
	} {
		p, timed, err := CompileFilterNow(c.filter, item, testOptions(s, metadata.DialectSQLite))
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if timed != c.timed {
			t.Errorf("%s: depends on now %v, want %v", c.filter, timed, c.timed)
		}
		if c.timed {
			continue
		}
		// An hour or a year later, the same predicate.
		for _, later := range []time.Duration{time.Hour, 365 * 24 * time.Hour} {
			opt := testOptions(s, metadata.DialectSQLite)
			opt.Now = now.Add(later)
			q, _, err := CompileFilterNow(c.filter, item, opt)
			if err != nil || q.SQL != p.SQL || !reflect.DeepEqual(q.Args, p.Args) {
				t.Errorf("%s: %v %v later, was %v %v (%v)", c.filter, q.SQL, q.Args, p.SQL, p.Args, err)
			}
		}
	}
}

// TestFilterMe compiles me() to the id of the user reading, to no one
// outside a user's read, and refuses arguments.
func TestFilterMe(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	for _, tc := range []struct {
		user, filter string
		want         []any
	}{
		{"user-1", `owner_id == me()`, []any{"user-1"}},
		{"user-2", `owner_id == me() || created_by in [me(), "x"]`, []any{"user-2", "user-2", "x"}},
		{"", `owner_id == me()`, []any{""}},
	} {
		opt := testOptions(s, metadata.DialectSQLite)
		opt.User = tc.user
		p, err := CompileFilter(tc.filter, item, opt)
		if err != nil {
			t.Fatalf("%s as %q: %v", tc.filter, tc.user, err)
		}
		if !reflect.DeepEqual(p.Args, tc.want) {
			t.Errorf("%s as %q: args %v, want %v (%s)", tc.filter, tc.user, p.Args, tc.want, p.SQL)
		}
	}
	if _, err := CompileFilter(`owner_id == me(1)`, item, testOptions(s, metadata.DialectSQLite)); err == nil || !strings.Contains(err.Error(), "me() takes no arguments") {
		t.Errorf("me(1): %v", err)
	}
	opt := testOptions(s, metadata.DialectSQLite)
	opt.NoReader = true
	if _, err := CompileFilter(`owner_id == me()`, item, opt); err == nil || !strings.Contains(err.Error(), "no one reads through this filter") {
		t.Errorf("me() where no one reads: %v", err)
	}
}
