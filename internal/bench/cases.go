package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Targets of the engine against hand-written SQL (docs/performance.md).
const (
	TargetCreate = 1.25
	TargetList   = 1.2
	TargetReport = 1.2
)

// listFilter and listSort are the list every list scenario asks for: a
// stage, by amount.
const (
	listStage  = "proposal"
	listFilter = `stage == "` + listStage + `"`
	listSort   = "-amount"
	pageSize   = 20
)

// request returns a context for one request of p, as engine/api makes it.
func request(ctx context.Context, p *access.Principal) context.Context {
	return engine.WithRequest(access.WithPrincipal(ctx, p))
}

// Cases returns the scenarios over a loaded data set.
func Cases(env *Env) []Case {
	return []Case{env.create(), env.createBun(), env.createFloor(), env.createSelf(), env.createConcurrent(), env.update(), env.get(), env.list(), env.listDeep(), env.managerList(), env.count(), env.report(), env.convert()}
}

// exec runs a statement with "?" placeholders on q, prepared once per
// connection as the engine's statements are (store.DB.Exec), so that
// neither side is charged for parsing what the other is not.
func (env *Env) exec(ctx context.Context, q store.Querier, stmt string, args ...any) error {
	_, err := env.DB.Exec(ctx, q, store.Rebind(env.DB.Dialect, stmt), store.Args(env.DB.Dialect, args)...)
	return err
}

// rows runs a query on q (prepared like exec's), reads every row into a map by column (as a
// generic reader does: bun's []map[string]any), and returns the values of
// the first column.
func (env *Env) rows(ctx context.Context, q store.Querier, stmt string, args ...any) ([]any, error) {
	rows, err := env.DB.Query(ctx, q, store.Rebind(env.DB.Dialect, stmt), store.Args(env.DB.Dialect, args)...)
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, err
	}
	maps, err := store.ScanMaps(rows)
	first := make([]any, len(maps))
	for i, m := range maps {
		first[i] = m[cols[0]]
	}
	return first, err
}

// columns is the SELECT list of object: its system fields and every field
// with a column. A hand-written reader writes it once, so Open keeps the
// opportunity's (Env.oppColumns).
func (env *Env) columns(object string) string {
	o, _ := env.P.Engine.Snapshot().Schema.Object(object)
	cols := append([]string(nil), metadata.SystemFields...)
	for _, f := range o.Fields {
		if metadata.TypeOf(f).Column(env.DB.Dialect, f) != "" {
			cols = append(cols, f.Name)
		}
	}
	return query.SelectList(cols)
}

// page reads a page of opportunities and their competitors' links, as a
// hand-written list does.
func (env *Env) page(ctx context.Context, where string, args ...any) (int, error) {
	ids, err := env.rows(ctx, env.DB.SQL(), "SELECT "+env.oppColumns+" FROM opportunity WHERE "+where+
		" ORDER BY amount DESC NULLS LAST, id LIMIT "+fmt.Sprint(pageSize+1), args...)
	if err != nil {
		return 0, err
	}
	if len(ids) > pageSize {
		ids = ids[:pageSize]
	}
	if len(ids) > 0 {
		if _, err := env.rows(ctx, env.DB.SQL(), `SELECT source_id, target_id FROM opportunity__competitors WHERE `+store.In("source_id", len(ids))+` ORDER BY source_id, target_id`, ids...); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// runID makes names unique to one run, so a data set can be measured
// again.
func runID() string { return fmt.Sprintf("%x", time.Now().UnixNano()) }

// insertStatement is the hand-written INSERT of a new record of an
// object: its system columns, then the columns of the scenario, built once
// as a hand-written server keeps its SQL as a constant.
type insertStatement struct{ sql string }

// newInsert builds the INSERT of a new record of object with cols.
func newInsert(object string, cols ...string) insertStatement {
	all := append(append([]string(nil), metadata.SystemFields...), cols...)
	return insertStatement{"INSERT INTO " + store.Ident(object) + " (" + query.SelectList(all) + ") VALUES (" + store.Marks(len(all)) + ")"}
}

// The INSERTs of the scenarios' hand-written SQL.
var (
	accountInsert     = newInsert("account", accountColumns...)
	leadInsert        = newInsert("lead", "person", "company", "status", "source")
	contactInsert     = newInsert("contact", "name", "account", "is_decision_maker", "email_opt_out", "sms_opt_out")
	opportunityInsert = newInsert("opportunity", "name", "account", "contact", "stage", "weighted_amount", "commission", "quote_count")
)

// systemValues are the values of metadata.SystemFields of a new record
// owned by owner: a new id first.
func systemValues(owner string) []any {
	now := time.Now().UTC()
	return []any{uuid.Must(uuid.NewV7()).String(), now, owner, now, owner, owner, int64(1)}
}

// insertSQL inserts a row with ins: the system columns of a new record
// owned by owner, then vals.
func (env *Env) insertSQL(ctx context.Context, q store.Querier, ins insertStatement, owner string, vals ...any) (string, error) {
	args := append(systemValues(owner), vals...)
	return args[0].(string), env.exec(ctx, q, ins.sql, args...)
}

// accountColumns are the columns a new account of the scenarios has values
// in: its name and industry as given, the default account type, and the
// zero counts and sums of its roll-ups (no children yet), so that the
// hand-written insert writes the row the engine writes.
var accountColumns = []string{"name", "industry", "account_type", "won_amount", "open_opportunities", "outstanding", "open_service_requests"}

// accountValues are the values of accountColumns of a retail account
// named name, as the engine writes it.
func accountValues(name string) []any {
	return []any{name, "retail", "customer", int64(0), int64(0), int64(0), int64(0)}
}

// insertAccount inserts a retail account named name owned by owner, as the
// engine writes it (accountColumns).
func (env *Env) insertAccount(ctx context.Context, q store.Querier, owner, name string) (string, error) {
	return env.insertSQL(ctx, q, accountInsert, owner, accountValues(name)...)
}

// history writes a history row as the engine keeps for a tracked field.
func (env *Env) history(ctx context.Context, q store.Querier, object, id, field, old, new, by string, version int64) error {
	return env.exec(ctx, q, `INSERT INTO crm_history (id, object, record_id, field, old_value, new_value, changed_by, by_system, changed_at, record_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.Must(uuid.NewV7()).String(), object, id, field, old, new, by, false, time.Now().UTC(), version)
}

// inTx runs fn in a transaction.
func (env *Env) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := env.DB.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// pairName is the name of the i-th record a run writes on one side ("E"
// the engine's, "P" the hand-written SQL's). The two sides of an
// iteration get neighbouring names, so their rows land side by side in
// an index on the name (the account's is unique) and neither side's keys
// all sort above the other's: in a fresh data set the side whose names
// sorted last would always insert at the index's right edge, which
// SQLite splits pages for differently.
func pairName(run string, i int, side string) string { return fmt.Sprintf("%s-%d %s", run, i, side) }

// lone is a scenario of one create at a time: each side writes the i-th
// account of a run, named by pairName.
func lone(name string, target float64, engine, plain func(ctx context.Context, name string) error) Case {
	var run string
	return Case{
		Name: name, Target: target,
		Setup: func(context.Context, int) error {
			run = runID()
			return nil
		},
		Engine: func(ctx context.Context, i int) error { return engine(ctx, pairName(run, i, "E")) },
		Plain:  func(ctx context.Context, i int) error { return plain(ctx, pairName(run, i, "P")) },
	}
}

// create: a rep creates an account.
func (env *Env) create() Case { return lone("create", TargetCreate, env.engineCreate, env.plainCreate) }

// createBun: the lone create again, against the baseline issue 14 quoted
// ("engine 199 µs vs bun 101 µs"): bun's INSERT of the same row from a map,
// its values written into the statement's text (so SQLite parses each
// one). It has no target: the target is read on create, against the
// prepared hand-written INSERT, the stricter baseline.
func (env *Env) createBun() Case {
	return lone("create_bun", 0, env.engineCreate, func(ctx context.Context, name string) error {
		vals := append(systemValues(env.Rep.UserID), accountValues(name)...)
		row := make(map[string]any, len(vals))
		for k, c := range slices.Concat(metadata.SystemFields, accountColumns) {
			row[c] = vals[k]
		}
		_, err := env.DB.NewInsert().Model(&row).TableExpr("account").Exec(ctx)
		return err
	})
}

// createFloor: what the lone create costs the engine besides its checks.
// Its engine side is the hand-written INSERT of the same row run in the
// engine's unit of work (Engine.Tx) as Create runs its own: held back and
// guarded by the metadata version (store.BeginLazy); none of Create's
// work (decoding, defaults, validation, hooks, the answer) is done. It has
// no target: create's ratio less this one's is the share of that work.
func (env *Env) createFloor() Case {
	ins := store.Rebind(env.DB.Dialect, accountInsert.sql)
	return lone("create_floor", 0, func(ctx context.Context, name string) error {
		ctx = request(ctx, env.Rep)
		args := store.Args(env.DB.Dialect, append(systemValues(env.Rep.UserID), accountValues(name)...))
		return env.P.Engine.Tx(ctx, env.Rep, func(w *engine.Writer) error {
			_, err := w.SQL().ExecContext(store.Deferrable(ctx, "account"), ins, args...)
			return err
		})
	}, env.plainCreate)
}

// createSelf: the hand-written INSERT measured against itself, on the
// engine's side too: the error of the measurement itself. Both sides do
// the same work, so any ratio but 1 is what the order of the two sides,
// the machine and the database's own rhythm (WAL checkpoints) add to a
// lone create's ratio. It has no target.
func (env *Env) createSelf() Case {
	return lone("create_self", 0, env.plainCreate, env.plainCreate)
}

// engineCreate creates an account named name through the engine as the
// rep, with the two fields a client sends.
func (env *Env) engineCreate(ctx context.Context, name string) error {
	_, err := env.P.Engine.Create(request(ctx, env.Rep), "account", map[string]any{"name": name, "industry": "retail"})
	return err
}

// plainCreate inserts an account named name by hand, as the rep's.
func (env *Env) plainCreate(ctx context.Context, name string) error {
	_, err := env.insertAccount(ctx, env.DB.SQL(), env.Rep.UserID, name)
	return err
}

// writers is how many clients create at once in createConcurrent: the
// connections of the HTTP load run (docs/performance.md).
const writers = 16

// createConcurrent: writers reps' clients each create an account at the
// same moment, as concurrent requests of a server do; one iteration is
// the writers creates. The engine groups them into shared transactions
// (group commit on SQLite); the hand-written SQL writes each row in a
// transaction of its own, one writer at a time (a mutex: what a
// hand-written server does to avoid polling SQLite's busy write lock).
func (env *Env) createConcurrent() Case {
	var run string
	var one sync.Mutex
	all := func(i int, fn func(j int) error) error {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for j := range writers {
			wg.Go(func() { errs[j] = fn(i*writers + j) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	return Case{
		Name: fmt.Sprintf("create_x%d", writers), Target: TargetCreate,
		Setup: func(context.Context, int) error {
			run = runID()
			return nil
		},
		Engine: func(ctx context.Context, i int) error {
			return all(i, func(k int) error {
				return env.engineCreate(ctx, pairName(run, k, "E"))
			})
		},
		Plain: func(ctx context.Context, i int) error {
			return all(i, func(k int) error {
				one.Lock()
				defer one.Unlock()
				return env.plainCreate(ctx, pairName(run, k, "P"))
			})
		},
	}
}

// repOpportunities returns ids and versions of up to n of the rep's
// opportunities, an even number of them.
func (env *Env) repOpportunities(ctx context.Context, n int) ([]string, []int64, error) {
	rows, err := env.DB.SQL().QueryContext(ctx, store.Rebind(env.DB.Dialect, "SELECT id, version FROM opportunity WHERE owner_id = ? ORDER BY id LIMIT ?"), env.Rep.UserID, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []string
	var versions []int64
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, nil, err
		}
		ids, versions = append(ids, id), append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(ids) < 2 {
		return nil, nil, fmt.Errorf("rep001 has %d opportunities: too few", len(ids))
	}
	even := len(ids) &^ 1
	return ids[:even], versions[:even], nil
}

// update: a rep changes the amount of one of their opportunities (a
// tracked field: its history is kept). The hand-written SQL keeps what
// the engine keeps of it: the opportunity's weighted amount and
// commission, and, for a won deal, its account's won revenue.
func (env *Env) update() Case {
	var ids []string
	var versions []int64
	span := 0
	// base makes every run's amounts new: a run on a data set an earlier
	// run updated would otherwise give records the amount they already
	// have, which the engine does not write (nor keep in history) while
	// the hand-written SQL does.
	var base int64
	return Case{
		Name: "update",
		Setup: func(ctx context.Context, n int) error {
			var err error
			ids, versions, err = env.repOpportunities(ctx, min(max(2*n, 2), 2000))
			span = len(ids)
			base = 1000 + time.Now().UnixNano()/int64(time.Millisecond)%1_000_000_000
			return err
		},
		Engine: func(ctx context.Context, i int) error {
			k := (2 * i) % span
			rec, err := env.P.Engine.Update(request(ctx, env.Rep), "opportunity", ids[k], map[string]any{"amount": fmt.Sprintf("%d.50", base+int64(i)), "version": versions[k]})
			if err == nil {
				versions[k] = rec["version"].(int64)
			}
			return err
		},
		Plain: func(ctx context.Context, i int) error {
			k := (2*i)%span + 1
			return env.inTx(ctx, func(tx *sql.Tx) error {
				var amount any
				var version int64
				var stage, account string
				if err := env.DB.QueryRow(ctx, tx, store.Rebind(env.DB.Dialect, "SELECT amount, version, stage, account FROM opportunity WHERE id = ?"), ids[k]).Scan(&amount, &version, &stage, &account); err != nil {
					return err
				}
				now := time.Now().UTC()
				cents := (base+int64(i))*100 + 50
				if err := env.exec(ctx, tx, "UPDATE opportunity SET amount = ?, weighted_amount = ?, commission = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?",
					cents, (cents*stageProbability[stage]+50)/100, commission(stage, cents), now, env.Rep.UserID, ids[k], version); err != nil {
					return err
				}
				if err := env.history(ctx, tx, "opportunity", ids[k], "amount", fmt.Sprint(amount), fmt.Sprint(cents), env.Rep.UserID, version+1); err != nil {
					return err
				}
				if stage != "won" {
					return nil
				}
				// The won revenue moves by the change of the amount, as the
				// engine keeps it (by shares, since the thirtieth session).
				old, _ := amount.(int64)
				return env.exec(ctx, tx, "UPDATE account SET won_amount = won_amount + ? WHERE id = ?", cents-old, account)
			})
		},
	}
}

// commission is the standard template's commission of an opportunity of
// amount (in cents) in stage, in cents rounded half up as the engine
// stores a currency: on won deals 1 % up to 100,000, 3 % up to 1,000,000,
// 5 % above.
func commission(stage string, cents int64) int64 {
	rate := int64(1)
	switch {
	case stage != "won":
		return 0
	case cents > 1_000_000*100:
		rate = 5
	case cents > 100_000*100:
		rate = 3
	}
	return (cents*rate + 50) / 100
}

// get: a rep reads one of their opportunities.
func (env *Env) get() Case {
	var ids []string
	span := 0
	return Case{
		Name: "get",
		Setup: func(ctx context.Context, n int) error {
			var err error
			ids, _, err = env.repOpportunities(ctx, min(max(n, 2), 1000))
			span = len(ids)
			return err
		},
		Engine: func(ctx context.Context, i int) error {
			_, err := env.P.Engine.Get(request(ctx, env.Rep), "opportunity", ids[i%span])
			return err
		},
		// The row and its competitors' ids in one statement, as the
		// engine reads one record.
		Plain: func(ctx context.Context, i int) error {
			got, err := env.rows(ctx, env.DB.SQL(), "SELECT "+env.oppColumns+", (SELECT string_agg(target_id, ',' ORDER BY target_id) FROM opportunity__competitors WHERE source_id = opportunity.id) AS competitors FROM opportunity WHERE id = ? AND owner_id = ?", ids[i%span], env.Rep.UserID)
			if err == nil && len(got) != 1 {
				return errors.New("no such opportunity")
			}
			return err
		},
	}
}

// listPage asks the engine for a list page and checks it is full.
func (env *Env) listPage(ctx context.Context, p *access.Principal, cursor string) (*engine.ListResult, error) {
	res, err := env.P.Engine.List(request(ctx, p), "opportunity", engine.ListOptions{Filter: listFilter, Sort: listSort, Limit: pageSize, Cursor: cursor})
	if err == nil && len(res.Items) != pageSize {
		err = fmt.Errorf("the page has %d records", len(res.Items))
	}
	return res, err
}

// list: the first page of a rep's opportunities in one stage, by amount.
func (env *Env) list() Case {
	return Case{
		Name: "list", Target: TargetList,
		Engine: func(ctx context.Context, i int) error {
			_, err := env.listPage(ctx, env.Rep, "")
			return err
		},
		Plain: func(ctx context.Context, i int) error {
			_, err := env.page(ctx, "owner_id = ? AND stage = ?", env.Rep.UserID, listStage)
			return err
		},
	}
}

// deepPages is how many pages deep listDeep reads (fewer when the rep
// has fewer records).
const deepPages = 50

// listDeep: the same list, deepPages pages deep, through the cursor.
func (env *Env) listDeep() Case {
	var cursor string
	var amount any
	var id string
	return Case{
		Name: "list_deep", Target: TargetList,
		Setup: func(ctx context.Context, _ int) error {
			cursor = ""
			var n int64
			err := env.DB.QueryRow(ctx, env.DB.SQL(), store.Rebind(env.DB.Dialect, "SELECT COUNT(*) FROM opportunity WHERE owner_id = ? AND stage = ?"), env.Rep.UserID, listStage).Scan(&n)
			if err != nil {
				return err
			}
			pages := min(deepPages, int(n)/pageSize-1)
			if pages < 1 {
				return fmt.Errorf("%w: rep001 has %d opportunities in stage %s, too few for a second page (a larger --scale or fewer --reps gives more)", ErrSkipped, n, listStage)
			}
			for range pages {
				res, err := env.listPage(ctx, env.Rep, cursor)
				if err != nil {
					return err
				}
				cursor = res.NextCursor
				last := res.Items[len(res.Items)-1]
				id = last["id"].(string)
				amount = last["amount"]
			}
			// The same place for the hand-written query, in minor units.
			return env.DB.QueryRow(ctx, env.DB.SQL(), store.Rebind(env.DB.Dialect, "SELECT amount FROM opportunity WHERE id = ?"), id).Scan(&amount)
		},
		Engine: func(ctx context.Context, i int) error {
			_, err := env.listPage(ctx, env.Rep, cursor)
			return err
		},
		Plain: func(ctx context.Context, i int) error {
			n, err := env.page(ctx, "owner_id = ? AND stage = ? AND (amount < ? OR (amount = ? AND id > ?))", env.Rep.UserID, listStage, amount, amount, id)
			if err == nil && n != pageSize {
				err = fmt.Errorf("the page has %d records", n)
			}
			return err
		},
	}
}

// managerList: the first page of the opportunities in one stage of a
// manager's team (record scope subordinates), by amount.
func (env *Env) managerList() Case {
	var team []any
	return Case{
		Name: "manager_list",
		Setup: func(ctx context.Context, _ int) error {
			team = []any{env.Manager.UserID}
			for _, r := range env.Reps {
				if r.ManagerID == env.Manager.UserID {
					team = append(team, r.UserID)
				}
			}
			return nil
		},
		Engine: func(ctx context.Context, i int) error {
			_, err := env.listPage(ctx, env.Manager, "")
			return err
		},
		Plain: func(ctx context.Context, i int) error {
			_, err := env.page(ctx, store.In("owner_id", len(team))+" AND stage = ?", append(append([]any(nil), team...), listStage)...)
			return err
		},
	}
}

// count: the exact number of a rep's opportunities in one stage.
func (env *Env) count() Case {
	return Case{
		Name: "count",
		Engine: func(ctx context.Context, i int) error {
			_, _, err := env.P.Engine.Count(request(ctx, env.Rep), "opportunity", listFilter, 0)
			return err
		},
		Plain: func(ctx context.Context, i int) error {
			var n int64
			return env.DB.QueryRow(ctx, env.DB.SQL(), store.Rebind(env.DB.Dialect, "SELECT COUNT(*) FROM opportunity WHERE owner_id = ? AND stage = ?"), env.Rep.UserID, listStage).Scan(&n)
		},
	}
}

// convert: a rep converts a qualified lead into an account, a contact
// and an opportunity, and marks the lead converted, in one unit of work.
// The hand-written SQL writes the rows as the engine does (the defaults
// and computed values of the new contact and opportunity) and keeps the
// account's count of open deals, which the engine's roll-up keeps.
func (env *Env) convert() Case {
	var run string
	var leads []string
	return Case{
		Name: "convert",
		Setup: func(ctx context.Context, n int) error {
			run, leads = runID(), nil
			return env.inTx(ctx, func(tx *sql.Tx) error {
				for i := range 2 * n {
					id, err := env.insertSQL(ctx, tx, leadInsert, env.Rep.UserID, fmt.Sprint("Person ", i), fmt.Sprintf("Company %s-%d", run, i), "qualified", "web")
					if err != nil {
						return err
					}
					leads = append(leads, id)
				}
				return nil
			})
		},
		Engine: func(ctx context.Context, i int) error {
			rctx := request(ctx, env.Rep)
			return env.P.Engine.Tx(rctx, env.Rep, func(w *engine.Writer) error {
				acc, err := w.Create(rctx, "account", map[string]any{"name": "Company " + pairName(run, i, "E"), "industry": "retail"})
				if err != nil {
					return err
				}
				con, err := w.Create(rctx, "contact", map[string]any{"name": fmt.Sprint("Person ", i), "account": acc["id"]})
				if err != nil {
					return err
				}
				if _, err := w.Create(rctx, "opportunity", map[string]any{"name": "First deal", "account": acc["id"], "contact": con["id"], "stage": "qualify"}); err != nil {
					return err
				}
				_, err = w.Update(rctx, "lead", leads[2*i], map[string]any{"status": "converted", "version": int64(1)})
				return err
			})
		},
		Plain: func(ctx context.Context, i int) error {
			lead := leads[2*i+1]
			owner := env.Rep.UserID
			return env.inTx(ctx, func(tx *sql.Tx) error {
				acc, err := env.insertAccount(ctx, tx, owner, "Company "+pairName(run, i, "P"))
				if err != nil {
					return err
				}
				con, err := env.insertSQL(ctx, tx, contactInsert, owner, fmt.Sprint("Person ", i), acc, false, false, false)
				if err != nil {
					return err
				}
				if _, err := env.insertSQL(ctx, tx, opportunityInsert, owner, "First deal", acc, con, "qualify", int64(0), int64(0), int64(0)); err != nil {
					return err
				}
				if err := env.exec(ctx, tx, "UPDATE account SET open_opportunities = open_opportunities + 1 WHERE id = ?", acc); err != nil {
					return err
				}
				if err := env.exec(ctx, tx, "UPDATE lead SET status = ?, updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?", "converted", time.Now().UTC(), owner, lead, int64(1)); err != nil {
					return err
				}
				return env.history(ctx, tx, "lead", lead, "status", `"qualified"`, `"converted"`, owner, 2)
			})
		},
	}
}
