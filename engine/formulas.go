package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// FormulasCompiler names the compiled formulas in a snapshot:
// Snapshot.Compiled(FormulasCompiler) is the snapshot's *formulas.Compiled.
const FormulasCompiler = "formulas"

// UseFormulas makes the engine evaluate the formulas of the metadata
// (every metadata version is compiled by check.Schema, and one whose
// formulas do not compile is refused by ApplySchema, Check and Reload):
//   - on create, default formulas fill the fields left empty; on create and
//     update, after the before-hooks, computed fields are computed and the
//     validation rules checked, all failing rules reported together with
//     the record's other problems in one ValidationError (the write path
//     calls formulaDefaults and formulaCompute);
//   - after a write, the computed fields that depend on the written record
//     are recomputed in the same transaction (formulas_propagate.go);
//   - a metadata change that adds or changes computed fields queues a
//     recomputation of the stored values as a job of kind RecomputeKind
//     (formulas_recompute.go).
//
// A computed or default field whose formula fails at run time (a division
// by zero, an index out of range …) is left empty and the failure logged
// once per formula and metadata version; it never blocks the write or the
// other fields. A validation rule that cannot be evaluated fails the write
// with a 422 naming the rule.
//
// Call it once, at wiring time, before serving.
func (e *Engine) UseFormulas(ctx context.Context) error {
	e.jobs.Register(e.recomputeKind())
	if err := e.adoptLegacyRecomputes(ctx); err != nil {
		return err
	}
	e.OnAfter(OpCreate, "*", e.formulasAfter)
	e.OnAfter(OpUpdate, "*", e.formulasAfter)
	e.OnBefore(OpDelete, "*", e.formulasBeforeDelete)
	e.OnAfter(OpDelete, "*", e.formulasAfter)
	e.mu.Lock()
	e.recomputes = true
	e.mu.Unlock()
	return nil
}

// Formulas returns the formulas compiled from the snapshot's schema, nil
// for a nil snapshot or one compiled without them.
func (s *Snapshot) Formulas() *formulas.Compiled {
	if s == nil {
		return nil
	}
	c, _ := s.Compiled(FormulasCompiler).(*formulas.Compiled)
	return c
}

// formulaDefaults fills the fields of rec (storage form), a record created
// at now, that have a default formula and no value: the formulas see the
// instant of its created_at. The write path calls it before its own
// checks, so that a required field with a default formula is filled before
// it is found missing. A default formula that fails leaves its field
// empty (logged).
func (e *Engine) formulaDefaults(ctx context.Context, w *Writer, obj *metadata.Object, rec map[string]any, now time.Time) error {
	snap := w.rights.snap
	op := snap.Formulas().Object(obj.Name)
	var r formulas.Resolver
	if op.DefaultsRelated() {
		// The value is copied into the principal's record: it reads only
		// what the principal may read.
		r = &formulaResolver{e: e, q: w.tx, snap: snap, now: now, reader: w.rights}
	}
	fails, err := op.Defaults(ctx, rec, now, r)
	e.formulaFailed(snap, fails)
	if err != nil {
		return formulaReadError(obj.Name, err)
	}
	return nil
}

// formulaCompute computes the computed fields of rec (storage form) in tx
// and checks the validation rules, returning the failing rules as field
// errors (code "rule.NAME", in the request's language), so the write path
// can report them together with its other problems in one
// ValidationError. A computed field that fails at run time is left empty
// (logged); a rule that cannot be evaluated fails with a message saying
// so. A database error is returned as is. When created is set, rec is a
// record being created: no record can point to it yet, so its roll-ups
// are those of no children, without asking the database. Records the
// unit's batch read at once (batchReads) are not read again.
func (e *Engine) formulaCompute(ctx context.Context, ev *Event) ([]FieldError, error) {
	snap, obj, rec, created := ev.Snapshot, ev.Object, ev.New, ev.Op == OpCreate
	op := snap.Formulas().Object(obj.Name)
	if !op.HasFormulas() {
		return nil, nil
	}
	if created && op.FreshOnly() {
		_, err := op.ComputeNew(ctx, rec, nil)
		return nil, err
	}
	now := e.now().UTC()
	ctx = formulas.WithNow(ctx, now)
	res := &formulaResolver{e: e, q: ev.Tx, snap: snap, now: now}
	if ev.Writer != nil {
		res.batch, res.rows = ev.Writer.batch, ev.Writer.rows
	}
	compute := op.Compute
	switch {
	case created:
		res.childless, _ = rec["id"].(string)
		compute = op.ComputeNew
	case ev.Op == OpUpdate && ev.Old != nil:
		changed := changedFields(ev.Old, rec)
		compute = func(ctx context.Context, rec map[string]any, r formulas.Resolver) ([]*formulas.EvalError, error) {
			return op.ComputeChanged(ctx, rec, r, changed, res.timedRollup)
		}
	}
	fails, err := compute(ctx, rec, res)
	if err != nil {
		return nil, formulaReadError(obj.Name, err)
	}
	e.formulaFailed(snap, fails)
	rules, err := op.Validate(ctx, rec, res)
	if err != nil {
		return nil, formulaReadError(obj.Name, err)
	}
	return e.ruleErrors(ctx, snap, rules), nil
}

// ruleErrors turns failing validation rules into field errors (code
// "rule.NAME", in the request's language); a rule that could not be
// evaluated says so (and is logged).
func (e *Engine) ruleErrors(ctx context.Context, snap *Snapshot, rules []formulas.RuleFailure) []FieldError {
	out := make([]FieldError, 0, len(rules))
	lang := Language(ctx)
	for _, f := range rules {
		msg := f.Message.Get(lang)
		if f.Err != nil {
			e.formulaFailed(snap, []*formulas.EvalError{f.Err})
			msg = fmt.Sprintf(ruleFailedMessage.Get(lang), f.Rule, f.Err.Err)
		}
		out = append(out, FieldError{Field: f.Field, Code: "rule." + f.Rule, Message: msg})
	}
	return out
}

// changedFields names the fields (system fields too) whose stored value
// differs between old and rec, two forms of one record in storage form.
func changedFields(old, rec map[string]any) map[string]bool {
	changed := map[string]bool{}
	for k, v := range rec {
		if !reflect.DeepEqual(old[k], v) {
			changed[k] = true
		}
	}
	for k, v := range old {
		if _, ok := rec[k]; !ok && v != nil {
			changed[k] = true
		}
	}
	return changed
}

// formulaReadError turns a stored value formulas could not read (an
// *formulas.EvalError naming no formula) into a ValidationError (422);
// other errors, the database's, are wrapped.
func formulaReadError(object string, err error) error {
	var ee *formulas.EvalError
	if errors.As(err, &ee) {
		return &ValidationError{Object: object, Errors: []FieldError{{Field: ee.Field, Code: "formula", Message: ee.Error()}}}
	}
	return fmt.Errorf("engine: formulas of %s: %w", object, err)
}

// ruleFailedMessage says that a validation rule could not be evaluated
// (the rule's name, then the cause).
var ruleFailedMessage = metadata.Label{
	"en": "the validation rule %s could not be evaluated: %v",
	"zh": "校验规则 %s 无法计算：%v",
}

// brokenByOtherMessage says that a write would make another record (the
// object's label, the record's title) break its validation rule (the
// rule's message).
var brokenByOtherMessage = metadata.Label{
	"en": "this change would leave %s %q invalid: %s",
	"zh": "此修改会使%s“%s”不再有效：%s",
}

// formulaFailure identifies a formula of a metadata version, so that its
// run-time failures are logged once.
type formulaFailure struct {
	version             int64
	object, field, rule string
}

// formulaFailed logs formulas that failed at run time, once per formula
// and metadata version, with the first record they failed on.
func (e *Engine) formulaFailed(snap *Snapshot, fails []*formulas.EvalError) {
	for _, f := range fails {
		key := formulaFailure{snap.Version, f.Object, f.Field, f.Rule}
		if _, seen := e.formulaFailures.LoadOrStore(key, true); seen {
			continue
		}
		what, name := "field", f.Field
		if f.Rule != "" {
			what, name = "rule", f.Rule
		}
		e.log.Warn("formula failed at run time; the field is left empty (logged once per formula and metadata version)",
			"object", f.Object, what, name, "record", f.ID, "version", snap.Version, "err", f.Err)
	}
}

// formulaResolver reads related records and roll-ups for formulas, in the
// write's transaction.
type formulaResolver struct {
	e    *Engine
	q    store.Querier
	snap *Snapshot
	now  time.Time
	// childless is the id of a record being created, which has no
	// children to aggregate.
	childless string
	// batch holds records read at once for the unit's batch, valid as
	// long as rows shows no change of theirs since; nil outside a batch.
	batch *batchReads
	rows  *rowLog
	// reader, when set, is the permission decision of the principal the
	// values are read for: records it may not read are missing, and
	// fields it may not read are empty. Nil reads as the system.
	reader *Rights
	// shares, when set, are what a propagation's child writes add to the
	// roll-ups kept by shares, and stored the parents' rows as stored
	// before, by id (fromShares).
	shares rollupShares
	stored map[string]map[string]any
}

var _ formulas.Resolver = (*formulaResolver)(nil)

// Lookup reads fields of records of object by id; users come from
// engine/access.
func (r *formulaResolver) Lookup(ctx context.Context, object string, ids []string, fields []string) (map[string]map[string]any, error) {
	if object == formulas.UserObject {
		return access.UserValues(ctx, r.q, r.e.db.Dialect, ids, fields)
	}
	obj, err := r.snap.Object(object)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(ids))
	ids = r.batch.lookup(r.rows, object, ids, fields, out)
	if len(ids) == 0 {
		return out, nil
	}
	rule, fields, err := r.readable(ctx, object, fields)
	if err != nil || rule.SQL == access.MatchNone {
		return out, err
	}
	exprs := make([]string, 0, len(fields)+1)
	for _, f := range append([]string{"id"}, fields...) {
		if fieldDef(obj, f) == nil {
			return nil, fmt.Errorf("engine: %s has no field %q", object, f)
		}
		exprs = append(exprs, store.Ident(f))
	}
	read := func(chunk []string) error {
		q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + store.Ident(object) + where(rule.SQL, store.In(`"id"`, len(chunk)))
		rows, err := r.e.db.Query(ctx, r.q, store.Rebind(r.e.db.Dialect, q), append(slices.Clone(rule.Args), anySlice(chunk)...)...)
		if err != nil {
			return fmt.Errorf("engine: read %s for formulas: %w", object, err)
		}
		raws, err := store.ScanMaps(rows)
		if err != nil {
			return err
		}
		for _, raw := range raws {
			row, err := toStorage(obj, raw)
			if err != nil {
				return err
			}
			id, _ := row["id"].(string)
			out[id] = row
		}
		return nil
	}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		if err := read(chunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Find reads field of the first record of object (by id) whose keys hold
// values (vlookup() of a default formula), nil when none does, as the
// reader may: a record it may not read does not match, and a field it may
// not read, to give or to match on, gives nil.
func (r *formulaResolver) Find(ctx context.Context, object, field string, keys, values []string) (any, error) {
	obj, err := r.snap.Object(object)
	if err != nil {
		return nil, err
	}
	rule, readable, err := r.readable(ctx, object, append([]string{field}, keys...))
	if err != nil || rule.SQL == access.MatchNone || len(readable) != len(keys)+1 {
		return nil, err
	}
	conds := append(make([]string, 0, len(keys)+1), rule.SQL)
	args := slices.Clone(rule.Args)
	for i, k := range keys {
		conds = append(conds, store.Ident(k)+" = ?")
		args = append(args, values[i])
	}
	q := "SELECT " + store.Ident(field) + " FROM " + store.Ident(object) + where(conds...) + ` ORDER BY "id" LIMIT 1`
	rows, err := r.e.db.Query(ctx, r.q, store.Rebind(r.e.db.Dialect, q), args...)
	if err != nil {
		return nil, fmt.Errorf("engine: find %s for formulas: %w", object, err)
	}
	raws, err := store.ScanMaps(rows)
	if err != nil || len(raws) == 0 {
		return nil, err
	}
	row, err := toStorage(obj, raws[0])
	if err != nil {
		return nil, err
	}
	return row[field], nil
}

// readable returns the condition on object's rows and the fields of
// fields a lookup reads: every row and field for the system (no reader),
// otherwise those the reader may read (access.MatchNone when it may read
// no record of object).
func (r *formulaResolver) readable(ctx context.Context, object string, fields []string) (query.Predicate, []string, error) {
	if r.reader == nil {
		return query.Predicate{}, fields, nil
	}
	s, err := r.reader.ScopeFor(object, metadata.ActionRead)
	if errors.Is(err, ErrForbidden) {
		return query.Predicate{SQL: access.MatchNone}, nil, nil
	}
	if err != nil {
		return query.Predicate{}, nil, err
	}
	rule, err := s.Predicate(ctx, metadata.ActionRead)
	if errors.Is(err, ErrForbidden) {
		return query.Predicate{SQL: access.MatchNone}, nil, nil
	}
	if err != nil {
		return query.Predicate{}, nil, err
	}
	return rule, slices.DeleteFunc(slices.Clone(fields), func(f string) bool { return !s.Readable(f) }), nil
}

// rollupCondKey names a roll-up's compiled condition in a snapshot.
type rollupCondKey struct {
	dialect string
	spec    *formulas.RollupSpec
}

// rollupCondition returns the SQL predicate of spec's condition over its
// child object, compiled once per snapshot and dialect; a condition that
// reads the clock (today(), a relative date range) is compiled at the
// resolver's instant every time.
func (r *formulaResolver) rollupCondition(spec *formulas.RollupSpec, child *metadata.Object) (query.Predicate, error) {
	pred, _, err := r.compileRollupCondition(spec, child)
	return pred, err
}

// compileRollupCondition is rollupCondition, which also reports whether
// the condition reads the clock.
func (r *formulaResolver) compileRollupCondition(spec *formulas.RollupSpec, child *metadata.Object) (query.Predicate, bool, error) {
	key := rollupCondKey{r.e.db.Dialect, spec}
	if p, ok := r.snap.rollupConds.Load(key); ok {
		return p.(query.Predicate), false, nil
	}
	pred, timed, err := query.CompileFilterNow(spec.Condition, child, query.Options{Dialect: r.e.db.Dialect, Now: r.now, Schema: r.snap.Schema})
	if err != nil {
		return query.Predicate{}, false, fmt.Errorf("engine: condition of roll-up %s.%s: %w", spec.Object, spec.Field, err)
	}
	if !timed {
		r.snap.rollupConds.Store(key, pred)
	}
	return pred, timed, nil
}

// timedRollup reports whether spec's condition reads the clock (today, a
// relative date range): its value changes with time, not only with the
// children's writes. A condition that does not compile counts as timed,
// so that the roll-up runs and says what is wrong.
func (r *formulaResolver) timedRollup(spec *formulas.RollupSpec) bool {
	if spec.Condition == "" {
		return false
	}
	child, ok := r.snap.Schema.Object(spec.Child)
	if !ok {
		return true
	}
	_, timed, err := r.compileRollupCondition(spec, child)
	return timed || err != nil
}

// Rollups runs aggregates over one child object's records in SQL, grouped
// by parent, in one query; a parent being created has none. One roll-up
// filters the children in the WHERE clause, as an index may serve; several
// read the same children once, each counting or adding only those its
// condition holds for (CASE WHEN), which gives what separate queries would:
// no matching children is a NULL sum and a zero count.
//
// Roll-ups kept by shares are answered from the parents' stored values
// instead where the resolver has them (fromShares).
func (r *formulaResolver) Rollups(ctx context.Context, specs []*formulas.RollupSpec, parentIDs []string) ([]map[string]any, error) {
	if r.childless != "" && slices.Contains(parentIDs, r.childless) {
		if len(parentIDs) == 1 {
			return make([]map[string]any, len(specs)), nil // the usual case, a create: nothing to read
		}
		parentIDs = slices.DeleteFunc(slices.Clone(parentIDs), func(id string) bool { return id == r.childless })
	}
	out := make([]map[string]any, len(specs))
	var counted []*formulas.RollupSpec
	var at []int
	for i, sp := range specs {
		if vals, ok := r.fromShares(sp, parentIDs); ok {
			out[i] = vals
			continue
		}
		counted, at = append(counted, sp), append(at, i)
	}
	if len(counted) == 0 {
		return out, nil
	}
	vals, err := r.aggregate(ctx, counted, parentIDs)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = vals[j]
	}
	return out, nil
}

// aggregate runs roll-ups of one child object and lookup in SQL for the
// parents ids, in one query per store.MaxInList parents (Rollups).
func (r *formulaResolver) aggregate(ctx context.Context, specs []*formulas.RollupSpec, parentIDs []string) ([]map[string]any, error) {
	st, err := r.rollupStatement(specs)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(specs))
	for i := range out {
		out[i] = make(map[string]any, len(parentIDs))
	}
	read := func(chunk []string) error {
		q, args := st.query(chunk)
		rows, err := r.e.db.Query(ctx, r.q, store.Rebind(r.e.db.Dialect, q), store.Args(r.e.db.Dialect, args)...)
		if err != nil {
			return fmt.Errorf("engine: roll-ups over %s: %w", specs[0].Child, err)
		}
		defer rows.Close()
		var parent string
		vals := make([]any, len(specs))
		dest := make([]any, 1+len(specs))
		dest[0] = &parent
		for i := range vals {
			dest[1+i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			for i, v := range vals {
				out[i][parent] = v
			}
		}
		return rows.Err()
	}
	for chunk := range slices.Chunk(parentIDs, store.MaxInList) {
		if err := read(chunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rollupStmt is the statement that computes roll-ups of one child object
// through one lookup (formulaResolver.Rollups), for any parents.
type rollupStmt struct {
	child, via string
	aggs       []string
	// aggArgs are the arguments of aggs' conditions; cond, with condArgs,
	// is the condition of a lone roll-up, in the WHERE clause.
	aggArgs, condArgs []any
	cond              string
}

// rollupStatement prepares the statement of specs, roll-ups of one child
// object through one lookup.
func (r *formulaResolver) rollupStatement(specs []*formulas.RollupSpec) (*rollupStmt, error) {
	child, err := r.snap.Object(specs[0].Child)
	if err != nil {
		return nil, err
	}
	st := &rollupStmt{child: child.Name, via: specs[0].Via, aggs: make([]string, len(specs))}
	for i, spec := range specs {
		value := "*"
		if spec.Func != "count" {
			value = store.Ident(spec.ValueField)
		}
		if spec.Condition != "" {
			pred, err := r.rollupCondition(spec, child)
			if err != nil {
				return nil, err
			}
			if len(specs) == 1 {
				st.cond, st.condArgs = pred.SQL, pred.Args
			} else {
				if value == "*" {
					value = "1"
				}
				value = "CASE WHEN " + pred.SQL + " THEN " + value + " END"
				st.aggArgs = append(st.aggArgs, pred.Args...)
			}
		}
		st.aggs[i] = strings.ToUpper(spec.Func) + "(" + value + ")"
	}
	return st, nil
}

// query returns the statement computing the roll-ups of the parents ids
// (at most store.MaxInList) and its arguments; each row it gives is a
// parent's id and its roll-ups' values, in the order of the specs.
func (st *rollupStmt) query(ids []string) (string, []any) {
	via := store.Ident(st.via)
	q := "SELECT " + via + ", " + strings.Join(st.aggs, ", ") + " FROM " + store.Ident(st.child) + where(store.In(via, len(ids)), st.cond) + " GROUP BY " + via
	return q, append(append(slices.Clip(st.aggArgs), anySlice(ids)...), st.condArgs...)
}
