package run

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/reports"
)

// builder writes the SQL of one run of a plan for one user: the base
// table under its own name, a LEFT JOIN per lookup followed (to the
// records of the target the user may read, so a target out of reach gives
// empty columns, never its data), the user's record predicate and the
// filters.
type builder struct {
	ctx     context.Context
	db      *store.DB
	dialect string
	rights  *engine.Rights
	plan    *reports.Plan
	base    *engine.Scope
	// zone is the offsets of the user's time zone, oldest first.
	zone    []offsetChange
	lang    string
	joins   []string
	args    []any // of the joins, in the order they appear
	aliases map[string]string
	users   map[string]string // user-name joins by column
	emit    *reports.Emitter
	// aggFilters are the compiled filters of the aggregates that have one.
	aggFilters map[*reports.Agg]query.Predicate
}

// newBuilder prepares the SQL of a plan for the principal of rights.
func newBuilder(ctx context.Context, eng *engine.Engine, zs *zones, rights *engine.Rights, plan *reports.Plan) (*builder, error) {
	base, err := rights.ScopeFor(plan.Object.Name, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, db: eng.DB(), dialect: eng.DB().Dialect, rights: rights, plan: plan, base: base,
		zone: zs.changes(eng.Location(ctx)), lang: engine.Language(ctx),
		aliases: map[string]string{}, users: map[string]string{}}
	b.emit = &reports.Emitter{Dialect: b.dialect, Col: b.col}
	return b, nil
}

// hidden is the error for a field the user may not read.
func (b *builder) hidden(path string) error {
	return &engine.ValidationError{Object: "report " + b.plan.Report.Name, Code: "invalid_report", Errors: []engine.FieldError{{
		Field: path, Code: "hidden",
		Message: path + " is hidden from you: a report cannot show, filter, group or aggregate it"}}}
}

// readable reports whether the principal may read field of object.
func (b *builder) readable(object, field string) bool {
	s, err := b.rights.Scope(object)
	return err == nil && s.Readable(field)
}

// checkRef refuses a path through or to a field the user may not read.
func (b *builder) checkRef(r *reports.Ref) error {
	for _, h := range r.Hops {
		if !b.readable(h.From.Name, h.Field.Name) {
			return b.hidden(r.Path)
		}
	}
	if !b.readable(r.Object.Name, r.Field.Name) {
		return b.hidden(r.Path)
	}
	return nil
}

// checkValue refuses a value reading anything the user may not read.
func (b *builder) checkValue(v *reports.Value) error {
	if v.Ref != nil {
		return b.checkRef(v.Ref)
	}
	for _, rd := range v.Formula.Reads {
		if rd.Object != formulas.UserObject && !b.readable(rd.Object, rd.Field) {
			return b.hidden(v.Name)
		}
	}
	for _, r := range v.Formula.Refs {
		if err := b.checkRef(r); err != nil {
			return b.hidden(v.Name)
		}
	}
	return nil
}

// value returns the SQL of a value in its storage form.
func (b *builder) value(v *reports.Value) string {
	if v.Formula != nil {
		return v.Formula.SQL(b.emit)
	}
	return b.col(v.Ref)
}

// table is the quoted base table.
func (b *builder) table() string { return store.Ident(b.plan.Object.Name) }

// col returns the qualified column of a ref, adding the joins it needs.
func (b *builder) col(r *reports.Ref) string {
	owner := b.table()
	for _, h := range r.Hops {
		owner = b.join(h, owner)
	}
	return owner + "." + store.Ident(r.Field.Name)
}

// join returns the alias of the records of a hop's target, adding the
// LEFT JOIN the first time.
func (b *builder) join(h reports.Hop, parent string) string {
	if a, ok := b.aliases[h.Key]; ok {
		return a
	}
	alias := store.Ident("j" + strconv.Itoa(len(b.aliases)+1))
	b.aliases[h.Key] = alias
	src := store.Ident(h.To.Name)
	pred, args := b.recordRule(h.To.Name)
	if pred != "" {
		src = "(SELECT * FROM " + src + " WHERE " + pred + ")"
		b.args = append(b.args, args...)
	}
	b.joins = append(b.joins, " LEFT JOIN "+src+" AS "+alias+" ON "+alias+"."+store.Ident("id")+" = "+parent+"."+store.Ident(h.Field.Name))
	return alias
}

// recordRule is the read predicate of an object for the user; an object
// the user may not read at all matches nothing.
func (b *builder) recordRule(object string) (string, []any) {
	s, err := b.rights.Scope(object)
	if err != nil {
		return access.MatchNone, nil
	}
	p, err := s.Predicate(b.ctx, metadata.ActionRead)
	if err != nil {
		return access.MatchNone, nil
	}
	return p.SQL, p.Args
}

// userName returns the display name of the user a column holds.
func (b *builder) userName(col string) string {
	if a, ok := b.users[col]; ok {
		return a + "." + store.Ident("display_name")
	}
	alias := store.Ident("u" + strconv.Itoa(len(b.users)+1))
	b.users[col] = alias
	b.joins = append(b.joins, " LEFT JOIN "+store.Ident(access.TableUsers)+" AS "+alias+" ON "+alias+"."+store.Ident("id")+" = "+col)
	return alias + "." + store.Ident("display_name")
}

// title returns the SQL of the title of the record a lookup value points
// to (NULL when the user cannot read it), or "" when there is none.
func (b *builder) title(v *reports.Value) string {
	if v.Ref == nil {
		return ""
	}
	if reports.IsUserField(v.Field.Name) {
		return b.userName(b.col(v.Ref))
	}
	target, ok := metadata.LookupTarget(v.Field)
	if !ok {
		return ""
	}
	to, ok := b.rights.Snapshot().Schema.Object(target)
	if !ok || to.TitleField == "" || !b.readable(to.Name, to.TitleField) {
		return ""
	}
	tf, _ := to.FieldOrSystem(to.TitleField)
	hops := append(append([]reports.Hop(nil), v.Ref.Hops...), reports.Hop{From: v.Ref.Object, Field: v.Field, To: to, Key: v.Ref.Path})
	return b.col(&reports.Ref{Path: v.Ref.Path + "." + to.TitleField, Hops: hops, Object: to, Field: tf})
}

// dim returns the SQL of a dimension's key: NULL for a record without
// a value, an empty text included (see the drill-down's NoValue).
func (b *builder) dim(d *reports.Dim) (string, error) {
	col, offset := b.value(d.Value), time.Duration(b.zone[0].minutes)*time.Minute
	if d.Bucket != "" && len(b.zone) > 1 && metadata.TypeOf(d.Field).Kind() == metadata.KindDateTime {
		col, offset = localTime(b.dialect, col, b.zone), 0
	}
	sql, err := metadata.GroupSQL(b.dialect, d.Field, col, d.Bucket, offset)
	if err != nil {
		return "", fmt.Errorf("report %s: %w", b.plan.Report.Name, err)
	}
	if d.Bucket == "" && mayBeEmptyText(d.Field) {
		// An empty text is no value, as NULL is: one group, whose
		// drill-down (the same expression IS NULL) finds both.
		sql = "NULLIF(" + sql + ", '')"
	}
	return sql, nil
}

// mayBeEmptyText reports whether a dimension's values may hold an empty
// text beside NULL: a text formula's (which reads an empty field as "")
// and a free text field's (the engine writes an empty text as NULL, but
// text written around it may hold one). A picklist's values and a
// lookup's ids are never empty, so their groupings stay on the bare
// column, which an index serves (NULLIF cost the report scenario of crm
// bench about 5 % by the median).
func mayBeEmptyText(f *metadata.Field) bool {
	t := metadata.TypeOf(f)
	return t.Kind() == metadata.KindString && t.Name() != "picklist"
}

// compile compiles a condition of the list filter language on the base
// object with the user's field rights (a hidden field is refused) and
// the record rules of the objects it reaches through lookups.
func (b *builder) compile(filter string) (query.Predicate, error) {
	qo := b.base.QueryOptions(b.ctx)
	check := qo.CheckField
	qo.CheckField = func(object, field string) error {
		if o, ok := b.rights.Snapshot().Schema.Object(object); ok {
			if _, known := o.FieldOrSystem(field); known && !b.readable(object, field) {
				return b.hidden(field)
			}
		}
		return check(object, field)
	}
	return query.CompileFilter(filter, b.plan.Object, qo)
}

// compileAggFilters compiles the filters of the plan's aggregates.
func (b *builder) compileAggFilters() error {
	b.aggFilters = map[*reports.Agg]query.Predicate{}
	for _, a := range b.plan.Aggs {
		if a.Def.Filter == "" {
			continue
		}
		f, err := b.compile(a.Def.Filter)
		if err != nil {
			return fmt.Errorf("aggregate %s: %w", a.Def.Name, err)
		}
		b.aggFilters[a] = f
	}
	return nil
}

// where returns the WHERE clause: the user's record predicate, the
// report's filter and the parameters (in the list filter language, with
// the user's field rights: a hidden field is refused).
func (b *builder) where(filter string) (string, []any, error) {
	rule, err := b.base.PrunedPredicate(b.ctx, b.db.SQL(), metadata.ActionRead)
	if err != nil {
		return "", nil, err
	}
	f, err := b.compile(filter)
	if err != nil {
		return "", nil, err
	}
	var parts []string
	var args []any
	for _, p := range []query.Predicate{{SQL: rule.SQL, Args: rule.Args}, f} {
		if p.SQL != "" {
			parts = append(parts, "("+p.SQL+")")
			args = append(args, p.Args...)
		}
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(parts, " AND "), args, nil
}

// from is the FROM clause with the joins added so far.
func (b *builder) from() string { return " FROM " + b.table() + strings.Join(b.joins, "") }

// query runs a statement and returns its rows as driver values. It goes
// through the statement cache: a dashboard runs the same report
// statements again and again.
func (b *builder) query(ctx context.Context, stmt string, args []any) ([][]any, error) {
	rows, err := b.db.Query(ctx, b.db.SQL(), store.Rebind(b.dialect, stmt), store.Args(b.dialect, args)...)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", b.plan.Report.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	// Every row is scanned through the same targets and its values kept
	// in a chunk of scanChunk rows (a row's values are copies: Scan copies
	// the driver's bytes), each row a window of its chunk: one allocation
	// per chunk, none copied again as the rows grow.
	n := len(cols)
	vals, ptrs := store.ScanTargets(n)
	var out [][]any
	var chunk []any
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if len(chunk)+n > cap(chunk) {
			chunk = make([]any, 0, scanChunk*n)
		}
		chunk = append(chunk, vals...)
		out = append(out, chunk[len(chunk)-n:len(chunk):len(chunk)])
		if len(out) > reports.MaxRows+1 {
			break
		}
	}
	return out, rows.Err()
}

// scanChunk is how many rows' values query keeps in one allocation.
const scanChunk = 64
