package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// detailsFollowOwner is the after-hook of every update: when a record
// changes owner (a transfer, an owner_id sent, a mass transfer), its
// details that its previous owner held (records of which it is the
// master, metadata.MasterOf: a quote's lines, an account's contacts) go
// to the new owner in the same unit of work, as the system on behalf of
// the writer, each with its own update (history, hooks, events) and so
// their own details in turn. A detail someone else holds stays theirs.
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
		ids, err := e.detailIDs(ctx, ev.Tx, ref, ev.ID, before)
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
// master and which owner holds.
func (e *Engine) detailIDs(ctx context.Context, q store.Querier, ref fieldRef, master, owner string) ([]string, error) {
	rows, err := q.QueryContext(ctx, store.Rebind(e.db.Dialect, "SELECT \"id\" FROM "+store.Ident(ref.Object.Name)+" WHERE "+store.Ident(ref.Field.Name)+" = ? AND "+store.Ident(metadata.OwnerField)+" = ? ORDER BY \"id\""), master, owner)
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

// ownerOfSharedMaster gives rec, a new detail (a quote's line) that its
// creator writes on a master shared with them for editing (a manual
// share) and held by someone else, to the master's owner: the owner then
// sees every line of their quote, and the creator still reaches it
// through the share of its master (access: a share of a record shares its
// details). A read share gives nothing of the kind: a reader does not
// write into the master's owner's records. The first master found decides;
// an owner sent by the creator is kept. An engine without a ShareStore
// has no shares.
func (e *Engine) ownerOfSharedMaster(ctx context.Context, w *Writer, masters []masterField, rec map[string]any) error {
	if e.shares == nil {
		return nil
	}
	user := w.rights.p.UserID
	for _, m := range masters {
		id, _ := rec[m.f.Name].(string)
		if id == "" {
			continue
		}
		var owner string
		q := "SELECT " + store.Ident(metadata.OwnerField) + " FROM " + store.Ident(m.object) + " WHERE \"id\" = ?"
		err := w.tx.QueryRowContext(ctx, store.Rebind(e.db.Dialect, q), id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			continue // validation names the missing master
		}
		if err != nil {
			return fmt.Errorf("engine: read the owner of %s %s: %w", m.object, id, err)
		}
		if owner == user {
			return nil
		}
		level, err := e.shares.ShareAccess(ctx, w.tx, m.object, id, user)
		if err != nil {
			return err
		}
		if level == access.ShareEdit {
			rec[metadata.OwnerField] = owner
		}
		return nil
	}
	return nil
}
