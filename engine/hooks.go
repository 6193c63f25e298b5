package engine

import (
	"context"
	"sync"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Op is a write operation a hook can attach to.
type Op string

// The write operations.
const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Event is what a hook sees: the record in storage form (New is nil for a
// delete, Old is nil for a create) inside the write's unit of work. A
// before-hook may change New; returning an error aborts the write (and
// the whole unit of work). Writer writes further records in the same
// transaction, with every check (Writer.AsSystem for what the platform
// does by itself).
type Event struct {
	Op        Op
	Object    *metadata.Object
	ID        string
	New       map[string]any
	Old       map[string]any
	Principal *access.Principal
	Tx        store.Querier
	Writer    *Writer
	Snapshot  *Snapshot
	// Input is the data of a create or update as the caller sent it
	// (JSON form), so a hook can tell a value sent from a default: an
	// owner given from none.
	Input map[string]any
	// Links are the links a create or update sets, by many-to-many field
	// (the target ids in order); OldLinks, on an update, the links the
	// record had for those same fields. They are kept in link tables, so
	// New and Old do not hold them: a hook judging what a write changes
	// (a record locked by an approval) looks here too. A hook must not
	// change them.
	Links, OldLinks map[string][]string
	// Values is scratch space a before-hook shares with the after-hook of
	// the same write.
	Values map[string]any
	// propagated is set on the creates of a batch once what depends on
	// them was recomputed for the whole batch (Writer.CreateMany):
	// formulasAfter skips them.
	propagated bool
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
	before map[hookKey][]Hook
	after  map[hookKey][]Hook
}

// hookKey is the lookup key of a hook: an operation on an object ("*" for
// every object).
type hookKey struct {
	op     Op
	object string
}

// OnBefore runs h before every op (create, update, delete) on object ("*"
// for every object), in the write's transaction, before the row is
// written.
func (e *Engine) OnBefore(op Op, object string, h Hook) { e.hooks.add(true, op, object, h) }

// OnAfter runs h after the row is written, in the same transaction.
func (e *Engine) OnAfter(op Op, object string, h Hook) { e.hooks.add(false, op, object, h) }

// add registers a hook.
func (hs *hookSet) add(before bool, op Op, object string, h Hook) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	m := &hs.after
	if before {
		m = &hs.before
	}
	if *m == nil {
		*m = map[hookKey][]Hook{}
	}
	k := hookKey{op, object}
	(*m)[k] = append((*m)[k], h)
}

// run calls the hooks of a phase for an event.
func (hs *hookSet) run(ctx context.Context, before bool, ev *Event) error {
	hs.mu.RLock()
	m := hs.after
	if before {
		m = hs.before
	}
	// add only appends: the lists' elements seen here never change once
	// the lock is released. The hooks of every object run first.
	lists := [2][]Hook{m[hookKey{ev.Op, "*"}], m[hookKey{ev.Op, ev.Object.Name}]}
	hs.mu.RUnlock()
	if len(lists[0])+len(lists[1]) == 0 {
		return nil
	}
	if ev.Writer != nil {
		ctx = withWriter(ctx, ev.Writer)
	}
	for _, list := range lists {
		for _, h := range list {
			if err := h(ctx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}
