package engine

import (
	"context"
	"fmt"
	"maps"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// UpdateMany sets the same values on records of object as the principal
// of ctx (a list's "update selected"), all or none, in one unit of work:
// each record gets every check of Update (its record rights, field levels,
// validation, hooks, a pending approval's lock) and the values apply to
// it as it is, without a version. It returns how many records it updated;
// the first that fails stops it with a *BatchError naming it, and nothing
// is written.
func (e *Engine) UpdateMany(ctx context.Context, object string, ids []string, set map[string]any) (int, error) {
	if _, sent := set["version"]; sent {
		return 0, &RequestError{Message: "a mass update applies to each record as it is: send no version",
			Details: []FieldError{{Field: "version", Code: "not_allowed", Message: "not taken by a mass update"}}}
	}
	if len(set) == 0 {
		return 0, &RequestError{Message: "send the values to set", Details: []FieldError{{Field: "set", Code: "required", Message: "at least one field"}}}
	}
	return e.massWrite(ctx, object, ids, nil, func(ctx context.Context, w *Writer, id string) error {
		_, err := w.Update(ctx, object, id, maps.Clone(set))
		return err
	})
}

// DeleteMany deletes records of object as the principal of ctx (a list's
// "delete selected"), all or none, in one unit of work, each with every
// check of Delete (its rights, restrict rules). Every record is found
// first, so a record that the delete of another of the batch removed
// (a cascade) counts as deleted. It returns how many records it deleted;
// the first that fails stops it with a *BatchError naming it, and nothing
// is deleted.
func (e *Engine) DeleteMany(ctx context.Context, object string, ids []string) (int, error) {
	found := func(ctx context.Context, w *Writer, id string) (*Scope, map[string]any, error) {
		s, err := w.rights.ScopeFor(object, metadata.ActionDelete)
		if err != nil {
			return nil, nil, err
		}
		old, err := w.e.lockRow(ctx, w, s, metadata.ActionDelete, id)
		return s, old, err
	}
	return e.massWrite(ctx, object, ids, func(ctx context.Context, w *Writer, id string) error {
		_, _, err := found(ctx, w, id)
		return err
	}, func(ctx context.Context, w *Writer, id string) error {
		s, old, err := found(ctx, w, id)
		if isNotVisible(err) {
			return nil // deleted by the cascade of another of the batch
		}
		if err != nil {
			return err
		}
		return w.e.deleteRow(ctx, w, s, old, 0)
	})
}

// massWrite runs check (when set) for each of ids (at most MaxBatch,
// repeated ones once), then write for each, in one unit of work as the
// principal of ctx.
func (e *Engine) massWrite(ctx context.Context, object string, ids []string, check, write func(ctx context.Context, w *Writer, id string) error) (int, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return 0, ErrUnauthenticated
	}
	if len(ids) == 0 || len(ids) > MaxBatch {
		return 0, &RequestError{Message: fmt.Sprintf("send from 1 to %d record ids, not %d", MaxBatch, len(ids)),
			Details: []FieldError{{Field: "ids", Code: "invalid", Message: fmt.Sprintf("1 to %d ids", MaxBatch)}}}
	}
	var unique []string
	at := map[string]int{}
	for i, id := range ids {
		if _, dup := at[id]; !dup {
			at[id] = i
			unique = append(unique, id)
		}
	}
	err := e.Tx(ctx, p, func(w *Writer) error {
		for _, step := range []func(ctx context.Context, w *Writer, id string) error{check, write} {
			if step == nil {
				continue
			}
			for _, id := range unique {
				if err := step(ctx, w, id); err != nil {
					return &BatchError{Index: at[id], ID: id, Err: err}
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(unique), nil
}
