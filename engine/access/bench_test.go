package access_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
)

// BenchmarkDecision measures the per-request cost of permission checks
// on a warm Decider (the memo tables filled by the first call).
func BenchmarkDecision(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	sc := recordSchema(b)
	svc := setup(b, db, sc)
	d, err := svc.Decide(ctx, sc)
	if err != nil {
		b.Fatal(err)
	}
	rep := &access.Principal{UserID: "u1", Username: "rep", Roles: []string{"sales_rep"}}
	multi := &access.Principal{UserID: "u2", Username: "multi", Roles: []string{"service_agent", "marketing", "sales_rep"}}
	b.Run("CanObject", func(b *testing.B) {
		for b.Loop() {
			if d.CanObject(rep, "account", "update") != nil {
				b.Fatal("denied")
			}
		}
	})
	b.Run("CanObject3Roles", func(b *testing.B) {
		for b.Loop() {
			if d.CanObject(multi, "opportunity", "update") != nil {
				b.Fatal("denied")
			}
		}
	})
	b.Run("FieldLevel", func(b *testing.B) {
		for b.Loop() {
			_ = d.FieldLevel(rep, "account", "credit_limit")
		}
	})
	b.Run("FieldLevelsObject", func(b *testing.B) {
		for b.Loop() {
			_ = d.FieldLevels(rep, "account")
		}
	})
	b.Run("RecordFilter", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := d.RecordFilter(ctx, rep, "account", "read"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecideVersionCheck", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Decide(ctx, sc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecideRebuild", func(b *testing.B) {
		for b.Loop() {
			c := sc.Clone() // a new schema forces a new Decider
			if _, err := svc.Decide(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The first request after a metadata change: a new Decider, then the
	// field levels of every object (a home page, a describe of each).
	b.Run("DecideRebuildAndEveryFieldLevel", func(b *testing.B) {
		for b.Loop() {
			d, err := svc.Decide(ctx, sc.Clone())
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range sc.Objects {
				_ = d.FieldLevels(rep, o.Name)
			}
		}
	})
}

// BenchmarkList compares, in one run, a page and a count of an account
// list without any record filter against the same list with the record
// filter of a rep (own records plus shares and a sharing rule) and of a
// manager (the owners below them in the hierarchy).
func BenchmarkList(b *testing.B) {
	dbs := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if os.Getenv(storetest.EnvPostgres) != "" {
		dbs["postgres"] = storetest.Postgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			b.Logf("%s skipped: set %s", name, storetest.EnvPostgres)
			continue
		}
		b.Run(name, func(b *testing.B) { benchList(b, open(b)) })
	}
}

// benchList fills 20,000 accounts owned by 100 users (10 managers of 9
// reps each) and runs the lists.
func benchList(b *testing.B, db *store.DB) {
	ctx := context.Background()
	sc := recordSchema(b)
	svc := setup(b, db, sc)
	var users []*access.User
	for m := 0; m < 10; m++ {
		mgr := mustUser(b, svc, access.NewUser{Username: fmt.Sprintf("mgr%d", m), Roles: []string{"sales_manager"}})
		users = append(users, mgr)
		for r := 0; r < 9; r++ {
			users = append(users, mustUser(b, svc, access.NewUser{Username: fmt.Sprintf("rep%d_%d", m, r), Roles: []string{"sales_rep"}, Manager: mgr.Username}))
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE account (id VARCHAR(36) PRIMARY KEY, owner_id VARCHAR(36), name TEXT, industry TEXT)`); err != nil {
		b.Fatal(err)
	}
	// The engine indexes owner_id; the field of the sharing rule is
	// indexed too, so each branch of the OR can use an index.
	for _, ix := range []string{`CREATE INDEX account_owner_idx ON account (owner_id)`, `CREATE INDEX account_industry_idx ON account (industry)`} {
		if _, err := db.ExecContext(ctx, ix); err != nil {
			b.Fatal(err)
		}
	}
	tx, err := db.DB.DB.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins := store.Rebind(db.Dialect, `INSERT INTO account (id, owner_id, name, industry) VALUES (?, ?, ?, ?)`)
	for i := 0; i < 20000; i++ {
		ind := "retail"
		if i%50 == 0 {
			ind = "tech"
		}
		if _, err := tx.ExecContext(ctx, ins, fmt.Sprintf("acc%06d", i), users[i%len(users)].ID, fmt.Sprintf("Account %d", i), ind); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	rep, mgr := users[1], users[0]
	for i := 0; i < 20; i++ {
		if _, err := svc.ShareRecord(ctx, nil, "account", fmt.Sprintf("acc%06d", i*7), rep.Username, access.ShareRead, mgr.ID); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	d, err := svc.Decide(ctx, sc)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, p *access.Principal, count bool) {
		pred, args := "", []any(nil)
		if p != nil {
			pred, args, err = d.RecordFilter(ctx, p, "account", "read")
			if err != nil {
				b.Fatal(err)
			}
			pred = " WHERE " + pred
		}
		q := "SELECT id, owner_id, name, industry FROM account" + pred + " ORDER BY id LIMIT 50"
		if count {
			q = "SELECT COUNT(*) FROM account" + pred
		}
		q = store.Rebind(db.Dialect, q)
		for b.Loop() {
			rows, err := db.DB.DB.QueryContext(ctx, q, args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n == 0 {
				b.Fatal("no rows")
			}
		}
	}
	for _, c := range []struct {
		name string
		p    *access.Principal
	}{{"unfiltered", nil}, {"rep_own_shares_rule", rep.Principal()}, {"manager_subordinates", mgr.Principal()}} {
		b.Run("page50/"+c.name, func(b *testing.B) { run(b, c.p, false) })
		b.Run("count/"+c.name, func(b *testing.B) { run(b, c.p, true) })
	}
}

// BenchmarkAuthenticate measures turning a bearer token into a principal,
// which every request does.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	svc := setup(b, db, recordSchema(b))
	mustUser(b, svc, access.NewUser{Username: "rep", Password: "rep-password", Roles: []string{"sales_rep"}})
	tok, _, err := svc.Login(ctx, "rep", "rep-password")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
