package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Tables of the outbox: one row per delivery (an event for one webhook)
// and one per attempt to deliver it.
const (
	TableDeliveries = "crm_webhook_deliveries"
	TableAttempts   = "crm_webhook_attempts"
)

// States of a delivery.
const (
	// StatePending deliveries wait for their (next) attempt.
	StatePending = "pending"
	// StateDelivered deliveries got a 2xx answer.
	StateDelivered = "delivered"
	// StateFailed deliveries were not answered with a 2xx before their
	// retry time ran out (or their webhook was removed or deactivated).
	StateFailed = "failed"
)

// timeLayout stores times as fixed-width UTC text, which sorts in time
// order in both dialects.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// stamp formats a time for the outbox tables.
func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// migrate creates the outbox tables if they do not exist.
func (x *Integration) migrate(ctx context.Context) error {
	seq := "seq INTEGER PRIMARY KEY AUTOINCREMENT"
	if x.db.Dialect == metadata.DialectPostgres {
		seq = "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + TableDeliveries + ` (
			` + seq + `,
			id VARCHAR(36) NOT NULL UNIQUE,
			webhook TEXT NOT NULL,
			event TEXT NOT NULL,
			object TEXT NOT NULL,
			record_id TEXT NOT NULL,
			occurred_at TEXT NOT NULL,
			payload TEXT NOT NULL,
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_at TEXT NOT NULL,
			retry_until TEXT NOT NULL DEFAULT '',
			delivered_at TEXT,
			created_at TEXT NOT NULL,
			updated_at TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS crm_webhook_deliveries_chain_idx ON ` + TableDeliveries + ` (webhook, object, record_id, state, seq)`,
		`CREATE INDEX IF NOT EXISTS crm_webhook_deliveries_list_idx ON ` + TableDeliveries + ` (webhook, seq)`,
		`CREATE TABLE IF NOT EXISTS ` + TableAttempts + ` (
			delivery_id VARCHAR(36) NOT NULL,
			attempt INTEGER NOT NULL,
			at TEXT NOT NULL,
			status INTEGER NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			response TEXT NOT NULL DEFAULT '',
			duration_ms BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (delivery_id, attempt)
		)`,
	} {
		if _, err := x.db.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("integration: migrate: %w", err)
		}
	}
	return nil
}

// Body is the JSON body of a delivery.
type Body struct {
	// ID identifies the event for this webhook: the same in every attempt
	// and re-send, so a receiver drops what it already handled.
	ID         string         `json:"id"`
	Event      string         `json:"event"`
	Object     string         `json:"object"`
	RecordID   string         `json:"record_id"`
	OccurredAt string         `json:"occurred_at"`
	Data       map[string]any `json:"data"`
}

// onEvent is the domain event subscriber: it queues the event for every
// active webhook it matches. A record.deleted is queued by beforeDelete,
// while the record can still be read.
func (x *Integration) onEvent(ctx context.Context, w *engine.Writer, ev engine.DomainEvent) error {
	if ev.Name == engine.EventRecordDeleted {
		return nil
	}
	return x.queue(ctx, w, ev)
}

// beforeDelete queues record.deleted before the row goes, so a webhook's
// condition and data see the record as it was.
func (x *Integration) beforeDelete(ctx context.Context, ev *engine.Event) error {
	return x.queue(ctx, ev.Writer, engine.DomainEvent{Name: engine.EventRecordDeleted, Object: ev.Object.Name, RecordID: ev.ID,
		By: ev.Principal, At: x.eng.Now().UTC()})
}

// queue writes one outbox row per matching subscription in the unit of
// work of the event, and a delivery job for each row that is first in
// line for its webhook and record. Nothing here calls the target.
func (x *Integration) queue(ctx context.Context, w *engine.Writer, ev engine.DomainEvent) error {
	routes := routesFor(w.Snapshot(), ev)
	if len(routes) == 0 {
		return nil
	}
	var full map[string]any
	gone := false
	for _, r := range routes {
		if r.condition != nil {
			if gone {
				continue
			}
			if full == nil {
				rec, err := w.AsSystem().Load(ctx, ev.Object, ev.RecordID)
				if errors.Is(err, engine.ErrNotFound) {
					// A condition over a record that is not there
					// does not hold.
					x.log.Warn("integration: the record of an event is gone; its conditional webhooks send nothing", "event", ev.Name, "object", ev.Object, "id", ev.RecordID)
					gone = true
					continue
				}
				if err != nil {
					return fmt.Errorf("integration: webhook %s: read %s %s: %w", r.hook.Name, ev.Object, ev.RecordID, err)
				}
				full = rec
			}
			ok, err := w.Eval(ctx, r.condition, full)
			if err != nil {
				// A condition that fails at run time sends nothing and
				// never fails the write.
				x.log.Warn("integration: webhook condition failed; event not sent", "webhook", r.hook.Name, "event", ev.Name, "object", ev.Object, "id", ev.RecordID, "err", err)
				continue
			}
			if b, _ := ok.(bool); !b {
				continue
			}
		}
		data, err := x.data(ctx, w, r, ev)
		if err != nil {
			return err
		}
		if err := x.add(ctx, w.SQL(), r.hook.Name, ev, data); err != nil {
			return err
		}
	}
	return nil
}

// data is the event's data as the webhook's run-as user may read the
// record, through the engine's one decision: the readable fields (those
// the subscription names, when it names some), with the record's id and
// object; only id and object without a run-as user, or when that user is
// unknown, inactive or cannot read the record.
func (x *Integration) data(ctx context.Context, w *engine.Writer, r *route, ev engine.DomainEvent) (map[string]any, error) {
	out := map[string]any{}
	if r.hook.RunAs != "" && ev.RecordID != "" {
		rec, err := x.readAs(ctx, w, r.hook, ev)
		if err != nil {
			return nil, err
		}
		for k, v := range rec {
			if len(r.sub.Fields) == 0 || slices.Contains(r.sub.Fields, k) {
				out[k] = v
			}
		}
	}
	out["id"], out["object"] = ev.RecordID, ev.Object
	return out, nil
}

// readAs reads the event's record as the webhook's run-as user may see
// it; nil when that user may not.
func (x *Integration) readAs(ctx context.Context, w *engine.Writer, h *Webhook, ev engine.DomainEvent) (engine.Record, error) {
	p, err := access.ActivePrincipal(ctx, w.SQL(), x.db.Dialect, h.RunAs)
	if errors.Is(err, access.ErrUserNotFound) {
		x.log.Warn("integration: the run-as user of a webhook is unknown or inactive; data holds only id and object", "webhook", h.Name, "run_as", h.RunAs)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("integration: webhook %s: %w", h.Name, err)
	}
	scope, err := w.Rights().For(p).Scope(ev.Object)
	if err != nil {
		return nil, fmt.Errorf("integration: webhook %s: %w", h.Name, err)
	}
	rec, err := w.GetWith(ctx, scope, ev.RecordID)
	if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrForbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("integration: webhook %s: read %s %s as %s: %w", h.Name, ev.Object, ev.RecordID, h.RunAs, err)
	}
	return rec, nil
}

// add writes one delivery in tx and, when no earlier delivery of the
// same webhook and record waits, its job.
func (x *Integration) add(ctx context.Context, tx store.Querier, webhook string, ev engine.DomainEvent, data map[string]any) error {
	id := uuid.Must(uuid.NewV7()).String()
	payload, err := json.Marshal(Body{ID: id, Event: ev.Name, Object: ev.Object, RecordID: ev.RecordID, OccurredAt: ev.At.UTC().Format(time.RFC3339Nano), Data: data})
	if err != nil {
		return fmt.Errorf("integration: webhook %s: payload: %w", webhook, err)
	}
	now := x.eng.Now()
	_, err = tx.ExecContext(ctx, x.sql(`INSERT INTO `+TableDeliveries+` (id, webhook, event, object, record_id, occurred_at, payload, state, attempts, next_at, retry_until, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', ?, ?)`),
		id, webhook, ev.Name, ev.Object, ev.RecordID, stamp(ev.At), string(payload), stamp(now), stamp(now), stamp(now))
	if err != nil {
		return fmt.Errorf("integration: queue %s for webhook %s: %w", ev.Name, webhook, err)
	}
	waiting, err := x.earlier(ctx, tx, webhook, ev.Object, ev.RecordID, id, true)
	if err != nil || waiting {
		return err
	}
	return x.enqueue(ctx, tx, id, now)
}

// earlier reports whether another delivery of the same webhook and record
// waits before the delivery id. With lock (PostgreSQL) it locks those
// rows, so the job finishing one of them either sees the new row or is
// seen finished: exactly one of the two queues the next job.
func (x *Integration) earlier(ctx context.Context, q store.Querier, webhook, object, recordID, id string, lock bool) (bool, error) {
	query := `SELECT id FROM ` + TableDeliveries + ` WHERE webhook = ? AND object = ? AND record_id = ? AND state = 'pending'
		AND seq < (SELECT seq FROM ` + TableDeliveries + ` WHERE id = ?)`
	if lock {
		query += x.forUpdate()
	}
	rows, err := q.QueryContext(ctx, x.sql(query), webhook, object, recordID, id)
	if err != nil {
		return false, fmt.Errorf("integration: deliveries before %s: %w", id, err)
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// enqueue queues the delivery job of a delivery, due at runAt.
func (x *Integration) enqueue(ctx context.Context, q store.Querier, id string, runAt time.Time) error {
	if _, _, err := x.jobs.Enqueue(ctx, q, jobs.Spec{Kind: DeliverKind, Key: id, Payload: deliverJob{Delivery: id}, RunAt: runAt}); err != nil {
		return fmt.Errorf("integration: queue delivery %s: %w", id, err)
	}
	return nil
}

// deliverJob is the payload of a delivery job.
type deliverJob struct {
	Delivery string `json:"delivery"`
}

// forUpdate is the clause that locks the rows a query reads until the
// transaction ends: " FOR UPDATE" on PostgreSQL, nothing on SQLite, whose
// one writer serialises the transactions that write.
func (x *Integration) forUpdate() string {
	if x.db.Dialect == metadata.DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// sql binds a query's placeholders for the dialect.
func (x *Integration) sql(q string) string { return store.Rebind(x.db.Dialect, q) }
