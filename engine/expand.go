package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// ExpandKey is the key under which a record carries the records its
// lookups point to, when asked for.
const ExpandKey = "_expand"

// MaxExpand is how many lookups one request may expand.
const MaxExpand = 8

// Expand adds to each record, under ExpandKey, the records its lookup
// fields point to, as the principal may see them: a lookup the principal
// cannot read, or a target record outside its reach, expands to null, so
// expansion shows nothing a read of the target would not. Targets are read
// in one query per field.
func (e *Engine) Expand(ctx context.Context, object string, recs []Record, fields []string) error {
	if len(fields) == 0 || len(recs) == 0 {
		return nil
	}
	if len(fields) > MaxExpand {
		return &RequestError{Message: fmt.Sprintf("at most %d lookups can be expanded", MaxExpand), Details: []FieldError{{Field: "expand", Code: "too_many", Message: fmt.Sprintf("%d given", len(fields))}}}
	}
	s, err := e.scope(ctx, object, metadata.ActionRead)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		rec[ExpandKey] = map[string]any{}
	}
	for _, name := range fields {
		f, ok := s.obj.Field(name)
		target, isLookup := "", false
		if ok {
			target, isLookup = metadata.LookupTarget(f)
		}
		if !isLookup || !s.Readable(name) {
			return &RequestError{Message: fmt.Sprintf("%s has no lookup field %q to expand", object, name), Details: []FieldError{{Field: "expand", Code: "unknown_field", Message: name}}}
		}
		targets, err := e.readTargets(ctx, s.r, target, recs, name)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			id, _ := rec[name].(string)
			var t any
			if tr, ok := targets[id]; ok {
				t = tr
			}
			rec[ExpandKey].(map[string]any)[name] = t
		}
	}
	return nil
}

// readTargets reads the records of target that recs point to through
// field, as the principal may see them, by id.
func (e *Engine) readTargets(ctx context.Context, r *Rights, target string, recs []Record, field string) (map[string]Record, error) {
	out := map[string]Record{}
	seen := map[string]bool{}
	var ids []string
	for _, rec := range recs {
		if id, ok := rec[field].(string); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	ts, err := r.ScopeFor(target, metadata.ActionRead)
	if errors.Is(err, ErrForbidden) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		rows, err := e.selectRows(ctx, e.db.SQL(), ts, ts.columns(e.db.Dialect), metadata.ActionRead, store.In(`"id"`, len(chunk)), anySlice(chunk), "")
		if err != nil {
			return nil, err
		}
		got, err := e.outputRows(ctx, e.db.SQL(), ts, rows)
		if err != nil {
			return nil, err
		}
		for _, t := range got {
			out[t["id"].(string)] = t
		}
	}
	return out, nil
}
