package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// bucketKey is the key Go gives t in bucket b, for comparison with SQL.
func bucketKey(t time.Time, b metadata.Bucket) string {
	switch b {
	case metadata.BucketDay:
		return t.Format("2006-01-02")
	case metadata.BucketWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return t.AddDate(0, 0, -back).Format("2006-01-02")
	case metadata.BucketMonth:
		return t.Format("2006-01")
	case metadata.BucketQuarter:
		return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())+2)/3)
	}
	return t.Format("2006")
}

// TestGroupSQL runs the report buckets of dates and datetimes on both
// databases and compares every key with the one Go computes, at several
// time-zone offsets (a datetime near midnight UTC moves to another day,
// week, month, quarter or year; a date never moves).
func TestGroupSQL(t *testing.T) {
	t.Parallel()
	instants := []time.Time{
		time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC), // Wednesday; next day, quarter and year at +08:00
		time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC),     // Thursday; previous year at -05:00
		time.Date(2026, 3, 8, 20, 15, 0, 0, time.UTC),   // Sunday; Monday (next week) at +08:00
		time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),     // Monday
		time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC),   // end of Q2; Q3 at +05:30
	}
	offsets := []time.Duration{0, 8 * time.Hour, -5 * time.Hour, 5*time.Hour + 30*time.Minute}
	day := &metadata.Field{Name: "day", Type: "date"}
	at := &metadata.Field{Name: "at", Type: "datetime"}
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		create := fmt.Sprintf(`CREATE TABLE "g" ("n" INTEGER, "day" %s, "at" %s)`,
			metadata.TypeOf(day).Column(db.Dialect, day), metadata.TypeOf(at).Column(db.Dialect, at))
		if _, err := db.SQL().ExecContext(ctx, create); err != nil {
			t.Fatal(err)
		}
		for i, x := range instants {
			dv, _ := metadata.TypeOf(day).Normalize(day, x.Format(metadata.DateLayout))
			av, _ := metadata.TypeOf(at).Normalize(at, x.Format(time.RFC3339))
			q := store.Rebind(db.Dialect, `INSERT INTO "g" ("n", "day", "at") VALUES (`+store.Marks(3)+`)`)
			if _, err := db.SQL().ExecContext(ctx, q, store.Args(db.Dialect, []any{i, dv, av})...); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range metadata.Buckets(at) {
			for _, off := range offsets {
				for _, f := range []*metadata.Field{day, at} {
					expr, err := metadata.GroupSQL(db.Dialect, f, store.Ident(f.Name), b, off)
					if err != nil {
						t.Fatal(err)
					}
					rows, err := db.SQL().QueryContext(ctx, `SELECT `+expr+`, COUNT(*) FROM "g" GROUP BY `+expr+` ORDER BY 1`)
					if err != nil {
						t.Fatalf("%s by %s: %v\n%s", f.Name, b, err, expr)
					}
					got := map[string]int{}
					for rows.Next() {
						var k string
						var n int
						if err := rows.Scan(&k, &n); err != nil {
							t.Fatal(err)
						}
						got[k] = n
					}
					rows.Close()
					want := map[string]int{}
					for _, x := range instants {
						if f == at {
							x = x.Add(off)
						}
						want[bucketKey(x, b)]++
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s by %s at %v: got %v, want %v", f.Name, b, off, got, want)
					}
				}
			}
		}
	})
}

func TestGroupSQLRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field *metadata.Field
		b     metadata.Bucket
		ok    bool
	}{
		{&metadata.Field{Name: "n", Type: "text"}, "", true},
		{&metadata.Field{Name: "n", Type: "text"}, metadata.BucketMonth, false},
		{&metadata.Field{Name: "d", Type: "date"}, "fortnight", false},
		{&metadata.Field{Name: "f", Type: "file"}, "", false},
		{&metadata.Field{Name: "m", Type: "many_to_many", Target: "x"}, "", false},
	}
	for _, c := range cases {
		_, err := metadata.GroupSQL(metadata.DialectSQLite, c.field, `"x"`, c.b, 0)
		if (err == nil) != c.ok {
			t.Errorf("%s by %q: err = %v, want ok=%v", c.field.Type, c.b, err, c.ok)
		}
	}
}
