package engine

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// TestRollupSharesMatchCounts writes opportunities of three accounts in a
// random mix of creates, batches, updates of stage, amount and account,
// and deletes, and after every write compares each account's roll-ups
// kept by shares (won revenue, open deals: the whole formula of their
// field) and those counted again (the last won deal's date, a maximum)
// with the same aggregates counted by hand in SQL. Then it proves the
// shares are what keeps them: a stored count put off by hand stays off by
// as much after the next write of a child, where a count would heal it.
func TestRollupSharesMatchCounts(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		accounts := []string{createNamed(t, e, ctx, "account", "A"), createNamed(t, e, ctx, "account", "B"), createNamed(t, e, ctx, "account", "C")}
		kept := map[string]bool{}
		for _, s := range e.Snapshot().Formulas().RollupsOnChild("opportunity") {
			if s.Object == "account" && e.Snapshot().keptByShares(s, (&formulaResolver{e: e, snap: e.Snapshot()}).timedRollup) {
				kept[s.Field] = true
			}
		}
		for _, f := range []string{"won_amount", "open_opportunities", "total_won", "open_deals"} {
			if !kept[f] {
				t.Fatalf("account.%s is not kept by shares (%v)", f, kept)
			}
		}
		if kept["last_deal_date"] {
			t.Fatal("a maximum is kept by shares")
		}
		stages := []string{"qualify", "proposal", "won", "lost"}
		rng := rand.New(rand.NewPCG(14, 30))
		var deals []string
		deal := func(i int) map[string]any {
			return map[string]any{"name": "Deal " + strconv.Itoa(i), "account": accounts[rng.IntN(3)], "stage": stages[rng.IntN(4)],
				"amount": strconv.Itoa(rng.IntN(100000)) + ".25", "close_date": "2026-0" + strconv.Itoa(1+rng.IntN(9)) + "-15"}
		}
		for i := range 60 {
			var err error
			switch op := rng.IntN(6); {
			case op == 0 || len(deals) < 3:
				var rec Record
				rec, err = e.Create(ctx, "opportunity", deal(i))
				if err == nil {
					deals = append(deals, rec["id"].(string))
				}
			case op == 1:
				var recs []Record
				recs, err = e.CreateMany(ctx, "opportunity", []map[string]any{deal(i), deal(i + 1000), deal(i + 2000)})
				for _, rec := range recs {
					deals = append(deals, rec["id"].(string))
				}
			case op == 2:
				k := rng.IntN(len(deals))
				err = e.Delete(ctx, "opportunity", deals[k])
				deals = append(deals[:k], deals[k+1:]...)
			default:
				change := deal(i)
				delete(change, "name")
				for _, f := range []string{"account", "stage", "amount", "close_date"} {
					if rng.IntN(2) == 0 {
						delete(change, f)
					}
				}
				id := deals[rng.IntN(len(deals))]
				var cur Record
				if cur, err = e.Get(ctx, "opportunity", id); err == nil {
					change["version"] = cur["version"]
					_, err = e.Update(ctx, "opportunity", id, change)
				}
			}
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			checkAccountRollups(t, e, db, accounts, i)
		}

		// Put one account's open deals off by 100 by hand: the next write of
		// one of its children adds its share to the stored value.
		a := accounts[0]
		if _, err := db.SQL().ExecContext(ctx, store.Rebind(db.Dialect, `UPDATE account SET open_opportunities = open_opportunities + 100, won_amount = won_amount + 100 WHERE id = ?`), a); err != nil {
			t.Fatal(err)
		}
		for _, stage := range []string{"proposal", "won"} {
			if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Last " + stage, "account": a, "stage": stage, "amount": "10.00"}); err != nil {
				t.Fatal(err)
			}
		}
		var open, openCounted, won, wonCounted int64
		q := `SELECT open_opportunities, (SELECT COUNT(*) FROM opportunity WHERE account = ? AND stage NOT IN ('won', 'lost')),
			won_amount, (SELECT SUM(amount) FROM opportunity WHERE account = ? AND stage = 'won') FROM account WHERE id = ?`
		if err := db.SQL().QueryRowContext(ctx, store.Rebind(db.Dialect, q), a, a, a).Scan(&open, &openCounted, &won, &wonCounted); err != nil {
			t.Fatal(err)
		}
		if open != openCounted+100 || won != wonCounted+100 {
			t.Fatalf("stored after the creates: open deals %d (counted %d), won revenue %d cents (counted %d): want both kept by shares, 100 above", open, openCounted, won, wonCounted)
		}
	})
}

// checkAccountRollups compares the stored roll-ups of accounts with the
// aggregates counted in SQL.
func checkAccountRollups(t *testing.T, e *Engine, db *store.DB, accounts []string, step int) {
	t.Helper()
	ctx := as("u1")
	for _, a := range accounts {
		got, err := e.Get(ctx, "account", a)
		if err != nil {
			t.Fatal(err)
		}
		var open int64
		var won sql.NullInt64
		var last any
		q := `SELECT (SELECT COUNT(*) FROM opportunity WHERE account = ? AND stage NOT IN ('won', 'lost')),
			(SELECT SUM(amount) FROM opportunity WHERE account = ? AND stage = 'won'),
			(SELECT MAX(close_date) FROM opportunity WHERE account = ? AND stage = 'won')`
		if err := db.SQL().QueryRowContext(ctx, store.Rebind(db.Dialect, q), a, a, a).Scan(&open, &won, &last); err != nil {
			t.Fatal(err)
		}
		wantWon := fmt.Sprintf("%d.%02d", won.Int64/100, won.Int64%100)
		if got["open_opportunities"] != open || got["open_deals"] != open || got["won_amount"] != json.Number(wantWon) || got["total_won"] != json.Number(wantWon) {
			t.Fatalf("after write %d, account %s: open %v/%v, won %v/%v, want %d and %s", step, a,
				got["open_opportunities"], got["open_deals"], got["won_amount"], got["total_won"], open, wantWon)
		}
		if wantLast := dateOf(last); got["last_deal_date"] != wantLast {
			t.Fatalf("after write %d, account %s: last deal %v, want %v", step, a, got["last_deal_date"], wantLast)
		}
	}
}

// dateOf is a date as the database gives it, as a record answers it (nil
// for none).
func dateOf(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.Format(time.DateOnly)
	case string:
		return x[:len(time.DateOnly)]
	}
	return v
}
