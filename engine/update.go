package engine

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Update changes fields of a record as the principal of ctx, in a
// transaction of its own. data must carry the version the client read; a
// stale version is ErrConflict and changes nothing.
func (e *Engine) Update(ctx context.Context, object, id string, data map[string]any) (Record, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	if _, sent := data["version"]; !sent {
		return nil, &ValidationError{Object: object, Errors: []FieldError{{Field: "version", Code: "required", Message: "send the version you read, for optimistic locking"}}}
	}
	var out Record
	err := e.Tx(ctx, p, func(w *Writer) error {
		var err error
		out, err = w.Update(ctx, object, id, data)
		return err
	})
	return out, err
}

// Update changes fields of a record inside the unit of work, with every
// check of the API, and returns it as the principal may read it. When data
// carries "version", a record changed since is ErrConflict; without it the
// update applies to the record as it is (locked for the transaction).
func (w *Writer) Update(ctx context.Context, object, id string, data map[string]any) (Record, error) {
	return w.update(ctx, object, id, data, metadata.ActionUpdate)
}

// update changes a record the principal reaches through action: update,
// or transfer for the transfer action.
func (w *Writer) update(ctx context.Context, object, id string, data map[string]any, action string) (Record, error) {
	e := w.e
	s, err := w.rights.ScopeFor(object, action)
	if err != nil {
		return nil, err
	}
	wr, err := e.decode(s, data, OpUpdate)
	if err != nil {
		return nil, err
	}
	old, linked, err := e.lockRecord(ctx, w, s, action, id, true)
	if err != nil {
		return nil, err
	}
	cur := old["version"].(int64)
	if _, sent := data["version"]; !sent {
		wr.version = cur
	}
	if wr.version != 0 && cur != wr.version {
		return nil, conflict("%s %s was changed by someone else: you sent version %d, it is at version %d; reload and try again", object, id, wr.version, cur)
	}
	if err := e.checkKept(ctx, w, s, id, old, wr); err != nil {
		return nil, err
	}
	if owner, ok := wr.vals[metadata.OwnerField]; ok && owner != old[metadata.OwnerField] {
		if err := e.checkTransfer(ctx, w, s, id); err != nil {
			return nil, err
		}
	}
	now := e.now().UTC().Truncate(time.Millisecond)
	rec := make(map[string]any, len(old))
	for k, v := range old {
		rec[k] = v
	}
	for k, v := range wr.vals {
		rec[k] = v
	}
	rec["version"], rec["updated_at"], rec["updated_by"] = cur+1, now, w.rights.p.UserID
	if part := s.r.snap.recordPlan(s.obj).part; part != nil {
		if err := e.partOfMaster(ctx, w, s.obj, *part, old, rec, wr); err != nil {
			return nil, err
		}
	}
	wr.stored, wr.storedLinks = old, linked
	if err := e.validate(ctx, w, s, rec, wr); err != nil {
		return nil, err
	}
	ev := w.event(OpUpdate, s, id, old, rec)
	ev.Input, ev.Links = data, wr.links
	if len(wr.links) > 0 {
		// Their old ids came with the locked row (below).
		ev.OldLinks = make(map[string][]string, len(wr.links))
		for name := range wr.links {
			ev.OldLinks[name] = linked[name]
		}
	}
	if err := e.prepare(ctx, s, ev, &wr.verr); err != nil {
		return nil, err
	}
	changed := changedColumns(s.r.snap.objectInserts(s.obj, e.db.Dialect).fields, old, ev.New)
	if len(changed) == 0 && sameLinks(linked, wr.links) {
		// Nothing to write (a form saved as it was, a client sending back
		// what it read): the record keeps its version, and no hook, event
		// or history sees a change that did not happen.
		if s.Can(metadata.ActionRead) != nil {
			return Record{"id": id}, nil
		}
		return e.written(s, old, linked)
	}
	if err := e.updateRow(ctx, w, s.obj, id, cur, ev.New, changed); err != nil {
		return nil, err
	}
	if err := e.releaseFiles(ctx, w, s.obj, id, old, ev.New); err != nil {
		return nil, err
	}
	// The links the update sets are of fields the principal may edit, so
	// reads: their old ids came with the locked row.
	for name, ids := range wr.links {
		if err := e.setLinks(ctx, w, object, name, id, ids); err != nil {
			return nil, err
		}
	}
	if err := e.recordHistory(ctx, w, s.obj, id, old, ev.New, linked, wr.links, now); err != nil {
		return nil, err
	}
	mark := w.rows.mark()
	if err := e.hooks.run(ctx, false, ev); err != nil {
		return nil, err
	}
	if err := w.publishWrite(ctx, ev); err != nil {
		return nil, err
	}
	if w.answersFromMemory(s, ev.New, mark) {
		// The links read with the row are still the record's (nothing
		// changed its row since), but for those the update set.
		maps.Copy(linked, wr.links)
		return e.written(s, ev.New, linked)
	}
	// Updated, but maybe out of the principal's read reach now (it gave
	// the record away, say): then only the id.
	return w.readBack(ctx, s, id)
}

// changedColumns lists the owner and those of fields (an object's fields
// with a column of their own) whose stored value differs between old and
// rec, the row before and after an update.
func changedColumns(fields []*metadata.Field, old, rec map[string]any) []string {
	var changed []string
	if !reflect.DeepEqual(old[metadata.OwnerField], rec[metadata.OwnerField]) {
		changed = append(changed, metadata.OwnerField)
	}
	for _, f := range fields {
		if !reflect.DeepEqual(old[f.Name], rec[f.Name]) {
			changed = append(changed, f.Name)
		}
	}
	return changed
}

// sameLinks reports whether the links an update sets are those the record
// has (linked).
func sameLinks(linked, links map[string][]string) bool {
	for name, ids := range links {
		if !slices.Equal(ids, linked[name]) {
			return false
		}
	}
	return true
}

// lockRow reads the whole row of a record the principal may reach for
// action, locking it in PostgreSQL. A record the principal cannot even
// read is not found; one it can read but not change is forbidden.
func (e *Engine) lockRow(ctx context.Context, w *Writer, s *Scope, action, id string) (map[string]any, error) {
	row, _, err := e.lockRecord(ctx, w, s, action, id, false)
	return row, err
}

// lockRecord is lockRow, and with links also the ids each many-to-many
// field the principal reads links to, selected with the row in the same
// statement (linksColumn) instead of one more per field.
func (e *Engine) lockRecord(ctx context.Context, w *Writer, s *Scope, action, id string, links bool) (map[string]any, map[string][]string, error) {
	tail := ""
	if e.db.Dialect == metadata.DialectPostgres {
		tail = " FOR UPDATE"
	}
	list := s.r.snap.selectAll(s.obj, e.db.Dialect)
	var fields []*metadata.Field
	if links {
		fields = s.linksRead()
	}
	for _, f := range fields {
		list += ", " + linksColumn(s.obj.Name, f.Name) + " AS " + store.Ident(linksAlias+f.Name)
	}
	rows, err := e.selectList(ctx, w.tx, s, list, action, "\"id\" = ?", []any{id}, tail)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 1 {
		var got map[string][]string
		if links {
			got = make(map[string][]string, len(fields))
			for _, f := range fields {
				v, err := splitLinks(rows[0][linksAlias+f.Name])
				if err != nil {
					return nil, nil, fmt.Errorf("read %s.%s: %w", s.obj.Name, f.Name, err)
				}
				got[f.Name] = v.([]string)
				delete(rows[0], linksAlias+f.Name)
			}
		}
		row, err := toStorage(s.obj, rows[0])
		return row, got, err
	}
	if visible, err := e.reaches(ctx, w, s, metadata.ActionRead, id); err != nil {
		return nil, nil, err
	} else if visible {
		return nil, nil, fmt.Errorf("%w: you may not %s this %s", ErrForbidden, action, s.obj.Name)
	}
	return nil, nil, notFound("no %s with id %s", s.obj.Name, id)
}

// linksAlias prefixes the names lockRecord gives the links it selects, so
// that they cannot be taken for columns.
const linksAlias = "crm_links_"

// updateRow writes the changed columns (changedColumns) of a row, with its
// new version and the time and author of the change, guarded by its version.
func (e *Engine) updateRow(ctx context.Context, w *Writer, obj *metadata.Object, id string, version int64, rec map[string]any, changed []string) error {
	sets := []string{"\"version\" = ?", "\"updated_at\" = ?", "\"updated_by\" = ?"}
	args := []any{rec["version"], rec["updated_at"], rec["updated_by"]}
	for _, c := range changed {
		sets = append(sets, store.Ident(c)+" = ?")
		args = append(args, rec[c])
	}
	args = append(args, id, version)
	q := "UPDATE " + store.Ident(obj.Name) + " SET " + strings.Join(sets, ", ") + " WHERE \"id\" = ? AND \"version\" = ?"
	res, err := e.db.Exec(ctx, w.tx, store.Rebind(e.db.Dialect, q), store.Args(e.db.Dialect, args)...)
	if err != nil {
		return e.writeError(obj, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return conflict("%s %s was changed by someone else; reload and try again", obj.Name, id)
	}
	w.rows.wrote(obj.Name, id)
	return nil
}
