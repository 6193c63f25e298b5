package engine

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// formulaBatch is how many records one recomputation reads and writes at
// a time (one IN list, one ComputeBatch).
const formulaBatch = 200

// formulasAfter recomputes, in the write's transaction, what depends on
// the record just written: roll-ups of its parents (child created,
// updated, deleted or re-parented) and formulas of the records that read
// it through lookups, and so on transitively.
func (e *Engine) formulasAfter(ctx context.Context, ev *Event) error {
	if ev.propagated {
		return nil
	}
	ctx, p := e.propagatorFor(ctx, ev)
	if p == nil {
		return nil
	}
	if err := p.propagate(ctx, ev.Object.Name, []recordChange{{old: ev.Old, new: ev.New}}, 0); err != nil || ev.Op != OpDelete {
		return err
	}
	// The records that read the deleted one through lookups (found before
	// the delete cleared or removed them) read an empty record now.
	deps, ok := ev.Values[deleteDependents].(map[string]map[string]bool)
	if !ok {
		return nil
	}
	return p.recomputeAll(ctx, deps, nil, nil, 0)
}

// propagatorFor returns the propagator of what depends on writes like ev
// (of its object, in its unit of work) and ctx with its clock, or a nil
// propagator when nothing can: no roll-up counts a new record, and
// nothing can point at it yet.
func (e *Engine) propagatorFor(ctx context.Context, ev *Event) (context.Context, *propagator) {
	c := ev.Snapshot.Formulas()
	if c == nil || ev.Op == OpCreate && len(c.RollupsOnChild(ev.Object.Name)) == 0 {
		return ctx, nil
	}
	now := e.now().UTC()
	p := &propagator{e: e, c: c, tx: ev.Tx, snap: ev.Snapshot, now: now, by: principalID(ev), checkRules: true}
	if ev.Writer != nil {
		p.rows = ev.Writer.rows
	}
	return formulas.WithNow(ctx, now), p
}

// deleteDependents is the Event value under which formulasBeforeDelete
// leaves the dependents of a deleted record for formulasAfter.
const deleteDependents = "formulas.delete_dependents"

// formulasBeforeDelete notes the records whose computed fields read the
// record being deleted through lookups, while the lookups still point at
// it; formulasAfter recomputes them once on_delete has run.
func (e *Engine) formulasBeforeDelete(ctx context.Context, ev *Event) error {
	c := ev.Snapshot.Formulas()
	if c == nil || len(c.LookupDependents(ev.Object.Name)) == 0 {
		return nil
	}
	p := &propagator{e: e, c: c, tx: ev.Tx, snap: ev.Snapshot, now: e.now().UTC(), by: principalID(ev), checkRules: true}
	deps, err := p.dependents(ctx, ev.Object.Name, ev.ID, nil)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		ev.Set(deleteDependents, toTargets(deps))
	}
	return nil
}

// principalID is the id of the user behind a write, "" for none.
func principalID(ev *Event) string {
	if ev.Principal == nil {
		return ""
	}
	return ev.Principal.UserID
}

// RecomputeDependents recomputes, in tx, the stored computed fields that
// read record id of object through lookups, after a change of the fields
// named in changed (nil: any) made outside the engine's write path: object
// is formulas.UserObject after a user's name, username or manager changed
// (owner.name, owner.manager.name), or any object after a bulk update.
// Roll-ups and lookups that depend on the recomputed records follow.
func (e *Engine) RecomputeDependents(ctx context.Context, tx store.Querier, object, id string, changed []string) error {
	snap := e.Snapshot()
	c := snap.Formulas()
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
	return p.recomputeAll(ctx, toTargets(deps), nil, nil, 0)
}

// UserChanged recomputes, in tx (the transaction that changed the user),
// the stored formulas that read the user's fields (owner.name,
// owner.manager.name …). It is the access service's user change hook
// (access.OnUserChange).
func (e *Engine) UserChanged(ctx context.Context, tx *sql.Tx, userID string, fields []string) error {
	if err := e.RecomputeDependents(ctx, tx, formulas.UserObject, userID, fields); err != nil {
		return fmt.Errorf("engine: recompute after user %s changed: %w", userID, err)
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
	// rows is the row log of the unit of work that caused it, nil outside
	// one.
	rows *rowLog
	// checkRules refuses a recomputation that breaks a validation rule of
	// the recomputed record which held before (newlyBroken): set for the
	// writes of users' units of work, not for the jobs that recompute
	// after a formula changed.
	checkRules bool
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
	stale := staleRollups{}                 // object → the roll-ups that brought its ids
	shares := rollupShares{}                // what the changes add to the roll-ups kept by shares
	whole := map[string]bool{}              // objects with ids brought by lookups
	add := func(obj, id string) {
		if id == "" {
			return
		}
		if targets[obj] == nil {
			targets[obj] = map[string]bool{}
		}
		targets[obj][id] = true
	}
	childObj, err := p.snap.Object(object)
	if err != nil {
		return err
	}
	specs := p.c.RollupsOnChild(object)
	for _, ch := range changes {
		if len(specs) == 0 && (ch.old == nil || ch.new == nil) {
			continue // nothing to compare: no roll-up reads the object, and a created or deleted record has no dependents here
		}
		changed := ch.changedFields()
		for _, s := range specs {
			if !anyOf(changed, s.Reads) || !countsIn(s, childObj, ch, p.now) {
				continue
			}
			for _, rec := range []map[string]any{ch.old, ch.new} {
				if rec != nil {
					id, _ := rec[s.Via].(string)
					add(s.Object, id)
				}
			}
			if p.snap.keptByShares(s, p.timed) {
				shares.add(s, childObj, ch.old, ch.new, p.now)
			}
			if !slices.Contains(stale[s.Object], s) {
				stale[s.Object] = append(stale[s.Object], s)
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
			if len(ids) > 0 {
				whole[o] = true
			}
		}
	}
	for o := range whole {
		delete(stale, o)
	}
	return p.recomputeAll(ctx, targets, stale, shares, depth)
}

// timed reports whether roll-up s's condition reads the clock
// (formulaResolver.timedRollup).
func (p *propagator) timed(s *formulas.RollupSpec) bool {
	return (&formulaResolver{e: p.e, snap: p.snap, now: p.now}).timedRollup(s)
}

// staleRollups names, per object, the roll-ups whose children changed: the
// records of an object in it are recomputed only in the computed fields
// those roll-ups reach (ObjectProgram.ComputeAfterRollups); an object not
// in it is recomputed whole.
type staleRollups map[string][]*formulas.RollupSpec

// countsIn reports whether a child's change can change roll-up s: false
// when s has a condition that the child meets neither before nor after
// the change (a condition that cannot be evaluated counts as met).
func countsIn(s *formulas.RollupSpec, child *metadata.Object, ch recordChange, now time.Time) bool {
	for _, rec := range []map[string]any{ch.old, ch.new} {
		if rec == nil {
			continue
		}
		if ok, err := s.Matches(rec, child, now); ok || err != nil {
			return true
		}
	}
	return false
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

// hop is one lookup followed backwards: the ids of the records whose
// lookup points at one of ids.
type hop func(ctx context.Context, ids []string) ([]string, error)

// reach returns the ids of the records of d.Object that reach the record
// id of d.Target through d.Path, following the path backwards one query
// per lookup. Paths may go through owner (the owner_id column) and, among
// users, manager (asked of engine/access).
func (p *propagator) reach(ctx context.Context, d formulas.LookupDependency, id string) ([]string, error) {
	hops := make([]hop, 0, len(d.Path))
	object := d.Object
	for _, name := range d.Path {
		if object == formulas.UserObject {
			if name != "manager" {
				return nil, nil
			}
			hops = append(hops, func(ctx context.Context, ids []string) ([]string, error) {
				return access.Reports(ctx, p.tx, p.e.db.Dialect, ids)
			})
			continue
		}
		obj, err := p.snap.Object(object)
		if err != nil {
			return nil, err
		}
		column := "owner_id"
		if f, ok := obj.Field(name); ok {
			target, lookup := metadata.LookupTarget(f)
			if !lookup {
				return nil, nil
			}
			column, object = f.Name, target
		} else if name == formulas.OwnerField {
			object = formulas.UserObject
		} else {
			return nil, nil
		}
		hops = append(hops, p.referrers(obj.Name, column, d.Target))
	}
	ids := []string{id}
	for k := len(hops) - 1; k >= 0 && len(ids) > 0; k-- {
		var err error
		if ids, err = hops[k](ctx, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// referrers is the hop through the lookup column of table.
func (p *propagator) referrers(table, column, target string) hop {
	return func(ctx context.Context, ids []string) ([]string, error) {
		var next []string
		read := func(chunk []string) error {
			q := "SELECT \"id\" FROM " + store.Ident(table) + " WHERE " + store.In(store.Ident(column), len(chunk))
			rows, err := p.e.db.Query(ctx, p.tx, store.Rebind(p.e.db.Dialect, q), anySlice(chunk)...)
			if err != nil {
				return fmt.Errorf("engine: records of %s reading %s: %w", table, target, err)
			}
			defer rows.Close()
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					return err
				}
				next = append(next, s)
			}
			return rows.Err()
		}
		for chunk := range slices.Chunk(ids, store.MaxInList) {
			if err := read(chunk); err != nil {
				return nil, err
			}
		}
		return next, nil
	}
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

// recomputeAll recomputes the given records per object (only in what the
// stale roll-ups reach, for an object in stale; with the roll-ups kept by
// shares from their stored values and shares) and propagates.
func (p *propagator) recomputeAll(ctx context.Context, targets map[string]map[string]bool, stale staleRollups, shares rollupShares, depth int) error {
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
		for start := 0; start < len(ids); start += formulaBatch {
			more, err := p.recompute(ctx, o, ids[start:min(start+formulaBatch, len(ids))], stale[o], shares)
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

// recompute reads the records of object with the given ids (at most
// store.MaxInList), computes their computed fields and writes those that
// changed (without a new version: a computed value is not an edit, and
// must not make a user's open copy stale). A field whose formula fails is
// written empty (logged). With stale roll-ups, only the computed fields
// they reach are computed; roll-ups kept by shares take the records'
// stored values plus shares where those have them (fromShares). It
// returns the changes, for propagation.
func (p *propagator) recompute(ctx context.Context, object string, ids []string, stale []*formulas.RollupSpec, shares rollupShares) ([]recordChange, error) {
	obj, err := p.snap.Object(object)
	if err != nil {
		return nil, err
	}
	op := p.c.Object(object)
	if op == nil || len(op.ComputedFields()) == 0 || len(ids) == 0 {
		return nil, nil
	}
	q := "SELECT " + p.snap.selectAll(obj, p.e.db.Dialect) + " FROM " + store.Ident(object) + " WHERE " + store.In(`"id"`, len(ids))
	if p.e.db.Dialect == metadata.DialectPostgres {
		// Concurrent writes of children of one parent recompute it one at
		// a time: the lock is taken before its children are counted, so
		// that the count, a statement of its own, sees the children of a
		// write that held the lock before (SQLite has one writer).
		q += " ORDER BY \"id\" FOR UPDATE"
	}
	rows, err := p.e.db.Query(ctx, p.tx, store.Rebind(p.e.db.Dialect, q), anySlice(ids)...)
	if err != nil {
		return nil, fmt.Errorf("engine: read %s to recompute formulas: %w", object, err)
	}
	raws, err := store.ScanMaps(rows)
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
	if len(shares) > 0 {
		res.shares, res.stored = shares, make(map[string]map[string]any, len(olds))
		for _, old := range olds {
			res.stored[old["id"].(string)] = old
		}
	}
	var fails []*formulas.EvalError
	if stale != nil {
		fails, err = op.ComputeAfterRollups(ctx, recs, res, stale)
	} else {
		fails, err = op.ComputeBatch(ctx, recs, res)
	}
	if err != nil {
		return nil, formulaReadError(object, err)
	}
	p.e.formulaFailed(p.snap, fails)
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
		if p.checkRules {
			if err := p.newlyBroken(ctx, op, obj, olds[i], rec, res); err != nil {
				return nil, err
			}
		}
		vals = append(vals, rec["id"])
		uq := "UPDATE " + store.Ident(object) + " SET " + strings.Join(sets, ", ") + " WHERE \"id\" = ?"
		if _, err := p.e.db.Exec(ctx, p.tx, store.Rebind(p.e.db.Dialect, uq), store.Args(p.e.db.Dialect, vals)...); err != nil {
			return nil, p.e.writeError(obj, err)
		}
		p.rows.wrote(object, rec["id"].(string))
		if err := p.e.writeHistory(ctx, p.tx, obj, rec["id"].(string), p.by, true, olds[i], rec, nil, nil, p.now); err != nil {
			return nil, err
		}
		changes = append(changes, recordChange{old: olds[i], new: rec})
	}
	return changes, nil
}

// newlyBroken refuses the write whose propagation recomputed rec (from
// old): a validation rule of rec that held before and fails now (a
// contract's payment plans grown past its value, a card's points spent
// below zero) refuses it with 422, naming the record and the rule, as
// rec's own write would be refused. A rule that failed before already is
// rec's own problem, not this write's.
func (p *propagator) newlyBroken(ctx context.Context, op *formulas.ObjectProgram, obj *metadata.Object, old, rec map[string]any, res formulas.Resolver) error {
	after, err := op.Validate(ctx, rec, res)
	if err != nil {
		return formulaReadError(obj.Name, err)
	}
	if len(after) == 0 {
		return nil
	}
	before, err := op.Validate(ctx, old, res)
	if err != nil {
		return formulaReadError(obj.Name, err)
	}
	after = slices.DeleteFunc(after, func(f formulas.RuleFailure) bool {
		return slices.ContainsFunc(before, func(b formulas.RuleFailure) bool { return b.Rule == f.Rule })
	})
	if len(after) == 0 {
		return nil
	}
	lang := Language(ctx)
	title := obj.RecordTitle(rec)
	errs := p.e.ruleErrors(ctx, p.snap, after)
	for i := range errs {
		errs[i].Message = fmt.Sprintf(brokenByOtherMessage.Get(lang), obj.Title(lang), title, errs[i].Message)
	}
	return &ValidationError{Object: obj.Name, Errors: errs}
}
