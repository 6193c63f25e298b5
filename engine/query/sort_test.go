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

func TestParseSort(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	cases := []struct {
		src  string
		want string // spec of the keys
	}{
		{"", "id"},
		{"  ", "id"},
		{"-price,name", "-price,name,id"},
		{" -price , +name ", "-price,name,id"},
		{"-id", "-id"},
		{"kind,-id", "kind,-id"},
		{"created_at", "created_at,id"},
	}
	for _, tc := range cases {
		keys, err := ParseSort(tc.src, item, opt)
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if got := spec(keys); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.src, got, tc.want)
		}
	}
	errs := []struct {
		src   string
		pos   int
		field string
		msg   string
	}{
		{"bogus", 0, "bogus", `unknown field "bogus" on item`},
		{"name,-bogus", 5, "bogus", "unknown field"},
		{"name,,qty", 5, "", "empty field name"},
		{"name,name", 5, "name", "appears twice"},
		{"competitors", 0, "competitors", "cannot be sorted"},
		{"id,name", 3, "name", "no field can follow id"},
		{"name , -ünï", 7, "ünï", "unknown field"},
		{"name,qty,price,weight,active,close_date,seen_at,kind,email", 53, "email", "too many sort fields"},
	}
	for _, tc := range errs {
		_, err := ParseSort(tc.src, item, opt)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("%q: want *Error, got %v", tc.src, err)
			continue
		}
		if qe.Pos != tc.pos || qe.Field != tc.field || !strings.Contains(qe.Message, tc.msg) {
			t.Errorf("%q: got pos %d field %q %q; want %d %q %q", tc.src, qe.Pos, qe.Field, qe.Message, tc.pos, tc.field, tc.msg)
		}
	}
	if _, err := ParseSort("name,-secret", item, opt); !errors.Is(err, errHidden) {
		t.Errorf("hidden field: got %v", err)
	}
}

func TestOrderBy(t *testing.T) {
	t.Parallel()
	got := OrderBy([]SortKey{{Field: "amount", Desc: true}, {Field: "name"}, {Field: "id"}})
	want := `"amount" DESC NULLS LAST, "name" ASC NULLS LAST, "id" ASC`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// seedPages fills item with rows whose sort values repeat and are often
// NULL.
func seedPages(t *testing.T, db *store.DB, item *metadata.Object, n int) {
	base := time.Date(2026, 11, 1, 8, 0, 0, 123_000_000, time.UTC)
	for i := 1; i <= n; i++ {
		v := map[string]any{}
		if i%7 != 0 {
			v["qty"] = i % 5
		}
		if i%4 != 3 {
			v["name"] = []string{"a", "b", "c"}[i%4]
		}
		if i%4 != 1 {
			v["price"] = fmt.Sprintf("%d.%02d", i%3, i%2)
		}
		if i%6 != 0 {
			v["weight"] = float64(i%3) / 10
		}
		if i%3 != 0 {
			v["active"] = i%2 == 0
		}
		if i%9 != 0 {
			v["close_date"] = fmt.Sprintf("2026-11-%02d", i%5+1)
		}
		if i%5 != 0 {
			v["seen_at"] = base.Add(time.Duration(i%4) * time.Hour).Format(time.RFC3339Nano)
		}
		if i%2 == 0 {
			v["kind"] = []string{"lathe", "mill", "drill"}[i%3]
		}
		if i%8 != 0 {
			v["tags"] = [][]any{{"vip"}, {"new", "old"}, {"old"}}[i%3]
		}
		insert(t, db, item, uid(i), v)
	}
}

func TestKeysetPagination(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		s := testSchema(t)
		item, _ := s.Object("item")
		createTable(t, db, item)
		const n = 57
		seedPages(t, db, item, n)
		opt := testOptions(s, db.Dialect)
		sorts := []string{"", "-id", "-qty,name", "name", "-name", "-seen_at", "seen_at", "active,-close_date", "-active,close_date",
			"weight", "-weight", "-price,-name", "close_date,seen_at,qty", "kind,-id", "tags,-qty", "-tags,seen_at,-weight"}
		for _, sortSrc := range sorts {
			for _, pageSize := range []int{1, 5, 7} {
				for _, normalized := range []bool{false, true} {
					t.Run(fmt.Sprintf("%q/%d/normalized=%v", sortSrc, pageSize, normalized), func(t *testing.T) {
						keys, err := ParseSort(sortSrc, item, opt)
						if err != nil {
							t.Fatal(err)
						}
						order := OrderBy(keys)
						full := ids(t, db, item, order)
						if len(full) != n {
							t.Fatalf("full list has %d rows", len(full))
						}
						checkNullsLast(t, db, item, keys[0], order)
						var cols []string
						for _, k := range keys {
							cols = append(cols, store.Ident(k.Field))
						}
						var got []string
						cursor := ""
						for page := 0; ; page++ {
							if page > n {
								t.Fatal("pagination does not end")
							}
							after, err := After(keys, cursor, item, opt)
							if err != nil {
								t.Fatal(err)
							}
							q := "SELECT " + strings.Join(cols, ", ") + " FROM " + store.Ident("item")
							if !after.Empty() {
								q += " WHERE " + after.SQL
							}
							q += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, pageSize)
							rows := queryRows(t, db.DB.DB, db.Dialect, q, after.Args...)
							for _, r := range rows {
								got = append(got, r["id"].(string))
							}
							if len(rows) < pageSize {
								break
							}
							last := rows[len(rows)-1]
							if normalized {
								last = storageForm(t, item, last)
							}
							if cursor, err = EncodeCursor(keys, last); err != nil {
								t.Fatal(err)
							}
						}
						if !reflect.DeepEqual(got, full) {
							t.Errorf("pages give\n%v\nfull list is\n%v", short(got), short(full))
						}
						if normalized {
							return // the cursor's value forms are covered above
						}
						if got := pagesThroughSegments(t, db, item, keys, opt, pageSize); !reflect.DeepEqual(got, full) {
							t.Errorf("pages read by segments and two branches give\n%v\nfull list is\n%v", short(got), short(full))
						}
					})
				}
			}
		}
	})
}

// pagesThroughSegments lists every item, page by page, as the engine
// does: two disjoint branches (qty above 2, and the rest with empty qty)
// times the cursor's segments, merged by Page.
func pagesThroughSegments(t *testing.T, db *store.DB, item *metadata.Object, keys []SortKey, opt Options, pageSize int) []string {
	t.Helper()
	cols := []string{"id"}
	for _, k := range keys {
		if k.Field != "id" {
			cols = append(cols, k.Field)
		}
	}
	qty := `"item"."qty" > ?`
	branches := []Branch{{Predicate: Predicate{SQL: qty, Args: []any{2}}}, {Predicate: Predicate{SQL: "(" + qty + ") IS NOT TRUE", Args: []any{2}}}}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("pagination does not end")
		}
		segs, err := Segments(keys, cursor, item, opt)
		if err != nil {
			t.Fatal(err)
		}
		q, args := Page{Table: "item", Columns: cols, Branches: branches, Segments: segs, Keys: keys, Limit: pageSize}.SQL()
		rows := queryRows(t, db.DB.DB, db.Dialect, q, args...)
		for _, r := range rows {
			got = append(got, r["id"].(string))
		}
		if len(rows) < pageSize {
			return got
		}
		if cursor, err = EncodeCursor(keys, rows[len(rows)-1]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSegmentsSQL(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	for _, tc := range []struct {
		dialect, sort string
		row           map[string]any
		want          []string
	}{
		{metadata.DialectSQLite, "-price", nil, []string{""}},
		{metadata.DialectSQLite, "price", nil, []string{`"item"."price" IS NOT NULL`, `"item"."price" IS NULL`}},
		{metadata.DialectPostgres, "price", nil, []string{""}},
		{metadata.DialectPostgres, "-price", nil, []string{`"item"."price" IS NOT NULL`, `"item"."price" IS NULL`}},
		{metadata.DialectSQLite, "created_at", nil, []string{""}},
		{metadata.DialectSQLite, "-price", map[string]any{"price": int64(100), "id": uid(1)},
			[]string{`"item"."price" <= ? AND ("item"."price" < ? OR ("item"."id" > ?))`, `"item"."price" IS NULL`}},
		{metadata.DialectSQLite, "-price", map[string]any{"price": nil, "id": uid(1)}, []string{`"item"."price" IS NULL AND ("item"."id" > ?)`}},
		{metadata.DialectSQLite, "-id", map[string]any{"id": uid(1)}, []string{`"item"."id" < ?`}},
	} {
		opt := testOptions(s, tc.dialect)
		keys, err := ParseSort(tc.sort, item, opt)
		if err != nil {
			t.Fatal(err)
		}
		cursor := ""
		if tc.row != nil {
			if cursor, err = EncodeCursor(keys, tc.row); err != nil {
				t.Fatal(err)
			}
		}
		segs, err := Segments(keys, cursor, item, opt)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sg := range segs {
			got = append(got, sg.SQL)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %q after %v:\ngot  %q\nwant %q", tc.dialect, tc.sort, tc.row, got, tc.want)
		}
	}
}

// checkNullsLast verifies that rows with an empty first sort key come last.
func checkNullsLast(t *testing.T, db *store.DB, item *metadata.Object, k SortKey, order string) {
	t.Helper()
	rows := queryRows(t, db.DB.DB, db.Dialect, "SELECT "+store.Ident(k.Field)+" AS v FROM "+store.Ident(item.Name)+" ORDER BY "+order)
	seenNull := false
	for _, r := range rows {
		if r["v"] == nil {
			seenNull = true
		} else if seenNull {
			t.Fatalf("a value of %s comes after NULL", k.Field)
		}
	}
}

// storageForm converts driver values into the normalized storage form.
func storageForm(t *testing.T, obj *metadata.Object, row map[string]any) map[string]any {
	out := map[string]any{}
	for name, v := range row {
		f, _ := obj.FieldOrSystem(name)
		typ := metadata.TypeOf(f)
		j, err := typ.Output(f, v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out[name], err = typ.Normalize(f, j); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

func TestCursorErrors(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	keys, _ := ParseSort("-price,name", item, opt)
	good, err := EncodeCursor(keys, map[string]any{"price": int64(100), "name": nil, "id": uid(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := After(keys, good, item, opt); err != nil {
		t.Fatal(err)
	}
	other, _ := ParseSort("name", item, opt)
	for name, c := range map[string]string{
		"garbage":      "not a cursor!",
		"not json":     "bm90IGpzb24",
		"other sort":   good,
		"too long":     strings.Repeat("a", MaxCursorLength+1),
		"wrong values": mustCursor(t, `{"s":"-price,name,id","v":["x",null,"y"]}`),
		"short":        mustCursor(t, `{"s":"-price,name,id","v":[1]}`),
		"NUL in text":  mustCursor(t, `{"s":"-price,name,id","v":[1,"a\u0000",null]}`),
	} {
		k := keys
		if name == "other sort" {
			k = other
		}
		_, err := After(k, c, item, opt)
		var qe *Error
		if !errors.As(err, &qe) || !strings.Contains(qe.Message, "bad cursor") {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := EncodeCursor(keys, map[string]any{"price": int64(1)}); err == nil {
		t.Error("a row without the sort fields must fail")
	}
	p, err := After(keys, "", item, opt)
	if err != nil || !p.Empty() {
		t.Errorf("empty cursor: %v %v", p, err)
	}
}

func mustCursor(t *testing.T, js string) string {
	t.Helper()
	return b64(js)
}

func TestAfterSQL(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	keys, _ := ParseSort("-price,name", item, opt)
	c, _ := EncodeCursor(keys, map[string]any{"price": int64(100), "name": nil, "id": uid(1)})
	p, err := After(keys, c, item, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := `(("item"."price" < ? OR "item"."price" IS NULL) OR ("item"."price" = ? AND ("item"."name" IS NULL AND ("item"."id" > ?))))`
	if p.SQL != want || !reflect.DeepEqual(p.Args, []any{int64(100), int64(100), uid(1)}) {
		t.Errorf("got  %s %v\nwant %s", p.SQL, p.Args, want)
	}
}
