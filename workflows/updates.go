package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
)

// values evaluates assignments over src (a record in storage form) and
// returns the fields in JSON form, as the API takes them.
func values(ctx context.Context, w *engine.Writer, as []definition.Assignment, src map[string]any) (map[string]any, error) {
	data := make(map[string]any, len(as))
	for _, a := range as {
		v := a.Value
		if a.Expr != nil {
			var err error
			if v, err = w.Eval(ctx, a.Expr, src); err != nil {
				return nil, err
			}
		}
		if v == nil {
			data[a.Field.Name] = nil
			continue
		}
		out, err := metadata.TypeOf(a.Field).Output(a.Field, v)
		if err != nil {
			return nil, fmt.Errorf("workflows: value of %s: %w", a.Field.Name, err)
		}
		data[a.Field.Name] = metadata.InputOf(out)
	}
	return data, nil
}

// applyUpdates sets fields of a record as the system on behalf of the
// unit of work's user (history marks it so), with every check of a write:
// formulas read the record as it is now, after the updates before them.
func applyUpdates(ctx context.Context, w *engine.Writer, object, id string, as []definition.Assignment) error {
	if len(as) == 0 {
		return nil
	}
	sys := w.AsSystem()
	rec, err := sys.Load(ctx, object, id)
	if err != nil {
		return err
	}
	data, err := values(ctx, sys, as, rec)
	if err != nil {
		return err
	}
	_, err = sys.Update(ctx, object, id, data)
	return err
}

// actionInput reads the body of a workflow action: only the keys named,
// each a text (a number is read as its text: a version). An unknown key
// or another value is a 400.
func actionInput(in map[string]any, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	var bad []engine.FieldError
	for k, v := range in {
		known := false
		for _, key := range keys {
			known = known || key == k
		}
		s, isText := v.(string)
		if n, ok := v.(json.Number); ok {
			s, isText = n.String(), true
		}
		switch {
		case !known:
			bad = append(bad, engine.FieldError{Field: k, Code: "unknown_field", Message: fmt.Sprintf("unknown key %q: send %s", k, strings.Join(keys, ", "))})
		case !isText && v != nil:
			bad = append(bad, engine.FieldError{Field: k, Code: "invalid", Message: k + " must be a text"})
		case len(s) > 4000:
			bad = append(bad, engine.FieldError{Field: k, Code: "too_long", Message: k + " is longer than 4000 bytes"})
		default:
			out[k] = s
		}
	}
	if len(bad) > 0 {
		return nil, &engine.RequestError{Message: "the body of the action has keys it does not take", Details: bad}
	}
	return out, nil
}
