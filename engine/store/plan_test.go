package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestPlanFromLinkTableToColumn changes a many-to-many field into a text
// field (forced, as the links are lost): the link table is archived and the
// field gets its column.
func TestPlanFromLinkTableToColumn(t *testing.T) {
	t.Parallel()
	object := func(f *metadata.Field) *metadata.Schema {
		return &metadata.Schema{Objects: []*metadata.Object{{Name: "thing", Fields: []*metadata.Field{f}}}}
	}
	linked := object(&metadata.Field{Name: "tags", Type: "many_to_many", Target: "thing"})
	column := object(&metadata.Field{Name: "tags", Type: "text"})
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		apply := func(old, new *metadata.Schema, version int64) {
			t.Helper()
			p, err := db.Plan(ctx, db.SQL(), old, new, version, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Apply(ctx, db.SQL(), p); err != nil {
				t.Fatalf("%v\n%s", err, p.SQL())
			}
		}
		has := func(want, wantLink bool) {
			t.Helper()
			cols, err := db.Columns(ctx, db.SQL(), "thing")
			if err != nil {
				t.Fatal(err)
			}
			tables, err := db.Tables(ctx, db.SQL())
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(cols, "tags") != want || slices.Contains(tables, store.LinkTable("thing", "tags")) != wantLink {
				t.Fatalf("columns %v, tables %v: want column %v, link table %v", cols, tables, want, wantLink)
			}
		}
		apply(nil, linked, 1)
		has(false, true)
		apply(linked, column, 2)
		has(true, false)
		if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO "thing" ("id", "created_at", "updated_at", "tags") VALUES (?, ?, ?, ?)`),
			store.Args(db.Dialect, []any{"01234567-89ab-7def-8123-456789abcdef", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", "red"})...); err != nil {
			t.Fatal(err)
		}
	})
}
