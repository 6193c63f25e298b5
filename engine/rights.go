package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Rights is the permission decision of one principal at one metadata
// snapshot, made once per request: every reader (lists, reports, exports,
// expand, forms, reminders) and every write takes its Scope of an object
// from it, so nothing decides twice and nothing decides differently.
// It is safe for concurrent use.
type Rights struct {
	e    *Engine
	snap *Snapshot
	d    Decision
	p    *access.Principal

	mu sync.Mutex
	// first is the Scope of the first object asked for, scopes those of
	// the others: most requests use one object.
	first  *Scope
	scopes map[string]*Scope
	levels map[fieldKey]metadata.FieldLevel
}

// fieldKey names a field of an object.
type fieldKey struct{ object, field string }

// Scope is what one principal may do with one object: the object rights
// (record operations and named actions), the record predicate of each
// action, and the level of every field (hidden, read_only or editable) with
// the rule for computed fields applied (docs/permissions.md).
type Scope struct {
	r   *Rights
	obj *metadata.Object
	*fieldAccess
}

// fieldAccess is what a principal sees of an object's fields: the same for
// every principal with the same roles under one decision and snapshot, so
// it is worked out once and shared (fieldCache).
type fieldAccess struct {
	levels map[string]metadata.FieldLevel

	readOnce sync.Once
	// readable holds the definition and type of every column the
	// principal may read, for converting rows.
	readable map[string]colDef
	// readCols lists the columns a read selects, by dialect, readDefs
	// their definitions in the same order, and readList the columns
	// quoted for a SELECT.
	readCols map[string][]string
	readDefs map[string][]colDef
	readList map[string]string
	// tableDefs is, by dialect, a definition for every column of the
	// object's table in its order (the system fields, then the fields
	// with a column), the zero colDef for one the principal may not read.
	tableDefs map[string][]colDef
	// readLinks lists the many-to-many fields the principal may read
	// (their values are in link tables, not columns), and readLinkList
	// selects their links with the row (Scope.linkList).
	readLinks    []*metadata.Field
	readLinkList string
	// blank is, by dialect, the record the principal reads of a row
	// without values: each column's empty answer (colDef.empty), no
	// links. An answer starts as its copy and sets the columns that have
	// values.
	blank map[string]Record
}

// colDef is a column of an object's table: a field or a system field and
// its type.
type colDef struct {
	f   *metadata.Field
	typ metadata.FieldType
	// empty is the answer of the column's empty value (null for every
	// type so far), which the blank record holds when hasEmpty.
	empty    any
	hasEmpty bool
}

// reads works out, once, what the principal reads of the object.
func (s *Scope) reads() {
	s.readOnce.Do(func() {
		s.readable = make(map[string]colDef, len(s.levels))
		s.readCols = map[string][]string{}
		s.readDefs = map[string][]colDef{}
		s.tableDefs = map[string][]colDef{}
		add := func(f *metadata.Field) {
			c := colDef{f: f, typ: metadata.TypeOf(f)}
			readable := s.Readable(f.Name)
			if readable {
				out, err := c.typ.Output(f, nil)
				c.empty, c.hasEmpty = out, err == nil
				s.readable[f.Name] = c
			}
			for _, d := range []string{metadata.DialectSQLite, metadata.DialectPostgres} {
				if c.typ.Column(d, f) == "" {
					continue
				}
				if !readable {
					s.tableDefs[d] = append(s.tableDefs[d], colDef{})
					continue
				}
				s.tableDefs[d] = append(s.tableDefs[d], c)
				s.readCols[d] = append(s.readCols[d], f.Name)
				s.readDefs[d] = append(s.readDefs[d], c)
			}
		}
		for _, name := range metadata.SystemFields {
			f, _ := metadata.SystemField(name)
			add(f)
		}
		for _, f := range s.obj.Fields {
			add(f)
			if metadata.Linked(f) && s.Readable(f.Name) {
				s.readLinks = append(s.readLinks, f)
			}
		}
		s.readList = map[string]string{}
		for d, cols := range s.readCols {
			s.readList[d] = query.SelectList(cols)
		}
		for _, f := range s.readLinks {
			s.readLinkList += ", " + linksColumn(s.obj.Name, f.Name)
		}
		s.blank = map[string]Record{}
		for d, defs := range s.readDefs {
			b := make(Record, len(defs)+len(s.readLinks))
			for _, c := range defs {
				if c.hasEmpty {
					b[c.f.Name] = c.empty
				}
			}
			for _, f := range s.readLinks {
				b[f.Name] = noLinks
			}
			s.blank[d] = b
		}
	})
}

// maxCachedFieldAccess bounds fieldCache: past it, the cache starts again.
const maxCachedFieldAccess = 4096

// fieldCache keeps the fieldAccess of each (roles, object) under the
// newest decision and snapshot: field levels are decided per request, and
// working them out for every field of an object (the rule for computed
// fields walks their inputs) cost more than the rest of reading a record.
type fieldCache = decisionCache[fieldAccessKey, *fieldAccess]

// fieldAccessKey names a set of roles (or the system) and an object.
type fieldAccessKey struct{ who, object string }

// decisionCache keeps values under the newest decision and snapshot: a
// new decision or snapshot empties it, and so does reaching its bound.
// Only a Decision that is a pointer is cached by (it names one unchanging
// decision).
type decisionCache[K comparable, V any] struct {
	mu   sync.Mutex
	d    Decision
	snap *Snapshot
	m    map[K]V
}

// get returns the value cached for key under d and snap, or the zero
// value.
func (c *decisionCache[K, V]) get(d Decision, snap *Snapshot, key K) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d != d || c.snap != snap {
		var zero V
		return zero
	}
	return c.m[key]
}

// put caches v for key under d and snap, when d is a pointer, keeping at
// most bound values.
func (c *decisionCache[K, V]) put(d Decision, snap *Snapshot, key K, v V, bound int) {
	if reflect.TypeOf(d).Kind() != reflect.Pointer {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d != d || c.snap != snap || len(c.m) >= bound {
		c.d, c.snap, c.m = d, snap, map[K]V{}
	}
	c.m[key] = v
}

// who names what field levels depend on in p: its roles, or the system.
func who(p *access.Principal) string {
	if p.System {
		return "\x00system"
	}
	if len(p.Roles) == 1 {
		return p.Roles[0]
	}
	return strings.Join(p.Roles, "\x00")
}

// Rights returns the permission decision of p at the current metadata
// snapshot.
func (e *Engine) Rights(ctx context.Context, p *access.Principal) (*Rights, error) {
	if p == nil {
		return nil, ErrUnauthenticated
	}
	return e.rightsAt(ctx, e.Snapshot(), p)
}

// rightsAt decides for p at snapshot snap.
func (e *Engine) rightsAt(ctx context.Context, snap *Snapshot, p *access.Principal) (*Rights, error) {
	d, err := e.guard.Decide(ctx, snap.Schema)
	if err != nil {
		return nil, fmt.Errorf("engine: permissions: %w", err)
	}
	return (&Rights{e: e, snap: snap, d: d}).with(p), nil
}

// For returns the decision for another principal at the same snapshot: a
// webhook's data read as its run-as user inside the unit of work that
// caused the event. It grants nothing the other principal does not hold.
func (r *Rights) For(p *access.Principal) *Rights { return r.with(p) }

// with returns the decision for another principal at the same snapshot.
func (r *Rights) with(p *access.Principal) *Rights {
	return &Rights{e: r.e, snap: r.snap, d: r.d, p: p}
}

// requestKey marks a context as one request (WithRequest).
type requestKey struct{}

// requestMemo holds the decision of one request.
type requestMemo struct {
	mu sync.Mutex
	r  *Rights
}

// WithRequest returns a context for one request: every engine call made
// with it (and with contexts derived from it) reuses one permission
// decision for the request's principal, made at its first call, and sees
// one metadata snapshot. engine/api wraps each request's context with it.
func WithRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKey{}, &requestMemo{})
}

// requestRights returns the Rights of the principal of ctx, the request's
// own when ctx comes from WithRequest.
func (e *Engine) requestRights(ctx context.Context) (*Rights, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	m, ok := ctx.Value(requestKey{}).(*requestMemo)
	if !ok {
		return e.Rights(ctx, p)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.r != nil && m.r.p == p {
		return m.r, nil
	}
	r, err := e.Rights(ctx, p)
	if err != nil {
		return nil, err
	}
	m.r = r
	return r, nil
}

// scope returns the Scope of object for the principal of ctx after
// checking that it may do action on the object.
func (e *Engine) scope(ctx context.Context, object, action string) (*Scope, error) {
	r, err := e.requestRights(ctx)
	if err != nil {
		return nil, err
	}
	return r.ScopeFor(object, action)
}

// Principal returns the principal decided for.
func (r *Rights) Principal() *access.Principal { return r.p }

// Snapshot returns the metadata snapshot decided at.
func (r *Rights) Snapshot() *Snapshot { return r.snap }

// Scope returns what the principal may do with object, whatever its
// rights on it (check them with Scope.Can); an unknown object is
// ErrNotFound.
func (r *Rights) Scope(object string) (*Scope, error) {
	obj, err := r.snap.Object(object)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.first; s != nil && s.obj == obj {
		return s, nil
	}
	if s, ok := r.scopes[object]; ok {
		return s, nil
	}
	key := fieldAccessKey{who(r.p), object}
	fa := r.e.fields.get(r.d, r.snap, key)
	if fa == nil {
		fa = &fieldAccess{levels: make(map[string]metadata.FieldLevel, len(obj.Fields)+len(metadata.SystemFields))}
		for _, f := range metadata.SystemFields {
			fa.levels[f] = r.levelLocked(object, f)
		}
		for _, f := range obj.Fields {
			fa.levels[f.Name] = r.levelLocked(object, f.Name)
		}
		r.e.fields.put(r.d, r.snap, key, fa, maxCachedFieldAccess)
	}
	s := &Scope{r: r, obj: obj, fieldAccess: fa}
	switch {
	case r.first == nil:
		r.first = s
	case r.scopes == nil:
		r.scopes = map[string]*Scope{object: s}
	default:
		r.scopes[object] = s
	}
	return s, nil
}

// ScopeFor returns the Scope of object after checking that the principal
// may do action on it (ErrForbidden naming both otherwise).
func (r *Rights) ScopeFor(object, action string) (*Scope, error) {
	s, err := r.Scope(object)
	if err != nil {
		return nil, err
	}
	if err := s.Can(action); err != nil {
		return nil, err
	}
	return s, nil
}

// levelLocked returns the principal's level on a field with the rule for
// computed fields applied: a computed field is readable only by a user who
// may read every field it reads, and every record of the objects it reads
// through lookups (record scope all), and a roll-up only by one who may
// read the aggregated child fields and every child record, unless the
// field declares visibility: all. r.mu is held.
func (r *Rights) levelLocked(object, field string) metadata.FieldLevel {
	k := fieldKey{object, field}
	if l, ok := r.levels[k]; ok {
		return l
	}
	if r.levels == nil {
		r.levels = map[fieldKey]metadata.FieldLevel{}
	}
	if r.p.System {
		l := metadata.FieldEditable
		if metadata.IsSystemField(field) && field != metadata.OwnerField {
			l = metadata.FieldReadOnly
		}
		r.levels[k] = l
		return l
	}
	l := r.d.FieldLevel(r.p, object, field)
	r.levels[k] = l // formulas have no cycles; this also guards against one
	if l != metadata.FieldHidden && r.hidesInputs(object, field) {
		l = metadata.FieldHidden
	}
	r.levels[k] = l
	return l
}

// readsEvery reports whether the principal reaches every record of object
// for read (record scope all): what a computed field reading other
// records (through lookups, or by a roll-up) needs, since its stored value
// does not say whose records it read.
func (r *Rights) readsEvery(object string) bool {
	rule, err := r.d.RecordRule(context.Background(), r.p, object, metadata.ActionRead)
	return err == nil && rule.All
}

// hidesInputs reports whether a computed field reads something the
// principal may not read: a hidden field, or records of an object (through
// lookups or a roll-up) of which it may not read every one. r.mu is held.
func (r *Rights) hidesInputs(object, field string) bool {
	obj, ok := r.snap.Schema.Object(object)
	if !ok {
		return false
	}
	f, ok := obj.Field(field)
	if !ok || f.Formula == "" || f.Visibility == metadata.VisibilityAll {
		return false
	}
	op := r.snap.Formulas().Object(object)
	if op == nil {
		return false
	}
	in := op.Inputs(field)
	for _, fr := range in.Fields {
		if fr.Object != formulas.UserObject && r.levelLocked(fr.Object, fr.Field) == metadata.FieldHidden {
			return true
		}
	}
	for _, target := range in.Through {
		if !r.readsEvery(target) {
			return true
		}
	}
	for _, ru := range in.Rollups {
		if !r.readsEvery(ru.Child) {
			return true
		}
		for _, name := range ru.Reads {
			if r.levelLocked(ru.Child, name) == metadata.FieldHidden {
				return true
			}
		}
	}
	return false
}

// Object returns the object of the scope.
func (s *Scope) Object() *metadata.Object { return s.obj }

// Principal returns the principal of the scope.
func (s *Scope) Principal() *access.Principal { return s.r.p }

// Snapshot returns the metadata snapshot of the scope.
func (s *Scope) Snapshot() *Snapshot { return s.r.snap }

// Rights returns the decision the scope belongs to.
func (s *Scope) Rights() *Rights { return s.r }

// Can returns nil when the principal may do action (a record operation or
// a named action) on the object, and otherwise an error wrapping
// ErrForbidden and access.ErrDenied that names both.
func (s *Scope) Can(action string) error {
	if s.r.p.System && metadata.IsAction(action) {
		return nil
	}
	if err := s.r.d.CanObject(s.r.p, s.obj.Name, action); err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return nil
}

// Level returns the principal's level on a field: hidden, read_only or
// editable; unknown fields are hidden.
func (s *Scope) Level(field string) metadata.FieldLevel {
	if l, ok := s.levels[field]; ok {
		return l
	}
	return metadata.FieldHidden
}

// Readable reports whether the principal may see field name.
func (s *Scope) Readable(name string) bool { return s.Level(name) != metadata.FieldHidden }

// Editable reports whether the principal may write field name.
func (s *Scope) Editable(name string) bool { return s.Level(name) == metadata.FieldEditable }

// ReadableFields lists the fields the principal may see: the system
// fields, then the object's fields in their order.
func (s *Scope) ReadableFields() []string {
	out := make([]string, 0, len(s.levels))
	for _, f := range metadata.SystemFields {
		if s.Readable(f) {
			out = append(out, f)
		}
	}
	for _, f := range s.obj.Fields {
		if s.Readable(f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// columns lists the columns a read selects: system columns and every
// readable field that has a column.
func (s *Scope) columns(dialect string) []string {
	s.reads()
	return s.readCols[dialect]
}

// columnDefs returns the definitions of the columns a read selects, in
// the order of columns.
func (s *Scope) columnDefs(dialect string) []colDef {
	s.reads()
	return s.readDefs[dialect]
}

// tableColumnDefs returns a definition for every column of the object's
// table, in the order of its INSERTs (objectInserts: the system fields,
// then the fields with a column), the zero colDef for one the principal
// may not read.
func (s *Scope) tableColumnDefs(dialect string) []colDef {
	s.reads()
	return s.tableDefs[dialect]
}

// linksRead returns the many-to-many fields the principal may read.
func (s *Scope) linksRead() []*metadata.Field {
	s.reads()
	return s.readLinks
}

// blankRecord returns a new copy of the record the principal reads of a
// row without values (fieldAccess.blank).
func (s *Scope) blankRecord(dialect string) Record {
	s.reads()
	return maps.Clone(s.blank[dialect])
}

// selectList returns the columns a read selects, quoted for a SELECT.
func (s *Scope) selectList(dialect string) string {
	s.reads()
	return s.readList[dialect]
}

// linkList returns, to follow selectList in a SELECT from the object's
// table, a column for each many-to-many field the principal reads (in
// linksRead's order): the ids its record links to, sorted and joined by
// commas, or NULL (linksColumn). A read of one record gets its links in
// the same statement instead of one more per field.
func (s *Scope) linkList() string {
	s.reads()
	return s.readLinkList
}

// Rule returns the record-level decision for action in its parts (the
// grants, each a SQL condition over the object's table): the same
// decision Predicate joins into one condition, for readers that read each
// grant by its own index (lists). A principal without the right gets an
// error wrapping ErrForbidden.
func (s *Scope) Rule(ctx context.Context, action string) (access.RecordRule, error) {
	if s.r.p.System {
		return access.RecordRule{All: true}, nil
	}
	rule, err := s.r.d.RecordRule(ctx, s.r.p, s.obj.Name, action)
	if errors.Is(err, access.ErrDenied) {
		return access.RecordRule{}, fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return rule, err
}

// Predicate returns the SQL predicate over the object's table (columns
// qualified by the table's name, "?" placeholders) selecting the records
// the principal may reach for action: Rule joined into one condition; an
// empty SQL means every record. A principal without the right gets an
// error wrapping ErrForbidden.
func (s *Scope) Predicate(ctx context.Context, action string) (query.Predicate, error) {
	rule, err := s.Rule(ctx, action)
	if err != nil {
		return query.Predicate{SQL: access.MatchNone}, err
	}
	if rule.All {
		return query.Predicate{}, nil
	}
	sql, args := rule.Predicate()
	return query.Predicate{SQL: sql, Args: args}, nil
}

// PrunedPredicate is Predicate without the grants that select nothing on
// q (access.RecordRule.Prune): for a rep without shares of the object,
// just their record scope, which the database can read by its index
// instead of evaluating an OR with the shares' subquery for every row.
// It costs a probe query per grant that has one; readers of many rows
// (reports) gain, a reader of one record by id does not.
func (s *Scope) PrunedPredicate(ctx context.Context, q store.Querier, action string) (query.Predicate, error) {
	rule, err := s.Rule(ctx, action)
	if err != nil {
		return query.Predicate{SQL: access.MatchNone}, err
	}
	if rule, err = rule.Prune(ctx, s.r.e.db, q); err != nil {
		return query.Predicate{SQL: access.MatchNone}, err
	}
	if rule.All {
		return query.Predicate{}, nil
	}
	sql, args := rule.Predicate()
	return query.Predicate{SQL: sql, Args: args}, nil
}

// readRule is the record rule of a read whose probed branches (the
// records shared with the user) are still to be settled: a reader asks
// their probes in its own statement (query.Page.Probes), reads with the
// branches that assume every probe finds nothing, and reads again only
// when one finds a row (access.RecordRule.Settle).
type readRule struct {
	rule   access.RecordRule
	probes []query.Predicate
}

// readRule returns the record rule of action for a reader that reads each
// of its disjoint branches by its own index (lists and counts).
func (s *Scope) readRule(ctx context.Context, action string) (readRule, error) {
	rule, err := s.Rule(ctx, action)
	if err != nil {
		return readRule{}, err
	}
	r := readRule{rule: rule}
	for _, b := range rule.Probes() {
		r.probes = append(r.probes, query.Predicate{SQL: b.Probe, Args: b.ProbeArgs})
	}
	return r, nil
}

// branches returns the rule as disjoint conditions
// (access.RecordRule.Disjoint) once its probes answered found (one answer
// per probe; nil: none found a row), without the branches whose probe
// found nothing; one branch with an empty SQL means every record.
func (r readRule) branches(found []bool) []query.Branch {
	rule := r.rule
	if len(r.probes) > 0 {
		if found == nil {
			found = make([]bool, len(r.probes))
		}
		rule = rule.Settle(found)
	}
	bs := rule.Disjoint()
	out := make([]query.Branch, len(bs))
	for i, b := range bs {
		out[i] = query.Branch{Predicate: query.Predicate{SQL: b.SQL, Args: b.Args}, Owners: query.Predicate{SQL: b.Owners, Args: b.OwnersArgs}}
	}
	return out
}

// probe asks the rule's probes on q, one query each, for a reader that
// could not take their answers from its own statement.
func (r readRule) probe(ctx context.Context, db *store.DB, q store.Querier) ([]bool, error) {
	return r.rule.Probe(ctx, db, q)
}

// anyFound tells whether one of a rule's probes found a row.
func anyFound(found []bool) bool { return slices.Contains(found, true) }

// QueryOptions returns the filter compiler's options for the principal: a
// field it cannot read (computed fields included, by the same rule as
// reads) cannot be filtered or sorted on (it answers like a field that
// does not exist), and a path through a lookup only reaches records it may
// read.
func (s *Scope) QueryOptions(ctx context.Context) query.Options {
	e := s.r.e
	unknown := func(object, field string) error {
		return &query.Error{Field: field, Message: fmt.Sprintf("unknown field %q on %s", field, object)}
	}
	return query.Options{
		Dialect: e.db.Dialect,
		Now:     e.now().In(e.location(ctx)),
		User:    s.r.p.UserID,
		Schema:  s.r.snap.Schema,
		CheckField: func(object, field string) error {
			if metadata.IsSystemField(field) {
				return nil
			}
			other, err := s.r.Scope(object)
			if err != nil || !other.Readable(field) {
				return unknown(object, field)
			}
			return nil
		},
		RecordRule: func(object string) (query.Predicate, error) {
			other, err := s.r.Scope(object)
			if err != nil {
				return query.Predicate{}, err
			}
			p, err := other.Predicate(ctx, metadata.ActionRead)
			if errors.Is(err, ErrForbidden) {
				return query.Predicate{SQL: access.MatchNone}, nil
			}
			return p, err
		},
	}
}
