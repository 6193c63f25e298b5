package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/formulas"
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
		rollups := []string{"idx_opportunity_account_stage_close_date_amount(account,stage,close_date,amount)", "idx_opportunity_campaign_stage_amount(campaign,stage,amount)"}
		lookups := []string{"ix_opportunity_account(account)", "ix_opportunity_campaign(campaign)", "ix_opportunity_contact(contact)", "ix_opportunity_created_at(created_at)"}
		want := func(extra ...string) {
			t.Helper()
			w := slices.Concat(lookups, rollups, []string{owner}, extra)
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

// TestRollupIndexes checks the indexes the engine keeps for roll-ups:
// what the standard template's roll-ups want, that the statements
// recomputing them read those indexes (EXPLAIN) and give the aggregates
// of the rows, and that an index goes with the last roll-up reading it.
func TestRollupIndexes(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEngine(t, db, ownerGuard{})
		snap := e.Snapshot()
		wanted := map[string]string{}
		for _, ix := range WantedIndexes(db.Dialect, snap.Schema, snap.Formulas()) {
			wanted[ix.Name()] = ix.Why
		}
		for _, c := range []struct{ name, why string }{
			{"idx_opportunity_account_stage_close_date_amount", "read by the roll-ups account.last_deal_date, account.won_amount, account.open_opportunities"},
			{"idx_activity_account_status_starts_at", "read by the roll-ups account.last_activity_at, account.next_activity_at"},
			{"idx_quote_line_quote_list_amount_amount", "read by the roll-ups quote.list_total, quote.lines_total, quote.line_count"},
			{"idx_campaign_member_campaign_responded", "read by the roll-ups campaign.member_count, campaign.response_count"},
			// A count of all children reads the lookup's own index.
			{"idx_price_list_item_price_list", ""},
			{"idx_quote_opportunity", ""},
		} {
			if wanted[c.name] != c.why {
				t.Errorf("%s: %q, want %q", c.name, wanted[c.name], c.why)
			}
		}
		const index = "idx_opportunity_account_stage_close_date_amount"
		if got := managed(t, db, "opportunity"); !slices.Contains(got, index+"(account,stage,close_date,amount)") {
			t.Fatalf("opportunity's indexes: %v", got)
		}

		// Forty accounts of thirty deals each.
		stages := []string{"qualify", "proposal", "won", "lost", "won"}
		type sums struct {
			won, open int64
			last      string
		}
		want := map[string]*sums{}
		var accounts, deals []string
		var args []any
		for a := range 40 {
			id := fmt.Sprintf("acc-%02d", a)
			accounts = append(accounts, "(?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'u1', 1, ?)")
			args = append(args, id, id)
		}
		exec := func(stmt string, args []any) {
			t.Helper()
			if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, stmt), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO account (id, created_at, updated_at, owner_id, version, name) VALUES `+strings.Join(accounts, ", "), args)
		args = nil
		for i := range 1200 {
			acc, stage, amount, closed := fmt.Sprintf("acc-%02d", i%40), stages[i/40%len(stages)], int64(i*7919%100000), fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28)
			deals = append(deals, "(?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'u1', 1, ?, ?, ?, ?)")
			args = append(args, fmt.Sprintf("opp-%04d", i), acc, stage, amount, closed)
			s := want[acc]
			if s == nil {
				s = &sums{}
				want[acc] = s
			}
			switch stage {
			case "won":
				s.won += amount
				s.last = max(s.last, closed)
			case "lost":
			default:
				s.open++
			}
		}
		exec(`INSERT INTO opportunity (id, created_at, updated_at, owner_id, version, account, stage, amount, close_date) VALUES `+strings.Join(deals, ", "), args)
		if db.Dialect == metadata.DialectPostgres {
			// Index-only scans need the visibility map autovacuum keeps.
			exec(`VACUUM ANALYZE opportunity`, nil)
		} else if err := db.Analyze(ctx, "opportunity"); err != nil {
			t.Fatal(err)
		}

		r := &formulaResolver{e: e, q: db.SQL(), snap: snap, now: time.Now()}
		var specs []*formulas.RollupSpec
		for _, s := range snap.Formulas().RollupsOnChild("opportunity") {
			if s.Object == "account" {
				specs = append(specs, s)
			}
		}
		if len(specs) != 3 {
			t.Fatalf("account's roll-ups of opportunities: %d", len(specs))
		}
		// All three at once (a whole recomputation), and each alone (one
		// changed deal), read the index alone.
		for _, set := range [][]*formulas.RollupSpec{specs, specs[:1], specs[1:2], specs[2:]} {
			st, err := r.rollupStatement(set)
			if err != nil {
				t.Fatal(err)
			}
			q, qargs := st.query([]string{"acc-07"})
			_, _, plan, err := e.explain(ctx, q, qargs)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			uses := "USING COVERING INDEX " + index
			if db.Dialect == metadata.DialectPostgres {
				uses = "Index Only Scan using " + index
			}
			if !strings.Contains(text, uses) {
				t.Errorf("%s\n%s", q, text)
			}
			got, err := r.Rollups(ctx, set, []string{"acc-07", "acc-12"})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range set {
				for _, acc := range []string{"acc-07", "acc-12"} {
					w := want[acc]
					var v any
					switch s.Field {
					case "won_amount":
						v = w.won
					case "open_opportunities":
						v = w.open
					default:
						v = w.last
					}
					g := got[i][acc]
					if day, ok := g.(time.Time); ok { // a date, on PostgreSQL
						g = day.Format(time.DateOnly)
					}
					if fmt.Sprint(g) != fmt.Sprint(v) {
						t.Errorf("%s of %s: %v, want %v", s.Field, acc, got[i][acc], v)
					}
				}
			}
		}

		// Without those roll-ups (the fields kept, as values of their own)
		// their index goes; the campaign's stays.
		if _, err := editSchema(e, false, func(s *metadata.Schema) {
			for _, name := range []string{"won_amount", "open_opportunities", "last_deal_date"} {
				field(s, "account", name).Formula = ""
			}
		}); err != nil {
			t.Fatal(err)
		}
		got := managed(t, db, "opportunity")
		if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, index) }) || !slices.Contains(got, "idx_opportunity_campaign_stage_amount(campaign,stage,amount)") {
			t.Fatalf("opportunity's indexes without the account's roll-ups: %v", got)
		}
	})
}
