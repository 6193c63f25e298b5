package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Delete removes a record as the principal of ctx, in a transaction of its
// own (see Writer.Delete).
func (e *Engine) Delete(ctx context.Context, object, id string) error {
	p, ok := access.FromContext(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	return e.Tx(ctx, p, func(w *Writer) error { return w.Delete(ctx, object, id) })
}

// Delete removes a record inside the unit of work, applying each lookup's
// on-delete rule to the records that point at it (restrict refuses,
// set_null clears, cascade deletes them too).
func (w *Writer) Delete(ctx context.Context, object, id string) error {
	s, err := w.rights.ScopeFor(object, metadata.ActionDelete)
	if err != nil {
		return err
	}
	old, err := w.e.lockRow(ctx, w, s, metadata.ActionDelete, id)
	if err != nil {
		return err
	}
	return w.e.deleteRow(ctx, w, s, old, 0)
}

// maxCascade bounds how deep a cascade of deletes may go.
const maxCascade = 16

// deleteRow deletes one row after handling the records that reference it.
func (e *Engine) deleteRow(ctx context.Context, w *Writer, s *Scope, old map[string]any, depth int) error {
	if depth > maxCascade {
		return conflict("delete of %s cascades more than %d levels deep", s.obj.Name, maxCascade)
	}
	id := old["id"].(string)
	if part := s.r.snap.recordPlan(s.obj).part; part != nil && depth == 0 && !w.rights.p.System {
		if err := e.mayChangeMaster(ctx, w, s.obj, *part, old[part.f.Name], false); err != nil {
			return err
		}
	}
	ev := w.event(OpDelete, s, id, old, nil)
	if err := e.hooks.run(ctx, true, ev); err != nil {
		return err
	}
	for _, ref := range s.r.snap.refs[s.obj.Name] {
		if err := e.applyOnDelete(ctx, w, s, ref, id, depth); err != nil {
			return err
		}
	}
	for _, o := range s.r.snap.Schema.Objects {
		for _, f := range o.Fields {
			if !metadata.Linked(f) {
				continue
			}
			target, _ := metadata.ReferenceTarget(f)
			lt := store.Ident(store.LinkTable(o.Name, f.Name))
			if o.Name == s.obj.Name {
				if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"source_id\" = ?"), id); err != nil {
					return fmt.Errorf("engine: unlink %s: %w", id, err)
				}
			}
			if target == s.obj.Name {
				if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+lt+" WHERE \"target_id\" = ?"), id); err != nil {
					return fmt.Errorf("engine: unlink %s: %w", id, err)
				}
				w.rows.wrote(o.Name, "")
			}
		}
	}
	if err := e.releaseFiles(ctx, w, s.obj, id, old, map[string]any{}); err != nil {
		return err
	}
	if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM "+store.Ident(s.obj.Name)+" WHERE \"id\" = ?"), id); err != nil {
		if store.IsForeignKeyViolation(err) {
			return conflict("%s %s is still referenced by other records", s.obj.Name, id)
		}
		return fmt.Errorf("engine: delete %s %s: %w", s.obj.Name, id, err)
	}
	w.rows.wrote(s.obj.Name, id)
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return err
	}
	return w.publishWrite(ctx, ev)
}

// applyOnDelete handles the records of one lookup that point at a record
// being deleted.
func (e *Engine) applyOnDelete(ctx context.Context, w *Writer, s *Scope, ref fieldRef, id string, depth int) error {
	table, col := store.Ident(ref.Object.Name), store.Ident(ref.Field.Name)
	switch metadata.OnDeleteOf(ref.Field) {
	case metadata.OnDeleteRestrict:
		var n int64
		if err := w.tx.QueryRowContext(ctx, store.Rebind(e.db.Dialect, "SELECT COUNT(*) FROM "+table+" WHERE "+col+" = ?"), id).Scan(&n); err != nil {
			return fmt.Errorf("engine: check references to %s: %w", id, err)
		}
		if n > 0 {
			return conflict("cannot delete this %s: %s records refer to it through %s", s.obj.Name, ref.Object.Name, ref.Field.Name)
		}
	case metadata.OnDeleteSetNull:
		cleared, err := e.trackedReferrers(ctx, w, ref, id)
		if err != nil {
			return err
		}
		q := "UPDATE " + table + " SET " + col + " = NULL, \"version\" = \"version\" + 1 WHERE " + col + " = ?"
		if _, err := w.tx.ExecContext(ctx, store.Rebind(e.db.Dialect, q), id); err != nil {
			return fmt.Errorf("engine: clear references to %s: %w", id, err)
		}
		w.rows.wrote(ref.Object.Name, "")
		// The history of each record whose tracked lookup was cleared says
		// so, as changed by the system on behalf of the deleter.
		now := e.now().UTC().Truncate(time.Millisecond)
		for rid, version := range cleared {
			if err := e.writeHistory(ctx, w.tx, ref.Object, rid, w.rights.p.UserID, true, map[string]any{ref.Field.Name: id},
				map[string]any{"version": version + 1}, nil, nil, now); err != nil {
				return err
			}
		}
	case metadata.OnDeleteCascade:
		// The cascade follows the metadata, not the principal's rights on
		// the children: their deletion is the parent's.
		child := &Scope{r: s.r, obj: ref.Object, fieldAccess: &fieldAccess{}}
		rows, err := w.tx.QueryContext(ctx, store.Rebind(e.db.Dialect, "SELECT "+s.r.snap.selectAll(ref.Object, e.db.Dialect)+" FROM "+table+" WHERE "+col+" = ?"), id)
		if err != nil {
			return fmt.Errorf("engine: find records of %s referring to %s: %w", ref.Object.Name, id, err)
		}
		children, err := store.ScanMaps(rows)
		if err != nil {
			return err
		}
		for _, raw := range children {
			old, err := toStorage(ref.Object, raw)
			if err != nil {
				return err
			}
			if err := e.deleteRow(ctx, w, child, old, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// trackedReferrers returns, when ref's lookup is tracked, the version of
// each record whose lookup points at id (nil when it is not tracked).
func (e *Engine) trackedReferrers(ctx context.Context, w *Writer, ref fieldRef, id string) (map[string]int64, error) {
	if !ref.Field.Tracked {
		return nil, nil
	}
	rows, err := w.tx.QueryContext(ctx, store.Rebind(e.db.Dialect, "SELECT \"id\", \"version\" FROM "+store.Ident(ref.Object.Name)+" WHERE "+store.Ident(ref.Field.Name)+" = ?"), id)
	if err != nil {
		return nil, fmt.Errorf("engine: find records of %s referring to %s: %w", ref.Object.Name, id, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var rid string
		var version int64
		if err := rows.Scan(&rid, &version); err != nil {
			return nil, err
		}
		out[rid] = version
	}
	return out, rows.Err()
}

// isNotVisible reports whether err means the record is out of reach.
func isNotVisible(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) }
