package query

import (
	"context"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// fuzzTables creates the test schema's tables on a fresh SQLite database,
// so the fuzz targets can run what they compiled.
func fuzzTables(f *testing.F) (*store.DB, *metadata.Schema, *metadata.Object) {
	s := testSchema(f)
	db := storetest.SQLite(f)
	for _, o := range s.Objects {
		createTable(f, db, o)
	}
	item, _ := s.Object("item")
	return db, s, item
}

// runsOn checks that a compiled predicate is one SQL condition over the
// item table that the database accepts with its arguments.
func runsOn(t *testing.T, db *store.DB, item *metadata.Object, p Predicate) {
	if n := strings.Count(p.SQL, "?"); n != len(p.Args) {
		t.Fatalf("%d placeholders and %d arguments in %s", n, len(p.Args), p.SQL)
	}
	var n int64
	q := "SELECT COUNT(*) FROM " + store.Ident(item.Name) + " WHERE (" + p.SQL + ")"
	if err := db.SQL().QueryRowContext(context.Background(), store.Rebind(db.Dialect, q), store.Args(db.Dialect, p.Args)...).Scan(&n); err != nil {
		t.Fatalf("the compiled filter does not run: %v\n%s %v", err, q, p.Args)
	}
}

// FuzzCompileFilter compiles arbitrary filter sources on the item object:
// the compiler must never panic, and a filter it accepts must become SQL
// that runs, with one argument per placeholder.
func FuzzCompileFilter(f *testing.F) {
	for _, seed := range []string{
		`kind == "lathe"`, `price >= 100`, `price in [100, 99.99]`, `qty in [3, 2.5]`, `!active`, `active == nil`,
		`close_date == date("2026-11-17")`, `this_week(close_date) || last_n_days(seen_at, 3)`, `close_date < today() - 7`,
		`seen_at >= add_days(now(), -7)`, `name contains "100%"`, `not (name startsWith "ac")`, `"vip" in tags`,
		`account.industry == "bank"`, `account.parent.name endsWith "x"`, `competitors.name == "a"`, `secret == "x"`,
		`price > 1 && (qty < 2 || weight == 1.5)`, `email matches "^a"`, `id in ["a", "b"]`, `owner_id == "x"`,
	} {
		f.Add(seed)
	}
	db, s, item := fuzzTables(f)
	opt := testOptions(s, db.Dialect)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := CompileFilter(src, item, opt)
		if err != nil || p.Empty() {
			return
		}
		runsOn(t, db, item, p)
	})
}

// FuzzCursor decodes arbitrary cursors for a sort of every storage form:
// After must never panic, and a cursor it accepts must become a keyset
// condition that runs. The seeds are cursors EncodeCursor made.
func FuzzCursor(f *testing.F) {
	db, s, item := fuzzTables(f)
	opt := testOptions(s, db.Dialect)
	const sort = "-price,weight,active,close_date,-seen_at,name"
	keys, err := ParseSort(sort, item, opt)
	if err != nil {
		f.Fatal(err)
	}
	for _, row := range []map[string]any{
		{"price": int64(100), "weight": 0.1, "active": int64(1), "close_date": "2026-11-05", "seen_at": "2026-11-01T08:00:00.123Z", "name": "x", "id": uid(1)},
		{"price": nil, "weight": nil, "active": nil, "close_date": nil, "seen_at": nil, "name": nil, "id": uid(2)},
		{"price": []byte("-5"), "weight": []byte("1e300"), "active": true, "close_date": now, "seen_at": now, "name": []byte("名"), "id": uid(3)},
	} {
		c, err := EncodeCursor(keys, row)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c)
	}
	f.Add(b64(`{"s":"` + sort + `","v":[1,2,3,4,5,6,7]}`))
	f.Add(b64(`{"s":"-price","v":["x"]}`))
	f.Fuzz(func(t *testing.T, cursor string) {
		p, err := After(keys, cursor, item, opt)
		if err != nil {
			return
		}
		if !p.Empty() {
			runsOn(t, db, item, p)
		}
		segs, err := Segments(keys, cursor, item, opt)
		if err != nil {
			t.Fatalf("After accepts the cursor and Segments refuses it: %v", err)
		}
		for _, seg := range segs {
			if !seg.Empty() {
				runsOn(t, db, item, seg)
			}
		}
	})
}
