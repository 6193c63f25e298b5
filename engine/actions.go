package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// Action is a named operation on one record (transfer, convert, submit,
// approve …), reached through POST /api/records/{object}/{id}/actions/{name}.
// Before it runs, the engine checks that the principal may read the record
// (404 otherwise), holds the action's right on the object and reaches the
// record through that right's record scope (403 otherwise); then Run runs
// inside one unit of work, as the principal.
type Action struct {
	// Name is the path segment of the action.
	Name string
	// Right is the right a role must hold, when it is not Name (reject
	// needs approve). It must be a registered action (metadata.Actions).
	Right string
	// Objects limits the action to these objects; empty for every object.
	Objects []string
	// Run does the work. input is the request body (an empty map when
	// there is none); what it returns is the answer.
	Run func(ctx context.Context, w *Writer, t Target, input map[string]any) (any, error)
}

// Target is the record an action runs on.
type Target struct {
	Object *metadata.Object
	ID     string
	// Record is the record as the principal may read it.
	Record Record
	// Scope is the principal's scope of the object.
	Scope *Scope
}

// right returns the right the action needs.
func (a *Action) right() string {
	if a.Right != "" {
		return a.Right
	}
	return a.Name
}

// RegisterAction adds an action; it panics on a duplicate name, an
// invalid one, or a right no role could be granted, as database/sql's
// Register does. Call it at wiring time.
func (e *Engine) RegisterAction(a Action) {
	if err := metadata.ValidIdentifier(a.Name); err != nil || a.Run == nil {
		panic(fmt.Sprintf("engine: action %q: a valid name and a Run function are required", a.Name))
	}
	if !metadata.IsAction(a.right()) {
		panic(fmt.Sprintf("engine: action %q needs right %q, which is not registered with metadata.RegisterAction", a.Name, a.right()))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.actions[a.Name]; dup {
		panic("engine: action registered twice: " + a.Name)
	}
	e.actions[a.Name] = &a
}

// ActionsOf lists, sorted by name, the registered actions that can run on
// object (what the principal may run is Scope.Can of each action's right).
func (e *Engine) ActionsOf(object string) []Action {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []Action
	for _, a := range e.actions {
		if len(a.Objects) == 0 || slices.Contains(a.Objects, object) {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RightOf returns the right a role must hold to run the action.
func (a Action) RightOf() string { return a.right() }

// RunAction runs the registered action name on record id of object as the
// principal of ctx, in one unit of work.
func (e *Engine) RunAction(ctx context.Context, object, id, name string, input map[string]any) (any, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	e.mu.RLock()
	a, ok := e.actions[name]
	e.mu.RUnlock()
	if !ok || (len(a.Objects) > 0 && !slices.Contains(a.Objects, object)) {
		return nil, notFound("%s has no action %q", object, name)
	}
	if input == nil {
		input = map[string]any{}
	}
	var out any
	err := e.Tx(ctx, p, func(w *Writer) error {
		rec, err := w.Get(ctx, object, id)
		if err != nil {
			return err
		}
		s, err := w.rights.ScopeFor(object, a.right())
		if err != nil {
			return err
		}
		if ok, err := e.reaches(ctx, w, s, a.right(), id); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: you may not %s this %s", ErrForbidden, a.right(), object)
		}
		out, err = a.Run(withWriter(ctx, w), w, Target{Object: s.obj, ID: id, Record: rec, Scope: s}, input)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("action %s on %s %s: %w", name, object, id, err)
	}
	return out, nil
}

// transferAction gives a record to another active user:
// {"owner_id": "<user id>"}. The change is kept in history.
func transferAction(ctx context.Context, w *Writer, t Target, input map[string]any) (any, error) {
	owner, ok := input[metadata.OwnerField].(string)
	if !ok || owner == "" || len(input) != 1 {
		return nil, &RequestError{Message: "send {\"owner_id\": \"<user id>\"}", Details: []FieldError{{Field: metadata.OwnerField, Code: "required", Message: "the id of the new owner"}}}
	}
	return w.update(ctx, t.Object.Name, t.ID, map[string]any{metadata.OwnerField: owner}, metadata.ActionTransfer)
}
