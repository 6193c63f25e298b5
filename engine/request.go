package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// ErrForbidden is returned when the principal may not do what it asked;
// the message names the object or field.
var ErrForbidden = errors.New("engine: forbidden")

// Record is a record in its JSON form: system fields and the fields the
// principal may read.
type Record map[string]any

// request is what one call needs, decided once: the snapshot, the object,
// the principal and its field levels.
type request struct {
	d      Decision
	snap   *Snapshot
	obj    *metadata.Object
	p      *access.Principal
	levels map[string]string
}

// begin authorises action on object for the principal of ctx and
// computes its field levels.
func (e *Engine) begin(ctx context.Context, object, action string) (*request, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	snap := e.Snapshot()
	obj, err := snap.Object(object)
	if err != nil {
		return nil, err
	}
	d, err := e.guard.Decide(ctx, snap.Schema)
	if err != nil {
		return nil, fmt.Errorf("engine: permissions: %w", err)
	}
	if v, ok := d.(versioned); ok && v.Version() != e.policySeen.Load() {
		// Role changes are metadata changes that also move the policy
		// version: when another server moved it, load its metadata now
		// rather than at the next poll, so the change holds for this
		// request.
		e.policySeen.Store(v.Version())
		if changed, err := e.Reload(ctx); err != nil {
			return nil, err
		} else if changed {
			snap = e.Snapshot()
			if obj, err = snap.Object(object); err != nil {
				return nil, err
			}
			if d, err = e.guard.Decide(ctx, snap.Schema); err != nil {
				return nil, fmt.Errorf("engine: permissions: %w", err)
			}
		}
	}
	if err := d.CanObject(p, object, action); err != nil {
		return nil, err
	}
	r := &request{d: d, snap: snap, obj: obj, p: p, levels: make(map[string]string, len(obj.Fields))}
	for _, f := range obj.Fields {
		r.levels[f.Name] = d.FieldLevel(p, object, f.Name)
	}
	return r, nil
}

// versioned is the optional ability of a Decision to name the policy
// version it was built at.
type versioned interface{ Version() int64 }

// readable reports whether the principal may see field name.
func (r *request) readable(name string) bool {
	if metadata.IsSystemField(name) {
		return true
	}
	lvl, ok := r.levels[name]
	return ok && lvl != metadata.FieldHidden
}

// columns lists the columns a read selects: system columns and every
// readable field that has a column.
func (r *request) columns(dialect string) []string {
	cols := append([]string(nil), metadata.SystemFields...)
	for _, f := range r.obj.Fields {
		if r.readable(f.Name) && metadata.TypeOf(f).Column(dialect, f) != "" {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

// selectList quotes columns for a SELECT.
func selectList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = store.Ident(c)
	}
	return strings.Join(q, ", ")
}

// where joins predicates with AND, skipping empty ones.
func where(preds ...string) string {
	var parts []string
	for _, p := range preds {
		if p != "" {
			parts = append(parts, "("+p+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(parts, " AND ")
}

// scanRows reads rows into maps of driver values by column.
func scanRows(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// fieldDef returns the definition of a column: a field or a system field.
func fieldDef(obj *metadata.Object, col string) *metadata.Field {
	f, _ := obj.FieldOrSystem(col)
	return f
}

// toStorage turns a driver row into storage form, field by field.
func toStorage(obj *metadata.Object, raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for col, v := range raw {
		f := fieldDef(obj, col)
		if f == nil || v == nil {
			out[col] = v
			continue
		}
		j, err := metadata.TypeOf(f).Output(f, v)
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", obj.Name, col, err)
		}
		s, err := metadata.TypeOf(f).Normalize(f, metadata.InputOf(j))
		if err != nil {
			// Stored values that no longer pass today's rules (an option
			// since removed) are kept as read.
			s = v
		}
		out[col] = s
	}
	return out, nil
}

// output turns a driver row into the JSON form the principal may see.
func (r *request) output(raw map[string]any) (Record, error) {
	rec := make(Record, len(raw))
	for col, v := range raw {
		if !r.readable(col) {
			continue
		}
		f := fieldDef(r.obj, col)
		if f == nil {
			continue
		}
		out, err := metadata.TypeOf(f).Output(f, v)
		if err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", r.obj.Name, col, err)
		}
		rec[col] = out
	}
	return rec, nil
}
