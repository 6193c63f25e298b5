package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestGetReadsLinksWithTheRow checks the links a read of one record
// selects with its row (Scope.linkList) on both databases: the ids the
// link table holds, sorted whatever order they were given in, none as an
// empty list, the same as a list page reads them (addLinks, a query of
// their own), no links at all for a principal who may not read the
// field, and nothing for one out of the record's reach.
func TestGetReadsLinksWithTheRow(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, standard, func(t *testing.T, db *store.DB) {
		e := newEngine(t, db, ownerGuard{})
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		var rivals []string
		for _, name := range []string{"R1", "R2", "R3"} {
			c, err := e.Create(ctx, "competitor", map[string]any{"name": name})
			if err != nil {
				t.Fatal(err)
			}
			rivals = append(rivals, c["id"].(string))
		}
		for _, tt := range []struct {
			name  string
			given []string
		}{
			{"none", nil},
			{"one", rivals[1:2]},
			{"three, given out of order", []string{rivals[2], rivals[0], rivals[1]}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				data := map[string]any{"name": tt.name, "account": acc["id"], "amount": "1"}
				if tt.given != nil {
					data["competitors"] = anySlice(tt.given)
				}
				opp, err := e.Create(ctx, "opportunity", data)
				if err != nil {
					t.Fatal(err)
				}
				id := opp["id"].(string)
				want := slices.Sorted(slices.Values(tt.given))
				if want == nil {
					want = []string{}
				}
				got, err := e.Get(ctx, "opportunity", id)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got["competitors"].([]string), want) {
					t.Errorf("get: competitors %v, want %v", got["competitors"], want)
				}
				var stored []string
				rows, err := db.SQL().QueryContext(ctx, store.Rebind(db.Dialect, `SELECT "target_id" FROM "opportunity__competitors" WHERE "source_id" = ? ORDER BY "target_id"`), id)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						t.Fatal(err)
					}
					stored = append(stored, s)
				}
				rows.Close()
				if !slices.Equal(stored, want) {
					t.Errorf("the link table holds %v, want %v", stored, want)
				}
				page, err := e.List(ctx, "opportunity", ListOptions{Filter: `name == "` + tt.name + `"`})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) != 1 || !slices.Equal(page.Items[0]["competitors"].([]string), want) {
					t.Errorf("a list page reads %v, get %v", page.Items, got["competitors"])
				}
				if rec, err := e.Get(as("u2"), "opportunity", id); !errors.Is(err, ErrNotFound) {
					t.Errorf("another owner's rep reads the record and its links: %v, %v", rec, err)
				}
				hidden := newEngine(t, db, ownerGuard{hidden: map[string]bool{"opportunity.competitors": true}})
				rec, err := hidden.Get(ctx, "opportunity", id)
				if err != nil {
					t.Fatal(err)
				}
				if v, leaked := rec["competitors"]; leaked {
					t.Errorf("links of a hidden field read: %v", v)
				}
			})
		}
	})
}
