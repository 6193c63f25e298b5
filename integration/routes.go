package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/api"
	"github.com/crmplatform/crm/engine/store"
	"github.com/gofiber/fiber/v2"
)

// Routes is the api.Registrar of the deliveries of webhooks
// (administrators only) and the links of records.
func (x *Integration) Routes(r fiber.Router, s *api.Server) {
	r.Get("/api/meta/webhooks/:name/deliveries", s.Authenticate, s.RequireAdmin, x.deliveriesRoute)
	r.Post("/api/meta/webhooks/:name/deliveries/:id/resend", s.Authenticate, s.RequireJSON, s.RequireAdmin, x.resendRoute)
	r.Get("/api/records/:object/:id/links", s.Authenticate, x.linksRoute)
}

// linksRoute answers GET /api/records/{object}/{id}/links.
func (x *Integration) linksRoute(c *fiber.Ctx) error {
	links, err := x.ResolveLinks(c.UserContext(), c.Params("object"), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": links})
}

// Delivery is one delivery as the API lists it.
type Delivery struct {
	ID         string          `json:"id"`
	Webhook    string          `json:"webhook"`
	Event      string          `json:"event"`
	Object     string          `json:"object"`
	RecordID   string          `json:"record_id"`
	OccurredAt string          `json:"occurred_at"`
	State      string          `json:"state"`
	Attempts   int             `json:"attempts"`
	NextAt     string          `json:"next_attempt_at,omitempty"`
	RetryUntil string          `json:"retry_until,omitempty"`
	Delivered  string          `json:"delivered_at,omitempty"`
	CreatedAt  string          `json:"created_at"`
	UpdatedAt  string          `json:"updated_at"`
	Payload    json.RawMessage `json:"payload"`
	Answers    []Answer        `json:"answers"`
	seq        int64
}

// Answer is what one attempt of a delivery got.
type Answer struct {
	Attempt int    `json:"attempt"`
	At      string `json:"at"`
	// Status is the HTTP status, 0 when no answer came (Error says why).
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
	// Response is the start of the answer's body (2 KiB at most).
	Response   string `json:"response,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Limits of a page of deliveries.
const (
	defaultDeliveries = 50
	maxDeliveries     = 200
)

// deliveriesRoute answers GET /api/meta/webhooks/{name}/deliveries
// ?state&limit&cursor, newest first (DeliveryPage).
func (x *Integration) deliveriesRoute(c *fiber.Ctx) error {
	limit, cursor, state, err := deliveryQuery(c)
	if err != nil {
		return err
	}
	items, next, err := x.DeliveryPage(c.UserContext(), c.Params("name"), state, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// DeliveryPage returns up to limit deliveries of a webhook, newest first,
// before the cursor and in a state (as Deliveries), and the cursor of the
// next page ("" for the last one): the deliveries' list of the API and of
// the builder. A webhook that does not exist and delivered nothing is
// engine.ErrNotFound.
func (x *Integration) DeliveryPage(ctx context.Context, webhook, state string, cursor int64, limit int) ([]*Delivery, string, error) {
	items, err := x.Deliveries(ctx, webhook, state, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(items) == 0 && cursor == 0 {
		if _, ok := Webhooks.Get(x.eng.Snapshot().Schema, webhook); !ok {
			return nil, "", fmt.Errorf("%w: no webhook %q", engine.ErrNotFound, webhook)
		}
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = strconv.FormatInt(items[limit-1].seq, 10)
	}
	return items, next, nil
}

// deliveryQuery reads the query parameters of the deliveries' list.
func deliveryQuery(c *fiber.Ctx) (limit int, cursor int64, state string, err error) {
	limit = defaultDeliveries
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveries {
			return 0, 0, "", badQuery("limit", fmt.Sprintf("limit must be a whole number from 1 to %d", maxDeliveries))
		}
		limit = n
	}
	cursor, state, err = cursorState(c.Query("cursor"), c.Query("state"))
	return limit, cursor, state, err
}

// cursorState checks the cursor (a next_cursor; "" for the newest) and
// the state (pending, delivered, failed; "" for any) of a deliveries'
// list, for the API and the builder alike.
func cursorState(cursor, state string) (int64, string, error) {
	var n int64
	if cursor != "" {
		var err error
		if n, err = strconv.ParseInt(cursor, 10, 64); err != nil || n < 1 {
			return 0, "", badQuery("cursor", "cursor must be the next_cursor of a previous page")
		}
	}
	switch state {
	case "", StatePending, StateDelivered, StateFailed:
	default:
		return 0, "", badQuery("state", "state must be pending, delivered or failed")
	}
	return n, state, nil
}

// badQuery is a query parameter of the deliveries' list refused.
func badQuery(field, msg string) error {
	return &engine.RequestError{Message: msg, Details: []engine.FieldError{{Field: field, Message: msg}}}
}

// Deliveries lists up to limit deliveries of a webhook, newest first,
// before the cursor (a sequence number; 0 for the newest) and in a state
// ("" for any), each with its answers.
func (x *Integration) Deliveries(ctx context.Context, webhook, state string, cursor int64, limit int) ([]*Delivery, error) {
	q := `SELECT seq, id, webhook, event, object, record_id, occurred_at, state, attempts, next_at, retry_until, delivered_at, created_at, updated_at, payload
		FROM ` + TableDeliveries + ` WHERE webhook = ?`
	args := []any{webhook}
	if state != "" {
		q += ` AND state = ?`
		args = append(args, state)
	}
	if cursor > 0 {
		q += ` AND seq < ?`
		args = append(args, cursor)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit)
	rows, err := x.db.SQL().QueryContext(ctx, x.sql(q), args...)
	if err != nil {
		return nil, fmt.Errorf("integration: deliveries of %s: %w", webhook, err)
	}
	defer rows.Close()
	var out []*Delivery
	byID := map[string]*Delivery{}
	for rows.Next() {
		d := &Delivery{Answers: []Answer{}}
		var delivered sql.NullString
		var payload string
		if err := rows.Scan(&d.seq, &d.ID, &d.Webhook, &d.Event, &d.Object, &d.RecordID, &d.OccurredAt, &d.State, &d.Attempts, &d.NextAt, &d.RetryUntil, &delivered, &d.CreatedAt, &d.UpdatedAt, &payload); err != nil {
			return nil, fmt.Errorf("integration: deliveries of %s: %w", webhook, err)
		}
		d.Delivered, d.Payload = delivered.String, json.RawMessage(payload)
		if d.State != StatePending {
			d.NextAt = ""
		}
		out = append(out, d)
		byID[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("integration: deliveries of %s: %w", webhook, err)
	}
	return out, x.answers(ctx, byID)
}

// answers adds the answers of a page of deliveries, in attempt order.
func (x *Integration) answers(ctx context.Context, byID map[string]*Delivery) error {
	if len(byID) == 0 {
		return nil
	}
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	rows, err := x.db.SQL().QueryContext(ctx, x.sql(`SELECT delivery_id, attempt, at, status, error, response, duration_ms FROM `+TableAttempts+
		` WHERE delivery_id IN (`+store.Marks(len(ids))+`) ORDER BY delivery_id, attempt`), ids...)
	if err != nil {
		return fmt.Errorf("integration: answers of deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Answer
		if err := rows.Scan(&id, &a.Attempt, &a.At, &a.Status, &a.Error, &a.Response, &a.DurationMS); err != nil {
			return fmt.Errorf("integration: answers of deliveries: %w", err)
		}
		byID[id].Answers = append(byID[id].Answers, a)
	}
	return rows.Err()
}

// resendRoute answers POST /api/meta/webhooks/{name}/deliveries/{id}/resend.
func (x *Integration) resendRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := x.Resend(ctx, c.Params("name"), c.Params("id")); err != nil {
		return err
	}
	items, err := x.delivery(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(items)
}

// delivery returns one delivery with its answers.
func (x *Integration) delivery(ctx context.Context, id string) (*Delivery, error) {
	d, err := x.loadDelivery(ctx, x.db.SQL(), id)
	if err != nil || d == nil {
		return nil, err
	}
	items, err := x.Deliveries(ctx, d.Webhook, "", d.Seq+1, 1)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return items[0], nil
}

// ErrAlreadyPending is returned when re-sending a delivery that still
// waits for delivery.
var ErrAlreadyPending = fmt.Errorf("%w: the delivery is still pending", engine.ErrConflict)

// Resend queues a delivered or failed delivery of a webhook again, with
// the same id and body (so a receiver that took it drops it), retried for
// Config.RetryFor from its next first attempt; it goes out after any
// earlier delivery of the same record that still waits.
func (x *Integration) Resend(ctx context.Context, webhook, id string) error {
	tx, err := x.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("integration: resend %s: %w", id, err)
	}
	defer tx.Rollback()
	var state, object, recordID string
	err = tx.QueryRowContext(ctx, x.sql(`SELECT state, object, record_id FROM `+TableDeliveries+` WHERE id = ? AND webhook = ?`+x.forUpdate()), id, webhook).Scan(&state, &object, &recordID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: webhook %s has no delivery %s", engine.ErrNotFound, webhook, id)
	}
	if err != nil {
		return fmt.Errorf("integration: resend %s: %w", id, err)
	}
	if state == StatePending {
		return ErrAlreadyPending
	}
	now := x.eng.Now()
	if _, err := tx.ExecContext(ctx, x.sql(`UPDATE `+TableDeliveries+` SET state = 'pending', next_at = ?, retry_until = '', delivered_at = NULL, updated_at = ? WHERE id = ?`),
		stamp(now), stamp(now), id); err != nil {
		return fmt.Errorf("integration: resend %s: %w", id, err)
	}
	waiting, err := x.earlier(ctx, tx, webhook, object, recordID, id, true)
	if err != nil {
		return err
	}
	if !waiting {
		if err := x.enqueue(ctx, tx, id, now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("integration: resend %s: %w", id, err)
	}
	x.log.Info("integration: delivery re-sent", "webhook", webhook, "delivery", id)
	return nil
}
