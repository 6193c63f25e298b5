package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// withFormulas opens an engine using formulas on db, a copy of
// withFormulasSeed: the standard template with formulasSchema's formulas.
func withFormulas(t *testing.T, db *store.DB) *Engine {
	t.Helper()
	e := newEngine(t, db, ownerGuard{})
	if err := e.UseFormulas(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// formulasSchema adds formulas to the standard template's schema s:
// computed fields, a roll-up, a lookup read, a default formula and rules.
func formulasSchema(s *metadata.Schema) *metadata.Schema {
	opp, _ := s.Object("opportunity")
	opp.Fields = append(opp.Fields,
		&metadata.Field{Name: "weighted", Type: "currency", Formula: "amount * option(stage).probability / 100"},
		&metadata.Field{Name: "account_industry", Type: "text", Formula: "label(account.industry)", Visibility: metadata.VisibilityAll},
		&metadata.Field{Name: "follow_up", Type: "date", DefaultFormula: "today() + 7"},
		&metadata.Field{Name: "credit_at_open", Type: "currency", DefaultFormula: "account.credit_limit"},
		&metadata.Field{Name: "group_credit_at_open", Type: "currency", DefaultFormula: "account.parent.credit_limit"},
		&metadata.Field{Name: "credit_by_name", Type: "currency", DefaultFormula: `vlookup("account", "credit_limit", "name", name)`},
	)
	opp.ValidationRules = append(opp.ValidationRules,
		metadata.ValidationRule{Name: "won_needs_amount", Condition: `stage != "won" || amount > 0`, Message: metadata.Label{"en": "A won opportunity needs an amount"}, Field: "amount"},
		metadata.ValidationRule{Name: "short_name", Condition: `len(name) <= 40`, Message: metadata.Label{"en": "The name is too long"}, Field: "name"},
	)
	// The owner guard gives every user the own record scope, under which a
	// roll-up over all children, like a field read through a lookup
	// (account_industry above), is hidden unless declared visible to all.
	acc, _ := s.Object("account")
	acc.Fields = append(acc.Fields,
		&metadata.Field{Name: "total_won", Type: "currency", Formula: `sum(opportunity, amount, stage == "won")`, Visibility: metadata.VisibilityAll},
		&metadata.Field{Name: "open_deals", Type: "integer", Formula: `count(opportunity, stage not in ["won", "lost"])`, Visibility: metadata.VisibilityAll},
		&metadata.Field{Name: "headroom", Type: "currency", Formula: "credit_limit - total_won"},
	)
	return s
}

func TestFormulasOnWrites(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		get := func(object, id string) Record {
			t.Helper()
			r, err := e.Get(ctx, object, id)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		a, err := e.Create(ctx, "account", body(t, `{"name": "Acme", "industry": "retail", "credit_limit": 10000}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Create(ctx, "account", body(t, `{"name": "Beta"}`))
		if err != nil {
			t.Fatal(err)
		}
		aid, bid := a["id"].(string), b["id"].(string)
		if a["headroom"] != json.Number("10000.00") || a["open_deals"] != int64(0) {
			t.Fatalf("new account: %v", a)
		}

		// Create: computed fields, a lookup read, a default formula; the
		// parent's roll-up follows.
		o1, err := e.Create(ctx, "opportunity", body(t, `{"name": "Lathes", "account": "`+aid+`", "stage": "proposal", "amount": "500.01"}`))
		if err != nil {
			t.Fatal(err)
		}
		// The create may straddle midnight UTC: either day's +7 is right.
		today := time.Now().UTC()
		followUp := o1["follow_up"]
		if followUp == today.AddDate(0, 0, 6).Format(metadata.DateLayout) {
			followUp = today.AddDate(0, 0, 7).Format(metadata.DateLayout)
		}
		if o1["weighted"] != json.Number("250.01") || o1["account_industry"] != "Retail" || followUp != today.AddDate(0, 0, 7).Format(metadata.DateLayout) {
			t.Fatalf("created opportunity: %v", o1)
		}
		if got := get("account", aid); got["open_deals"] != int64(1) || got["total_won"] != json.Number("0.00") {
			t.Fatalf("account after create: %v", got)
		}

		// Update of the child: the roll-up and what reads it.
		o1id := o1["id"].(string)
		if _, err := e.Update(ctx, "opportunity", o1id, body(t, `{"version": 1, "stage": "won"}`)); err != nil {
			t.Fatal(err)
		}
		if got := get("account", aid); got["total_won"] != json.Number("500.01") || got["open_deals"] != int64(0) || got["headroom"] != json.Number("9499.99") || got["version"] != int64(1) {
			t.Fatalf("account after update: %v", got)
		}

		// Lookup target change: the opportunity reading account.industry.
		if _, err := e.Update(ctx, "account", aid, body(t, `{"version": 1, "industry": "finance"}`)); err != nil {
			t.Fatal(err)
		}
		if got := get("opportunity", o1id); got["account_industry"] != "Finance" {
			t.Fatalf("opportunity after account change: %v", got)
		}

		// A second child, then re-parented.
		o2, err := e.Create(ctx, "opportunity", body(t, `{"name": "Mills", "account": "`+aid+`", "stage": "won", "amount": 200}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := get("account", aid); got["total_won"] != json.Number("700.01") {
			t.Fatalf("account after second child: %v", got)
		}
		if _, err := e.Update(ctx, "opportunity", o2["id"].(string), body(t, `{"version": 1, "account": "`+bid+`"}`)); err != nil {
			t.Fatal(err)
		}
		if ga, gb := get("account", aid), get("account", bid); ga["total_won"] != json.Number("500.01") || gb["total_won"] != json.Number("200.00") || gb["account_industry"] != nil {
			t.Fatalf("after re-parent: %v / %v", ga, gb)
		}

		// Delete of a child.
		if err := e.Delete(ctx, "opportunity", o1id); err != nil {
			t.Fatal(err)
		}
		if got := get("account", aid); got["total_won"] != json.Number("0.00") || got["headroom"] != json.Number("10000.00") {
			t.Fatalf("account after delete: %v", got)
		}

		// Rules fail together, in one ValidationError.
		_, err = e.Create(ctx, "opportunity", body(t, `{"name": "A name that is much too long for this rule set", "account": "`+aid+`", "stage": "won", "amount": 0}`))
		var verr *ValidationError
		if !errors.As(err, &verr) || len(verr.Errors) != 2 || verr.Errors[0].Code != "rule.won_needs_amount" || verr.Errors[0].Field != "amount" ||
			verr.Errors[1].Code != "rule.short_name" || verr.Errors[0].Message != "A won opportunity needs an amount" {
			t.Fatalf("want both rules to fail, got %v", err)
		}
	})
}

// TestDefaultFormulaReadsAsPrincipal: a default formula reading through
// lookups or vlookup() copies into the new record only what its creator
// may read: a record out of their record scope, or a hidden field, reads
// as empty.
func TestDefaultFormulaReadsAsPrincipal(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		u1, u2 := as("u1"), as("u2")
		group := created(t, e, u1, "account", body(t, `{"name": "Group", "credit_limit": 90000}`))
		sub := created(t, e, u1, "account", body(t, `{"name": "Subsidiary", "credit_limit": 5000, "parent": "`+group["id"].(string)+`"}`))
		deal := func(e *Engine, ctx context.Context, data string) Record {
			t.Helper()
			return created(t, e, ctx, "opportunity", body(t, `{"name": "Group", "stage": "proposal", "account": "`+sub["id"].(string)+`"`+data+`}`))
		}
		if o := deal(e, u1, ""); o["credit_at_open"] != json.Number("5000.00") || o["group_credit_at_open"] != json.Number("90000.00") || o["credit_by_name"] != json.Number("90000.00") {
			t.Fatalf("u1 reads both accounts: %v", o)
		}
		if o := deal(e, u1, `, "credit_at_open": 7`); o["credit_at_open"] != json.Number("7.00") {
			t.Fatalf("a value sent is kept: %v", o)
		}
		// u2 is given the subsidiary, not its group: the group's limit is
		// not theirs to copy.
		if _, err := e.Update(u1, "account", sub["id"].(string), body(t, `{"version": 1, "owner_id": "u2"}`)); err != nil {
			t.Fatal(err)
		}
		if o := deal(e, u2, ""); o["credit_at_open"] != json.Number("5000.00") || o["group_credit_at_open"] != nil || o["credit_by_name"] != nil {
			t.Fatalf("u2 reads the subsidiary only: %v", o)
		}
		// The same rights with the credit limit hidden: nothing is copied.
		hidden := newEngine(t, db, ownerGuard{hidden: map[string]bool{"account.credit_limit": true}})
		if err := hidden.UseFormulas(context.Background()); err != nil {
			t.Fatal(err)
		}
		o := deal(hidden, u2, "")
		if o["credit_at_open"] != nil || o["group_credit_at_open"] != nil || o["credit_by_name"] != nil {
			t.Fatalf("hidden credit limit: %v", o)
		}
		var stored sql.NullInt64
		if err := db.SQL().QueryRow(store.Rebind(db.Dialect, `SELECT credit_at_open FROM opportunity WHERE id = ?`), o["id"]).Scan(&stored); err != nil || stored.Valid {
			t.Fatalf("stored credit_at_open %v (%v)", stored, err)
		}
	})
}

func TestFormulaProblemsRefuseMetadata(t *testing.T) {
	t.Parallel()
	db := storetest.SQLiteFrom(t, withFormulasSeed)
	e := withFormulas(t, db)
	s := e.Snapshot().Schema.Clone()
	opp, _ := s.Object("opportunity")
	w, _ := opp.Field("weighted")
	w.Formula = "amount * probability"
	_, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"})
	var ps metadata.Problems
	if !errors.As(err, &ps) || !errors.Is(err, metadata.ErrInvalid) || len(ps) != 1 || ps[0].Message != "line 1, column 10: unknown name probability" {
		t.Fatalf("got %v", err)
	}
}

func TestRecomputeJobsStoredValues(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		if err := e.Jobs().Drain(ctx, jobs.DrainOptions{}); err != nil { // the install's own jobs
			t.Fatal(err)
		}
		a, err := e.Create(ctx, "account", body(t, `{"name": "Acme"}`))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, amount := range []string{"100", "200", "300"} {
			o, err := e.Create(ctx, "opportunity", body(t, `{"name": "D", "account": "`+a["id"].(string)+`", "stage": "won", "amount": `+amount+`}`))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o["id"].(string))
		}
		s := e.Snapshot().Schema.Clone()
		opp, _ := s.Object("opportunity")
		w, _ := opp.Field("weighted")
		w.Formula = "amount * option(stage).probability / 100 / 2"
		if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		pending, err := e.Jobs().List(ctx, jobs.Filter{State: jobs.Pending, Kind: RecomputeKind})
		if err != nil || len(pending) != 1 || pending[0].Key != "opportunity" || !strings.Contains(string(pending[0].Payload), `"fields":["weighted"]`) {
			t.Fatalf("jobs %+v, %v", pending, err)
		}
		// One step, then the run is interrupted: the job goes back to the
		// queue with its checkpoint and resumes.
		e.SetRecomputeBatch(2)
		stop, cancel := context.WithCancel(ctx)
		err = e.Jobs().Drain(stop, jobs.DrainOptions{Progress: func(jobs.Job) { cancel() }})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		if j, err := e.Jobs().Get(ctx, pending[0].ID); err != nil || j.State != jobs.Pending || j.Done != 2 || j.Total != 3 || j.Attempts != 0 {
			t.Fatalf("interrupted job %+v %v", j, err)
		}
		var seen []jobs.Job
		if err := e.Jobs().Drain(ctx, jobs.DrainOptions{Progress: func(j jobs.Job) { seen = append(seen, j) }}); err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 || seen[len(seen)-1].State != jobs.Done || seen[len(seen)-1].Done != 3 || seen[len(seen)-1].Total != 3 || seen[len(seen)-1].Message != "recompute opportunity [weighted]" {
			t.Fatalf("progress %+v", seen)
		}
		for i, id := range ids {
			o, err := e.Get(ctx, "opportunity", id)
			if err != nil {
				t.Fatal(err)
			}
			want := json.Number([]string{"50.00", "100.00", "150.00"}[i])
			if o["weighted"] != want {
				t.Fatalf("opportunity %d weighted %v, want %v", i, o["weighted"], want)
			}
		}
	})
}

func TestFormulasAfterDeleteAndUserChange(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		bg := context.Background()
		// The users table belongs to engine/access; a minimal one will do.
		for _, q := range []string{
			`CREATE TABLE IF NOT EXISTS "crm_users" ("id" VARCHAR(36) PRIMARY KEY, "username" TEXT NOT NULL, "display_name" TEXT NOT NULL, "manager_id" VARCHAR(36))`,
			`INSERT INTO "crm_users" ("id", "username", "display_name", "manager_id") VALUES ('u1', 'ann', 'Ann', 'm1')`,
			`INSERT INTO "crm_users" ("id", "username", "display_name", "manager_id") VALUES ('m1', 'boss', 'Boss', NULL)`,
		} {
			if _, err := db.SQL().ExecContext(bg, q); err != nil {
				t.Fatal(err)
			}
		}
		s := e.Snapshot().Schema.Clone()
		acc, _ := s.Object("account")
		acc.Fields = append(acc.Fields, &metadata.Field{Name: "parent_name", Type: "text", Formula: "parent.name", Visibility: metadata.VisibilityAll})
		opp, _ := s.Object("opportunity")
		opp.Fields = append(opp.Fields,
			&metadata.Field{Name: "owner_name", Type: "text", Formula: "owner.name"},
			&metadata.Field{Name: "manager_name", Type: "text", Formula: "owner.manager.name"},
		)
		if _, _, err := e.ApplySchema(bg, s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		ctx := as("u1")
		parent, err := e.Create(ctx, "account", body(t, `{"name": "Holding"}`))
		if err != nil {
			t.Fatal(err)
		}
		child, err := e.Create(ctx, "account", body(t, `{"name": "Sub", "parent": "`+parent["id"].(string)+`"}`))
		if err != nil || child["parent_name"] != "Holding" {
			t.Fatalf("child %v, %v", child, err)
		}
		o, err := e.Create(ctx, "opportunity", body(t, `{"name": "D", "account": "`+child["id"].(string)+`", "amount": 1}`))
		if err != nil || o["owner_name"] != "Ann" || o["manager_name"] != "Boss" {
			t.Fatalf("opportunity %v, %v", o, err)
		}

		// Deleting the parent sets the child's lookup to null (on_delete:
		// set_null); its formula reads an empty record now.
		if err := e.Delete(ctx, "account", parent["id"].(string)); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Get(ctx, "account", child["id"].(string)); got["parent_name"] != nil || got["parent"] != nil {
			t.Fatalf("child after parent delete: %v", got)
		}

		// A user renamed outside the engine's write path.
		for _, c := range []struct{ id, name, field string }{{"u1", "Anna", "owner_name"}, {"m1", "Chief", "manager_name"}} {
			tx, err := db.SQL().BeginTx(bg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(bg, store.Rebind(db.Dialect, `UPDATE "crm_users" SET "display_name" = ? WHERE "id" = ?`), c.name, c.id); err != nil {
				t.Fatal(err)
			}
			if err := e.RecomputeDependents(bg, tx, "user", c.id, []string{"name"}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.Get(ctx, "opportunity", o["id"].(string)); got[c.field] != c.name {
				t.Fatalf("%s after renaming %s: %v", c.field, c.id, got)
			}
		}
	})
}

// TestFormulaWriteOrder checks the order of the write path: default
// formulas fill required fields before they are found missing, a
// before-hook's change feeds the computed fields, and field problems and
// failing rules come back in one ValidationError.
func TestFormulaWriteOrder(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		s := e.Snapshot().Schema.Clone()
		opp, _ := s.Object("opportunity")
		for _, f := range opp.Fields {
			if f.Name == "follow_up" {
				f.Required = true
			}
		}
		if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		e.OnBefore(OpCreate, "opportunity", func(ctx context.Context, ev *Event) error {
			if ev.New["name"] == "Doubled" {
				ev.New["amount"] = ev.New["amount"].(int64) * 2
			}
			return nil
		})
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.Create(ctx, "opportunity", body(t, `{"name": "Doubled", "account": "`+acc["id"].(string)+`", "stage": "proposal", "amount": 100}`))
		if err != nil {
			t.Fatalf("required field with a default formula: %v", err)
		}
		if o["amount"] != json.Number("200.00") || o["weighted"] != json.Number("100.00") {
			t.Fatalf("computed fields must see the before-hook's change: %v", o)
		}
		_, err = e.Create(ctx, "opportunity", body(t, `{"name": "A name that is much too long for this rule set", "stage": "won", "amount": 0, "close_date": "someday"}`))
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("want a ValidationError, got %v", err)
		}
		codes := map[string]string{}
		for _, fe := range verr.Errors {
			codes[fe.Field+":"+fe.Code] = fe.Message
		}
		for _, want := range []string{"close_date:invalid", "account:required", "amount:rule.won_needs_amount", "name:rule.short_name"} {
			if _, ok := codes[want]; !ok {
				t.Errorf("missing %s in %v", want, verr.Errors)
			}
		}
	})
}

// TestTrackedRollupHistory tracks a roll-up: when a child's change moves
// it, the parent's history shows the new total and who caused it.
func TestTrackedRollupHistory(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		s := e.Snapshot().Schema.Clone()
		acc, _ := s.Object("account")
		f, _ := acc.Field("total_won")
		f.Tracked = true
		if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		ctx := as("u1")
		a, err := e.Create(ctx, "account", map[string]any{"name": "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.Create(ctx, "opportunity", body(t, `{"name": "D", "account": "`+a["id"].(string)+`", "stage": "proposal", "amount": 300}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Update(ctx, "opportunity", o["id"].(string), body(t, `{"version": 1, "stage": "won"}`)); err != nil {
			t.Fatal(err)
		}
		hist, err := e.History(ctx, "account", a["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].Field != "total_won" || hist[0].NewValue != json.Number("300.00") || hist[0].OldValue != json.Number("0.00") || hist[0].ChangedBy != "u1" {
			t.Fatalf("history of the roll-up: %+v", hist)
		}
	})
}

// TestLegacyRecomputesBecomeJobs starts on a database that still has the
// table older versions queued recomputations in: the unfinished ones
// become recompute jobs and the table goes.
func TestLegacyRecomputesBecomeJobs(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := context.Background()
		if err := e.Jobs().Drain(ctx, jobs.DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`CREATE TABLE "crm_formula_jobs" ("id" VARCHAR(36) PRIMARY KEY, "object" TEXT NOT NULL, "fields" TEXT NOT NULL, "version" BIGINT NOT NULL,
				"last_id" TEXT NOT NULL, "done" BIGINT NOT NULL, "total" BIGINT NOT NULL, "finished" BOOLEAN NOT NULL, "created_at" TEXT NOT NULL)`,
			`INSERT INTO "crm_formula_jobs" VALUES ('a', 'opportunity', '["weighted"]', 2, 'x', 10, 30, FALSE, '2026-01-01T00:00:00.000Z')`,
			`INSERT INTO "crm_formula_jobs" VALUES ('b', 'account', '["headroom"]', 2, '', 5, 5, TRUE, '2026-01-01T00:00:00.000Z')`,
		} {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.adoptLegacyRecomputes(ctx); err != nil {
			t.Fatal(err)
		}
		pending, err := e.Jobs().List(ctx, jobs.Filter{State: jobs.Pending})
		if err != nil || len(pending) != 1 || pending[0].Kind != RecomputeKind || pending[0].Key != "opportunity" || !strings.Contains(string(pending[0].Payload), `"fields":["weighted"]`) {
			t.Fatalf("pending jobs %+v %v", pending, err)
		}
		tables, err := db.Tables(ctx, db.SQL())
		if err != nil || slices.Contains(tables, "crm_formula_jobs") {
			t.Fatalf("the old table is still there: %v %v", tables, err)
		}
		if err := e.adoptLegacyRecomputes(ctx); err != nil {
			t.Fatalf("a second start: %v", err)
		}
		if err := e.Jobs().Drain(ctx, jobs.DrainOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUpdateComputesWhatItReaches updates accounts whose stored roll-ups
// were spoiled behind the engine's back: an update computes the fields its
// changes reach (headroom, from the credit limit) and those that read the
// clock (a roll-up of deals closing from today on), and leaves the other
// roll-ups as they are, without running their aggregates again: the
// children's writes keep them current.
func TestUpdateComputesWhatItReaches(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		bg := context.Background()
		s := e.Snapshot().Schema.Clone()
		acc, _ := s.Object("account")
		acc.Fields = append(acc.Fields, &metadata.Field{Name: "upcoming", Type: "integer", Formula: "count(opportunity, close_date >= today())", Visibility: metadata.VisibilityAll})
		if _, _, err := e.ApplySchema(bg, s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		ctx := as("u1")
		id := createRecord(t, e, ctx, "account", map[string]any{"name": "Spoiled", "credit_limit": json.Number("1000")})
		for _, close := range []string{"2020-01-01", "2099-01-01"} {
			createRecord(t, e, ctx, "opportunity", body(t, `{"name": "Deal", "account": "`+id+`", "stage": "won", "amount": "100", "close_date": "`+close+`"}`))
		}
		if _, err := db.SQL().ExecContext(bg, store.Rebind(db.Dialect, `UPDATE account SET total_won = 700, open_deals = 9, upcoming = 9, headroom = 100 WHERE id = ?`), id); err != nil {
			t.Fatal(err)
		}
		version := any(int64(1))
		for _, step := range []struct {
			change                            string
			totalWon, openDeals, up, headroom any
		}{
			{`"industry": "retail"`, json.Number("7.00"), int64(9), int64(1), json.Number("1.00")},
			{`"credit_limit": "2000"`, json.Number("7.00"), int64(9), int64(1), json.Number("1993.00")},
		} {
			got, err := e.Update(ctx, "account", id, body(t, `{"version": `+strconv.FormatInt(version.(int64), 10)+`, `+step.change+`}`))
			if err != nil {
				t.Fatal(err)
			}
			version = got["version"]
			if got["total_won"] != step.totalWon || got["open_deals"] != step.openDeals || got["upcoming"] != step.up || got["headroom"] != step.headroom {
				t.Errorf("after %s: total won %v, open deals %v, upcoming %v, headroom %v; want %v %v %v %v", step.change,
					got["total_won"], got["open_deals"], got["upcoming"], got["headroom"], step.totalWon, step.openDeals, step.up, step.headroom)
			}
		}
	})
}

// TestRollupsOverOneChildRecomputed checks the roll-ups of a parent over
// one child object, read together in one query (Rollups), when the
// parent's formulas are recomputed (the recomputation a formula change
// queues): stored values spoiled behind the engine's back come out right,
// for a parent whose children match every condition, one whose children
// match none (a zero count, a zero sum, no date) and one without children.
// An update of the parents before that changes none of the roll-ups'
// inputs, so it leaves them as they are (TestUpdateComputesWhatItReaches).
func TestRollupsOverOneChildRecomputed(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		account := func(name string) string { return createNamed(t, e, ctx, "account", name) }
		mixed, lost, none := account("Mixed"), account("Lost only"), account("No deals")
		for _, o := range []struct{ account, stage, amount, close string }{
			{mixed, "won", "200", "2026-03-01"},
			{mixed, "won", "300.50", "2026-05-02"},
			{mixed, "proposal", "100", "2026-07-03"},
			{mixed, "lost", "50", "2026-09-04"},
			{lost, "lost", "70", "2026-01-05"},
		} {
			if _, err := e.Create(ctx, "opportunity", body(t, `{"name": "Deal", "account": "`+o.account+`", "stage": "`+o.stage+`", "amount": "`+o.amount+`", "close_date": "`+o.close+`"}`)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SQL().ExecContext(context.Background(), `UPDATE account SET won_amount = 999, total_won = 999, open_deals = 9, open_opportunities = 9, last_deal_date = NULL`); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			id                                   string
			won, open, lastDeal, totalWon, opens any
		}{
			{mixed, json.Number("500.50"), int64(1), "2026-05-02", json.Number("500.50"), int64(1)},
			{lost, json.Number("0.00"), int64(0), nil, json.Number("0.00"), int64(0)},
			{none, json.Number("0.00"), int64(0), nil, json.Number("0.00"), int64(0)},
		}
		for _, tt := range tests {
			if got, err := e.Update(ctx, "account", tt.id, body(t, `{"version": 1, "industry": "retail"}`)); err != nil || got["open_deals"] != int64(9) {
				t.Fatalf("account %s after an update: open deals %v, %v", tt.id, got["open_deals"], err)
			}
		}
		s := e.Snapshot().Schema.Clone()
		acc, _ := s.Object("account")
		acc.Fields = append(acc.Fields, &metadata.Field{Name: "deal_count", Type: "integer", Formula: "count(opportunity)"})
		if _, _, err := e.ApplySchema(context.Background(), s, ApplyOptions{Author: "test"}); err != nil {
			t.Fatal(err)
		}
		if err := e.Jobs().Drain(context.Background(), jobs.DrainOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			got, err := e.Get(ctx, "account", tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got["won_amount"] != tt.won || got["open_opportunities"] != tt.open || got["last_deal_date"] != tt.lastDeal ||
				got["total_won"] != tt.totalWon || got["open_deals"] != tt.opens {
				t.Errorf("account %s recomputed: won %v, open %v, last deal %v, total won %v, open deals %v",
					tt.id, got["won_amount"], got["open_opportunities"], got["last_deal_date"], got["total_won"], got["open_deals"])
			}
		}
	})
}

// TestRollupConditionCompiledOnce checks that a roll-up's condition is
// compiled once per snapshot when it does not read the clock, and at each
// resolver's instant when it does (a kept one would count yesterday's
// children as today's).
func TestRollupConditionCompiledOnce(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		snap := e.Snapshot()
		child, err := snap.Object("opportunity")
		if err != nil {
			t.Fatal(err)
		}
		day1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		tests := []struct {
			condition string
			kept      bool
		}{
			{`stage == "won"`, true},
			{`close_date >= today()`, false},
		}
		for _, tt := range tests {
			spec := &formulas.RollupSpec{Object: "account", Field: "f", Child: "opportunity", Via: "account", Func: "count", Condition: tt.condition}
			var args [2][]any
			for i, now := range []time.Time{day1, day1.AddDate(0, 0, 1)} {
				p, err := (&formulaResolver{e: e, snap: snap, now: now}).rollupCondition(spec, child)
				if err != nil {
					t.Fatal(err)
				}
				args[i] = p.Args
			}
			_, stored := snap.rollupConds.Load(rollupCondKey{db.Dialect, spec})
			if stored != tt.kept || reflect.DeepEqual(args[0], args[1]) != tt.kept {
				t.Errorf("%s: kept %v, same arguments on two days %v (%v, %v); want both %v", tt.condition, stored, reflect.DeepEqual(args[0], args[1]), args[0], args[1], tt.kept)
			}
		}
	})
}

// TestCreateManyRollups checks the roll-ups of parents whose children a
// batch creates, recomputed once for the whole batch: they equal those of
// the same children created one by one, for two parents sharing the
// batch.
func TestCreateManyRollups(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		deals := []struct{ stage, amount, close string }{
			{"won", "200", "2026-03-01"},
			{"won", "300.50", "2026-05-02"},
			{"proposal", "100", "2026-07-03"},
			{"lost", "50", "2026-09-04"},
		}
		var accounts [4]string
		for i, name := range []string{"Batch A", "Batch B", "Alone A", "Alone B"} {
			accounts[i] = createNamed(t, e, ctx, "account", name)
		}
		batchA, batchB, aloneA, aloneB := accounts[0], accounts[1], accounts[2], accounts[3]
		var batch []map[string]any
		for _, d := range deals {
			for _, acc := range []string{batchA, batchB} {
				batch = append(batch, body(t, `{"name": "Deal", "account": "`+acc+`", "stage": "`+d.stage+`", "amount": "`+d.amount+`", "close_date": "`+d.close+`"}`))
			}
			for _, acc := range []string{aloneA, aloneB} {
				if _, err := e.Create(ctx, "opportunity", body(t, `{"name": "Deal", "account": "`+acc+`", "stage": "`+d.stage+`", "amount": "`+d.amount+`", "close_date": "`+d.close+`"}`)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := e.CreateMany(ctx, "opportunity", batch); err != nil {
			t.Fatal(err)
		}
		rollups := []string{"won_amount", "open_opportunities", "last_deal_date", "total_won", "open_deals"}
		for _, pair := range [][2]string{{batchA, aloneA}, {batchB, aloneB}} {
			got, err := e.Get(ctx, "account", pair[0])
			if err != nil {
				t.Fatal(err)
			}
			want, err := e.Get(ctx, "account", pair[1])
			if err != nil {
				t.Fatal(err)
			}
			if want["won_amount"] != json.Number("500.50") {
				t.Fatalf("single creates: won_amount %v", want["won_amount"])
			}
			for _, f := range rollups {
				if !reflect.DeepEqual(got[f], want[f]) {
					t.Errorf("%s of an account whose deals a batch created: %v, created one by one: %v", f, got[f], want[f])
				}
			}
		}
	})
}

// createNamed creates a record of object named name as the user of ctx
// and returns its id.
func createNamed(t *testing.T, e *Engine, ctx context.Context, object, name string) string {
	t.Helper()
	return createRecord(t, e, ctx, object, map[string]any{"name": name})
}

// createRecord creates a record of object from data as the user of ctx and
// returns its id.
func createRecord(t *testing.T, e *Engine, ctx context.Context, object string, data map[string]any) string {
	t.Helper()
	r, err := e.Create(ctx, object, data)
	if err != nil {
		t.Fatal(err)
	}
	return r["id"].(string)
}

// TestCreateManyFormulaLookups checks the computed fields of a batch's
// records that read their lookups, read at once for the batch: they equal
// those of single creates, and a record the batch read that a before-hook
// changes while the batch is checked is read anew by the records after.
func TestCreateManyFormulaLookups(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		account := func(name, industry string) string {
			return createRecord(t, e, ctx, "account", map[string]any{"name": name, "industry": industry})
		}
		retail, finance := account("Shop", "retail"), account("Bank", "finance")
		deal := func(name, acc string) map[string]any { return map[string]any{"name": name, "account": acc} }
		single, err := e.Create(ctx, "opportunity", deal("Single", finance))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.CreateMany(ctx, "opportunity", []map[string]any{deal("A", retail), deal("B", finance), deal("C", retail)})
		if err != nil {
			t.Fatal(err)
		}
		if single["account_industry"] != "Finance" {
			t.Fatalf("a single create: account_industry %v", single["account_industry"])
		}
		for i, want := range []string{"Retail", "Finance", "Retail"} {
			got, err := e.Get(ctx, "opportunity", recs[i]["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if got["account_industry"] != want || recs[i]["account_industry"] != want {
				t.Errorf("record %d of the batch: account_industry stored %v, answered %v, want %s", i, got["account_industry"], recs[i]["account_industry"], want)
			}
		}
		// The first record's before-hook moves the bank into telecom after
		// the batch read it: the second record reads it anew.
		e.OnBefore(OpCreate, "opportunity", func(ctx context.Context, ev *Event) error {
			if ev.New["name"] == "Changer" {
				_, err := ev.Writer.Update(ctx, "account", finance, map[string]any{"industry": "telecom"})
				return err
			}
			return nil
		})
		recs, err = e.CreateMany(ctx, "opportunity", []map[string]any{deal("Changer", retail), deal("Late", finance)})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Get(ctx, "opportunity", recs[1]["id"].(string)); got["account_industry"] != "Telecom" {
			t.Errorf("a record whose account changed during the batch: account_industry %v, want Telecom", got["account_industry"])
		}
	})
}

// TestConcurrentChildrenCountedOnce creates an account's opportunities
// from many clients at once: each create recomputes the account's
// roll-ups in its own transaction, and none may overwrite another's count
// with one that missed it (PostgreSQL runs them concurrently; the parent's
// row is locked before its children are counted).
func TestConcurrentChildrenCountedOnce(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, withFormulasSeed, func(t *testing.T, db *store.DB) {
		e := withFormulas(t, db)
		ctx := as("u1")
		id := createNamed(t, e, ctx, "account", "Busy")
		const clients, each = 16, 20
		errs := make(chan error, clients)
		for c := range clients {
			go func() {
				for i := range each {
					if _, err := e.Create(ctx, "opportunity", map[string]any{"name": "Deal " + strconv.Itoa(c) + "-" + strconv.Itoa(i), "account": id, "stage": "proposal"}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range clients {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.Get(ctx, "account", id)
		if err != nil {
			t.Fatal(err)
		}
		if got["open_deals"] != int64(clients*each) || got["open_opportunities"] != int64(clients*each) {
			t.Fatalf("open deals %v, open opportunities %v, want %d", got["open_deals"], got["open_opportunities"], clients*each)
		}
	})
}
