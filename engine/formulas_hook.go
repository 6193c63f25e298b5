package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// FormulasCompiler names the compiled formulas in a snapshot:
// Snapshot.Compiled(FormulasCompiler) is the snapshot's *formulas.Compiled.
const FormulasCompiler = "formulas"

// formulaBatch is how many records one recompute step reads and writes.
const formulaBatch = 200

// tableFormulaJobs holds the recomputations of stored values that metadata
// changes queued, with their progress, so an interrupted run resumes.
const tableFormulaJobs = "crm_formula_jobs"

// UseFormulas makes the engine evaluate the formulas of the metadata
// (every metadata version is compiled by check.Schema, and one whose
// formulas do not compile is refused by ApplySchema, Check and Reload):
//   - on create, default formulas fill the fields left empty; on create and
//     update, after the before-hooks, computed fields are computed and the
//     validation rules checked, all failing rules reported together with
//     the record's other problems in one ValidationError (the write path
//     calls formulaDefaults and formulaCompute);
//   - after a write, the computed fields that depend on the written record
//     are recomputed in the same transaction: roll-ups of its parents
//     (child created, updated, deleted or re-parented) and formulas of the
//     records that read it through lookups, and so on transitively;
//   - a metadata change that adds or changes computed fields queues a
//     recomputation of the stored values, run by RunFormulaJobs.
//
// Call it once, at wiring time, before serving.
func (e *Engine) UseFormulas(ctx context.Context) error {
	if _, err := e.db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+store.Ident(tableFormulaJobs)+` (
		"id" VARCHAR(36) PRIMARY KEY,
		"object" TEXT NOT NULL,
		"fields" TEXT NOT NULL,
		"version" BIGINT NOT NULL,
		"last_id" TEXT NOT NULL,
		"done" BIGINT NOT NULL,
		"total" BIGINT NOT NULL,
		"finished" BOOLEAN NOT NULL,
		"created_at" TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("engine: create %s: %w", tableFormulaJobs, err)
	}
	e.OnAfter(OpCreate, "*", e.formulasAfter)
	e.OnAfter(OpUpdate, "*", e.formulasAfter)
	e.OnBefore(OpDelete, "*", e.formulasBeforeDelete)
	e.OnAfter(OpDelete, "*", e.formulasAfter)
	e.OnSchemaApplied(e.queueFormulaJobs)
	return nil
}

// compiledFormulas returns the formulas of a snapshot, or nil.
func compiledFormulas(s *Snapshot) *formulas.Compiled {
	if s == nil {
		return nil
	}
	c, _ := s.Compiled(FormulasCompiler).(*formulas.Compiled)
	return c
}

// formulaDefaults fills the fields of rec (storage form) that have a
// default formula and no value. The write path can call it before its own
// checks, so that a required field with a default formula is filled before
// it is found missing.
func (e *Engine) formulaDefaults(snap *Snapshot, obj *metadata.Object, rec map[string]any) error {
	op := compiledFormulas(snap).Object(obj.Name)
	if op == nil {
		return nil
	}
	if err := op.Defaults(rec, e.now().UTC()); err != nil {
		return formulaWriteError(obj.Name, err)
	}
	return nil
}

// formulaCompute computes the computed fields of rec (storage form) in tx
// and checks the validation rules, returning the failing rules as field
// errors (code "rule.NAME", English message), so the write path can report
// them together with its other problems in one ValidationError. A formula
// that fails at run time is a ValidationError; a database error is
// returned as is.
func (e *Engine) formulaCompute(ctx context.Context, tx store.Querier, snap *Snapshot, obj *metadata.Object, rec map[string]any) ([]FieldError, error) {
	op := compiledFormulas(snap).Object(obj.Name)
	if !op.HasFormulas() {
		return nil, nil
	}
	now := e.now().UTC()
	ctx = formulas.WithNow(ctx, now)
	res := &formulaResolver{e: e, q: tx, snap: snap, now: now}
	if err := op.Compute(ctx, rec, res); err != nil {
		return nil, formulaWriteError(obj.Name, err)
	}
	fails, err := op.Validate(ctx, rec, res)
	if err != nil {
		return nil, formulaWriteError(obj.Name, err)
	}
	out := make([]FieldError, 0, len(fails))
	for _, f := range fails {
		out = append(out, FieldError{Field: f.Field, Code: "rule." + f.Rule, Message: f.Message.Get(Language(ctx))})
	}
	return out, nil
}

// formulaWriteError turns a formula that failed at run time into a
// ValidationError naming the field (422); other errors pass through.
func formulaWriteError(object string, err error) error {
	var ee *formulas.EvalError
	if errors.As(err, &ee) {
		code := "formula"
		if ee.Rule != "" {
			code = "rule." + ee.Rule
		}
		return &ValidationError{Object: object, Errors: []FieldError{{Field: ee.Field, Code: code, Message: ee.Error()}}}
	}
	return err
}

// formulasAfter recomputes, in the write's transaction, what depends on
// the record just written.
func (e *Engine) formulasAfter(ctx context.Context, ev *Event) error {
	c := compiledFormulas(ev.Snapshot)
	if c == nil {
		return nil
	}
	now := e.now().UTC()
	ctx = formulas.WithNow(ctx, now)
	p := &propagator{e: e, c: c, tx: ev.Tx, snap: ev.Snapshot, now: now, by: principalID(ev)}
	if err := p.propagate(ctx, ev.Object.Name, []recordChange{{old: ev.Old, new: ev.New}}, 0); err != nil {
		return err
	}
	if ev.Op != OpDelete {
		return nil
	}
	// The records that read the deleted one through lookups (found before
	// the delete cleared or removed them) read an empty record now.
	deps, ok := ev.Values[deleteDependents].(map[string]map[string]bool)
	if !ok {
		return nil
	}
	return p.recomputeAll(ctx, deps, 0)
}

// deleteDependents is the Event value under which formulasBeforeDelete
// leaves the dependents of a deleted record for formulasAfter.
const deleteDependents = "formulas.delete_dependents"

// formulasBeforeDelete notes the records whose computed fields read the
// record being deleted through lookups, while the lookups still point at
// it; formulasAfter recomputes them once on_delete has run.
func (e *Engine) formulasBeforeDelete(ctx context.Context, ev *Event) error {
	c := compiledFormulas(ev.Snapshot)
	if c == nil || len(c.LookupDependents(ev.Object.Name)) == 0 {
		return nil
	}
	p := &propagator{e: e, c: c, tx: ev.Tx, snap: ev.Snapshot, now: e.now().UTC(), by: principalID(ev)}
	deps, err := p.dependents(ctx, ev.Object.Name, ev.ID, nil)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		ev.Set(deleteDependents, toTargets(deps))
	}
	return nil
}

// recordChange is one record before and after a write (old is nil for a
// create, new for a delete).
type recordChange struct {
	old, new map[string]any
}

// changedFields lists the fields that differ between old and new.
func (rc recordChange) changedFields() map[string]bool {
	out := map[string]bool{}
	for k, v := range rc.new {
		if rc.old == nil || !reflect.DeepEqual(rc.old[k], v) {
			out[k] = true
		}
	}
	for k := range rc.old {
		if _, ok := rc.new[k]; !ok || rc.new == nil {
			out[k] = true
		}
	}
	return out
}

// propagator recomputes stored computed fields after writes.
type propagator struct {
	e    *Engine
	c    *formulas.Compiled
	tx   store.Querier
	snap *Snapshot
	now  time.Time
	// by is the user whose write caused the recomputation, for the history
	// of tracked computed fields ("" for the system).
	by string
}

// propagate finds the records whose computed fields depend on the changed
// records of object and recomputes them, then what depends on those.
func (p *propagator) propagate(ctx context.Context, object string, changes []recordChange, depth int) error {
	if len(changes) == 0 {
		return nil
	}
	if depth > maxCascade {
		return conflict("recomputing formulas after a change of %s goes more than %d levels deep", object, maxCascade)
	}
	targets := map[string]map[string]bool{} // object → ids to recompute
	add := func(obj, id string) {
		if id == "" {
			return
		}
		if targets[obj] == nil {
			targets[obj] = map[string]bool{}
		}
		targets[obj][id] = true
	}
	specs := p.c.RollupsOnChild(object)
	for _, ch := range changes {
		changed := ch.changedFields()
		for _, s := range specs {
			if !anyOf(changed, s.Reads) {
				continue
			}
			for _, rec := range []map[string]any{ch.old, ch.new} {
				if rec != nil {
					id, _ := rec[s.Via].(string)
					add(s.Object, id)
				}
			}
		}
		if ch.old == nil || ch.new == nil {
			continue // a new record has no dependents yet; see formulasBeforeDelete
		}
		id, _ := ch.new["id"].(string)
		deps, err := p.dependents(ctx, object, id, changed)
		if err != nil {
			return err
		}
		for o, ids := range deps {
			for _, rid := range ids {
				add(o, rid)
			}
		}
	}
	return p.recomputeAll(ctx, targets, depth)
}

// anyOf reports whether any of names is in set.
func anyOf(set map[string]bool, names []string) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// reach returns the ids of the records of d.Object that reach the record
// id of d.Target through d.Path, following the path backwards one query
// per lookup. Paths may go through owner (the owner_id column) and, among
// users, manager (crm_users.manager_id).
func (p *propagator) reach(ctx context.Context, d formulas.LookupDependency, id string) ([]string, error) {
	type hop struct{ table, column string }
	hops := make([]hop, 0, len(d.Path))
	object := d.Object
	for _, name := range d.Path {
		if object == formulas.UserObject {
			if name != "manager" {
				return nil, nil
			}
			hops = append(hops, hop{"crm_users", "manager_id"})
			continue
		}
		obj, err := p.snap.Object(object)
		if err != nil {
			return nil, err
		}
		if f, ok := obj.Field(name); ok {
			target, lookup := metadata.LookupTarget(f)
			if !lookup {
				return nil, nil
			}
			hops = append(hops, hop{obj.Name, f.Name})
			object = target
			continue
		}
		if name != formulas.OwnerField {
			return nil, nil
		}
		hops = append(hops, hop{obj.Name, "owner_id"})
		object = formulas.UserObject
	}
	ids := []string{id}
	for k := len(hops) - 1; k >= 0 && len(ids) > 0; k-- {
		var next []string
		for batch := range slices.Chunk(ids, store.MaxInList) {
			q := "SELECT \"id\" FROM " + store.Ident(hops[k].table) + " WHERE " + store.In(store.Ident(hops[k].column), len(batch))
			rows, err := p.tx.QueryContext(ctx, store.Rebind(p.e.db.Dialect, q), anySlice(batch)...)
			if err != nil {
				return nil, fmt.Errorf("engine: records of %s reading %s: %w", hops[k].table, d.Target, err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					rows.Close()
					return nil, err
				}
				next = append(next, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		ids = next
	}
	return ids, nil
}

// dependents returns, per object, the records whose computed fields read
// the record id of object (through lookups) in one of changed (all fields
// when changed is nil).
func (p *propagator) dependents(ctx context.Context, object, id string, changed map[string]bool) (map[string][]string, error) {
	out := map[string][]string{}
	for _, d := range p.c.LookupDependents(object) {
		if len(d.Computed) == 0 || (changed != nil && !anyOf(changed, d.Fields)) {
			continue
		}
		ids, err := p.reach(ctx, d, id)
		if err != nil {
			return nil, err
		}
		out[d.Object] = append(out[d.Object], ids...)
	}
	return out, nil
}

// recomputeAll recomputes the given records per object and propagates.
func (p *propagator) recomputeAll(ctx context.Context, targets map[string]map[string]bool, depth int) error {
	objects := make([]string, 0, len(targets))
	for o := range targets {
		objects = append(objects, o)
	}
	sort.Strings(objects)
	for _, o := range objects {
		ids := make([]string, 0, len(targets[o]))
		for id := range targets[o] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for batch := range slices.Chunk(ids, formulaBatch) {
			more, err := p.recompute(ctx, o, store.In(`"id"`, len(batch)), anySlice(batch))
			if err != nil {
				return err
			}
			if err := p.propagate(ctx, o, more, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// RecomputeDependents recomputes, in tx, the stored computed fields that
// read record id of object through lookups, after a change of the fields
// named in changed (nil: any) made outside the engine's write path: object
// is formulas.UserObject after a user's name, username or manager changed
// (owner.name, owner.manager.name), or any object after a bulk update.
// Roll-ups and lookups that depend on the recomputed records follow.
func (e *Engine) RecomputeDependents(ctx context.Context, tx *sql.Tx, object, id string, changed []string) error {
	snap := e.Snapshot()
	c := compiledFormulas(snap)
	if c == nil {
		return nil
	}
	var set map[string]bool
	if changed != nil {
		set = map[string]bool{}
		for _, f := range changed {
			set[f] = true
		}
	}
	now := e.now().UTC()
	ctx = formulas.WithNow(ctx, now)
	p := &propagator{e: e, c: c, tx: tx, snap: snap, now: now}
	deps, err := p.dependents(ctx, object, id, set)
	if err != nil {
		return err
	}
	return p.recomputeAll(ctx, toTargets(deps), 0)
}

// toTargets turns lists of ids into sets.
func toTargets(deps map[string][]string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for o, ids := range deps {
		for _, id := range ids {
			if out[o] == nil {
				out[o] = map[string]bool{}
			}
			out[o][id] = true
		}
	}
	return out
}

// recompute reads the records of object matching pred, computes their
// computed fields and writes those that changed (without a new version:
// a computed value is not an edit, and must not make a user's open copy
// stale). It returns the changes, for propagation.
func (p *propagator) recompute(ctx context.Context, object, pred string, args []any) ([]recordChange, error) {
	obj, err := p.snap.Object(object)
	if err != nil {
		return nil, err
	}
	op := p.c.Object(object)
	if op == nil || len(op.ComputedFields()) == 0 {
		return nil, nil
	}
	q := "SELECT " + selectList(allColumns(p.e.db.Dialect, obj)) + " FROM " + store.Ident(object) + " WHERE " + pred
	rows, err := p.tx.QueryContext(ctx, store.Rebind(p.e.db.Dialect, q), store.Args(p.e.db.Dialect, args)...)
	if err != nil {
		return nil, fmt.Errorf("engine: read %s to recompute formulas: %w", object, err)
	}
	raws, err := scanRows(rows)
	if err != nil {
		return nil, err
	}
	olds := make([]map[string]any, len(raws))
	recs := make([]map[string]any, len(raws))
	for i, raw := range raws {
		if olds[i], err = toStorage(obj, raw); err != nil {
			return nil, err
		}
		recs[i] = make(map[string]any, len(olds[i]))
		for k, v := range olds[i] {
			recs[i][k] = v
		}
	}
	res := &formulaResolver{e: p.e, q: p.tx, snap: p.snap, now: p.now}
	if err := op.ComputeBatch(ctx, recs, res); err != nil {
		return nil, formulaWriteError(object, err)
	}
	var changes []recordChange
	computed := op.ComputedFields()
	for i, rec := range recs {
		var sets []string
		var vals []any
		for _, f := range computed {
			if !reflect.DeepEqual(olds[i][f], rec[f]) {
				sets = append(sets, store.Ident(f)+" = ?")
				vals = append(vals, rec[f])
			}
		}
		if len(sets) == 0 {
			continue
		}
		vals = append(vals, rec["id"])
		uq := "UPDATE " + store.Ident(object) + " SET " + strings.Join(sets, ", ") + " WHERE \"id\" = ?"
		if _, err := p.tx.ExecContext(ctx, store.Rebind(p.e.db.Dialect, uq), store.Args(p.e.db.Dialect, vals)...); err != nil {
			return nil, p.e.writeError(obj, err)
		}
		if err := p.e.writeHistory(ctx, p.tx, obj, rec["id"].(string), p.by, true, olds[i], rec, nil, nil, p.now); err != nil {
			return nil, err
		}
		changes = append(changes, recordChange{old: olds[i], new: rec})
	}
	return changes, nil
}

// principalID is the id of the user behind a write, "" for none.
func principalID(ev *Event) string {
	if ev.Principal == nil {
		return ""
	}
	return ev.Principal.UserID
}

// formulaResolver reads related records and roll-ups for formulas, in the
// write's transaction.
type formulaResolver struct {
	e    *Engine
	q    store.Querier
	snap *Snapshot
	now  time.Time
}

var _ formulas.Resolver = (*formulaResolver)(nil)

// userColumns maps the fields of a user in formulas to crm_users columns.
var userColumns = map[string]string{"id": `"id"`, "name": `"display_name"`, "username": `"username"`, "email": `"email"`, "manager": `"manager_id"`}

// Lookup reads fields of records of object by id.
func (r *formulaResolver) Lookup(ctx context.Context, object string, ids []string, fields []string) (map[string]map[string]any, error) {
	out := make(map[string]map[string]any, len(ids))
	var obj *metadata.Object
	var table string
	var exprs []string
	cols := append([]string{"id"}, fields...)
	if object == formulas.UserObject {
		table = "crm_users"
		for _, f := range cols {
			c, ok := userColumns[f]
			if !ok {
				return nil, fmt.Errorf("engine: users have no field %q", f)
			}
			exprs = append(exprs, c+" AS "+store.Ident(f))
		}
	} else {
		var err error
		if obj, err = r.snap.Object(object); err != nil {
			return nil, err
		}
		table = object
		for _, f := range cols {
			if fieldDef(obj, f) == nil {
				return nil, fmt.Errorf("engine: %s has no field %q", object, f)
			}
			exprs = append(exprs, store.Ident(f))
		}
	}
	for batch := range slices.Chunk(ids, store.MaxInList) {
		q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + store.Ident(table) + " WHERE " + store.In(`"id"`, len(batch))
		rows, err := r.q.QueryContext(ctx, store.Rebind(r.e.db.Dialect, q), anySlice(batch)...)
		if err != nil {
			return nil, fmt.Errorf("engine: read %s for formulas: %w", object, err)
		}
		raws, err := scanRows(rows)
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			row := raw
			if obj != nil {
				if row, err = toStorage(obj, raw); err != nil {
					return nil, err
				}
			} else {
				for k, v := range row {
					if b, ok := v.([]byte); ok {
						row[k] = string(b)
					}
				}
			}
			id, _ := row["id"].(string)
			out[id] = row
		}
	}
	return out, nil
}

// Rollup runs an aggregate over child records in SQL, grouped by parent.
func (r *formulaResolver) Rollup(ctx context.Context, spec *formulas.RollupSpec, parentIDs []string) (map[string]any, error) {
	child, err := r.snap.Object(spec.Child)
	if err != nil {
		return nil, err
	}
	agg := "COUNT(*)"
	if spec.Func != "count" {
		agg = strings.ToUpper(spec.Func) + "(" + store.Ident(spec.ValueField) + ")"
	}
	var cond string
	var condArgs []any
	if spec.Condition != "" {
		pred, err := query.CompileFilter(spec.Condition, child, query.Options{Dialect: r.e.db.Dialect, Now: r.now, Schema: r.snap.Schema})
		if err != nil {
			return nil, fmt.Errorf("engine: condition of roll-up %s.%s: %w", spec.Object, spec.Field, err)
		}
		cond, condArgs = pred.SQL, pred.Args
	}
	out := make(map[string]any, len(parentIDs))
	via := store.Ident(spec.Via)
	for batch := range slices.Chunk(parentIDs, store.MaxInList) {
		q := "SELECT " + via + ", " + agg + " FROM " + store.Ident(child.Name) +
			where(store.In(via, len(batch)), cond) + " GROUP BY " + via
		args := append(anySlice(batch), condArgs...)
		rows, err := r.q.QueryContext(ctx, store.Rebind(r.e.db.Dialect, q), store.Args(r.e.db.Dialect, args)...)
		if err != nil {
			return nil, fmt.Errorf("engine: roll-up %s of %s: %w", spec.Func, child.Name, err)
		}
		for rows.Next() {
			var parent string
			var v any
			if err := rows.Scan(&parent, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[parent] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FormulaJob is a recomputation of the stored computed fields of one
// object that a metadata change queued.
type FormulaJob struct {
	ID       string   `json:"id"`
	Object   string   `json:"object"`
	Fields   []string `json:"fields"`
	Version  int64    `json:"version"`
	Done     int64    `json:"done"`
	Total    int64    `json:"total"`
	Finished bool     `json:"finished"`
}

// queueFormulaJobs runs in the transaction of a metadata change: it queues
// a recomputation for every object whose computed fields are new or
// changed (or depend on ones that are).
func (e *Engine) queueFormulaJobs(ctx context.Context, tx bun.Tx, s *metadata.Schema) error {
	next, ps := formulas.CompileSchema(s)
	if len(ps) > 0 {
		return ps
	}
	changed := formulas.ChangedComputed(compiledFormulas(e.Snapshot()), next)
	version, err := e.db.LatestVersion(ctx, tx)
	if err != nil {
		return err
	}
	now := e.now().UTC().Format(metadata.DateTimeLayout)
	for _, o := range s.Objects {
		fields := changed[o.Name]
		if len(fields) == 0 {
			continue
		}
		fj, _ := json.Marshal(fields)
		q := store.Rebind(e.db.Dialect, `INSERT INTO `+store.Ident(tableFormulaJobs)+` ("id", "object", "fields", "version", "last_id", "done", "total", "finished", "created_at") VALUES (?, ?, ?, ?, '', 0, -1, ?, ?)`)
		if _, err := tx.Tx.ExecContext(ctx, q, uuid.Must(uuid.NewV7()).String(), o.Name, string(fj), version, false, now); err != nil {
			return fmt.Errorf("engine: queue recomputation of %s: %w", o.Name, err)
		}
	}
	return nil
}

// FormulaJobs lists the queued recomputations, unfinished first, oldest
// first.
func (e *Engine) FormulaJobs(ctx context.Context) ([]FormulaJob, error) {
	rows, err := e.db.SQL().QueryContext(ctx, `SELECT "id", "object", "fields", "version", "done", "total", "finished" FROM `+store.Ident(tableFormulaJobs)+` ORDER BY "finished", "created_at", "id"`)
	if err != nil {
		return nil, fmt.Errorf("engine: formula jobs: %w", err)
	}
	defer rows.Close()
	var out []FormulaJob
	for rows.Next() {
		var j FormulaJob
		var fields string
		if err := rows.Scan(&j.ID, &j.Object, &fields, &j.Version, &j.Done, &j.Total, &j.Finished); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(fields), &j.Fields)
		out = append(out, j)
	}
	return out, rows.Err()
}

// RunFormulaJobs works through the queued recomputations: each batch of
// batchSize records (by id) is read, recomputed and written in its own
// transaction together with the job's progress, so a run that stops
// resumes where it was. Records that depend on the recomputed ones (parents
// with roll-ups, records reading them through lookups) are updated too.
// progress, if not nil, is called after every batch. Several processes may
// run it at once: on PostgreSQL a job's row is locked while a batch runs.
func (e *Engine) RunFormulaJobs(ctx context.Context, batchSize int, progress func(FormulaJob)) error {
	if batchSize <= 0 {
		batchSize = formulaBatch
	}
	jobs, err := e.FormulaJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Finished {
			continue
		}
		for {
			done, err := e.formulaJobStep(ctx, j.ID, batchSize, progress)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	return nil
}

// formulaJobStep runs one batch of a job; it reports whether the job is
// finished (or taken by another process).
func (e *Engine) formulaJobStep(ctx context.Context, id string, batchSize int, progress func(FormulaJob)) (bool, error) {
	tx, err := e.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	lock := ""
	if e.db.Dialect == metadata.DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var j FormulaJob
	var fields, lastID string
	err = tx.QueryRowContext(ctx, store.Rebind(e.db.Dialect, `SELECT "id", "object", "fields", "version", "last_id", "done", "total", "finished" FROM `+store.Ident(tableFormulaJobs)+` WHERE "id" = ?`+lock), id).
		Scan(&j.ID, &j.Object, &fields, &j.Version, &lastID, &j.Done, &j.Total, &j.Finished)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("engine: formula job %s: %w", id, err)
	}
	_ = json.Unmarshal([]byte(fields), &j.Fields)
	if j.Finished {
		return true, nil
	}
	snap := e.Snapshot()
	c := compiledFormulas(snap)
	obj, oerr := snap.Object(j.Object)
	finish := func() (bool, error) {
		j.Finished = true
		if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, `UPDATE `+store.Ident(tableFormulaJobs)+` SET "finished" = ?, "done" = ?, "total" = ? WHERE "id" = ?`), true, j.Done, j.Total, j.ID); err != nil {
			return false, err
		}
		if err := tx.Commit(); err != nil {
			return false, err
		}
		if progress != nil {
			progress(j)
		}
		return true, nil
	}
	if c == nil || oerr != nil || c.Object(j.Object) == nil {
		return finish() // the object or its formulas are gone
	}
	if j.Total < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+store.Ident(obj.Name)).Scan(&j.Total); err != nil {
			return false, fmt.Errorf("engine: count %s: %w", obj.Name, err)
		}
	}
	rows, err := tx.QueryContext(ctx, store.Rebind(e.db.Dialect, `SELECT "id" FROM `+store.Ident(obj.Name)+` WHERE "id" > ? ORDER BY "id" LIMIT ?`), lastID, batchSize)
	if err != nil {
		return false, fmt.Errorf("engine: recompute %s: %w", obj.Name, err)
	}
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return false, err
		}
		ids = append(ids, s)
	}
	rows.Close()
	if len(ids) == 0 {
		return finish()
	}
	now := e.now().UTC()
	p := &propagator{e: e, c: c, tx: tx, snap: snap, now: now}
	pctx := formulas.WithNow(ctx, now)
	changes, err := p.recompute(pctx, obj.Name, store.In(`"id"`, len(ids)), anySlice(ids))
	if err != nil {
		return false, err
	}
	if err := p.propagate(pctx, obj.Name, changes, 0); err != nil {
		return false, err
	}
	j.Done += int64(len(ids))
	if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, `UPDATE `+store.Ident(tableFormulaJobs)+` SET "last_id" = ?, "done" = ?, "total" = ? WHERE "id" = ?`), ids[len(ids)-1], j.Done, j.Total, j.ID); err != nil {
		return false, fmt.Errorf("engine: progress of formula job %s: %w", j.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("engine: commit formula job %s: %w", j.ID, err)
	}
	if progress != nil {
		progress(j)
	}
	return false, nil
}

// UserChanged recomputes the stored formulas that read a user's fields
// (owner.name, owner.manager.name …) after the user changed, in a
// transaction of its own.
func (e *Engine) UserChanged(ctx context.Context, userID string, fields []string) error {
	tx, err := e.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := e.RecomputeDependents(ctx, tx, formulas.UserObject, userID, fields); err != nil {
		return fmt.Errorf("engine: recompute after user %s changed: %w", userID, err)
	}
	return tx.Commit()
}
