package formulas

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// Resolver reads what formulas need beyond the record itself. The engine
// implements it over the database, in the caller's transaction; both
// methods take many ids at once so a batch of records costs one query per
// lookup path and roll-up, not one per record.
type Resolver interface {
	// Lookup returns the given fields, in storage form, of the records of
	// object with the given ids, keyed by id; ids that do not exist are
	// left out. object is UserObject for users (fields from UserFields;
	// manager is the manager's user id).
	Lookup(ctx context.Context, object string, ids []string, fields []string) (map[string]map[string]any, error)
	// Rollups runs the aggregates specs, which share their child object
	// and lookup (Child and Via), for each parent id, and returns the
	// values of specs[i] per id as its i-th map, as SQL gives them over
	// the storage form: count as an integer, sum and avg over the stored
	// numbers (minor units for currency), min and max as stored values; a
	// parent without matching children may be left out or map to nil.
	// Sharing the child lets a resolver read them together (one query).
	Rollups(ctx context.Context, specs []*RollupSpec, parentIDs []string) ([]map[string]any, error)
	// Find returns field, in storage form, of the first record of object
	// (by id) whose fields keys hold values (vlookup() of a default
	// formula), nil when none does.
	Find(ctx context.Context, object, field string, keys, values []string) (any, error)
}

// ErrEval is matched (with errors.Is) by every error of a formula that
// failed at run time.
var ErrEval = errors.New("formulas: evaluation failed")

// EvalError is a formula that failed at run time (a division of integers
// by zero, an index out of range, a result the field refuses, a budget
// exceeded …). It names the object, the field or rule and, when known, the
// record. A computed or default field whose formula fails is left empty
// and the failure reported beside the results; a validation rule that
// fails counts as a failing rule (RuleFailure.Err).
type EvalError struct {
	Object string
	Field  string // the computed or defaulted field, if any
	Rule   string // the validation rule, if any
	ID     string // the record's id, if it has one yet
	Err    error
}

// Error says what failed and why.
func (e *EvalError) Error() string {
	what := "field " + e.Field
	if e.Rule != "" {
		what = "validation rule " + e.Rule
	}
	return fmt.Sprintf("formulas: %s.%s: %v", e.Object, what, e.Err)
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrEval) true.
func (e *EvalError) Is(target error) bool { return target == ErrEval }

// RuleFailure is a validation rule whose condition was false.
type RuleFailure struct {
	Rule    string         `json:"rule"`
	Field   string         `json:"field,omitempty"`
	Message metadata.Label `json:"message"`
	// Err is set when the rule could not be evaluated (an *EvalError): a
	// rule that cannot be checked does not pass.
	Err *EvalError `json:"-"`
}

type nowKey struct{}

// WithNow returns a context in which formulas evaluate now() and today()
// at t, so that a whole write (or a test) sees one time. t's time zone sets
// the calendar day of today(); stored formulas should use UTC.
func WithNow(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, nowKey{}, t)
}

// nowOf returns the time of ctx, or the current time.
func nowOf(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return time.Now().UTC()
}

// Defaults fills the fields of rec that have a default formula and no
// value (missing or nil) with the formula's value in storage form, in the
// order of the fields, at instant now. A default formula reads rec and,
// through its lookups, the records they point to, which r reads (it may be
// nil when DefaultsRelated is false). A default formula that fails leaves
// its field empty; the failures come back. The error is for what r could
// not read.
func (op *ObjectProgram) Defaults(ctx context.Context, rec map[string]any, now time.Time, r Resolver) ([]*EvalError, error) {
	if op == nil || len(op.defaults) == 0 {
		return nil, nil
	}
	env := make(map[string]any, 8)
	clockValues(env, now)
	id, _ := rec["id"].(string)
	var fails []*EvalError
	for _, p := range op.defaults {
		if v, ok := rec[p.field.Name]; ok && v != nil {
			continue
		}
		var v any
		var err error
		if p.reads.related() {
			var dbErr error
			if v, err, dbErr = op.evalDefaultRelated(ctx, p, rec, now, r); dbErr != nil {
				return fails, dbErr
			}
		} else {
			v, err = op.evalDefault(p, rec, env)
		}
		if err != nil {
			fails = append(fails, &EvalError{Object: op.object.Name, Field: p.field.Name, ID: id, Err: err})
			continue
		}
		rec[p.field.Name] = v
	}
	return fails, nil
}

// DefaultsRelated reports whether a default formula of the object reads a
// record one of its lookups points to, so Defaults needs a Resolver.
func (op *ObjectProgram) DefaultsRelated() bool { return op != nil && op.defaultsRelated }

// evalDefaultRelated evaluates one default formula that reads records
// rec's lookups point to, read by r: a copy of what the creator may read.
// A value read through a lookup that is empty (no record, one r does not
// give, a field r leaves out or one without a value) is nil there, not the
// zero of its type (a copy of nothing is nothing): `??` gives another
// value, and a default that comes out nil, or fails computing with such a
// nil, gives no default. Each vlookup() reads its record through r too.
// err is the formula's failure, dbErr what r could not read.
func (op *ObjectProgram) evalDefaultRelated(ctx context.Context, p *program, rec map[string]any, now time.Time, r Resolver) (v any, err, dbErr error) {
	if r == nil {
		return nil, nil, fmt.Errorf("formulas: the %s reads related records but no resolver was given", p.what)
	}
	envs, err := op.envs(WithNow(ctx, now), []map[string]any{rec}, p.reads, r, true)
	var ee *EvalError
	switch {
	case errors.As(err, &ee):
		return nil, ee.Err, nil
	case err != nil:
		return nil, nil, err
	}
	env := envs[0]
	for _, vl := range p.reads.vlookups {
		if env[vl.key], err = vl.find(ctx, env, r); err != nil {
			return nil, nil, err
		}
	}
	v, err = op.evalComputed(p, env)
	if err != nil && readNil(env, p.reads.paths) {
		return nil, nil, nil
	}
	return v, err, nil
}

// readNil reports whether a value read through the lookups paths is nil
// in env.
func readNil(env map[string]any, paths map[string]*pathNode) bool {
	for name, n := range paths {
		m, _ := env[name].(map[string]any)
		for f := range n.fields {
			if v, ok := m[f]; ok && v == nil {
				return true
			}
		}
		if readNil(m, n.next) {
			return true
		}
	}
	return false
}

// evalDefault evaluates one default formula over rec.
func (op *ObjectProgram) evalDefault(p *program, rec, env map[string]any) (any, error) {
	for f := range p.reads.fields {
		fd, ok := op.object.FieldOrSystem(f)
		if !ok {
			continue
		}
		v, err := toExpr(fd, rec[f])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		env[f] = v
	}
	op.setPicklistVars(env, p.reads)
	out, err := run(p.prog, env)
	if err != nil {
		return nil, positioned(err)
	}
	return toStorage(p.field, out)
}

// Compute evaluates the computed fields of rec (storage form, including
// its id) in dependency order and writes their values into rec in storage
// form, amounts rounded to the field's scale. Related records and roll-ups
// come from r. A field whose formula fails at run time is left empty (nil)
// and the others are still computed (one reading it reads it as empty);
// the failures come back. The error is for what the formulas could not
// read (the resolver's errors).
func (op *ObjectProgram) Compute(ctx context.Context, rec map[string]any, r Resolver) ([]*EvalError, error) {
	return op.ComputeBatch(ctx, []map[string]any{rec}, r)
}

// ComputeBatch is Compute for many records of the object at once, with one
// Resolver call per lookup path and roll-up for the whole batch.
func (op *ObjectProgram) ComputeBatch(ctx context.Context, recs []map[string]any, r Resolver) ([]*EvalError, error) {
	if op == nil {
		return nil, nil
	}
	return op.compute(ctx, recs, r, op.computed, op.reads)
}

// ComputeAfterRollups is ComputeBatch for parent records after a write of
// children that may have changed the roll-ups in stale: it computes only
// the computed fields that read one of them, directly or through another
// computed field of the object, and asks the Resolver only for what those
// fields read. The other computed fields keep the values recs hold: none
// of their inputs changed.
func (op *ObjectProgram) ComputeAfterRollups(ctx context.Context, recs []map[string]any, r Resolver, stale []*RollupSpec) ([]*EvalError, error) {
	if op == nil {
		return nil, nil
	}
	progs, rd := op.affectedBy(stale)
	return op.compute(ctx, recs, r, progs, rd)
}

// ComputeChanged is Compute for a record being updated, changed naming
// the fields whose stored value the update changes: it computes only the
// computed fields whose value may then differ from the one rec holds, those
// that read a changed field (directly or through another computed field),
// the clock, another record (through a lookup: it may have changed since),
// or a roll-up whose condition reads the clock (timed says which); the
// others keep their values. A roll-up over the record's children is kept
// current by the children's writes (the engine recomputes the parent then),
// so an update that changes none of a field's inputs does not run its
// aggregate again.
func (op *ObjectProgram) ComputeChanged(ctx context.Context, rec map[string]any, r Resolver, changed map[string]bool, timed func(*RollupSpec) bool) ([]*EvalError, error) {
	if op == nil {
		return nil, nil
	}
	progs, rd := op.selected(func(p *program, hit map[string]bool) bool {
		if p.reads.clock || len(p.reads.paths) > 0 || slices.ContainsFunc(p.reads.rollups, timed) {
			return true
		}
		for f := range p.reads.fields {
			if changed[f] || hit[f] {
				return true
			}
		}
		return false
	})
	return op.compute(ctx, []map[string]any{rec}, r, progs, rd)
}

// affectedBy returns the computed fields whose value may change when the
// roll-ups in stale do, in evaluation order, and what they read.
func (op *ObjectProgram) affectedBy(stale []*RollupSpec) ([]*program, *reads) {
	return op.selected(func(p *program, hit map[string]bool) bool {
		if slices.ContainsFunc(p.reads.rollups, func(s *RollupSpec) bool { return slices.Contains(stale, s) }) {
			return true
		}
		for f := range p.reads.fields {
			if hit[f] {
				return true
			}
		}
		return false
	})
}

// selected returns the computed fields pick selects, in evaluation order,
// and what they read; pick sees which fields it selected before (hit), so
// that a field reading one of them can be selected too.
func (op *ObjectProgram) selected(pick func(p *program, hit map[string]bool) bool) ([]*program, *reads) {
	hit := map[string]bool{}
	rd := newReads()
	var progs []*program
	for _, p := range op.computed {
		if pick(p, hit) {
			hit[p.field.Name] = true
			progs = append(progs, p)
			rd.merge(p.reads)
		}
	}
	return progs, rd
}

// compute evaluates progs (computed fields, in evaluation order) for recs
// in environments holding what rd reads.
func (op *ObjectProgram) compute(ctx context.Context, recs []map[string]any, r Resolver, progs []*program, rd *reads) ([]*EvalError, error) {
	if len(progs) == 0 || len(recs) == 0 {
		return nil, nil
	}
	envs, err := op.envs(ctx, recs, rd, r, false)
	if err != nil {
		return nil, err
	}
	var fails []*EvalError
	for i, rec := range recs {
		env := envs[i]
		for _, p := range progs {
			v, err := op.evalComputed(p, env)
			if err != nil {
				id, _ := rec["id"].(string)
				fails = append(fails, &EvalError{Object: op.object.Name, Field: p.field.Name, ID: id, Err: err})
				v = nil
			}
			rec[p.field.Name] = v
			if metadata.SingleOption(p.field) {
				op.refreshPicklistVars(env, p.field.Name, v)
			}
			if _, isVar := env[p.field.Name]; isVar && kindOf(p.field) != metadata.KindRef {
				ev, err := toExpr(p.field, v)
				if err != nil {
					// A value toStorage made always reads back; an empty one
					// is the fallback.
					ev, _ = toExpr(p.field, nil)
				}
				env[p.field.Name] = ev
			}
		}
	}
	return fails, nil
}

// evalComputed evaluates one computed field in env, in storage form.
func (op *ObjectProgram) evalComputed(p *program, env map[string]any) (any, error) {
	out, err := run(p.prog, env)
	if err != nil {
		return nil, positioned(err)
	}
	return toStorage(p.field, out)
}

// refreshPicklistVars updates the option() and label() variables of a
// picklist field that was just computed.
func (op *ObjectProgram) refreshPicklistVars(env map[string]any, field string, v any) {
	s, _ := v.(string)
	for k, ov := range op.options {
		if _, used := env[k]; used && len(ov.path) == 1 && ov.path[0] == field {
			if m, ok := ov.values[s]; ok {
				env[k] = m
			} else {
				env[k] = ov.zero
			}
		}
	}
	for k, lv := range op.labels {
		if _, used := env[k]; used && len(lv.path) == 1 && lv.path[0] == field {
			env[k] = lv.labels[s]
		}
	}
}

// Validate checks every validation rule of the object against rec
// (storage form, after Compute) and returns all the rules that fail, in
// their order. A rule that cannot be evaluated fails too, with Err set:
// a rule that cannot be checked must not pass silently. The error is for
// what the rules could not read (the resolver's errors).
func (op *ObjectProgram) Validate(ctx context.Context, rec map[string]any, r Resolver) ([]RuleFailure, error) {
	if op == nil || len(op.rules) == 0 {
		return nil, nil
	}
	envs, err := op.envs(ctx, []map[string]any{rec}, op.reads, r, false)
	if err != nil {
		return nil, err
	}
	id, _ := rec["id"].(string)
	var out []RuleFailure
	for _, p := range op.rules {
		fail := RuleFailure{Rule: p.rule.Name, Field: p.rule.Field, Message: p.rule.Message}
		v, err := run(p.prog, envs[0])
		if err != nil {
			fail.Err = &EvalError{Object: op.object.Name, Rule: p.rule.Name, ID: id, Err: positioned(err)}
		} else if ok, _ := v.(bool); ok {
			continue
		}
		out = append(out, fail)
	}
	return out, nil
}

// Matches reports whether a child record (storage form) meets the
// roll-up's condition at time now; it is true when there is none. The
// engine uses it to skip recomputing parents for children that match
// neither before nor after a change.
func (s *RollupSpec) Matches(child map[string]any, childObject *metadata.Object, now time.Time) (bool, error) {
	if s.cond == nil {
		return true, nil
	}
	env := make(map[string]any, len(s.creds.fields)+2)
	clockValues(env, now)
	for f := range s.creds.fields {
		fd, ok := childObject.FieldOrSystem(f)
		if !ok {
			continue
		}
		v, err := toExpr(fd, child[f])
		if err != nil {
			return false, err
		}
		env[f] = v
	}
	out, err := run(s.cond, env)
	if err != nil {
		return false, &EvalError{Object: s.Object, Field: s.Field, Rule: s.Rule, Err: positioned(err)}
	}
	b, _ := out.(bool)
	return b, nil
}

// slot is a map of an environment waiting for the record a lookup points
// to.
type slot struct {
	m  map[string]any
	id string
}

// envs builds the environments of a batch of records for what rd reads.
// With nilEmpty, a value read through a lookup that is empty (no record,
// or a field without a value) is nil instead of its type's zero.
func (op *ObjectProgram) envs(ctx context.Context, recs []map[string]any, rd *reads, r Resolver, nilEmpty bool) ([]map[string]any, error) {
	now := nowOf(ctx)
	envs := make([]map[string]any, len(recs))
	pending := map[*pathNode][]slot{}
	for i, rec := range recs {
		env := make(map[string]any, len(rd.fields)+len(rd.options)+len(rd.labels)+len(rd.rollups)+2)
		clockValues(env, now)
		if err := assign(env, op.object.Name, rec, rd.fields, rd.paths, pending, op.fieldDef, false); err != nil {
			return nil, &EvalError{Object: op.object.Name, Err: err}
		}
		envs[i] = env
	}
	if err := op.resolve(ctx, r, pending, nilEmpty); err != nil {
		return nil, err
	}
	for _, env := range envs {
		op.setPicklistVars(env, rd)
	}
	if err := op.rollupValues(ctx, r, recs, envs, rd.rollups); err != nil {
		return nil, err
	}
	return envs, nil
}

// setPicklistVars sets the option() and label() variables rd reads from
// the values already in env.
func (op *ObjectProgram) setPicklistVars(env map[string]any, rd *reads) {
	for k := range rd.options {
		ov := op.options[k]
		v, _ := pathValue(env, ov.path).(string)
		if m, ok := ov.values[v]; ok {
			env[k] = m
		} else {
			env[k] = ov.zero
		}
	}
	for k := range rd.labels {
		lv := op.labels[k]
		v, _ := pathValue(env, lv.path).(string)
		env[k] = lv.labels[v]
	}
}

// pathValue reads a.b.c from an environment.
func pathValue(env map[string]any, path []string) any {
	var v any = env
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// fieldDef returns the definition of a field of object (or of a user).
func (op *ObjectProgram) fieldDef(object, name string) (*metadata.Field, bool) {
	if object == UserObject {
		return userField(name), true
	}
	if object == op.object.Name {
		return op.object.FieldOrSystem(name)
	}
	return nil, false
}

// assign sets in m the values of fields of row (a record of object) and
// queues the lookups followed further; with nilEmpty, an empty value
// (other than a lookup's, followed further) is nil.
func assign(m map[string]any, object string, row map[string]any, fields map[string]bool, next map[string]*pathNode, pending map[*pathNode][]slot, def func(object, name string) (*metadata.Field, bool), nilEmpty bool) error {
	for f := range fields {
		fd, ok := def(object, f)
		if !ok {
			continue
		}
		raw := row[f]
		if f == "owner_id" {
			id, _ := raw.(string)
			if _, own := def(object, OwnerField); !own {
				um := map[string]any{"id": id}
				m[OwnerField] = um
				if n := next[OwnerField]; n != nil {
					pending[n] = append(pending[n], slot{m: um, id: id})
				}
			}
		}
		if kindOf(fd) == metadata.KindRef {
			id, _ := raw.(string)
			lm := map[string]any{"id": id}
			m[f] = lm
			if n := next[f]; n != nil {
				pending[n] = append(pending[n], slot{m: lm, id: id})
			}
			continue
		}
		if raw == nil && nilEmpty {
			m[f] = nil
			continue
		}
		v, err := toExpr(fd, raw)
		if err != nil {
			return fmt.Errorf("reading %s.%s: %w", object, f, err)
		}
		m[f] = v
	}
	return nil
}

// resolve fetches the records lookups point to, one Resolver call per path
// node, level by level.
func (op *ObjectProgram) resolve(ctx context.Context, r Resolver, pending map[*pathNode][]slot, nilEmpty bool) error {
	for len(pending) > 0 {
		nextLevel := map[*pathNode][]slot{}
		for node, slots := range pending {
			seen := map[string]bool{}
			var ids []string
			for _, s := range slots {
				if s.id != "" && !seen[s.id] {
					seen[s.id] = true
					ids = append(ids, s.id)
				}
			}
			sort.Strings(ids)
			fields := sortedKeys(node.fields)
			var rows map[string]map[string]any
			if len(ids) > 0 {
				if r == nil {
					return fmt.Errorf("formulas: %s reads %s records but no resolver was given", op.object.Name, node.object)
				}
				var err error
				rows, err = r.Lookup(ctx, node.object, ids, fields)
				if err != nil {
					return fmt.Errorf("formulas: read %s for %s: %w", node.object, op.object.Name, err)
				}
			}
			def := op.schemaFieldDef
			for _, s := range slots {
				row := rows[s.id]
				if err := assign(s.m, node.object, row, node.fields, node.next, nextLevel, def, nilEmpty); err != nil {
					return &EvalError{Object: op.object.Name, Err: err}
				}
			}
		}
		pending = nextLevel
	}
	return nil
}

// schemaFieldDef returns the definition of a field of any object of the
// schema, or of a user.
func (op *ObjectProgram) schemaFieldDef(object, name string) (*metadata.Field, bool) {
	if object == UserObject {
		return userField(name), true
	}
	if op.schema == nil {
		return nil, false
	}
	o, ok := op.schema.Object(object)
	if !ok {
		return nil, false
	}
	if name == OwnerField && !hasOwnField(o, OwnerField) {
		return nil, false
	}
	return o.FieldOrSystem(name)
}

// rollupValues asks the resolver for the roll-ups of the batch, those over
// one child object together, and sets the variables.
func (op *ObjectProgram) rollupValues(ctx context.Context, r Resolver, recs []map[string]any, envs []map[string]any, specs []*RollupSpec) error {
	if len(specs) == 0 {
		return nil
	}
	var ids []string
	for _, rec := range recs {
		if id, _ := rec["id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	for _, group := range byChild(specs) {
		var res []map[string]any
		if len(ids) > 0 {
			if r == nil {
				return fmt.Errorf("formulas: %s has roll-ups but no resolver was given", op.object.Name)
			}
			var err error
			if res, err = r.Rollups(ctx, group, ids); err != nil {
				return fmt.Errorf("formulas: roll-ups of %s over %s: %w", op.object.Name, group[0].Child, err)
			}
		}
		for j, s := range group {
			var vals map[string]any
			if res != nil {
				vals = res[j]
			}
			if err := s.setValues(op.object.Name, recs, envs, vals); err != nil {
				return err
			}
		}
	}
	return nil
}

// byChild groups roll-ups by their child object and lookup, in the order
// each group first appears.
func byChild(specs []*RollupSpec) [][]*RollupSpec {
	if len(specs) == 1 {
		return [][]*RollupSpec{specs}
	}
	var out [][]*RollupSpec
	at := map[[2]string]int{}
	for _, s := range specs {
		k := [2]string{s.Child, s.Via}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], s)
	}
	return out
}

// setValues sets the roll-up's variable in the environment of each
// record of object from vals, the values the resolver read for it by
// parent id (nil when no record has an id yet).
func (s *RollupSpec) setValues(object string, recs, envs []map[string]any, vals map[string]any) error {
	for i, rec := range recs {
		id, _ := rec["id"].(string)
		v, err := s.value2expr(vals[id])
		if err != nil {
			return &EvalError{Object: object, Field: s.Field, Rule: s.Rule, Err: fmt.Errorf("roll-up %s(%s): %w", s.Func, s.Child, err)}
		}
		envs[i][s.key] = v
	}
	return nil
}

// value2expr converts an aggregate from the database into the value the
// formula reads: count and sums of integers as int, sums and averages as
// float64 (amounts in major units), min and max as the field reads; no
// children give 0 (or an empty date).
func (s *RollupSpec) value2expr(v any) (any, error) {
	if s.Func == "count" {
		if v == nil {
			return 0, nil
		}
		f, err := anyNumber(v)
		return int(f), err
	}
	k := kindOf(s.value)
	if s.Func == "min" || s.Func == "max" {
		if v == nil {
			return zeroValue(k), nil
		}
		if k == metadata.KindMoney || k == metadata.KindInt {
			f, err := anyNumber(v)
			if err != nil {
				return nil, err
			}
			v = int64(math.Round(f))
		}
		return toExpr(s.value, v)
	}
	if v == nil {
		if s.Func == "sum" && k == metadata.KindInt {
			return 0, nil
		}
		return 0.0, nil
	}
	f, err := anyNumber(v)
	if err != nil {
		return nil, err
	}
	if k == metadata.KindMoney {
		scale := s.value.ScaleOr(metadata.DefaultCurrencyScale)
		if s.Func == "sum" {
			return minorToFloat(int64(math.Round(f)), scale), nil
		}
		return f / math.Pow10(scale), nil
	}
	if s.Func == "sum" && k == metadata.KindInt {
		return int(f), nil
	}
	return f, nil
}

// anyNumber reads a number as a driver may return it.
func anyNumber(v any) (float64, error) {
	switch x := v.(type) {
	case []byte:
		return strconv.ParseFloat(string(x), 64)
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return toFloat(v)
}
