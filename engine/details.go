package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// detailsFollowOwner is the after-hook of every update: when a record
// changes owner (a transfer, an owner_id sent, a mass transfer), its
// details that its previous owner held (records of which it is the
// master, metadata.MasterOf: a quote's lines, an account's contacts) go
// to the new owner in the same unit of work, as the system on behalf of
// the writer, each with its own update (history, hooks, events) and so
// their own details in turn. A detail someone else holds stays theirs,
// but for a part of its master (a master-detail lookup), which always
// goes.
// Without it the new owner of a quote saw its line count but none of its
// lines where a role reads lines by ownership.
func (e *Engine) detailsFollowOwner(ctx context.Context, ev *Event) error {
	before, _ := ev.Old[metadata.OwnerField].(string)
	after, _ := ev.New[metadata.OwnerField].(string)
	if before == after || after == "" || ev.Writer == nil {
		return nil
	}
	var sys *Writer
	for _, ref := range ev.Snapshot.refs[ev.Object.Name] {
		if _, ok := metadata.MasterOf(ref.Field); !ok {
			continue
		}
		held := before
		if ref.Field.MasterDetail {
			held = "" // all of them: a part is always its master's owner's
		}
		ids, err := e.detailIDs(ctx, ev.Tx, ref, ev.ID, held)
		if err != nil {
			return err
		}
		if sys == nil && len(ids) > 0 {
			sys = ev.Writer.AsSystem()
		}
		for _, id := range ids {
			if _, err := sys.Update(ctx, ref.Object.Name, id, map[string]any{metadata.OwnerField: after}); err != nil {
				return fmt.Errorf("engine: give %s %s to the new owner of its %s: %w", ref.Object.Name, id, ev.Object.Name, err)
			}
		}
	}
	return nil
}

// detailIDs returns the ids of the records whose lookup ref points at
// master and which owner holds (any owner when "").
func (e *Engine) detailIDs(ctx context.Context, q store.Querier, ref fieldRef, master, owner string) ([]string, error) {
	where, args := store.Ident(ref.Field.Name)+" = ?", []any{master}
	if owner != "" {
		where, args = where+" AND "+store.Ident(metadata.OwnerField)+" = ?", append(args, owner)
	}
	rows, err := q.QueryContext(ctx, store.Rebind(e.db.Dialect, "SELECT \"id\" FROM "+store.Ident(ref.Object.Name)+" WHERE "+where+" ORDER BY \"id\""), args...)
	if err != nil {
		return nil, fmt.Errorf("engine: find the details of %s %s: %w", ref.Object.Name, master, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("engine: find the details of %s %s: %w", ref.Object.Name, master, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// partOfMaster keeps rec, a record part of its master (a master-detail
// lookup m: a quote's line) being created (old nil) or updated, with its
// master: whoever writes it must be able to change the master (the
// update right on that record: its owner, a scope over it, an edit
// share), the old master too when it moves, and it is held by the
// master's owner, whoever writes it. An owner sent that is neither the
// master's nor, on an update, the record's own is refused. The system
// writes it without the rights check.
func (e *Engine) partOfMaster(ctx context.Context, w *Writer, obj *metadata.Object, m masterField, old, rec map[string]any, wr *write) error {
	id, _ := rec[m.f.Name].(string)
	if id == "" {
		return nil // required: validation says so
	}
	var owner string
	q := "SELECT " + store.Ident(metadata.OwnerField) + " FROM " + store.Ident(m.object) + " WHERE \"id\" = ?"
	err := w.tx.QueryRowContext(ctx, store.Rebind(e.db.Dialect, q), id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // validation says the master is not found
	}
	if err != nil {
		return fmt.Errorf("engine: read the owner of %s %s: %w", m.object, id, err)
	}
	if !w.rights.p.System {
		if err := e.mayChangeMaster(ctx, w, obj, m, id, true); err != nil {
			return err
		}
		if before, _ := old[m.f.Name].(string); old != nil && before != id {
			if err := e.mayChangeMaster(ctx, w, obj, m, before, false); err != nil {
				return err
			}
		}
	}
	if sent, ok := wr.vals[metadata.OwnerField]; ok && sent != owner && (old == nil || sent != old[metadata.OwnerField]) {
		wr.verr.add(metadata.OwnerField, "invalid", "a %s belongs to the owner of its %s", obj.Name, m.object)
		return &wr.verr
	}
	rec[metadata.OwnerField] = owner
	return nil
}

// mayChangeMaster returns nil when the principal may change master, the
// id of the record of m's object obj is part of, and ErrForbidden
// otherwise. With named, a master they may not even read passes here:
// the lookup's own check answers that it is not found, as for any record
// out of their reach, so that a refusal does not tell it exists.
func (e *Engine) mayChangeMaster(ctx context.Context, w *Writer, obj *metadata.Object, m masterField, master any, named bool) error {
	id, _ := master.(string)
	if id == "" {
		return nil
	}
	ms, err := w.rights.Scope(m.object)
	if err != nil {
		return err
	}
	ok, err := e.reaches(ctx, w, ms, metadata.ActionUpdate, id)
	if err != nil || ok {
		return err
	}
	if named {
		if read, err := e.reaches(ctx, w, ms, metadata.ActionRead, id); err != nil || !read {
			return err
		}
	}
	return fmt.Errorf("%w: a %s is part of its %s: you may not change this %s", ErrForbidden, obj.Name, m.object, m.object)
}
