package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// write is a decoded record write: storage values by column, the
// many-to-many links sent, and the problems found so far (reported with
// those of the merged record, all in one ValidationError).
type write struct {
	vals    map[string]any
	links   map[string][]string
	version int64
	verr    *ValidationError
}

// decode checks a request body against the object and the principal's
// field levels and converts its values to storage form. Unknown and system
// fields are a RequestError, fields the principal may not write are
// ErrForbidden naming the field, bad values a ValidationError.
func (e *Engine) decode(r *request, data map[string]any, op string) (*write, error) {
	verr := &ValidationError{Object: r.obj.Name}
	w := &write{vals: map[string]any{}, links: map[string][]string{}, verr: verr}
	var shapeErrs map[string]string
	if sch := r.snap.recordSchema(r.obj.Name); sch != nil {
		shapeErrs = metadata.RecordErrors(sch, data)
	}
	var unknown []FieldError
	for key, v := range data {
		if key == "version" && op == OpUpdate {
			vf := fieldDef(r.obj, "version")
			n, err := metadata.TypeOf(vf).Normalize(vf, v)
			if err != nil || n == nil || n.(int64) < 1 {
				verr.add("version", "invalid", "version must be the record's current version number, a positive whole number such as 3")
				continue
			}
			w.version = n.(int64)
			continue
		}
		if key == "owner_id" {
			s, ok := v.(string)
			if !ok || s == "" {
				verr.add("owner_id", "invalid", "owner_id must be a user id")
				continue
			}
			w.vals["owner_id"] = s
			continue
		}
		if metadata.IsSystemField(key) {
			unknown = append(unknown, FieldError{Field: key, Code: "read_only", Message: key + " is a system field and cannot be written"})
			continue
		}
		f, ok := r.obj.Field(key)
		if !ok {
			unknown = append(unknown, FieldError{Field: key, Code: "unknown_field", Message: fmt.Sprintf("%s has no field %q", r.obj.Name, key)})
			continue
		}
		if lvl := r.levels[key]; lvl != metadata.FieldEditable {
			return nil, &access.FieldError{Object: r.obj.Name, Field: key, Level: lvl, Op: "write"}
		}
		if f.Formula != "" || f.Type == "auto_number" {
			verr.add(key, "read_only", "%s is computed by the system and cannot be written", key)
			continue
		}
		if msg, bad := shapeErrs[key]; bad {
			verr.add(key, "invalid", "%s", msg)
			continue
		}
		val, err := metadata.TypeOf(f).Normalize(f, v)
		if err != nil {
			verr.add(key, "invalid", "%v", err)
			continue
		}
		if f.Type == "many_to_many" {
			w.links[key] = val.([]string)
			continue
		}
		w.vals[key] = val
	}
	if len(unknown) > 0 {
		return nil, &RequestError{Message: "the body has fields that cannot be written", Details: unknown}
	}
	if op == OpUpdate && verr.has("version") {
		// Without a usable version the write cannot be checked against
		// the stored one: say so rather than report a conflict.
		return nil, verr
	}
	if op == OpUpdate && w.version == 0 && len(verr.Errors) == 0 {
		verr.add("version", "required", "send the version you read, for optimistic locking")
		return nil, verr
	}
	return w, nil
}

// validate checks a merged record (storage form): required fields,
// picklist cascades and the references it makes. Problems go into
// w.verr; the error is for failures of the database.
func (e *Engine) validate(ctx context.Context, tx *sql.Tx, r *request, rec map[string]any, w *write) error {
	verr := w.verr
	for _, f := range r.obj.Fields {
		if verr.has(f.Name) {
			continue
		}
		v := rec[f.Name]
		if f.Required && f.Formula == "" && f.Type != "auto_number" {
			if f.Type == "many_to_many" {
				if ids, sent := w.links[f.Name]; sent && len(ids) == 0 {
					verr.add(f.Name, "required", "%s is required", f.Name)
				}
			} else if v == nil {
				verr.add(f.Name, "required", "%s is required", f.Name)
			}
		}
		if f.DependsOn != "" && v != nil {
			e.checkCascade(verr, r.obj, f, v, rec[f.DependsOn])
		}
	}
	if owner, ok := w.vals["owner_id"].(string); ok {
		if err := e.checkOwner(ctx, r, owner, verr); err != nil {
			return err
		}
	}
	for name, v := range w.vals {
		f, ok := r.obj.Field(name)
		if !ok || f.Type != "lookup" || v == nil {
			continue
		}
		if err := e.checkRefs(ctx, tx, r, f, []string{v.(string)}, verr); err != nil {
			return err
		}
	}
	for name, ids := range w.links {
		f, _ := r.obj.Field(name)
		if err := e.checkRefs(ctx, tx, r, f, ids, verr); err != nil {
			return err
		}
	}
	for name, v := range w.vals {
		f, ok := r.obj.Field(name)
		if ok && (f.Type == "file" || f.Type == "image") && v != nil {
			if err := e.checkFile(ctx, tx, r, f, rec, verr); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepare finishes a record before it is written: when its fields are
// valid the before-hooks run (automations' field updates); then computed
// fields are computed and the validation rules checked. Every problem of
// the record, field or rule, comes back in one ValidationError.
func (e *Engine) prepare(ctx context.Context, tx *sql.Tx, r *request, ev *Event, verr *ValidationError) error {
	if len(verr.Errors) == 0 {
		if err := e.hooks.run(ctx, true, ev); err != nil {
			return err
		}
	}
	fails, err := e.formulaCompute(ctx, tx, r.snap, r.obj, ev.New)
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		verr.Errors = append(verr.Errors, ve.Errors...)
	case err != nil:
		return err
	}
	verr.Errors = append(verr.Errors, fails...)
	return verr.err()
}

// userChecker is the optional ability of a Decision to say whether an id
// is an active user.
type userChecker interface {
	ActiveUser(ctx context.Context, id string) (bool, error)
}

// checkOwner makes sure a record is given to an active user.
func (e *Engine) checkOwner(ctx context.Context, r *request, owner string, verr *ValidationError) error {
	uc, ok := r.d.(userChecker)
	if !ok {
		return nil
	}
	active, err := uc.ActiveUser(ctx, owner)
	if err != nil {
		return fmt.Errorf("engine: check owner: %w", err)
	}
	if !active {
		verr.add("owner_id", "not_found", "no active user with id %s", owner)
	}
	return nil
}

// checkCascade checks a dependent picklist's value against its
// controlling field's value.
func (e *Engine) checkCascade(verr *ValidationError, obj *metadata.Object, f *metadata.Field, v, ctrl any) {
	var values []string
	if f.Type == "multi_picklist" {
		_ = json.Unmarshal([]byte(v.(string)), &values)
	} else {
		values = []string{v.(string)}
	}
	cv := ""
	switch x := ctrl.(type) {
	case string:
		cv = x
	case bool:
		cv = fmt.Sprint(x)
	}
	for _, val := range values {
		opt, ok := f.Option(val)
		if !ok || len(opt.When) == 0 {
			continue
		}
		allowed := false
		for _, w := range opt.When {
			allowed = allowed || w == cv
		}
		if !allowed {
			if cv == "" {
				verr.add(f.Name, "cascade", "%q needs %s to be set first", val, f.DependsOn)
			} else {
				verr.add(f.Name, "cascade", "%q is not allowed when %s is %q", val, f.DependsOn, cv)
			}
		}
	}
}

// checkRefs checks that referenced records exist and that the principal
// may read them; one the principal cannot see answers as missing.
func (e *Engine) checkRefs(ctx context.Context, tx *sql.Tx, r *request, f *metadata.Field, ids []string, verr *ValidationError) error {
	if len(ids) == 0 {
		return nil
	}
	filter, args, err := r.d.RecordFilter(ctx, r.p, f.Target, "read")
	if err != nil {
		return err
	}
	if r.d.CanObject(r.p, f.Target, "read") != nil {
		filter, args = "1 = 0", nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	q := "SELECT \"id\" FROM " + store.Ident(f.Target) + where("\"id\" IN ("+marks+")", filter)
	all := append(anySlice(ids), args...)
	rows, err := tx.QueryContext(ctx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, all)...)
	if err != nil {
		return fmt.Errorf("check %s references: %w", f.Name, err)
	}
	found := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		found[id] = true
	}
	rows.Close()
	for _, id := range ids {
		if !found[id] {
			verr.add(f.Name, "not_found", "no %s with id %s", f.Target, id)
		}
	}
	return rows.Err()
}

// anySlice converts strings to arguments.
func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// beginTx starts a write transaction.
func (e *Engine) beginTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := e.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: begin: %w", err)
	}
	return tx, nil
}

// Create inserts a record of object from its JSON form and returns it as
// the principal may read it.
func (e *Engine) Create(ctx context.Context, object string, data map[string]any) (Record, error) {
	r, err := e.begin(ctx, object, metadata.ActionCreate)
	if err != nil {
		return nil, err
	}
	w, err := e.decode(r, data, OpCreate)
	if err != nil {
		return nil, err
	}
	now := e.now().UTC().Truncate(time.Millisecond)
	id := uuid.Must(uuid.NewV7()).String()
	rec := map[string]any{"id": id, "created_at": now, "created_by": r.p.UserID, "updated_at": now, "updated_by": r.p.UserID, "owner_id": r.p.UserID, "version": int64(1)}
	for _, f := range r.obj.Fields {
		if _, sent := w.vals[f.Name]; !sent && f.Default != nil {
			v, err := metadata.TypeOf(f).Normalize(f, f.Default)
			if err != nil {
				return nil, fmt.Errorf("default of %s.%s: %w", object, f.Name, err)
			}
			if f.Type == "many_to_many" {
				w.links[f.Name] = v.([]string)
			} else {
				rec[f.Name] = v
			}
		}
	}
	for k, v := range w.vals {
		rec[k] = v
	}
	if err := e.formulaDefaults(r.snap, r.obj, rec); err != nil {
		return nil, err
	}
	tx, err := e.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := e.validate(ctx, tx, r, rec, w); err != nil {
		return nil, err
	}
	ev := &Event{Op: OpCreate, Object: r.obj, ID: id, New: rec, Principal: r.p, Tx: tx, Snapshot: r.snap}
	if err := e.prepare(ctx, tx, r, ev, w.verr); err != nil {
		return nil, err
	}
	if err := e.assignNumbers(ctx, tx, r.obj, rec, now); err != nil {
		return nil, err
	}
	if err := e.insert(ctx, tx, r.obj, ev.New); err != nil {
		return nil, err
	}
	for name, ids := range w.links {
		if err := e.setLinks(ctx, tx, r.obj.Name, name, id, ids); err != nil {
			return nil, err
		}
	}
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("engine: commit create %s: %w", object, err)
	}
	if ev.New["owner_id"] == r.p.UserID && r.d.CanObject(r.p, object, metadata.ActionRead) == nil {
		// Every record scope reaches one's own records: answer from what
		// was written instead of reading it back.
		return e.written(r, ev.New, w.links)
	}
	out, err := e.reread(ctx, r, id)
	if isNotVisible(err) {
		// Created, but not readable by its creator (create-only rights, or
		// given to another owner).
		return Record{"id": id}, nil
	}
	return out, err
}

// written turns a record just written (storage form) and its links into
// the JSON form the principal may read.
func (e *Engine) written(r *request, rec map[string]any, links map[string][]string) (Record, error) {
	full := make(map[string]any, len(rec))
	for _, c := range r.columns(e.db.Dialect) {
		full[c] = rec[c]
	}
	out, err := r.output(full)
	if err != nil {
		return nil, err
	}
	for _, f := range r.obj.Fields {
		if f.Type == "many_to_many" && r.readable(f.Name) {
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
func (e *Engine) insert(ctx context.Context, tx *sql.Tx, obj *metadata.Object, rec map[string]any) error {
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
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", store.Ident(obj.Name), strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...); err != nil {
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
		return conflict("%s: a unique value is taken", obj.Name)
	}
	return fmt.Errorf("engine: write %s: %w", obj.Name, err)
}

// assignNumbers gives every auto-number field its next number. The counter
// row is updated in the write's transaction, so numbers are gap-free and
// concurrent inserts serialise on it.
func (e *Engine) assignNumbers(ctx context.Context, tx *sql.Tx, obj *metadata.Object, rec map[string]any, now time.Time) error {
	for _, f := range obj.Fields {
		if f.Type != "auto_number" {
			continue
		}
		prefix := metadata.AutoNumberPrefix(f.Format, now)
		n, err := e.db.NextNumber(ctx, tx, obj.Name, f.Name, prefix)
		if err != nil {
			return err
		}
		rec[f.Name] = metadata.RenderAutoNumber(prefix, n)
	}
	return nil
}

// setLinks replaces the links of a many-to-many field of one record.
func (e *Engine) setLinks(ctx context.Context, tx *sql.Tx, object, field, id string, ids []string) error {
	lt := store.Ident(store.LinkTable(object, field))
	if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"source_id\" = ?"), id); err != nil {
		return fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
	}
	for _, t := range ids {
		if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "INSERT INTO "+lt+" (\"source_id\", \"target_id\") VALUES (?, ?)"), id, t); err != nil {
			return fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
		}
	}
	return nil
}

// Get reads one record as the principal may see it; a record outside the
// principal's reach is not found.
func (e *Engine) Get(ctx context.Context, object, id string) (Record, error) {
	r, err := e.begin(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	return e.getWith(ctx, r, id)
}

// reread reads a record just written within the same request's decision;
// a principal without read rights on the object gets ErrForbidden.
func (e *Engine) reread(ctx context.Context, r *request, id string) (Record, error) {
	if err := r.d.CanObject(r.p, r.obj.Name, metadata.ActionRead); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return e.getWith(ctx, r, id)
}

// getWith reads one record for an authorised request.
func (e *Engine) getWith(ctx context.Context, r *request, id string) (Record, error) {
	rows, err := e.selectRows(ctx, e.db.SQL(), r, r.columns(e.db.Dialect), metadata.ActionRead, "\"id\" = ?", []any{id}, "")
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("no %s with id %s", r.obj.Name, id)
	}
	recs, err := e.outputRows(ctx, e.db.SQL(), r, rows)
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// selectRows runs a SELECT of cols limited by the record
// rule of action plus an extra predicate; tail is appended (ORDER BY,
// LIMIT, FOR UPDATE).
func (e *Engine) selectRows(ctx context.Context, q store.Querier, r *request, cols []string, action, pred string, args []any, tail string) ([]map[string]any, error) {
	rule, ruleArgs, err := r.d.RecordFilter(ctx, r.p, r.obj.Name, action)
	if err != nil {
		return nil, err
	}
	query := "SELECT " + selectList(cols) + " FROM " + store.Ident(r.obj.Name) + where(rule, pred) + tail
	all := append(append([]any(nil), ruleArgs...), args...)
	rows, err := q.QueryContext(ctx, store.Rebind(e.db.Dialect, query), store.Args(e.db.Dialect, all)...)
	if err != nil {
		return nil, fmt.Errorf("engine: read %s: %w", r.obj.Name, err)
	}
	return scanRows(rows)
}

// outputRows converts rows to records and adds their many-to-many links.
func (e *Engine) outputRows(ctx context.Context, q store.Querier, r *request, rows []map[string]any) ([]Record, error) {
	recs := make([]Record, len(rows))
	ids := make([]string, len(rows))
	for i, raw := range rows {
		rec, err := r.output(raw)
		if err != nil {
			return nil, err
		}
		recs[i] = rec
		ids[i], _ = raw["id"].(string)
	}
	for _, f := range r.obj.Fields {
		if f.Type != "many_to_many" || !r.readable(f.Name) || len(ids) == 0 {
			continue
		}
		links, err := e.loadLinks(ctx, q, r.obj.Name, f.Name, ids)
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			l := links[id]
			if l == nil {
				l = []string{}
			}
			recs[i][f.Name] = l
		}
	}
	return recs, nil
}

// loadLinks reads the links of a many-to-many field for a page of records
// in one query.
func (e *Engine) loadLinks(ctx context.Context, q store.Querier, object, field string, ids []string) (map[string][]string, error) {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	query := "SELECT \"source_id\", \"target_id\" FROM " + store.Ident(store.LinkTable(object, field)) + " WHERE \"source_id\" IN (" + marks + ") ORDER BY \"source_id\", \"target_id\""
	rows, err := q.QueryContext(ctx, store.Rebind(e.db.Dialect, query), anySlice(ids)...)
	if err != nil {
		return nil, fmt.Errorf("engine: links of %s.%s: %w", object, field, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var s, t string
		if err := rows.Scan(&s, &t); err != nil {
			return nil, err
		}
		out[s] = append(out[s], t)
	}
	return out, rows.Err()
}
