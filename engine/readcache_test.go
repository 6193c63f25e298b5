package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestCompiledReadsFollowPrincipalAndTime checks that the lists and counts
// compiled once and kept (filter, sort, record rule) are those of the
// principal asking and of the moment they are asked: the same user id
// with other roles gets its own decision (every record as an
// administrator, a refusal in a role that may not read deals), the rep's
// own answer comes back after them, and a filter that reads the time
// (now()) follows the clock within the day.
func TestCompiledReadsFollowPrincipalAndTime(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var clock atomic.Pointer[time.Time]
		start := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
		clock.Store(&start)
		p := standardPlatformAt(t, db, func() time.Time { return *clock.Load() })
		rep, other := salesRep(t, p, "rep"), salesRep(t, p, "other")
		// rep owns opp-0 (created at 10:00) and opp-1 (14:00); other owns
		// opp-2 (10:00), all on the day of start.
		for i, o := range []struct{ owner, created string }{{rep.ID, "2026-03-05T10:00:00.000Z"}, {rep.ID, "2026-03-05T14:00:00.000Z"}, {other.ID, "2026-03-05T10:00:00.000Z"}} {
			if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO opportunity (id, created_at, updated_at, owner_id, stage, version) VALUES (?, ?, ?, ?, ?, 1)`),
				fmt.Sprintf("opp-%d", i), o.created, o.created, o.owner, "needs"); err != nil {
				t.Fatal(err)
			}
		}
		asRep := rep.Principal()
		asAdmin, asMarketing := *asRep, *asRep
		asAdmin.Roles, asMarketing.Roles = []string{"admin"}, []string{"marketing"}
		steps := []struct {
			name   string
			p      *access.Principal
			filter string
			at     time.Time
			want   int64 // -1: forbidden
		}{
			{"rep", asRep, `stage == "needs"`, start, 2},
			{"rep again", asRep, `stage == "needs"`, start, 2},
			{"the same user as an administrator", &asAdmin, `stage == "needs"`, start, 3},
			{"the same user in a role without deals", &asMarketing, `stage == "needs"`, start, -1},
			{"rep after them", asRep, `stage == "needs"`, start, 2},
			{"created before now", asRep, `created_at < now()`, start, 1},
			{"created before now, three hours later", asRep, `created_at < now()`, start.Add(3 * time.Hour), 2},
			{"created before now, back again", asRep, `created_at < now()`, start, 1},
		}
		for _, s := range steps {
			clock.Store(&s.at)
			rctx := access.WithPrincipal(ctx, s.p)
			n, _, cerr := p.Engine.Count(rctx, "opportunity", s.filter, 0)
			res, lerr := p.Engine.List(rctx, "opportunity", engine.ListOptions{Filter: s.filter, Sort: "-amount"})
			if s.want < 0 {
				if !errors.Is(cerr, engine.ErrForbidden) || !errors.Is(lerr, engine.ErrForbidden) {
					t.Errorf("%s: count %d, %v; list %v; want forbidden", s.name, n, cerr, lerr)
				}
				continue
			}
			if cerr != nil || lerr != nil {
				t.Fatalf("%s: %v, %v", s.name, cerr, lerr)
			}
			if n != s.want || int64(len(res.Items)) != s.want {
				t.Errorf("%s: counts %d and lists %d, want %d", s.name, n, len(res.Items), s.want)
			}
		}
	})
}

// TestFirstPagesFollowSizeAndWhere checks the first page of a list, whose
// statement the compiled read keeps for the page size asked last: first
// pages of changing sizes by the same rep each hold the first records in
// order and a cursor that walks on to the last record, and a first page
// narrowed by a condition set by code (a report's drill-down, Where) is
// narrowed, between first pages that are not. The expected ids come from
// one plain query (visibleIDs).
func TestFirstPagesFollowSizeAndWhere(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		rep := salesRep(t, p, "rep")
		for i := range 5 {
			if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO opportunity (id, created_at, updated_at, owner_id, stage, amount, version) VALUES (?, ?, ?, ?, ?, ?, 1)`),
				fmt.Sprintf("opp-%d", i), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", rep.ID, "needs", int64(i%3)*100); err != nil {
				t.Fatal(err)
			}
		}
		all := visibleIDs(t, db, rep.ID, "needs")
		if len(all) != 5 {
			t.Fatalf("the fixture gives %d records, want 5", len(all))
		}
		rctx := access.WithPrincipal(ctx, rep.Principal())
		for _, step := range []struct {
			limit int
			where query.Predicate
			want  []string
		}{
			{2, query.Predicate{}, all},
			{3, query.Predicate{}, all},
			{2, query.Predicate{}, all},
			{2, query.Predicate{SQL: `"opportunity"."amount" = ?`, Args: []any{int64(100)}}, []string{"opp-1", "opp-4"}},
			{2, query.Predicate{}, all},
			{5, query.Predicate{}, all},
			{1, query.Predicate{}, all},
		} {
			opt := engine.ListOptions{Filter: `stage == "needs"`, Sort: "-amount", Limit: step.limit, Where: step.where}
			var got []string
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("limit %d, where %q: the cursor never ends", step.limit, step.where.SQL)
				}
				res, err := p.Engine.List(engine.WithRequest(rctx), "opportunity", opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Items) > step.limit || (res.NextCursor != "" && len(res.Items) != step.limit) {
					t.Errorf("limit %d, where %q: a page of %d records, cursor %q", step.limit, step.where.SQL, len(res.Items), res.NextCursor)
				}
				for _, r := range res.Items {
					got = append(got, r["id"].(string))
				}
				if res.NextCursor == "" {
					break
				}
				opt.Cursor = res.NextCursor
			}
			if strings.Join(got, " ") != strings.Join(step.want, " ") {
				t.Errorf("limit %d, where %q: listed %v, want %v", step.limit, step.where.SQL, got, step.want)
			}
		}
	})
}
