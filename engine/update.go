package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// allColumns lists every column of an object's table.
func allColumns(dialect string, obj *metadata.Object) []string {
	cols := append([]string(nil), metadata.SystemFields...)
	for _, f := range obj.Fields {
		if metadata.TypeOf(f).Column(dialect, f) != "" {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

// lockRow reads the whole row of a record the principal may reach for
// action, locking it in PostgreSQL. A record the principal cannot even
// read is not found; one it can read but not change is forbidden.
func (e *Engine) lockRow(ctx context.Context, tx *sql.Tx, r *request, action, id string) (map[string]any, error) {
	tail := ""
	if e.db.Dialect == metadata.DialectPostgres {
		tail = " FOR UPDATE"
	}
	rows, err := e.selectRows(ctx, tx, r, allColumns(e.db.Dialect, r.obj), action, "\"id\" = ?", []any{id}, tail)
	if err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		return toStorage(r.obj, rows[0])
	}
	visible, err := e.selectRows(ctx, tx, r, []string{"id"}, metadata.ActionRead, "\"id\" = ?", []any{id}, "")
	if err != nil {
		return nil, err
	}
	if len(visible) == 1 && r.d.CanObject(r.p, r.obj.Name, metadata.ActionRead) == nil {
		return nil, fmt.Errorf("%w: you may not %s this %s", ErrForbidden, action, r.obj.Name)
	}
	return nil, notFound("no %s with id %s", r.obj.Name, id)
}

// Update changes fields of a record. data must carry the version the
// client read; a stale version is ErrConflict and changes nothing.
func (e *Engine) Update(ctx context.Context, object, id string, data map[string]any) (Record, error) {
	r, err := e.begin(ctx, object, metadata.ActionUpdate)
	if err != nil {
		return nil, err
	}
	w, err := e.decode(r, data, OpUpdate)
	if err != nil {
		return nil, err
	}
	tx, err := e.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	old, err := e.lockRow(ctx, tx, r, metadata.ActionUpdate, id)
	if err != nil {
		return nil, err
	}
	if cur := old["version"].(int64); cur != w.version {
		return nil, conflict("%s %s was changed by someone else: you sent version %d, it is at version %d; reload and try again", object, id, w.version, cur)
	}
	now := e.now().UTC().Truncate(time.Millisecond)
	rec := make(map[string]any, len(old))
	for k, v := range old {
		rec[k] = v
	}
	for k, v := range w.vals {
		rec[k] = v
	}
	rec["version"], rec["updated_at"], rec["updated_by"] = w.version+1, now, r.p.UserID
	if err := e.validate(ctx, tx, r, rec, w); err != nil {
		return nil, err
	}
	ev := &Event{Op: OpUpdate, Object: r.obj, ID: id, New: rec, Old: old, Principal: r.p, Tx: tx, Snapshot: r.snap}
	if err := e.prepare(ctx, tx, r, ev, w.verr); err != nil {
		return nil, err
	}
	if err := e.updateRow(ctx, tx, r.obj, id, w.version, old, ev.New); err != nil {
		return nil, err
	}
	if err := e.releaseFiles(ctx, tx, r.obj, id, old, ev.New); err != nil {
		return nil, err
	}
	oldLinks := map[string][]string{}
	for name, ids := range w.links {
		links, err := e.loadLinks(ctx, tx, object, name, []string{id})
		if err != nil {
			return nil, err
		}
		oldLinks[name] = links[id]
		if err := e.setLinks(ctx, tx, object, name, id, ids); err != nil {
			return nil, err
		}
	}
	if err := e.recordHistory(ctx, tx, r.obj, id, r.p.UserID, old, ev.New, oldLinks, w.links, now); err != nil {
		return nil, err
	}
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("engine: commit update %s: %w", object, err)
	}
	out, err := e.reread(ctx, r, id)
	if isNotVisible(err) {
		// Updated, but out of the principal's read reach now (it gave the
		// record away, say).
		return Record{"id": id}, nil
	}
	return out, err
}

// updateRow writes the changed columns of a row, guarded by its version.
func (e *Engine) updateRow(ctx context.Context, tx *sql.Tx, obj *metadata.Object, id string, version int64, old, rec map[string]any) error {
	sets := []string{"\"version\" = ?", "\"updated_at\" = ?", "\"updated_by\" = ?"}
	args := []any{rec["version"], rec["updated_at"], rec["updated_by"]}
	cols := append([]string{"owner_id"}, allColumns(e.db.Dialect, obj)[len(metadata.SystemFields):]...)
	for _, c := range cols {
		if !reflect.DeepEqual(old[c], rec[c]) {
			sets = append(sets, store.Ident(c)+" = ?")
			args = append(args, rec[c])
		}
	}
	args = append(args, id, version)
	q := "UPDATE " + store.Ident(obj.Name) + " SET " + strings.Join(sets, ", ") + " WHERE \"id\" = ? AND \"version\" = ?"
	res, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...)
	if err != nil {
		return e.writeError(obj, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("%s %s was changed by someone else; reload and try again", obj.Name, id)
	}
	return nil
}

// recordHistory writes one history row per changed tracked field, as
// changed by user by.
func (e *Engine) recordHistory(ctx context.Context, tx store.Querier, obj *metadata.Object, id, by string, old, rec map[string]any, oldLinks, newLinks map[string][]string, now time.Time) error {
	for _, f := range obj.Fields {
		if !f.Tracked {
			continue
		}
		var before, after any
		if f.Type == "many_to_many" {
			ids, sent := newLinks[f.Name]
			if !sent {
				continue
			}
			before, after = oldLinks[f.Name], ids
			if before == nil {
				before = []string{}
			}
		} else {
			var err error
			if before, err = outputValue(f, old[f.Name]); err != nil {
				return err
			}
			if after, err = outputValue(f, rec[f.Name]); err != nil {
				return err
			}
		}
		bj, _ := json.Marshal(before)
		aj, _ := json.Marshal(after)
		if string(bj) == string(aj) {
			continue
		}
		q := store.Rebind(e.db.Dialect, "INSERT INTO crm_history (id, object, record_id, field, old_value, new_value, changed_by, changed_at, record_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
		if _, err := tx.ExecContext(ctx, q, uuid.Must(uuid.NewV7()).String(), obj.Name, id, f.Name, string(bj), string(aj), by, metadata.DBValue(e.db.Dialect, now), rec["version"]); err != nil {
			return fmt.Errorf("engine: history of %s %s: %w", obj.Name, id, err)
		}
	}
	return nil
}

// outputValue converts a storage value to JSON form.
func outputValue(f *metadata.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t, ok := v.(time.Time); ok && f.Type == "datetime" {
		return t.UTC().Format(metadata.DateTimeLayout), nil
	}
	return metadata.TypeOf(f).Output(f, v)
}

// decodeHistory reads a stored history value, keeping numbers exact
// (amounts keep their decimals).
func decodeHistory(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	return v
}

// HistoryEntry is one change of one tracked field.
type HistoryEntry struct {
	Field     string    `json:"field"`
	OldValue  any       `json:"old_value"`
	NewValue  any       `json:"new_value"`
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
	Version   int64     `json:"version"`
}

// History lists the changes of the tracked fields of a record the
// principal can read, oldest first, leaving out fields hidden from it.
func (e *Engine) History(ctx context.Context, object, id string) ([]HistoryEntry, error) {
	r, err := e.begin(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := e.selectRows(ctx, e.db.SQL(), r, []string{"id"}, metadata.ActionRead, "\"id\" = ?", []any{id}, "")
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("no %s with id %s", object, id)
	}
	q := store.Rebind(e.db.Dialect, "SELECT field, old_value, new_value, changed_by, changed_at, record_version FROM crm_history WHERE object = ? AND record_id = ? ORDER BY changed_at, record_version, field")
	hrows, err := e.db.SQL().QueryContext(ctx, q, object, id)
	if err != nil {
		return nil, fmt.Errorf("engine: history of %s %s: %w", object, id, err)
	}
	defer hrows.Close()
	out := []HistoryEntry{}
	for hrows.Next() {
		var h HistoryEntry
		var oldV, newV, by sql.NullString
		var at any
		if err := hrows.Scan(&h.Field, &oldV, &newV, &by, &at, &h.Version); err != nil {
			return nil, err
		}
		if !r.readable(h.Field) {
			continue
		}
		h.OldValue, h.NewValue = decodeHistory(oldV.String), decodeHistory(newV.String)
		h.ChangedBy = by.String
		h.ChangedAt = store.ScanTime(at)
		out = append(out, h)
	}
	return out, hrows.Err()
}

// Delete removes a record, applying each lookup's on-delete rule to the
// records that point at it (restrict refuses, set_null clears, cascade
// deletes them too), all in one transaction.
func (e *Engine) Delete(ctx context.Context, object, id string) error {
	r, err := e.begin(ctx, object, metadata.ActionDelete)
	if err != nil {
		return err
	}
	tx, err := e.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	old, err := e.lockRow(ctx, tx, r, metadata.ActionDelete, id)
	if err != nil {
		return err
	}
	if err := e.deleteRow(ctx, tx, r, old, 0); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("engine: commit delete %s: %w", object, err)
	}
	return nil
}

// maxCascade bounds how deep a cascade of deletes may go.
const maxCascade = 16

// deleteRow deletes one row after handling the records that reference it.
func (e *Engine) deleteRow(ctx context.Context, tx *sql.Tx, r *request, old map[string]any, depth int) error {
	if depth > maxCascade {
		return conflict("delete of %s cascades more than %d levels deep", r.obj.Name, maxCascade)
	}
	id := old["id"].(string)
	ev := &Event{Op: OpDelete, Object: r.obj, ID: id, Old: old, Principal: r.p, Tx: tx, Snapshot: r.snap}
	if err := e.hooks.run(ctx, true, ev); err != nil {
		return err
	}
	for _, ref := range r.snap.refs[r.obj.Name] {
		if err := e.applyOnDelete(ctx, tx, r, ref, id, depth); err != nil {
			return err
		}
	}
	for _, o := range r.snap.Schema.Objects {
		for _, f := range o.Fields {
			if f.Type != "many_to_many" {
				continue
			}
			lt := store.Ident(store.LinkTable(o.Name, f.Name))
			if o.Name == r.obj.Name {
				if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"source_id\" = ?"), id); err != nil {
					return fmt.Errorf("engine: unlink %s: %w", id, err)
				}
			}
			if f.Target == r.obj.Name {
				if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"target_id\" = ?"), id); err != nil {
					return fmt.Errorf("engine: unlink %s: %w", id, err)
				}
			}
		}
	}
	if err := e.releaseFiles(ctx, tx, r.obj, id, old, map[string]any{}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+store.Ident(r.obj.Name)+" WHERE \"id\" = ?"), id); err != nil {
		if store.IsForeignKeyViolation(err) {
			return conflict("%s %s is still referenced by other records", r.obj.Name, id)
		}
		return fmt.Errorf("engine: delete %s %s: %w", r.obj.Name, id, err)
	}
	return e.hooks.run(ctx, false, ev)
}

// applyOnDelete handles the records of one lookup that point at a record
// being deleted.
func (e *Engine) applyOnDelete(ctx context.Context, tx *sql.Tx, r *request, ref fieldRef, id string, depth int) error {
	table, col := store.Ident(ref.Object.Name), store.Ident(ref.Field.Name)
	switch metadata.OnDeleteOf(ref.Field) {
	case metadata.OnDeleteRestrict:
		var n int64
		if err := tx.QueryRowContext(ctx, store.Rebind(e.db.Dialect, "SELECT COUNT(*) FROM "+table+" WHERE "+col+" = ?"), id).Scan(&n); err != nil {
			return fmt.Errorf("engine: check references to %s: %w", id, err)
		}
		if n > 0 {
			return conflict("cannot delete this %s: %s records refer to it through %s", r.obj.Name, ref.Object.Name, ref.Field.Name)
		}
	case metadata.OnDeleteSetNull:
		q := "UPDATE " + table + " SET " + col + " = NULL, \"version\" = \"version\" + 1 WHERE " + col + " = ?"
		if _, err := tx.ExecContext(ctx, store.Rebind(e.db.Dialect, q), id); err != nil {
			return fmt.Errorf("engine: clear references to %s: %w", id, err)
		}
	case metadata.OnDeleteCascade:
		child := &request{d: r.d, snap: r.snap, obj: ref.Object, p: r.p}
		rows, err := tx.QueryContext(ctx, store.Rebind(e.db.Dialect, "SELECT "+selectList(allColumns(e.db.Dialect, ref.Object))+" FROM "+table+" WHERE "+col+" = ?"), id)
		if err != nil {
			return fmt.Errorf("engine: find records of %s referring to %s: %w", ref.Object.Name, id, err)
		}
		children, err := scanRows(rows)
		if err != nil {
			return err
		}
		for _, raw := range children {
			old, err := toStorage(ref.Object, raw)
			if err != nil {
				return err
			}
			if err := e.deleteRow(ctx, tx, child, old, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// isNotVisible reports whether err means the record is out of reach.
func isNotVisible(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) }
