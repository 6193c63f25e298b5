package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Create inserts a record of object from its JSON form as the principal of
// ctx, in a transaction of its own, and returns it as the principal may
// read it (only its id when it may not).
func (e *Engine) Create(ctx context.Context, object string, data map[string]any) (Record, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	var out Record
	err := e.Tx(ctx, p, func(w *Writer) error {
		var err error
		out, err = w.Create(ctx, object, data)
		return err
	})
	return out, err
}

// CreateMany inserts records of object from their JSON forms as the
// principal of ctx, all or none, in one unit of work (Writer.CreateMany).
func (e *Engine) CreateMany(ctx context.Context, object string, data []map[string]any) ([]Record, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	var out []Record
	err := e.Tx(ctx, p, func(w *Writer) error {
		var err error
		out, err = w.CreateMany(ctx, object, data)
		return err
	})
	if err == nil {
		e.wroteBulk(object, len(out))
	}
	return out, err
}

// analyzeEvery is how many records written in batches make the engine
// refresh the planner's statistics.
const analyzeEvery = 10000

// wroteBulk counts records written in batches and, every analyzeEvery,
// refreshes the planner's statistics in the background (PRAGMA optimize on
// SQLite, ANALYZE of the table on PostgreSQL), so plans follow a table
// that grew fast.
func (e *Engine) wroteBulk(object string, n int) {
	if e.bulkRows.Add(int64(n)) < analyzeEvery {
		return
	}
	e.bulkRows.Store(0)
	go func() {
		ctx := context.Background()
		err := e.db.Optimize(ctx)
		if err == nil && e.db.Dialect == metadata.DialectPostgres {
			err = e.db.Analyze(ctx, object)
		}
		if err != nil {
			e.log.Warn("refreshing statistics after a bulk load failed", "object", object, "err", err)
		}
	}()
}

// Create inserts a record of object from its JSON form, with every check
// of the API, and returns it as the unit of work's principal may read it
// (only its id when it may not: create-only rights, or given to another
// owner).
func (w *Writer) Create(ctx context.Context, object string, data map[string]any) (Record, error) {
	s, err := w.rights.ScopeFor(object, metadata.ActionCreate)
	if err != nil {
		return nil, err
	}
	c, err := w.prepareCreate(ctx, s, data)
	if err != nil {
		return nil, err
	}
	st, args, err := w.e.insertOne(ctx, w, s.obj, c.ev.New)
	if err != nil {
		return nil, err
	}
	w.inserted(c)
	mark := w.rows.mark()
	if err := w.finishCreate(ctx, s, c); err != nil {
		return nil, err
	}
	if !w.answersFromMemory(s, c.ev.New, mark) {
		return w.readBack(ctx, s, c.ev.ID)
	}
	return w.e.insertedAnswer(s, st, args, c.wr.links)
}

// insertedAnswer is written for a record inserted alone by st with args:
// the arguments are the stored values, as a read finds them, so the
// answer is made from them, the columns the INSERT fills only. Those it
// leaves out are empty, which the blank record answers (every type has
// an answer for its empty value: TestEmptyAnswers).
func (e *Engine) insertedAnswer(s *Scope, st *insertStmt, args []any, links map[string][]string) (Record, error) {
	a := newAnswer(s, e.db.Dialect)
	defs := s.tableColumnDefs(e.db.Dialect)
	for i, at := range st.at {
		if err := a.set(defs[at], args[i]); err != nil {
			return nil, err
		}
	}
	return a.with(links), nil
}

// MaxBatch is the most records one CreateMany takes.
const MaxBatch = 1000

// BatchError is the failure of one record of a batch; nothing of the
// batch was written.
type BatchError struct {
	// Index is the record's place in the batch, from 0.
	Index int
	// ID is the record's id in a batch of existing records (UpdateMany,
	// DeleteMany).
	ID  string
	Err error
}

// Error names the record and says what is wrong with it.
func (e *BatchError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("record %s: %v", e.ID, e.Err)
	}
	return fmt.Sprintf("record %d: %v", e.Index, e.Err)
}

// Unwrap returns the record's own error.
func (e *BatchError) Unwrap() error { return e.Err }

// CreateMany inserts records of object from their JSON forms, all or
// none, each with every check of Create (rights, validation, defaults,
// formulas, hooks, events), and returns them in order as the principal
// may read them. The rows are written together, in multi-row INSERTs,
// once every record passed its checks, and the after-hooks run once all
// are written. The first failing record stops the batch with a
// *BatchError naming it.
func (w *Writer) CreateMany(ctx context.Context, object string, data []map[string]any) ([]Record, error) {
	if len(data) > MaxBatch {
		return nil, &RequestError{Message: fmt.Sprintf("a batch holds at most %d records, not %d", MaxBatch, len(data)),
			Details: []FieldError{{Field: "records", Code: "too_many", Message: fmt.Sprintf("at most %d", MaxBatch)}}}
	}
	s, err := w.rights.ScopeFor(object, metadata.ActionCreate)
	if err != nil {
		return nil, err
	}
	cs := make([]*pendingCreate, len(data))
	rows := make([]map[string]any, len(data))
	done := func() {}
	if len(data) > 1 {
		if done, err = w.readAhead(ctx, object, data); err != nil {
			return nil, err
		}
	}
	for i, d := range data {
		if cs[i], err = w.prepareCreate(ctx, s, d); err != nil {
			done()
			return nil, &BatchError{Index: i, Err: err}
		}
		rows[i] = cs[i].ev.New
	}
	done()
	if err := w.e.insert(ctx, w, s.obj, rows); err != nil {
		return nil, err
	}
	for _, c := range cs {
		w.inserted(c)
	}
	// The after-hooks of one record may change another of the batch (a
	// roll-up of a parent created before its child): the answers are made
	// once all of them ran.
	mark := w.rows.mark()
	if err := w.propagateBatch(ctx, cs); err != nil {
		return nil, err
	}
	for i, c := range cs {
		if err := w.finishCreate(ctx, s, c); err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	out := make([]Record, len(cs))
	for i, c := range cs {
		if out[i], err = w.createAnswer(ctx, s, c, mark); err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	return out, nil
}

// propagateBatch recomputes, in one pass for a batch of records just
// created, what depends on them: the roll-ups of their parents, each
// parent once however many of its children the batch holds, in a few
// statements per parent object instead of a few per record. Their
// after-hooks then skip it (formulasAfter). Every row of the batch is
// written before any after-hook runs, so a parent recomputed for its
// first child of the batch already counted the others: recomputing it
// for each was the same work again.
func (w *Writer) propagateBatch(ctx context.Context, cs []*pendingCreate) error {
	w.e.mu.RLock()
	on := w.e.recomputes
	w.e.mu.RUnlock()
	if !on || len(cs) < 2 {
		return nil
	}
	ctx, p := w.e.propagatorFor(withWriter(ctx, w), cs[0].ev)
	if p == nil {
		return nil
	}
	changes := make([]recordChange, len(cs))
	for i, c := range cs {
		changes[i] = recordChange{new: c.ev.New}
	}
	if err := p.propagate(ctx, cs[0].ev.Object.Name, changes, 0); err != nil {
		return err
	}
	for _, c := range cs {
		c.ev.propagated = true
	}
	return nil
}

// pendingCreate is a record that passed the checks of a create and waits
// to be written.
type pendingCreate struct {
	ev *Event
	wr *write
}

// prepareCreate runs the checks of a create up to the insert: decoding,
// defaults, validation, before-hooks, formulas and assigned values.
func (w *Writer) prepareCreate(ctx context.Context, s *Scope, data map[string]any) (*pendingCreate, error) {
	e := w.e
	wr, err := e.decode(s, data, OpCreate)
	if err != nil {
		return nil, err
	}
	p := w.rights.p
	now := e.now().UTC().Truncate(time.Millisecond)
	id := uuid.Must(uuid.NewV7()).String()
	plan := s.r.snap.recordPlan(s.obj)
	rec := make(map[string]any, plan.given+len(wr.vals))
	at, by := any(now), any(p.UserID) // each boxed once for its fields
	rec["id"], rec["created_at"], rec["created_by"], rec["updated_at"], rec["updated_by"], rec[metadata.OwnerField], rec["version"] = id, at, by, at, by, by, int64(1)
	for _, d := range plan.defaulted {
		f := d.f
		if _, sent := wr.vals[f.Name]; sent {
			continue
		}
		if _, sent := wr.links[f.Name]; sent {
			continue
		}
		if d.err != nil {
			return nil, fmt.Errorf("default of %s.%s: %w", s.obj.Name, f.Name, d.err)
		}
		if metadata.Linked(f) {
			wr.link(f.Name, d.v.([]string))
		} else {
			rec[f.Name] = d.v
		}
	}
	for k, v := range wr.vals {
		rec[k] = v
	}
	if plan.part != nil {
		if err := e.partOfMaster(ctx, w, s.obj, *plan.part, nil, rec, wr); err != nil {
			return nil, err
		}
	}
	if err := e.formulaDefaults(ctx, w, s.obj, rec, now); err != nil {
		return nil, err
	}
	if err := e.validate(ctx, w, s, rec, wr); err != nil {
		return nil, err
	}
	ev := w.event(OpCreate, s, id, nil, rec)
	ev.Input, ev.Links = data, wr.links
	if err := e.prepare(ctx, s, ev, &wr.verr); err != nil {
		return nil, err
	}
	if err := e.assignValues(ctx, w, s.obj, rec, now); err != nil {
		return nil, err
	}
	return &pendingCreate{ev: ev, wr: wr}, nil
}

// inserted notes in the row log a record whose row was just written
// (rowLog.ownCreated).
func (w *Writer) inserted(c *pendingCreate) {
	owner, _ := c.ev.New[metadata.OwnerField].(string)
	w.rows.inserted(c.ev.Object.Name, c.ev.ID, owner)
}

// finishCreate completes a create once its row is written: links,
// after-hooks and the record event.
func (w *Writer) finishCreate(ctx context.Context, s *Scope, c *pendingCreate) error {
	e, ev := w.e, c.ev
	for name, ids := range c.wr.links {
		if err := e.setLinks(ctx, w, s.obj.Name, name, ev.ID, ids); err != nil {
			return err
		}
	}
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return err
	}
	return w.publishWrite(ctx, ev)
}

// createAnswer returns a record created by the unit of work as its
// principal may read it: from what was written when that is still its row
// (answersFromMemory; a new record has only the links it was given),
// otherwise read back.
func (w *Writer) createAnswer(ctx context.Context, s *Scope, c *pendingCreate, mark int) (Record, error) {
	if w.answersFromMemory(s, c.ev.New, mark) {
		return w.e.written(s, c.ev.New, c.wr.links)
	}
	return w.readBack(ctx, s, c.ev.ID)
}

// answersFromMemory reports whether rec, a record the unit of work wrote
// (storage form, as its row was written), can be answered as it is instead
// of read back: the principal may read the object and owns the record
// (every record scope reaches one's own records), and nothing changed its
// row since mark (an automation's after-hook setting one of its fields).
func (w *Writer) answersFromMemory(s *Scope, rec map[string]any, mark int) bool {
	return rec[metadata.OwnerField] == w.rights.p.UserID && s.Can(metadata.ActionRead) == nil &&
		!w.rows.changedSince(mark, s.obj.Name, rec["id"].(string))
}

// event builds the hook event of a write of the unit of work.
func (w *Writer) event(op Op, s *Scope, id string, old, rec map[string]any) *Event {
	return &Event{Op: op, Object: s.obj, ID: id, New: rec, Old: old, Principal: w.rights.p, Tx: w.tx, Writer: w, Snapshot: w.rights.snap}
}

// readBack reads a record the unit of work just wrote as its principal may
// see it, or only its id when that is not at all.
func (w *Writer) readBack(ctx context.Context, s *Scope, id string) (Record, error) {
	if s.Can(metadata.ActionRead) != nil {
		return Record{"id": id}, nil
	}
	out, err := w.e.getWith(ctx, w.tx, s, id)
	if isNotVisible(err) {
		return Record{"id": id}, nil
	}
	return out, err
}

// written turns a record just written (storage form) and its links into
// the JSON form the principal may read.
func (e *Engine) written(s *Scope, rec map[string]any, links map[string][]string) (Record, error) {
	a := newAnswer(s, e.db.Dialect)
	for _, c := range s.columnDefs(e.db.Dialect) {
		if err := a.set(c, rec[c.f.Name]); err != nil {
			return nil, err
		}
	}
	return a.with(links), nil
}

// answer is the record a write answers, made from stored values: a copy
// of the scope's blank record that set fills in.
type answer struct {
	s   *Scope
	out Record
	// A new record is created and updated at one instant: its answer is
	// made once.
	at, atOut any
	atType    string
}

// newAnswer starts the answer of a record of s's object in dialect.
func newAnswer(s *Scope, dialect string) *answer {
	return &answer{s: s, out: s.blankRecord(dialect)}
}

// set answers column c's stored value v; a zero c (a column the principal
// may not read) is left out, and so is an empty value the blank record
// already answers.
func (a *answer) set(c colDef, v any) error {
	if c.f == nil || (v == nil && c.hasEmpty) {
		return nil
	}
	_, isTime := v.(time.Time)
	if isTime && v == a.at && c.f.Type == a.atType {
		a.out[c.f.Name] = a.atOut
		return nil
	}
	o, err := c.typ.Output(c.f, v)
	if err != nil {
		return fmt.Errorf("read %s.%s: %w", a.s.obj.Name, c.f.Name, err)
	}
	a.out[c.f.Name] = o
	if isTime {
		a.at, a.atOut, a.atType = v, o, c.f.Type
	}
	return nil
}

// with adds the record's links the principal reads and returns the
// answer.
func (a *answer) with(links map[string][]string) Record {
	for _, f := range a.s.linksRead() {
		if ids := links[f.Name]; ids != nil {
			a.out[f.Name] = ids
		}
	}
	return a.out
}

// insertOne writes row, in storage form, and returns its INSERT and the
// arguments it was given (the stored values).
func (e *Engine) insertOne(ctx context.Context, w *Writer, obj *metadata.Object, row map[string]any) (*insertStmt, []any, error) {
	st, args := w.rights.snap.insertOne(obj, e.db.Dialect, row)
	// A lone unit of work's transaction may hold this INSERT back and run
	// it alone (store.DB.BeginLazy); SQLite connections prepare it once.
	if _, err := w.tx.ExecContext(store.Deferrable(ctx, obj.Name), st.sql, args...); err != nil {
		return nil, nil, e.writeError(obj, err)
	}
	return st, args, nil
}

// insert writes rows in storage form: one INSERT per row, or, for
// several, multi-row INSERTs of up to insertBatch rows (every column of
// the object, NULL where a row has no value, which is what leaving the
// column out gives).
func (e *Engine) insert(ctx context.Context, w *Writer, obj *metadata.Object, rows []map[string]any) error {
	if len(rows) == 1 {
		_, _, err := e.insertOne(ctx, w, obj, rows[0])
		return err
	}
	cols := append([]string(nil), metadata.SystemFields...)
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Column(e.db.Dialect, f) != "" {
			cols = append(cols, f.Name)
		}
	}
	per := max(1, min(insertBatch, maxParams/len(cols)))
	for chunk := range slices.Chunk(rows, per) {
		args := make([]any, 0, len(chunk)*len(cols))
		for _, r := range chunk {
			for _, c := range cols {
				args = append(args, r[c])
			}
		}
		values := "(" + store.Marks(len(cols)) + ")" + strings.Repeat(", ("+store.Marks(len(cols))+")", len(chunk)-1)
		q := "INSERT INTO " + store.Ident(obj.Name) + " (" + query.SelectList(cols) + ") VALUES " + values
		if _, err := e.db.Exec(ctx, w.tx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...); err != nil {
			return e.writeError(obj, err)
		}
	}
	return nil
}

// Limits of multi-row INSERTs: rows per statement, and parameters per
// statement (SQLite allows 32,766, PostgreSQL 65,535).
const (
	insertBatch = 100
	maxParams   = 30000
)

// writeError turns a unique violation into a conflict naming the field.
func (e *Engine) writeError(obj *metadata.Object, err error) error {
	if store.IsUniqueViolation(err) {
		for _, f := range obj.Fields {
			if f.Unique && (strings.Contains(err.Error(), obj.Name+"."+f.Name) || strings.Contains(err.Error(), "_"+obj.Name+"_"+f.Name)) {
				return &ValidationError{Object: obj.Name, Errors: []FieldError{{Field: f.Name, Code: "unique", Message: fmt.Sprintf("another %s already has this %s", obj.Name, f.Name)}}}
			}
		}
		for _, ix := range obj.Indexes {
			def := store.DeclaredIndex(obj.Name, ix)
			cols := make([]string, len(def.Columns))
			for i, c := range def.Columns {
				cols[i] = obj.Name + "." + c.Name
			}
			// PostgreSQL names the index, SQLite its columns.
			if ix.Unique && (strings.Contains(err.Error(), def.Name()) || strings.Contains(err.Error(), "failed: "+strings.Join(cols, ", ")+" (")) {
				return &ValidationError{Object: obj.Name, Errors: []FieldError{{Field: def.Columns[0].Name, Code: "unique",
					Message: fmt.Sprintf("another %s already has this %s", obj.Name, strings.Join(ix.Fields, " and "))}}}
			}
		}
		return conflict("%s: a unique value is taken", obj.Name)
	}
	return fmt.Errorf("engine: write %s: %w", obj.Name, err)
}

// assignValues gives every field whose type assigns values (auto numbers)
// its value. Counters are updated in the write's transaction, so numbers
// are gap-free and concurrent inserts serialise on them.
func (e *Engine) assignValues(ctx context.Context, w *Writer, obj *metadata.Object, rec map[string]any, now time.Time) error {
	for _, f := range w.rights.snap.recordPlan(obj).assigned {
		v, err := metadata.TypeOf(f).(metadata.Assigner).Assign(f, now, func(key string) (int64, error) {
			return e.db.NextNumber(ctx, w.tx, obj.Name, f.Name, key)
		})
		if err != nil {
			return fmt.Errorf("engine: assign %s.%s: %w", obj.Name, f.Name, err)
		}
		rec[f.Name] = v
	}
	return nil
}

// setLinks replaces the links of a many-to-many field of one record.
func (e *Engine) setLinks(ctx context.Context, w *Writer, object, field, id string, ids []string) error {
	lt := store.Ident(store.LinkTable(object, field))
	if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"source_id\" = ?"), id); err != nil {
		return fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
	}
	for _, t := range ids {
		if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "INSERT INTO "+lt+" (\"source_id\", \"target_id\") VALUES (?, ?)"), id, t); err != nil {
			return fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
		}
	}
	return nil
}
