package engine

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// managed lists the engine-managed indexes of a table with their SQL
// columns, "name(col,col DESC)".
func managed(t *testing.T, db *store.DB, table string) []string {
	t.Helper()
	q := `SELECT m.name, x.name, x."desc" FROM sqlite_master m, pragma_index_xinfo(m.name) x WHERE m.type = 'index' AND m.tbl_name = ? AND x.key = 1 AND (m.name LIKE 'idx%' OR m.name LIKE 'udx%' OR m.name LIKE 'ix\_%' ESCAPE '\') ORDER BY m.name, x.seqno`
	if db.Dialect == metadata.DialectPostgres {
		q = `SELECT c.relname, pg_get_indexdef(i.indexrelid, k, true), (i.indoption[k-1] & 1) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid, generate_series(1, i.indnkeyatts) k
			WHERE t.relname = $1 AND (c.relname LIKE 'idx%' OR c.relname LIKE 'udx%' OR c.relname LIKE 'ix\_%') AND i.indisvalid ORDER BY c.relname, k`
	}
	rows, err := db.SQL().QueryContext(context.Background(), q, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols := map[string][]string{}
	for rows.Next() {
		var name, col string
		var desc int
		if err := rows.Scan(&name, &col, &desc); err != nil {
			t.Fatal(err)
		}
		if desc == 1 {
			col += " DESC"
		}
		cols[name] = append(cols[name], col)
	}
	var out []string
	for name, c := range cols {
		out = append(out, name+"("+strings.Join(c, ",")+")")
	}
	sort.Strings(out)
	return out
}

func TestDeclaredIndexes(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		owner := "idx_opportunity_owner_id_id(owner_id,id)"
		lookups := []string{"ix_opportunity_account(account)", "ix_opportunity_campaign(campaign)", "ix_opportunity_contact(contact)", "ix_opportunity_created_at(created_at)"}
		want := func(extra ...string) {
			t.Helper()
			w := append(append(append([]string(nil), lookups...), owner), extra...)
			sort.Strings(w)
			if got := managed(t, db, "opportunity"); strings.Join(got, " ") != strings.Join(w, " ") {
				t.Fatalf("indexes\n%v\nwant\n%v", got, w)
			}
		}
		want()
		declare := func(ixs ...metadata.Index) (*store.Plan, error) {
			return editSchema(e, false, func(s *metadata.Schema) {
				o, _ := s.Object("opportunity")
				o.Indexes = ixs
			})
		}
		plan, err := declare(metadata.Index{Fields: []string{"owner_id", "stage", "-amount"}}, metadata.Index{Fields: []string{"name"}, Unique: true})
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect == metadata.DialectPostgres && !strings.Contains(plan.SQL(), "CREATE INDEX CONCURRENTLY IF NOT EXISTS") {
			t.Errorf("PostgreSQL builds indexes of existing tables online:\n%s", plan.SQL())
		}
		want("idx_opportunity_owner_id_stage_amount_desc_id(owner_id,stage,amount DESC,id)", "udx_opportunity_name(name)")
		// The unique index is enforced.
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Deal", "account": acc["id"]}); err != nil {
			t.Fatal(err)
		}
		_, err = e.Create(ctx, "opportunity", map[string]any{"name": "Deal", "account": acc["id"]})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Errors[0].Field != "name" || ve.Errors[0].Code != "unique" {
			t.Fatalf("a second Deal: %v", err)
		}
		// Nothing to do the second time; dropping a declaration drops its index.
		if plan, err := e.SyncIndexes(context.Background(), true); err != nil || !plan.Empty() {
			t.Fatalf("in sync, the plan should be empty: %v\n%s", err, plan.SQL())
		}
		if _, err := declare(metadata.Index{Fields: []string{"owner_id", "stage", "-amount"}}); err != nil {
			t.Fatal(err)
		}
		want("idx_opportunity_owner_id_stage_amount_desc_id(owner_id,stage,amount DESC,id)")
		// A unique index over duplicate values is refused and changes nothing.
		if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Deal", "account": acc["id"]}); err != nil {
			t.Fatal(err)
		}
		_, err = declare(metadata.Index{Fields: []string{"name", "account"}, Unique: true})
		if !errors.Is(err, metadata.ErrInvalid) || !strings.Contains(err.Error(), "occur more than once") {
			t.Fatalf("unique index over duplicates: %v", err)
		}
		want("idx_opportunity_owner_id_stage_amount_desc_id(owner_id,stage,amount DESC,id)")
		// A lost index (dropped by hand, or an older database's) comes back.
		if _, err := db.SQL().ExecContext(context.Background(), `DROP INDEX "idx_opportunity_owner_id_id"`); err != nil {
			t.Fatal(err)
		}
		if _, err := e.SyncIndexes(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		want("idx_opportunity_owner_id_stage_amount_desc_id(owner_id,stage,amount DESC,id)")
	})
}

func TestIndexDeclarationsChecked(t *testing.T) {
	t.Parallel()
	s := &metadata.Schema{Objects: []*metadata.Object{{Name: "deal", Fields: []*metadata.Field{
		{Name: "title", Type: "text"}, {Name: "tags", Type: "many_to_many", Target: "deal"},
	}, Indexes: []metadata.Index{
		{Fields: []string{"title", "-nope"}},
		{Fields: []string{"tags"}},
		{Fields: []string{"title", "title"}},
		{Fields: nil},
		{Fields: []string{"owner_id", "-created_at"}},
		{Fields: []string{"owner_id", "-created_at"}},
	}}}}
	ps := metadata.Validate(s)
	for _, want := range []string{
		`/indexes/0/fields/1: no field "nope"`,
		"/indexes/1/fields/0: tags is a many_to_many field and cannot be indexed",
		"/indexes/2/fields/1: title appears twice",
		"/indexes/3/fields: an index has 1 to 8 fields",
		"/indexes/5/fields: the same index is declared twice",
	} {
		if !strings.Contains(ps.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, ps)
		}
	}
	if strings.Contains(ps.Error(), "/indexes/4") {
		t.Errorf("system fields may be indexed:\n%v", ps)
	}
}
