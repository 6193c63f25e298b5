package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
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

// Create inserts a record of object from its JSON form, with every check
// of the API, and returns it as the unit of work's principal may read it
// (only its id when it may not: create-only rights, or given to another
// owner).
func (w *Writer) Create(ctx context.Context, object string, data map[string]any) (Record, error) {
	e := w.e
	s, err := w.rights.ScopeFor(object, metadata.ActionCreate)
	if err != nil {
		return nil, err
	}
	wr, err := e.decode(s, data, OpCreate)
	if err != nil {
		return nil, err
	}
	p := w.rights.p
	now := e.now().UTC().Truncate(time.Millisecond)
	id := uuid.Must(uuid.NewV7()).String()
	rec := map[string]any{"id": id, "created_at": now, "created_by": p.UserID, "updated_at": now, "updated_by": p.UserID, metadata.OwnerField: p.UserID, "version": int64(1)}
	for _, f := range s.obj.Fields {
		if _, sent := wr.vals[f.Name]; !sent && f.Default != nil {
			v, err := metadata.TypeOf(f).Normalize(f, f.Default)
			if err != nil {
				return nil, fmt.Errorf("default of %s.%s: %w", object, f.Name, err)
			}
			if metadata.Linked(f) {
				wr.links[f.Name] = v.([]string)
			} else {
				rec[f.Name] = v
			}
		}
	}
	for k, v := range wr.vals {
		rec[k] = v
	}
	if err := e.formulaDefaults(s.r.snap, s.obj, rec); err != nil {
		return nil, err
	}
	if err := e.validate(ctx, w, s, rec, wr); err != nil {
		return nil, err
	}
	ev := w.event(OpCreate, s, id, nil, rec)
	if err := e.prepare(ctx, s, ev, wr.verr); err != nil {
		return nil, err
	}
	if err := e.assignValues(ctx, w, s.obj, rec, now); err != nil {
		return nil, err
	}
	if err := e.insert(ctx, w, s.obj, ev.New); err != nil {
		return nil, err
	}
	for name, ids := range wr.links {
		if err := e.setLinks(ctx, w, s.obj.Name, name, id, ids); err != nil {
			return nil, err
		}
	}
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return nil, err
	}
	if err := w.publishWrite(ctx, ev); err != nil {
		return nil, err
	}
	if ev.New[metadata.OwnerField] == p.UserID && s.Can(metadata.ActionRead) == nil {
		// Every record scope reaches one's own records: answer from what
		// was written instead of reading it back.
		return e.written(s, ev.New, wr.links)
	}
	return w.readBack(ctx, s, id)
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
	full := make(map[string]any, len(rec))
	for _, c := range s.columns(e.db.Dialect) {
		full[c] = rec[c]
	}
	out, err := s.output(full)
	if err != nil {
		return nil, err
	}
	for _, f := range s.obj.Fields {
		if metadata.Linked(f) && s.Readable(f.Name) {
			ids := links[f.Name]
			if ids == nil {
				ids = []string{}
			}
			out[f.Name] = ids
		}
	}
	return out, nil
}

// insert writes a row in storage form.
func (e *Engine) insert(ctx context.Context, w *Writer, obj *metadata.Object, rec map[string]any) error {
	cols := make([]string, 0, len(rec))
	args := make([]any, 0, len(rec))
	for _, c := range metadata.SystemFields {
		cols = append(cols, store.Ident(c))
		args = append(args, rec[c])
	}
	for _, f := range obj.Fields {
		if v, ok := rec[f.Name]; ok && metadata.TypeOf(f).Column(e.db.Dialect, f) != "" {
			cols = append(cols, store.Ident(f.Name))
			args = append(args, v)
		}
	}
	q := "INSERT INTO " + store.Ident(obj.Name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + store.Marks(len(cols)) + ")"
	if _, err := e.db.Exec(ctx, w.tx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...); err != nil {
		return e.writeError(obj, err)
	}
	return nil
}

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
	for _, f := range obj.Fields {
		a, ok := metadata.TypeOf(f).(metadata.Assigner)
		if !ok {
			continue
		}
		v, err := a.Assign(f, now, func(key string) (int64, error) {
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
