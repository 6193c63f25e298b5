package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// Operations a hook can attach to.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Event is what a hook sees: the record in storage form (New is nil for a
// delete, Old is nil for a create) inside the write's transaction. A
// before-hook may change New; returning an error aborts the write.
type Event struct {
	Op        string
	Object    *metadata.Object
	ID        string
	New       map[string]any
	Old       map[string]any
	Principal *access.Principal
	Tx        *sql.Tx
	Snapshot  *Snapshot
	// Values is scratch space a before-hook shares with the after-hook of
	// the same write.
	Values map[string]any
}

// Set stores a value for a later hook of the same write.
func (ev *Event) Set(key string, v any) {
	if ev.Values == nil {
		ev.Values = map[string]any{}
	}
	ev.Values[key] = v
}

// Hook reacts to a record write.
type Hook func(ctx context.Context, ev *Event) error

// hookSet keeps hooks by phase, operation and object ("*" for all).
type hookSet struct {
	mu     sync.RWMutex
	before map[string][]Hook
	after  map[string][]Hook
}

// hookKey builds the lookup key of a hook.
func hookKey(op, object string) string { return op + "/" + object }

// OnBefore runs h before every op (create, update, delete) on object ("*"
// for every object), in the write's transaction, before the row is
// written.
func (e *Engine) OnBefore(op, object string, h Hook) { e.hooks.add(true, op, object, h) }

// OnAfter runs h after the row is written, in the same transaction.
func (e *Engine) OnAfter(op, object string, h Hook) { e.hooks.add(false, op, object, h) }

// add registers a hook.
func (hs *hookSet) add(before bool, op, object string, h Hook) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	m := &hs.after
	if before {
		m = &hs.before
	}
	if *m == nil {
		*m = map[string][]Hook{}
	}
	(*m)[hookKey(op, object)] = append((*m)[hookKey(op, object)], h)
}

// run calls the hooks of a phase for an event.
func (hs *hookSet) run(ctx context.Context, before bool, ev *Event) error {
	hs.mu.RLock()
	m := hs.after
	if before {
		m = hs.before
	}
	list := append(append([]Hook(nil), m[hookKey(ev.Op, "*")]...), m[hookKey(ev.Op, ev.Object.Name)]...)
	hs.mu.RUnlock()
	for _, h := range list {
		if err := h(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Action is a named operation on one record (submit, approve, convert …),
// reached through POST /api/records/{object}/{id}/actions/{name}.
type Action func(ctx context.Context, e *Engine, object, id string, input map[string]any) (any, error)

// RegisterAction adds an action; it panics on a duplicate name.
func (e *Engine) RegisterAction(name string, a Action) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.actions[name]; dup {
		panic("engine: action registered twice: " + name)
	}
	e.actions[name] = a
}

// RunAction runs a registered action on a record the principal can read.
func (e *Engine) RunAction(ctx context.Context, object, id, name string, input map[string]any) (any, error) {
	e.mu.RLock()
	a, ok := e.actions[name]
	e.mu.RUnlock()
	if !ok {
		return nil, notFound("no action %q", name)
	}
	if _, err := e.Get(ctx, object, id); err != nil {
		return nil, err
	}
	out, err := a(ctx, e, object, id, input)
	if err != nil {
		return nil, fmt.Errorf("action %s on %s %s: %w", name, object, id, err)
	}
	return out, nil
}
