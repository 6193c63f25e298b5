package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
)

// TestListPagesAcrossSegments pages through a rep's opportunities by
// amount, whose last ones have no amount (they come last, read as a
// segment of their own after the amounts), with page sizes that end a page
// exactly where the amounts end, one before and one after, and within the
// empty values: every record comes once, in the order of one plain query,
// and the last page has no cursor.
func TestListPagesAcrossSegments(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			t.Fatal(err)
		}
		fsys, _ := defaults.FS("standard")
		if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
			t.Fatal(err)
		}
		rep, err := p.Access.CreateUser(ctx, access.NewUser{Username: "rep", Password: "rep-password", Roles: []string{"sales_rep"}})
		if err != nil {
			t.Fatal(err)
		}
		const withAmount, without = 12, 7
		for i := range withAmount + without {
			var amount any = int64(i%5) * 100 // ties, broken by id
			if i >= withAmount {
				amount = nil
			}
			_, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `INSERT INTO opportunity (id, created_at, updated_at, owner_id, stage, amount, version) VALUES (?, ?, ?, ?, ?, ?, 1)`),
				fmt.Sprintf("opp-%03d", i), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", rep.ID, "needs", amount)
			if err != nil {
				t.Fatal(err)
			}
		}
		want := expectedIDs(t, db, rep.ID, "needs", withAmount+without)
		rctx := access.WithPrincipal(ctx, rep.Principal())
		for _, size := range []int{1, 3, 4, 5, 6, 11, 12, 13, 14, 18, 19, 20} {
			opt := engine.ListOptions{Filter: `stage == "needs"`, Sort: "-amount", Limit: size}
			var got []string
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("page size %d: the cursor never ends", size)
				}
				res, err := p.Engine.List(rctx, "opportunity", opt)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res.Items {
					got = append(got, r["id"].(string))
				}
				if res.NextCursor == "" {
					break
				}
				if len(res.Items) != size {
					t.Fatalf("page size %d: a page of %d records has a cursor", size, len(res.Items))
				}
				opt.Cursor = res.NextCursor
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("page size %d: pages list\n%v\nwant\n%v", size, got, want)
			}
		}
	})
}
