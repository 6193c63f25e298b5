package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

func intp(i int) *int { return &i }

// testSchema is an item object with a field of every storage form, and an
// account object it points at.
func testSchema(t testing.TB) *metadata.Schema {
	t.Helper()
	opts := func(vs ...string) []metadata.Option {
		out := make([]metadata.Option, len(vs))
		for i, v := range vs {
			out[i] = metadata.Option{Value: v}
		}
		return out
	}
	account := &metadata.Object{Name: "account", Fields: []*metadata.Field{
		{Name: "name", Type: "text"},
		{Name: "industry", Type: "picklist", Options: opts("bank", "tech")},
		{Name: "parent", Type: "lookup", Target: "account", OnDelete: metadata.OnDeleteSetNull},
	}}
	item := &metadata.Object{Name: "item", Fields: []*metadata.Field{
		{Name: "name", Type: "text"},
		{Name: "kind", Type: "picklist", Options: opts("lathe", "mill", "drill")},
		{Name: "price", Type: "currency", Scale: intp(2)},
		{Name: "qty", Type: "integer"},
		{Name: "weight", Type: "decimal"},
		{Name: "active", Type: "boolean"},
		{Name: "close_date", Type: "date"},
		{Name: "seen_at", Type: "datetime"},
		{Name: "tags", Type: "multi_picklist", Options: opts("vip", "new", "old")},
		{Name: "account", Type: "lookup", Target: "account", OnDelete: metadata.OnDeleteSetNull},
		{Name: "competitors", Type: "many_to_many", Target: "account"},
		{Name: "email", Type: "email"},
		{Name: "cost", Type: "currency", Scale: intp(2)},
		{Name: "secret", Type: "text"},
	}}
	s := &metadata.Schema{Objects: []*metadata.Object{account, item}}
	if ps := metadata.Validate(s); len(ps) > 0 {
		t.Fatalf("test schema: %v", ps)
	}
	return s
}

// now is the reference time of the tests: Wednesday 18 November 2026.
var now = time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)

// createTable makes the table of obj by hand (and the link tables of its
// many-to-many fields) with the column types the field types declare.
func createTable(t testing.TB, db *store.DB, obj *metadata.Object) {
	t.Helper()
	ctx := context.Background()
	dt := metadata.TypeOf(&metadata.Field{Type: "datetime"}).Column(db.Dialect, nil)
	cols := []string{
		`"id" TEXT PRIMARY KEY`,
		`"created_at" ` + dt, `"created_by" TEXT`, `"updated_at" ` + dt, `"updated_by" TEXT`, `"owner_id" TEXT`,
		`"version" BIGINT NOT NULL DEFAULT 1`,
	}
	for _, f := range obj.Fields {
		c := metadata.TypeOf(f).Column(db.Dialect, f)
		if c == "" {
			link := store.Ident(store.LinkTable(obj.Name, f.Name))
			if _, err := db.DB.DB.ExecContext(ctx, "CREATE TABLE "+link+` ("source_id" TEXT NOT NULL, "target_id" TEXT NOT NULL, PRIMARY KEY ("source_id", "target_id"))`); err != nil {
				t.Fatal(err)
			}
			continue
		}
		cols = append(cols, store.Ident(f.Name)+" "+c)
	}
	q := "CREATE TABLE " + store.Ident(obj.Name) + " (" + strings.Join(cols, ", ") + ")"
	if _, err := db.DB.DB.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// insert writes one row: values in their JSON form go through the field
// types' Normalize; raw values (type raw) are stored as they are.
type raw struct{ v any }

func insert(t testing.TB, db *store.DB, obj *metadata.Object, id string, values map[string]any) {
	t.Helper()
	ctx := context.Background()
	cols := []string{`"id"`}
	args := []any{id}
	for name, v := range values {
		f, ok := obj.FieldOrSystem(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		if f.Type == "many_to_many" {
			link := store.Ident(store.LinkTable(obj.Name, name))
			for _, target := range v.([]string) {
				if _, err := db.DB.DB.ExecContext(ctx, store.Rebind(db.Dialect, "INSERT INTO "+link+" (source_id, target_id) VALUES (?, ?)"), id, target); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		var sv any
		if r, ok := v.(raw); ok {
			sv = r.v
		} else {
			var err error
			if sv, err = metadata.TypeOf(f).Normalize(f, v); err != nil {
				t.Fatalf("%s %s = %v: %v", id, name, v, err)
			}
		}
		cols = append(cols, store.Ident(name))
		args = append(args, sv)
	}
	q := "INSERT INTO " + store.Ident(obj.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + store.Marks(len(cols)) + ")"
	if _, err := db.DB.DB.ExecContext(ctx, store.Rebind(db.Dialect, q), store.Args(db.Dialect, args)...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ids runs SELECT id FROM obj WHERE preds ORDER BY order and returns the ids.
func ids(t testing.TB, db *store.DB, obj *metadata.Object, order string, preds ...Predicate) []string {
	t.Helper()
	q, args := "SELECT "+store.Ident("id")+" FROM "+store.Ident(obj.Name), []any(nil)
	var where []string
	for _, p := range preds {
		if !p.Empty() {
			where = append(where, "("+p.SQL+")")
			args = append(args, p.Args...)
		}
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if order == "" {
		order = `"id"`
	}
	q += " ORDER BY " + order
	return storetest.Strings(t, db, q, args...)
}

// queryRows runs a query and returns each row as a map of driver values.
func queryRows(t testing.TB, db *sql.DB, dialect, q string, args ...any) []map[string]any {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), store.Rebind(dialect, q), args...)
	if err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// uid makes a record id from a number.
func uid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
