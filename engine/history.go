package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// HistoryEntry is one change of one tracked field.
type HistoryEntry struct {
	Field    string `json:"field"`
	OldValue any    `json:"old_value"`
	NewValue any    `json:"new_value"`
	// ChangedBy is the id of the user whose action made the change.
	ChangedBy string `json:"changed_by"`
	// BySystem marks a change the platform made on its own on behalf of
	// ChangedBy (a workflow, an automation, a recomputed formula).
	BySystem  bool      `json:"by_system,omitempty"`
	ChangedAt time.Time `json:"changed_at"`
	Version   int64     `json:"version"`
}

// recordHistory writes one history row per changed tracked field (and for
// a change of owner: transfers are always kept), as changed by the unit of
// work's principal.
func (e *Engine) recordHistory(ctx context.Context, w *Writer, obj *metadata.Object, id string, old, rec map[string]any, oldLinks, newLinks map[string][]string, now time.Time) error {
	p := w.rights.p
	return e.writeHistory(ctx, w.tx, obj, id, p.UserID, p.System, old, rec, oldLinks, newLinks, now)
}

// writeHistory writes one history row per changed tracked field on q, as
// changed by user by (bySystem: by the system on behalf of by).
func (e *Engine) writeHistory(ctx context.Context, q store.Querier, obj *metadata.Object, id, by string, bySystem bool, old, rec map[string]any, oldLinks, newLinks map[string][]string, now time.Time) error {
	owner, _ := metadata.SystemField(metadata.OwnerField)
	fields := append(append(make([]*metadata.Field, 0, len(obj.Fields)+1), obj.Fields...), owner)
	for _, f := range fields {
		if !f.Tracked && f != owner {
			continue
		}
		var before, after any
		if metadata.Linked(f) {
			ids, sent := newLinks[f.Name]
			if !sent {
				continue
			}
			prev := oldLinks[f.Name]
			if prev == nil {
				prev = []string{}
			}
			before, after = prev, ids
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
		stmt := store.Rebind(e.db.Dialect, "INSERT INTO crm_history (id, object, record_id, field, old_value, new_value, changed_by, by_system, changed_at, record_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		if _, err := e.db.Exec(ctx, q, stmt, uuid.Must(uuid.NewV7()).String(), obj.Name, id, f.Name, string(bj), string(aj), by, bySystem, metadata.DBValue(e.db.Dialect, now), rec["version"]); err != nil {
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

// History lists the changes of the tracked fields of a record the
// principal can read, oldest first, leaving out fields hidden from it
// (computed fields by the same rule as reads).
func (e *Engine) History(ctx context.Context, object, id string) ([]HistoryEntry, error) {
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return nil, err
	}
	rows, err := e.selectRows(ctx, e.db.SQL(), s, []string{"id"}, metadata.ActionRead, "\"id\" = ?", []any{id}, "")
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("no %s with id %s", object, id)
	}
	q := store.Rebind(e.db.Dialect, "SELECT field, old_value, new_value, changed_by, by_system, changed_at, record_version FROM crm_history WHERE object = ? AND record_id = ? ORDER BY changed_at, record_version, field")
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
		if err := hrows.Scan(&h.Field, &oldV, &newV, &by, &h.BySystem, &at, &h.Version); err != nil {
			return nil, err
		}
		if !s.Readable(h.Field) {
			continue
		}
		h.OldValue, h.NewValue = decodeHistory(oldV.String), decodeHistory(newV.String)
		h.ChangedBy = by.String
		h.ChangedAt = store.ScanTime(at)
		out = append(out, h)
	}
	return out, hrows.Err()
}
