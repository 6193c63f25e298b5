package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// TestSharingRuleRelativeDateMovesWithTheDay shares accounts "first dealt
// with today" and checks that the rule follows the calendar: compiled
// conditions are rebuilt when the day changes.
func TestSharingRuleRelativeDateMovesWithTheDay(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	sc := standard(t).Clone()
	for _, r := range sc.Roles {
		if r.Name == "sales_rep" {
			r.SharingRules = append(r.SharingRules, metadata.SharingRule{Name: "new_today", Object: "account", Condition: `first_deal_date == today()`, Access: access.ShareRead})
		}
	}
	svc := setup(t, db, sc, access.WithClock(clk.now))
	rep := mustUser(t, svc, access.NewUser{Username: "rep", Roles: []string{"sales_rep"}})
	other := mustUser(t, svc, access.NewUser{Username: "other", Roles: []string{"sales_rep"}})
	if _, err := db.ExecContext(ctx, `CREATE TABLE account (id TEXT PRIMARY KEY, owner_id TEXT, first_deal_date TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"may1", "2026-05-01"}, {"may2", "2026-05-02"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO account VALUES (?, ?, ?)`, a[0], other.ID, a[1]); err != nil {
			t.Fatal(err)
		}
	}
	visible := func() []string {
		t.Helper()
		d, err := svc.Decide(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		p := &access.Principal{UserID: rep.ID, Username: "rep", Roles: []string{"sales_rep"}}
		pred, args, err := d.RecordFilter(ctx, p, "account", "read")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT id FROM account WHERE `+pred+` ORDER BY id`, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	if got := visible(); len(got) != 1 || got[0] != "may1" {
		t.Fatalf("on May 1: %v", got)
	}
	clk.t = clk.t.Add(24 * time.Hour)
	if got := visible(); len(got) != 1 || got[0] != "may2" {
		t.Fatalf("on May 2 the rule still shares %v", got)
	}
}
