package access_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// world is a small company on one database: a manager hierarchy, accounts
// owned by its people, shares and a sharing rule.
type world struct {
	svc   *access.Service
	db    *store.DB
	sc    *metadata.Schema
	users map[string]*access.User
}

// recordSchema is the standard template plus a team-scoped role and a
// sharing rule giving sales reps read access to tech accounts.
func recordSchema(t testing.TB) *metadata.Schema {
	sc := standard(t).Clone()
	for _, r := range sc.Roles {
		if r.Name == "sales_rep" {
			r.SharingRules = append(r.SharingRules, metadata.SharingRule{Name: "tech_accounts", Object: "account", Condition: `industry == "tech"`, Access: access.ShareRead})
		}
	}
	sc.Roles = append(sc.Roles, &metadata.Role{Name: "team_lead", Permissions: []metadata.ObjectPermission{
		{Object: "account", Actions: []string{"read", "update"}, Records: metadata.ScopeTeam},
	}})
	return sc
}

// newWorld builds the world; the account table has the columns the
// record filter and the sharing rule use.
func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	sc := recordSchema(t)
	w := &world{svc: setup(t, db, sc), db: db, sc: sc, users: map[string]*access.User{}}
	for _, nu := range []access.NewUser{
		{Username: "boss", Roles: []string{"sales_manager"}, Department: "north"},
		{Username: "mgr", Roles: []string{"sales_manager"}, Manager: "boss", Department: "north"},
		{Username: "rep1", Roles: []string{"sales_rep"}, Manager: "mgr", Department: "north"},
		{Username: "rep2", Roles: []string{"sales_rep"}, Manager: "mgr", Department: "south"},
		{Username: "solo", Roles: []string{"sales_rep"}, Department: "south"},
		{Username: "mkt", Roles: []string{"marketing"}},
		{Username: "agent", Roles: []string{"service_agent"}},
		{Username: "tl", Roles: []string{"team_lead"}, Department: "south"},
		{Username: "tl0", Roles: []string{"team_lead"}},
	} {
		w.users[nu.Username] = mustUser(t, w.svc, nu)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE account (id VARCHAR(36) PRIMARY KEY, owner_id VARCHAR(36), name TEXT, industry TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ id, owner, industry string }{
		{"a1", "boss", "retail"}, {"a2", "mgr", "retail"}, {"a3", "rep1", "retail"}, {"a4", "rep2", "tech"},
		{"a5", "solo", "retail"}, {"a6", "solo", "retail"}, {"a7", "mkt", "retail"},
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO account (id, owner_id, name, industry) VALUES (?, ?, ?, ?)`, a.id, w.users[a.owner].ID, "Account "+a.id, a.industry); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.ShareRecord(ctx, nil, "account", "a6", "rep1", access.ShareRead, w.users["solo"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ShareRecord(ctx, nil, "account", "a7", "rep1", access.ShareEdit, w.users["mkt"].ID); err != nil {
		t.Fatal(err)
	}
	return w
}

// decide returns the Decider of schema sc.
func (w *world) decide(t testing.TB, sc *metadata.Schema) *access.Decider {
	t.Helper()
	d, err := w.svc.Decide(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// principal returns the principal of a user of the world.
func (w *world) principal(name string) *access.Principal { return w.users[name].Principal() }

// visible runs the record filter of user for action over the account
// table and returns the ids it selects, sorted. It also reads the rule's
// disjoint branches one by one and fails the test unless they select the
// same records, none twice.
func (w *world) visible(t testing.TB, d *access.Decider, p *access.Principal, action string) ([]string, error) {
	t.Helper()
	pred, args, err := d.RecordFilter(context.Background(), p, "account", action)
	if err != nil {
		return nil, err
	}
	ids := w.ids(t, pred, args)
	rule, err := d.RecordRule(context.Background(), p, "account", action)
	if err != nil {
		t.Fatal(err)
	}
	var union []string
	for _, b := range rule.Disjoint() {
		union = append(union, w.ids(t, b.SQL, b.Args)...)
	}
	sort.Strings(union)
	if !slices.Equal(union, ids) {
		t.Fatalf("the disjoint branches select %v, the predicate %v", union, ids)
	}
	return ids, nil
}

// ids returns the ids of the accounts a condition selects, sorted.
func (w *world) ids(t testing.TB, cond string, args []any) []string {
	t.Helper()
	q := "SELECT id FROM account"
	if cond != "" {
		q += " WHERE " + cond
	}
	ids := storetest.Strings(t, w.db, q+" ORDER BY id", args...)
	if len(ids) == 0 {
		return nil
	}
	return ids
}

func TestRecordFilter(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		d, err := w.svc.Decide(ctx, w.sc)
		if err != nil {
			t.Fatal(err)
		}
		all := "a1 a2 a3 a4 a5 a6 a7"
		cases := []struct {
			user, action, want string
			denied             bool
		}{
			{user: "boss", action: "read", want: "a1 a2 a3 a4"},   // subordinates: whole tree below
			{user: "boss", action: "delete", want: "a1 a2 a3 a4"}, // same scope for delete
			{user: "mgr", action: "read", want: "a2 a3 a4"},
			{user: "mgr", action: "update", want: "a2 a3 a4"},
			{user: "rep1", action: "read", want: "a3 a4 a6 a7"}, // own, tech rule, read share, edit share
			{user: "rep1", action: "update", want: "a3 a7"},     // own and the edit share only
			{user: "rep1", action: "delete", denied: true},      // reps may not delete accounts
			{user: "rep2", action: "read", want: "a4"},
			{user: "solo", action: "read", want: "a4 a5 a6"},
			{user: "solo", action: "update", want: "a5 a6"},
			{user: "mkt", action: "read", want: all},
			{user: "mkt", action: "update", denied: true},
			{user: "agent", action: "read", want: all},
			{user: "agent", action: "delete", denied: true},
			{user: "tl", action: "read", want: "a4 a5 a6"}, // department south: rep2, solo, tl
			{user: "tl0", action: "read", want: ""},        // team scope without a department: own only
			// Transfer (owner change, shares) never comes from sharing: the
			// edit share of a7 lets rep1 edit it but not take it over.
			{user: "rep1", action: "transfer", want: "a3"},
			{user: "mgr", action: "transfer", want: "a2 a3 a4"}, // the owner's manager
			{user: "solo", action: "transfer", want: "a5 a6"},
			{user: "agent", action: "transfer", denied: true},
			// Named actions reach the scope of their own right only.
			{user: "rep1", action: "convert", denied: true},
		}
		for _, c := range cases {
			t.Run(c.user+"/"+c.action, func(t *testing.T) {
				ids, err := w.visible(t, d, w.principal(c.user), c.action)
				if c.denied {
					if !errors.Is(err, access.ErrDenied) {
						t.Fatalf("got %v %v, want ErrDenied", ids, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(ids, " "); got != c.want {
					t.Fatalf("got %q, want %q", got, c.want)
				}
			})
		}
		// Several roles: the union of their records.
		p := w.principal("rep2")
		p.Roles = append(p.Roles, "team_lead")
		ids, err := w.visible(t, d, p, "read")
		if err != nil || strings.Join(ids, " ") != "a4 a5 a6" {
			t.Fatalf("union: %v %v", ids, err)
		}
		// Create has no record predicate; denial returns the no-match predicate.
		pred, _, err := d.RecordFilter(ctx, w.principal("rep1"), "account", "create")
		if err != nil || pred != access.MatchAll {
			t.Fatalf("create: %q %v", pred, err)
		}
		pred, _, err = d.RecordFilter(ctx, w.principal("agent"), "opportunity", "read")
		if !errors.Is(err, access.ErrDenied) || pred != access.MatchNone {
			t.Fatalf("denied: %q %v", pred, err)
		}
		// By id and by count: another user's record is out of reach.
		pred, args, _ := d.RecordFilter(ctx, w.principal("rep2"), "account", "read")
		var n int
		q := store.Rebind(db.Dialect, "SELECT COUNT(*) FROM account WHERE id = ? AND "+pred)
		if err := db.DB.DB.QueryRowContext(ctx, q, append([]any{"a3"}, args...)...).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rep2 reached a3 by id: %v %d", err, n)
		}
		q = store.Rebind(db.Dialect, "SELECT COUNT(*) FROM account WHERE industry = ? AND "+pred)
		if err := db.DB.DB.QueryRowContext(ctx, q, append([]any{"retail"}, args...)...).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rep2 counts retail accounts: %v %d", err, n)
		}
		// Unsharing and moving people take effect on the next request.
		if err := w.svc.UnshareRecord(ctx, nil, "account", "a6", "rep1"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdateUser(ctx, "rep1", access.UserUpdate{Manager: ptr("")}); err != nil {
			t.Fatal(err)
		}
		d, err = w.svc.Decide(ctx, w.sc)
		if err != nil {
			t.Fatal(err)
		}
		if ids, _ := w.visible(t, d, w.principal("rep1"), "read"); strings.Join(ids, " ") != "a3 a4 a7" {
			t.Fatalf("after unshare: %v", ids)
		}
		if ids, _ := w.visible(t, d, w.principal("mgr"), "read"); strings.Join(ids, " ") != "a2 a4" {
			t.Fatalf("after rep1 left mgr: %v", ids)
		}
		shares, err := w.svc.ListShares(ctx, nil, "account", "a7")
		if err != nil || len(shares) != 1 || shares[0].Username != "rep1" || shares[0].Access != "edit" {
			t.Fatalf("shares: %v %+v", err, shares)
		}
		if _, err := w.svc.ShareRecord(ctx, nil, "account", "a7", "ghost", "read", ""); !errors.Is(err, access.ErrUserNotFound) {
			t.Fatalf("share with ghost: %v", err)
		}
		if _, err := w.svc.ShareRecord(ctx, nil, "account", "a7", "rep1", "own", ""); !errors.Is(err, access.ErrInvalid) {
			t.Fatalf("bad share access: %v", err)
		}
		if err := w.svc.DeleteShares(ctx, nil, "account", "a7"); err != nil {
			t.Fatal(err)
		}
		if shares, _ := w.svc.ListShares(ctx, nil, "account", "a7"); len(shares) != 0 {
			t.Fatalf("shares after delete: %+v", shares)
		}
	})
}

func TestSharingRuleConditionRefused(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		sc := recordSchema(t)
		svc := setup(t, db, sc)
		bad := sc.Clone()
		for _, r := range bad.Roles {
			if r.Name == "sales_rep" {
				r.SharingRules[0].Condition = `no_such_field == 1`
			}
		}
		err := svc.SyncRoles(context.Background(), nil, bad)
		if !errors.Is(err, access.ErrInvalid) || !strings.Contains(err.Error(), "tech_accounts") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestExplain(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		d, err := w.svc.Decide(ctx, w.sc)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			user, record, field string
			read, edit          bool
			readWhy, editWhy    string
		}{
			{"rep1", "a3", "", true, true, "record scope own of role sales_rep", "record scope own"},
			{"rep1", "a6", "", true, false, "record shared with the user", "deny by default"},
			{"rep1", "a7", "", true, true, "record shared", "record shared"},
			{"rep1", "a4", "", true, false, "sharing rule tech_accounts of role sales_rep", "deny by default"},
			{"rep1", "a1", "", false, false, "deny by default", "deny by default"},
			{"rep1", "a3", "credit_limit", true, false, "read_only", "read_only"},
			{"rep1", "a3", "name", true, true, "editable", "editable"},
			{"boss", "a3", "", true, true, "record scope subordinates of role sales_manager", "subordinates"},
			{"mkt", "a3", "credit_limit", false, false, "hidden", "no policy lets roles [marketing] update account"},
			{"agent", "a3", "", true, false, "record scope all", "no policy lets roles [service_agent] update account"},
			{"rep1", "zz", "", false, false, "does not exist", "does not exist"},
		}
		for _, c := range cases {
			t.Run(c.user+"/"+c.record+"/"+c.field, func(t *testing.T) {
				ex, err := d.Explain(ctx, c.user, "account", c.record, c.field)
				if err != nil {
					t.Fatal(err)
				}
				if ex.Read.Allowed != c.read || ex.Edit.Allowed != c.edit {
					t.Fatalf("read %v edit %v, want %v %v: %+v", ex.Read.Allowed, ex.Edit.Allowed, c.read, c.edit, ex)
				}
				if r := strings.Join(ex.Read.Reasons, "; "); !strings.Contains(r, c.readWhy) {
					t.Errorf("read reasons %q lack %q", r, c.readWhy)
				}
				if r := strings.Join(ex.Edit.Reasons, "; "); !strings.Contains(r, c.editWhy) {
					t.Errorf("edit reasons %q lack %q", r, c.editWhy)
				}
			})
		}
		ex, err := d.Explain(ctx, "boss", "account", "", "")
		if err != nil || !slices.Contains(ex.EffectiveRoles, "sales_rep") || !ex.Read.Allowed {
			t.Fatalf("boss: %v %+v", err, ex)
		}
		if _, err := d.Explain(ctx, "ghost", "account", "", ""); !errors.Is(err, access.ErrUserNotFound) {
			t.Fatalf("ghost: %v", err)
		}
		if _, err := d.Explain(ctx, "rep1", "account", "", "ghost"); !errors.Is(err, access.ErrInvalid) {
			t.Fatalf("ghost field: %v", err)
		}
		roles := d.EffectiveRoles(w.principal("boss"))
		sort.Strings(roles)
		if strings.Join(roles, ",") != "sales_manager,sales_rep" {
			t.Fatalf("effective roles %v", roles)
		}
	})
}

func TestCanRecordAndAdminister(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		d, err := w.svc.Decide(ctx, w.sc)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			user, action, id string
			ok               bool
		}{
			{"rep1", "read", "a3", true},
			{"rep1", "read", "a6", true},
			{"rep1", "update", "a6", false},
			{"rep1", "update", "a7", true},
			{"rep1", "read", "a1", false},
			{"rep1", "read", "nope", false},
			{"boss", "delete", "a3", true},
			{"boss", "delete", "a5", false},
		}
		for _, c := range cases {
			err := d.CanRecord(ctx, w.principal(c.user), "account", c.action, c.id)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, access.ErrDenied)) {
				t.Errorf("%s %s %s: %v", c.user, c.action, c.id, err)
			}
		}
		admin := &access.Principal{UserID: "x", Roles: []string{"admin"}}
		if err := d.CanAdminister(admin); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"sales_manager", "sales_rep", "marketing", "service_agent", "team_lead", "ghost"} {
			if err := d.CanAdminister(&access.Principal{UserID: "x", Roles: []string{r}}); !errors.Is(err, access.ErrDenied) {
				t.Errorf("%s administers: %v", r, err)
			}
		}
		if err := d.CanAdminister(nil); !errors.Is(err, access.ErrDenied) {
			t.Error("nil administers")
		}
	})
}

// TestPruneShares checks that a list leaves out the share branch of a
// user without shares of the object, and keeps it for a user with some,
// and that pruning never widens the rule.
func TestPruneShares(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		d, err := w.svc.Decide(ctx, w.sc)
		if err != nil {
			t.Fatal(err)
		}
		sources := func(user string) string {
			rule, err := d.RecordRule(ctx, w.principal(user), "account", "read")
			if err != nil {
				t.Fatal(err)
			}
			if rule, err = rule.Prune(ctx, db, db.SQL()); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, b := range rule.Disjoint() {
				out = append(out, b.Source)
			}
			return strings.Join(out, " ")
		}
		if got := sources("rep2"); got != "scope sharing_rule" {
			t.Errorf("rep2 (no shares): %s", got)
		}
		if got := sources("rep1"); got != "scope sharing_rule share" {
			t.Errorf("rep1 (shares): %s", got)
		}
		// Every branch pruned: nothing is reached, not everything.
		rule := access.RecordRule{Branches: []access.Branch{{Source: "share", SQL: "1=1", Probe: "SELECT 1 FROM crm_shares WHERE 1=0"}}}
		pruned, err := rule.Prune(ctx, db, db.SQL())
		if err != nil {
			t.Fatal(err)
		}
		if sql, _ := pruned.Predicate(); sql != access.MatchNone {
			t.Errorf("a rule pruned of every branch selects %q", sql)
		}
		// Settle takes answers asked elsewhere (in a list's statement): a
		// probe without an answer keeps its branch, one that found nothing
		// drops it, one that found a row keeps it.
		two := access.RecordRule{Branches: []access.Branch{{Source: "scope", SQL: "a = 1"}, {Source: "share", SQL: "b = 1", Probe: "SELECT 1"}}}
		for _, c := range []struct {
			found []bool
			want  string
		}{{nil, "((a = 1) OR (b = 1))"}, {[]bool{false}, "a = 1"}, {[]bool{true}, "((a = 1) OR (b = 1))"}} {
			if got, _ := two.Settle(c.found).Predicate(); got != c.want {
				t.Errorf("settled on %v: %q, want %q", c.found, got, c.want)
			}
		}
	})
}

// TestRecordRuleRememberedPerPrincipal checks that the grants a Decider
// remembers are those of the principal asking: the same user id with
// another department or other roles gets its own rule, the one a Decider
// that never saw the user gives.
func TestRecordRuleRememberedPerPrincipal(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		d, tl := w.decide(t, w.sc), w.principal("tl")
		north, rep := *tl, *tl
		north.Department = "north"
		rep.Roles = []string{"sales_rep"}
		both := *tl
		both.Roles = []string{"team_lead", "sales_rep"}
		for _, c := range []struct {
			name string
			p    *access.Principal
			want string
		}{
			{"team lead, south", tl, "a4 a5 a6"},
			{"team lead, south, again", tl, "a4 a5 a6"},
			{"the same user in north", &north, "a1 a2 a3"},
			{"the same user as a rep", &rep, "a4"}, // a sharing rule of sales_rep
			{"the same user with both roles", &both, "a4 a5 a6"},
			{"team lead, south, after the others", tl, "a4 a5 a6"},
		} {
			got, err := w.visible(t, d, c.p, "read")
			if err != nil {
				t.Fatal(err)
			}
			// A Decider of its own (another schema value) that never saw
			// the user agrees.
			want, err := w.visible(t, w.decide(t, w.sc.Clone()), c.p, "read")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") || strings.Join(got, " ") != c.want {
				t.Errorf("%s: reads %v, a fresh decision %v, want %q", c.name, got, want, c.want)
			}
		}
	})
}
