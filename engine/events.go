package engine

import (
	"context"
	"reflect"
	"sort"
	"time"

	"github.com/crmplatform/crm/engine/access"
)

// Names of the events the engine publishes for every record write.
const (
	EventRecordCreated = "record.created"
	EventRecordUpdated = "record.updated"
	EventRecordDeleted = "record.deleted"
)

// DomainEvent is something that happened that other parts of the platform,
// or other systems, may want to know: a record written (record.created,
// record.updated, record.deleted, published by the engine), or a business
// event a package publishes (approval.submitted, lead.converted …).
type DomainEvent struct {
	// Name is the event's name, "record.updated" say.
	Name     string
	Object   string
	RecordID string
	// Changed lists the fields a record.updated changed, sorted.
	Changed []string
	// Data holds the event's own facts (the approval step, the ids a
	// conversion created).
	Data map[string]any
	// By is the principal whose unit of work published the event.
	By *access.Principal
	At time.Time
}

// Subscriber reacts to domain events inside the unit of work that
// published them: what it writes (an outbox row, a notification) commits
// or rolls back with the change. It must be quick and must not call other
// systems; deliver later through a job.
type Subscriber func(ctx context.Context, w *Writer, ev DomainEvent) error

// Subscribe adds a subscriber to every domain event; call it at wiring
// time.
func (e *Engine) Subscribe(fn Subscriber) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subscribers = append(e.subscribers, fn)
}

// Publish hands ev to every subscriber in the unit of work; the first
// error aborts the unit of work.
func (w *Writer) Publish(ctx context.Context, ev DomainEvent) error {
	w.e.mu.RLock()
	subs := w.e.subscribers
	w.e.mu.RUnlock()
	if len(subs) == 0 {
		return nil
	}
	if ev.By == nil {
		ev.By = w.rights.p
	}
	if ev.At.IsZero() {
		ev.At = w.e.now().UTC()
	}
	ctx = withWriter(ctx, w)
	for _, s := range subs {
		if err := s(ctx, w, ev); err != nil {
			return err
		}
	}
	return nil
}

// publishWrite publishes the record event of a write after its
// after-hooks ran.
func (w *Writer) publishWrite(ctx context.Context, ev *Event) error {
	de := DomainEvent{Object: ev.Object.Name, RecordID: ev.ID}
	switch ev.Op {
	case OpCreate:
		de.Name = EventRecordCreated
	case OpDelete:
		de.Name = EventRecordDeleted
	default:
		de.Name = EventRecordUpdated
		for k, v := range ev.New {
			if k != "version" && k != "updated_at" && k != "updated_by" && !reflect.DeepEqual(ev.Old[k], v) {
				de.Changed = append(de.Changed, k)
			}
		}
		sort.Strings(de.Changed)
	}
	return w.Publish(ctx, de)
}
