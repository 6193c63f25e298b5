package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Password is the password of every user the data set creates (admin,
// managers and reps), so a load run can sign in as any of them.
const Password = "bench-password"

// Dataset is the size of the data set: accounts, and per account the
// contacts, opportunities and activities; managers, and sales reps per
// manager, who own the records in turn.
type Dataset struct {
	Accounts             int
	ContactsPerAccount   int
	OppsPerAccount       int
	ActivitiesPerAccount int
	Managers             int
	RepsPerManager       int
}

// Scaled is the standard data set at scale (1 is the full size: 100,000
// accounts, 300,000 contacts, 1,000,000 opportunities and 1,000,000
// activities, owned by 50 sales reps under 5 managers).
func Scaled(scale float64) Dataset {
	return Dataset{Accounts: max(1, int(100_000*scale)), ContactsPerAccount: 3, OppsPerAccount: 10, ActivitiesPerAccount: 10, Managers: 5, RepsPerManager: 10}
}

// Records is the number of records of the data set.
func (d Dataset) Records() int {
	return d.Accounts * (1 + d.ContactsPerAccount + d.OppsPerAccount + d.ActivitiesPerAccount)
}

// Env is a loaded data set: the platform over it and the users the
// scenarios act as.
type Env struct {
	P  *platform.Platform
	DB *store.DB
	// Rep is the first sales rep (rep001); Manager is rep001's manager
	// (mgr1), who reaches the records of the reps below them.
	Rep, Manager *access.Principal
	// Reps are every rep's principal, in order.
	Reps []*access.Principal
	// oppColumns is the hand-written SELECT list of an opportunity.
	oppColumns string
}

// Stages are the opportunity stages of the standard template.
var Stages = []string{"qualify", "needs", "proposal", "negotiation", "won", "lost"}

// stageProbability is the probability (in %) of each of Stages, as the
// standard template's stage options give it: the weighted amount's.
var stageProbability = map[string]int64{"qualify": 10, "needs": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}

// listIndex is the index the scenarios' lists use, declared on
// opportunity as metadata (a rep's opportunities of a stage by amount).
var listIndex = metadata.Index{Fields: []string{"owner_id", "stage", "-amount"}}

// Prepare installs the standard template on the platform's empty
// database with its administrator and returns the context of a request
// acting for the administrator (a role with full policies, decided like
// any other).
func Prepare(ctx context.Context, p *platform.Platform) (context.Context, error) {
	if p.Engine.Snapshot().Version != 0 {
		return nil, errors.New("bench: the database already holds metadata; load the data set into an empty database")
	}
	fsys, err := defaults.FS("standard")
	if err != nil {
		return nil, err
	}
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "bench"); err != nil {
		return nil, err
	}
	if _, _, err := p.Access.EnsureAdmin(ctx, Password); err != nil {
		return nil, err
	}
	_, pr, err := p.Access.Login(ctx, "admin", Password)
	if err != nil {
		return nil, err
	}
	return request(ctx, pr), nil
}

// Load prepares the platform's empty database (Prepare), declares the
// list index, creates the users and writes the data set with plain
// multi-row INSERTs (the engine is measured, not the load), runs the
// recomputation of stored formulas and roll-ups the template queued, then
// gathers the planner's statistics. progress is told what happens.
func Load(ctx context.Context, p *platform.Platform, ds Dataset, progress func(string)) (*Env, error) {
	if _, err := Prepare(ctx, p); err != nil {
		return nil, err
	}
	if _, _, err := p.Engine.Change(ctx, func(s *metadata.Schema) error {
		o, _ := s.Object("opportunity")
		o.Indexes = append(o.Indexes, listIndex)
		return nil
	}, engine.ApplyOptions{Author: "bench", Comment: "list index"}); err != nil {
		return nil, err
	}
	for m := 1; m <= ds.Managers; m++ {
		if _, err := p.Access.CreateUser(ctx, access.NewUser{Username: fmt.Sprintf("mgr%d", m), Password: Password, Roles: []string{"sales_manager"}}); err != nil {
			return nil, err
		}
		for r := 1; r <= ds.RepsPerManager; r++ {
			n := (m-1)*ds.RepsPerManager + r
			if _, err := p.Access.CreateUser(ctx, access.NewUser{Username: fmt.Sprintf("rep%03d", n), Password: Password, Roles: []string{"sales_rep"}, Manager: fmt.Sprintf("mgr%d", m)}); err != nil {
				return nil, err
			}
		}
	}
	env, err := Open(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := env.write(ctx, ds, progress); err != nil {
		return nil, err
	}
	// The template's first version queued the recomputation of every
	// stored formula and roll-up; run it now, over the data just written,
	// so the data set is in its steady state (a server opened on it later
	// would otherwise spend its first minutes on it, beside what is
	// measured).
	progress("computing stored formulas and roll-ups")
	if err := p.Engine.Jobs().Drain(ctx, jobs.DrainOptions{Kinds: []string{engine.RecomputeKind}}); err != nil {
		return nil, fmt.Errorf("bench: recompute: %w", err)
	}
	progress("gathering statistics")
	if err := p.DB.Analyze(ctx, "account", "contact", "opportunity", "activity", "crm_users", "crm_shares"); err != nil {
		return nil, err
	}
	return env, nil
}

// Open finds the users of a loaded data set.
func Open(ctx context.Context, p *platform.Platform) (*Env, error) {
	env := &Env{P: p, DB: p.DB}
	env.oppColumns = env.columns("opportunity")
	users, err := p.Access.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.HasPrefix(u.Username, "rep") {
			env.Reps = append(env.Reps, u.Principal())
		}
	}
	if len(env.Reps) == 0 {
		return nil, errors.New("bench: the database holds no data set (no user rep001); load one first")
	}
	env.Rep = env.Reps[0]
	for _, u := range users {
		if u.ID == env.Rep.ManagerID {
			env.Manager = u.Principal()
		}
	}
	if env.Manager == nil {
		return nil, errors.New("bench: rep001 has no manager")
	}
	return env, nil
}

// write inserts the records of the data set, account by account, each
// account's records owned by one rep in turn.
func (env *Env) write(ctx context.Context, ds Dataset, progress func(string)) error {
	rng := rand.New(rand.NewPCG(1, 2))
	w := newLoader(env.DB)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	industries := []string{"manufacturing", "retail", "finance", "telecom", "healthcare", "it", "other"}
	kinds := []string{"visit", "call", "email", "sms", "meeting", "task"}
	statuses := []string{"planned", "done", "cancelled"}
	for a := 0; a < ds.Accounts; a++ {
		owner := env.Reps[a%len(env.Reps)].UserID
		at := base.Add(time.Duration(a) * time.Minute)
		sys := func() (string, []any) {
			id := uuid.Must(uuid.NewV7()).String()
			return id, []any{id, at, owner, at, owner, owner, int64(1)}
		}
		acc, row := sys()
		if err := w.add(ctx, "account", []string{"name", "industry"}, append(row, fmt.Sprintf("Account %07d", a), industries[a%len(industries)])); err != nil {
			return err
		}
		var contacts []string
		for c := 0; c < ds.ContactsPerAccount; c++ {
			id, row := sys()
			contacts = append(contacts, id)
			if err := w.add(ctx, "contact", []string{"name", "account", "email"}, append(row, fmt.Sprintf("Contact %d-%d", a, c), acc, fmt.Sprintf("c%d.%d@example.com", a, c))); err != nil {
				return err
			}
		}
		var opps []string
		for o := 0; o < ds.OppsPerAccount; o++ {
			id, row := sys()
			opps = append(opps, id)
			closeDate := base.AddDate(0, 0, rng.IntN(365)).Format(metadata.DateLayout)
			if err := w.add(ctx, "opportunity", []string{"name", "account", "stage", "amount", "close_date"},
				append(row, fmt.Sprintf("Deal %d-%d", a, o), acc, Stages[rng.IntN(len(Stages))], int64(rng.IntN(1_000_000)+1000)*100, closeDate)); err != nil {
				return err
			}
		}
		for v := 0; v < ds.ActivitiesPerAccount; v++ {
			_, row := sys()
			var opp, contact any
			if len(opps) > 0 {
				opp = opps[v%len(opps)]
			}
			if len(contacts) > 0 {
				contact = contacts[v%len(contacts)]
			}
			if err := w.add(ctx, "activity", []string{"subject", "kind", "status", "account", "contact", "opportunity", "starts_at"},
				append(row, fmt.Sprintf("Follow-up %d-%d", a, v), kinds[rng.IntN(len(kinds))], statuses[rng.IntN(len(statuses))], acc, contact, opp, at.Add(time.Duration(v)*time.Hour))); err != nil {
				return err
			}
		}
		if (a+1)%10_000 == 0 {
			progress(fmt.Sprintf("%d of %d accounts written with their records", a+1, ds.Accounts))
		}
	}
	return w.flush(ctx)
}

// loader writes rows with multi-row INSERTs, in transactions of about
// loadTx rows.
type loader struct {
	db      *store.DB
	tx      *sql.Tx
	pending map[string]*tableRows
	inTx    int
}

// tableRows are rows waiting for one table.
type tableRows struct {
	cols []string
	rows [][]any
}

// Rows per INSERT and per transaction while loading.
const (
	loadInsert = 200
	loadTx     = 20_000
)

// newLoader starts a loader on db.
func newLoader(db *store.DB) *loader { return &loader{db: db, pending: map[string]*tableRows{}} }

// add queues a row (the system columns, then cols) for table.
func (l *loader) add(ctx context.Context, table string, cols []string, row []any) error {
	t := l.pending[table]
	if t == nil {
		t = &tableRows{cols: append(append([]string(nil), metadata.SystemFields...), cols...)}
		l.pending[table] = t
	}
	t.rows = append(t.rows, row)
	if len(t.rows) < loadInsert {
		return nil
	}
	if err := l.write(ctx, table); err != nil {
		return err
	}
	if l.inTx < loadTx {
		return nil
	}
	// Every table's rows before the commit: a row's lookups point at
	// rows of the same transaction (PostgreSQL checks them at commit).
	return l.flush(ctx)
}

// write inserts the queued rows of table.
func (l *loader) write(ctx context.Context, table string) error {
	t := l.pending[table]
	if t == nil || len(t.rows) == 0 {
		return nil
	}
	if l.tx == nil {
		tx, err := l.db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		l.tx = tx
	}
	marks := "(" + store.Marks(len(t.cols)) + ")"
	q := "INSERT INTO " + store.Ident(table) + " (" + query.SelectList(t.cols) + ") VALUES " + marks + strings.Repeat(", "+marks, len(t.rows)-1)
	args := make([]any, 0, len(t.rows)*len(t.cols))
	for _, r := range t.rows {
		args = append(args, r...)
	}
	if _, err := l.tx.ExecContext(ctx, store.Rebind(l.db.Dialect, q), store.Args(l.db.Dialect, args)...); err != nil {
		return fmt.Errorf("bench: load %s: %w", table, err)
	}
	l.inTx += len(t.rows)
	t.rows = t.rows[:0]
	return nil
}

// flush writes what is queued and commits.
func (l *loader) flush(ctx context.Context) error {
	for _, table := range []string{"account", "contact", "opportunity", "activity"} {
		if err := l.write(ctx, table); err != nil {
			return err
		}
	}
	return l.commit()
}

// commit commits the current transaction.
func (l *loader) commit() error {
	if l.tx == nil {
		return nil
	}
	err := l.tx.Commit()
	l.tx, l.inTx = nil, 0
	return err
}
