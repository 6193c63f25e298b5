package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
)

// TestListPlanUsesIndex asserts through EXPLAIN that a sales rep's list
// of their opportunities in one stage by amount reads the declared index
// (owner_id, stage, -amount) in sort order on both databases, with and
// without a cursor, and that the record shared with them is still listed.
func TestListPlanUsesIndex(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		ownerStageIndex(t, p)
		rep, other := salesRep(t, p, "rep"), salesRep(t, p, "other")
		stages := []string{"qualify", "needs", "proposal", "negotiation", "won", "lost"}
		insertOpportunities(t, db, 3000, func(i int) (string, string, any) {
			owner := other.ID
			if i%3 == 0 {
				owner = rep.ID
			}
			var amount any = int64(i*37%1000) * 100
			if i%10 == 0 {
				amount = nil
			}
			return owner, stages[i/7%len(stages)], amount
		})
		if _, err := p.Access.ShareRecord(ctx, nil, "opportunity", "opp-02027", "rep", access.ShareRead, other.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Analyze(ctx, "opportunity", "crm_shares"); err != nil {
			t.Fatal(err)
		}
		rctx := access.WithPrincipal(ctx, rep.Principal())
		want := expectedIDs(t, db, rep.ID, "needs", 60)
		opt := engine.ListOptions{Filter: `stage == "needs"`, Sort: "-amount", Limit: 20}
		var got []string
		for page := 0; page < 3; page++ {
			plan, err := p.Engine.ExplainList(rctx, "opportunity", opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := indexOrdered(db.Dialect, plan.Plan, "idx_opportunity_owner_id_stage_amount_desc_id"); err != nil {
				t.Fatalf("page %d: %v\n%s\n%s", page+1, err, plan.SQL, strings.Join(plan.Plan, "\n"))
			}
			res, err := p.Engine.List(rctx, "opportunity", opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Items {
				got = append(got, r["id"].(string))
			}
			opt.Cursor = res.NextCursor
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("pages list\n%v\nwant\n%v", got, want)
		}
		if !slices.Contains(got, "opp-02027") {
			t.Fatal("the shared opportunity is missing")
		}
		// Without shares the page is one statement that asks whether
		// records are shared with the user beside the index walk.
		plan, err := p.Engine.ExplainList(access.WithPrincipal(ctx, other.Principal()), "opportunity", engine.ListOptions{Filter: `stage == "needs"`, Sort: "-amount", Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		if err := indexOrdered(db.Dialect, plan.Plan, "idx_opportunity_owner_id_stage_amount_desc_id"); err != nil {
			t.Fatalf("without shares: %v\n%s\n%s", err, plan.SQL, strings.Join(plan.Plan, "\n"))
		}
		if !strings.Contains(plan.SQL, "EXISTS (SELECT") || strings.Contains(plan.SQL, "UNION") {
			t.Fatalf("without shares the page is not one statement with its probe:\n%s", plan.SQL)
		}
	})
}

// TestManagerListReadsEachOwner lists, as a sales manager (record scope
// subordinates), the opportunities of the manager's subtree in one stage by
// amount, page by page to the last (the ones without an amount come last),
// with a record of someone else's shared with the manager: every record
// comes once, in the order of one plain query. On PostgreSQL the plan must
// read each owner's records in the order of the declared index
// (owner_id, stage, -amount), at most a page each, instead of reading
// every record of the subtree and sorting them.
func TestManagerListReadsEachOwner(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		ownerStageIndex(t, p)
		user := func(name, role, manager string) *access.User {
			u, err := p.Access.CreateUser(ctx, access.NewUser{Username: name, Password: name + "-password", Roles: []string{role}, Manager: manager})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		mgr := user("mgr", "sales_manager", "")
		team := []*access.User{mgr, user("rep1", "sales_rep", "mgr"), user("rep2", "sales_rep", "mgr")}
		team = append(team, user("rep3", "sales_rep", "rep1")) // two levels down
		outsider := user("outsider", "sales_rep", "")
		owners := append(slices.Clone(team), outsider)
		stages := []string{"qualify", "needs", "proposal"}
		insertOpportunities(t, db, 1500, func(i int) (string, string, any) {
			var amount any = int64(i*37%500) * 100 // ties, broken by id
			if i%9 == 0 {
				amount = nil
			}
			return owners[i%len(owners)].ID, stages[i/5%len(stages)], amount
		})
		shared := "opp-00019" // the outsider's, in the stage listed
		if _, err := p.Access.ShareRecord(ctx, nil, "opportunity", shared, "mgr", access.ShareRead, outsider.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Analyze(ctx, "opportunity", "crm_shares", "crm_users"); err != nil {
			t.Fatal(err)
		}
		want := storetest.Strings(t, db, `SELECT id FROM opportunity WHERE (owner_id IN (?, ?, ?, ?) OR id = ?) AND stage = 'needs'
			ORDER BY amount DESC NULLS LAST, id`, team[0].ID, team[1].ID, team[2].ID, team[3].ID, shared)
		rctx := access.WithPrincipal(ctx, mgr.Principal())
		opt := engine.ListOptions{Filter: `stage == "needs"`, Sort: "-amount", Limit: 20}
		got := listPages(t, p.Engine, rctx, opt, len(want), func(page int, opt engine.ListOptions, _ *engine.ListResult) {
			if page >= 3 || db.Dialect != metadata.DialectPostgres {
				return
			}
			plan, err := p.Engine.ExplainList(rctx, "opportunity", opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := indexOrdered(db.Dialect, plan.Plan, "idx_opportunity_owner_id_stage_amount_desc_id"); err != nil || !strings.Contains(strings.Join(plan.Plan, "\n"), "Nested Loop") {
				t.Fatalf("page %d is not read owner by owner: %v\n%s\n%s", page+1, err, plan.SQL, strings.Join(plan.Plan, "\n"))
			}
		})
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("pages list (%d)\n%v\nwant (%d)\n%v", len(got), got, len(want), want)
		}
	})
}

// ownerStageIndex declares the index (owner_id, stage, -amount) on
// opportunities.
func ownerStageIndex(t *testing.T, p *platform.Platform) {
	t.Helper()
	if _, _, err := p.Engine.Change(context.Background(), func(s *metadata.Schema) error {
		o, _ := s.Object("opportunity")
		o.Indexes = append(o.Indexes, metadata.Index{Fields: []string{"owner_id", "stage", "-amount"}})
		return nil
	}, engine.ApplyOptions{Author: "test"}); err != nil {
		t.Fatal(err)
	}
}

// insertOpportunities inserts n opportunities with plain SQL, opp-00000
// onwards, the i-th with the owner, stage and amount row(i) gives.
func insertOpportunities(t *testing.T, db *store.DB, n int, row func(i int) (owner, stage string, amount any)) {
	t.Helper()
	const per = 500
	for from := 0; from < n; from += per {
		var values []string
		var args []any
		for i := from; i < min(n, from+per); i++ {
			owner, stage, amount := row(i)
			values = append(values, "(?, ?, ?, ?, ?, ?, 1)")
			args = append(args, fmt.Sprintf("opp-%05d", i), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", owner, stage, amount)
		}
		stmt := `INSERT INTO opportunity (id, created_at, updated_at, owner_id, stage, amount, version) VALUES ` + strings.Join(values, ", ")
		if _, err := db.SQL().ExecContext(context.Background(), store.Rebind(db.Dialect, stmt), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// listPages lists opportunities with opt page by page to the last and
// returns their ids, calling each (when set) with every page's options and
// answer; more than most pages fails the test.
func listPages(t *testing.T, e *engine.Engine, ctx context.Context, opt engine.ListOptions, most int, each func(page int, opt engine.ListOptions, res *engine.ListResult)) []string {
	t.Helper()
	var got []string
	for page := 0; ; page++ {
		if page > most {
			t.Fatal("the cursor never ends")
		}
		res, err := e.List(ctx, "opportunity", opt)
		if err != nil {
			t.Fatal(err)
		}
		if each != nil {
			each(page, opt, res)
		}
		for _, r := range res.Items {
			got = append(got, r["id"].(string))
		}
		if res.NextCursor == "" {
			return got
		}
		opt.Cursor = res.NextCursor
	}
}

// standardPlatform returns the platform over db with the standard
// template installed.
func standardPlatform(t *testing.T, db *store.DB) *platform.Platform {
	t.Helper()
	return standardPlatformAt(t, db, nil)
}

// standardPlatformAt is standardPlatform with the clock now (time.Now
// when nil).
func standardPlatformAt(t *testing.T, db *store.DB, now func() time.Time) *platform.Platform {
	t.Helper()
	ctx := context.Background()
	p, err := platform.New(ctx, platform.Config{DB: db, Now: now, Access: []access.Option{access.WithBcryptCost(4)}})
	if err != nil {
		t.Fatal(err)
	}
	fsys, _ := defaults.FS("standard")
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "test"); err != nil {
		t.Fatal(err)
	}
	return p
}

// salesRep creates a user with the role sales_rep.
func salesRep(t *testing.T, p *platform.Platform, name string) *access.User {
	t.Helper()
	u, err := p.Access.CreateUser(context.Background(), access.NewUser{Username: name, Password: name + "-password", Roles: []string{"sales_rep"}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// expectedIDs lists the first n opportunities of stage that user owns or
// has been shared, by amount, with one plain query (visibleIDs).
func expectedIDs(t *testing.T, db *store.DB, user, stage string, n int) []string {
	t.Helper()
	ids := visibleIDs(t, db, user, stage)
	if len(ids) < n {
		t.Fatalf("the fixture has %d rows, not %d", len(ids), n)
	}
	return ids[:n]
}

// indexOrdered checks a plan: the table is never scanned whole, the index
// is searched on owner and stage, and every read of the index is in sort
// order (no sort between it and the limit of its branch).
func indexOrdered(dialect string, plan []string, index string) error {
	type node struct {
		depth  int
		text   string
		parent int
	}
	var nodes []node
	for _, line := range plan {
		text := strings.TrimLeft(line, " ")
		depth := len(line) - len(text)
		text = strings.TrimPrefix(text, "->  ")
		parent := -1
		for j := len(nodes) - 1; j >= 0; j-- {
			if nodes[j].depth < depth {
				parent = j
				break
			}
		}
		nodes = append(nodes, node{depth, text, parent})
	}
	branchTop, isSort, fullScan, byOwner := "CO-ROUTINE", "USE TEMP B-TREE", "SCAN opportunity", "(owner_id=? AND stage=?"
	if dialect == metadata.DialectPostgres {
		branchTop, isSort, fullScan, byOwner = "Limit", "Sort", "Seq Scan on opportunity", "Index Cond: ((owner_id = "
	}
	found := false
	for i, n := range nodes {
		if strings.HasPrefix(n.text, fullScan) {
			return fmt.Errorf("the table is scanned: %s", n.text)
		}
		// The reads of the owner's records, where the index condition
		// is the node itself (SQLite) or its child (PostgreSQL).
		cond := n.text
		if i+1 < len(nodes) && nodes[i+1].parent == i {
			cond += " " + nodes[i+1].text
		}
		if !strings.Contains(n.text, index) || !strings.Contains(cond, byOwner) || !strings.Contains(cond, "stage") {
			continue
		}
		found = true
		top := i
		for top >= 0 && !strings.HasPrefix(nodes[top].text, branchTop) {
			top = nodes[top].parent
		}
		if top < 0 && dialect == metadata.DialectSQLite && n.parent < 0 {
			// One branch: the read is the statement itself.
			for _, m := range nodes {
				if strings.Contains(m.text, isSort) {
					return fmt.Errorf("the read of %s is sorted again: %s", index, m.text)
				}
			}
			continue
		}
		if top < 0 {
			return fmt.Errorf("no %s above %s", branchTop, n.text)
		}
		for j := top + 1; j < len(nodes) && nodes[j].depth > nodes[top].depth; j++ {
			if strings.Contains(nodes[j].text, isSort) {
				return fmt.Errorf("the read of %s is sorted again: %s", index, nodes[j].text)
			}
		}
	}
	if !found {
		return fmt.Errorf("%s is not searched by owner and stage", index)
	}
	return nil
}

// TestListPagesAcrossSegments pages through a rep's opportunities by
// amount, whose last ones have no amount (they come last, read as a
// segment of their own after the amounts), with page sizes that end a page
// exactly where the amounts end, one before and one after, and within the
// empty values: every record comes once, in the order of one plain query,
// and the last page has no cursor.
func TestListPagesAcrossSegments(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := standardPlatform(t, db)
		rep := salesRep(t, p, "rep")
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
