package access_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

func TestZZExplain(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sc := recordSchema(t)
		svc := setup(t, db, sc)
		var users []*access.User
		for m := 0; m < 10; m++ {
			mgr := mustUser(t, svc, access.NewUser{Username: fmt.Sprintf("mgr%d", m), Roles: []string{"sales_manager"}})
			users = append(users, mgr)
			for r := 0; r < 9; r++ {
				users = append(users, mustUser(t, svc, access.NewUser{Username: fmt.Sprintf("rep%d_%d", m, r), Roles: []string{"sales_rep"}, Manager: mgr.Username}))
			}
		}
		db.ExecContext(ctx, `CREATE TABLE account (id VARCHAR(36) PRIMARY KEY, owner_id VARCHAR(36), name TEXT, industry TEXT)`)
		db.ExecContext(ctx, `CREATE INDEX account_owner_idx ON account (owner_id)`)
		db.ExecContext(ctx, `CREATE INDEX account_industry_idx ON account (industry)`)
		tx, _ := db.DB.DB.BeginTx(ctx, nil)
		ins := store.Rebind(db.Dialect, `INSERT INTO account (id, owner_id, name, industry) VALUES (?, ?, ?, ?)`)
		for i := 0; i < 20000; i++ {
			ind := "retail"
			if i%50 == 0 {
				ind = "tech"
			}
			tx.ExecContext(ctx, ins, fmt.Sprintf("acc%06d", i), users[i%len(users)].ID, fmt.Sprintf("Account %d", i), ind)
		}
		tx.Commit()
		db.ExecContext(ctx, "ANALYZE")
		d, _ := svc.Decide(ctx, sc)
		for _, p := range []*access.Principal{users[1].Principal(), users[0].Principal()} {
			pred, args, _ := d.RecordFilter(ctx, p, "account", "read")
			ex := "EXPLAIN ANALYZE "
			if db.Dialect != "postgres" {
				ex = "EXPLAIN QUERY PLAN "
			}
			rows, err := db.DB.DB.QueryContext(ctx, store.Rebind(db.Dialect, ex+"SELECT COUNT(*) FROM account WHERE "+pred), args...)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				rows.Scan(ptrs...)
				t.Log(vals...)
			}
			rows.Close()
		}
	})
}
