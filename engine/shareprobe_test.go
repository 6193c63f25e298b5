package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestListAndCountFollowShares checks that a list page and a count, which
// ask whether records are shared with the user inside their own statement
// and read again only when some are, follow every share and unshare at
// once: a share made after a list without shares is in the next list and
// count, a revoked one is gone from them, a list whose own records match
// nothing still finds a shared one (its statement returns no row to carry
// the answer), and another rep's lists are unchanged throughout. The
// expected ids come from one plain query of owned or shared records.
func TestListAndCountFollowShares(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		rep, other, third := salesRep(t, p, "rep"), salesRep(t, p, "other"), salesRep(t, p, "third")
		// rep owns opp-0 to opp-2 (needs); other owns opp-3 to opp-7
		// (needs) and opp-8, opp-9 (won); third owns nothing.
		for i := range 10 {
			owner, stage := other.ID, "needs"
			if i < 3 {
				owner = rep.ID
			}
			if i >= 8 {
				stage = "won"
			}
			if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO opportunity (id, created_at, updated_at, owner_id, stage, amount, version) VALUES (?, ?, ?, ?, ?, ?, 1)`),
				fmt.Sprintf("opp-%d", i), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", owner, stage, int64(i)*100); err != nil {
				t.Fatal(err)
			}
		}
		share := func(id, user string) {
			t.Helper()
			if _, err := p.Access.ShareRecord(ctx, nil, "opportunity", id, user, access.ShareRead, other.ID); err != nil {
				t.Fatal(err)
			}
		}
		unshare := func(id, user string) {
			t.Helper()
			if err := p.Access.UnshareRecord(ctx, nil, "opportunity", id, user); err != nil {
				t.Fatal(err)
			}
		}
		steps := []struct {
			name string
			do   func()
			// seen is how many records rep and third reach in needs
			// and won after the step.
			seen map[string][2]int
		}{
			{"no shares", func() {}, map[string][2]int{"rep": {3, 0}, "third": {0, 0}}},
			{"opp-4 shared with rep", func() { share("opp-4", "rep") }, map[string][2]int{"rep": {4, 0}, "third": {0, 0}}},
			{"opp-9 (won) shared with rep and third", func() { share("opp-9", "rep"); share("opp-9", "third") }, map[string][2]int{"rep": {4, 1}, "third": {0, 1}}},
			{"opp-4 unshared", func() { unshare("opp-4", "rep") }, map[string][2]int{"rep": {3, 1}, "third": {0, 1}}},
			{"every share revoked", func() { unshare("opp-9", "rep"); unshare("opp-9", "third") }, map[string][2]int{"rep": {3, 0}, "third": {0, 0}}},
		}
		for _, step := range steps {
			step.do()
			for user, seen := range step.seen {
				u := map[string]*access.User{"rep": rep, "third": third}[user]
				if got := [2]int{len(visibleIDs(t, db, u.ID, "needs")), len(visibleIDs(t, db, u.ID, "won"))}; got != seen {
					t.Fatalf("%s: the fixture gives %s %v records in needs and won, want %v", step.name, user, got, seen)
				}
			}
			for _, u := range []*access.User{rep, other, third} {
				rctx := access.WithPrincipal(ctx, u.Principal())
				for _, stage := range []string{"needs", "won", "lost"} {
					want := visibleIDs(t, db, u.ID, stage)
					filter := fmt.Sprintf("stage == %q", stage)
					// A page of 2 reads with a cursor; a total is counted
					// with the branches the page settled on.
					opt := engine.ListOptions{Filter: filter, Sort: "-amount", Limit: 2, Total: true}
					got := listPages(t, p.Engine, rctx, opt, len(want), func(_ int, _ engine.ListOptions, res *engine.ListResult) {
						if res.Total == nil || *res.Total != int64(len(want)) {
							t.Errorf("%s: %s, %s: total %v, want %d", step.name, u.Username, stage, res.Total, len(want))
						}
					})
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("%s: %s lists %s as %v, want %v", step.name, u.Username, stage, got, want)
					}
					n, _, err := p.Engine.Count(rctx, "opportunity", filter, 0)
					if err != nil {
						t.Fatal(err)
					}
					if n != int64(len(want)) {
						t.Errorf("%s: %s counts %d in %s, want %d", step.name, u.Username, n, stage, len(want))
					}
				}
			}
		}
	})
}

// visibleIDs lists the opportunities of stage that user owns or has been
// shared, by amount, with one plain query.
func visibleIDs(t *testing.T, db *store.DB, user, stage string) []string {
	t.Helper()
	return storetest.Strings(t, db, `SELECT id FROM opportunity WHERE (owner_id = ? OR id IN (SELECT record_id FROM crm_shares WHERE user_id = ? AND object = 'opportunity')) AND stage = ?
		ORDER BY amount DESC NULLS LAST, id`, user, user, stage)
}
