package reminders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/gofiber/fiber/v2"
)

// Notification is an in-app notification as GET /api/notifications shows
// it.
type Notification struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Object   string `json:"object"`
	RecordID string `json:"record_id"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	// Withheld marks a notification about a record the user may no
	// longer read (its owner changed, a share was revoked, it was
	// deleted since the notification was sent): its record id, subject
	// and body are left out, since they tell of the record.
	Withheld bool `json:"withheld,omitempty"`
	// Read is false until POST /api/notifications/{id}/read.
	Read      bool       `json:"read"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// maxNotifications is the default and largest page of notifications.
const maxNotifications = 200

// listRoute answers GET /api/notifications?limit=N: the signed-in user's
// notifications (Notifications).
func (rm *Reminders) listRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, _ := access.FromContext(ctx)
	limit := maxNotifications
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxNotifications {
			return &engine.RequestError{Message: fmt.Sprintf("limit must be a whole number from 1 to %d", maxNotifications), Details: []engine.FieldError{{Field: "limit", Code: "invalid", Message: l}}}
		}
		limit = n
	}
	items, err := rm.Notifications(ctx, p.UserID, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// Notifications returns up to limit in-app notifications of a user,
// unread first, newest first within each (for the API and pages showing
// a user what waits for them).
func (rm *Reminders) Notifications(ctx context.Context, userID string, limit int) ([]Notification, error) {
	return rm.notifications(ctx, userID, `WHERE user_id = ? ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT `+strconv.Itoa(limit), userID)
}

// NotificationPage selects a page of a user's notifications: only the
// unread ones when Unread, after the notification whose id is After (the
// last of the previous page; "" for the first page), at most Limit.
type NotificationPage struct {
	Unread bool
	After  string
	Limit  int
}

// Page returns a page of a user's in-app notifications, read and unread
// alike (unless q.Unread), newest first (by creation time, then id), for
// the list of all of them.
func (rm *Reminders) Page(ctx context.Context, userID string, q NotificationPage) ([]Notification, error) {
	where, args := `WHERE user_id = ?`, []any{userID}
	if q.Unread {
		where += ` AND read_at IS NULL`
	}
	if q.After != "" {
		at := `(SELECT created_at FROM ` + tableNotifications + ` WHERE id = ? AND user_id = ?)`
		where += ` AND (created_at < ` + at + ` OR (created_at = ` + at + ` AND id < ?))`
		args = append(args, q.After, userID, q.After, userID, q.After)
	}
	return rm.notifications(ctx, userID, where+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(min(max(q.Limit, 1), maxNotifications)), args...)
}

// notifications reads the notifications of a user the SQL after FROM
// selects (where, order and limit), as the principal of ctx (the user)
// may see them now (withhold).
func (rm *Reminders) notifications(ctx context.Context, userID, rest string, args ...any) ([]Notification, error) {
	rows, err := rm.eng.DB().SQL().QueryContext(ctx, rm.t.SQL(`SELECT id, source, object, record_id, subject, body, created_at, read_at FROM `+tableNotifications+` `+rest), args...)
	if err != nil {
		return nil, fmt.Errorf("reminders: notifications of %s: %w", userID, err)
	}
	defer rows.Close()
	items := []Notification{}
	for rows.Next() {
		var n Notification
		var created, read any
		if err := rows.Scan(&n.ID, &n.Source, &n.Object, &n.RecordID, &n.Subject, &n.Body, &created, &read); err != nil {
			return nil, fmt.Errorf("reminders: notifications of %s: %w", userID, err)
		}
		n.CreatedAt = store.ScanTime(created)
		if t := store.ScanTime(read); !t.IsZero() {
			n.Read, n.ReadAt = true, &t
		}
		items = append(items, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reminders: notifications of %s: %w", userID, err)
	}
	return items, rm.withhold(ctx, items)
}

// withhold clears the record, subject and body of each notification
// about a record the principal of ctx may no longer read, and marks it
// Withheld. The records are asked about once per object, in one
// Engine.List as the principal (the one permission decision) of those
// the notifications name.
func (rm *Reminders) withhold(ctx context.Context, items []Notification) error {
	ids, readable := map[string][]any{}, map[[2]string]bool{}
	for _, n := range items {
		key := [2]string{n.Object, n.RecordID}
		if _, seen := readable[key]; !seen && n.Object != "" && n.RecordID != "" {
			readable[key] = false
			ids[n.Object] = append(ids[n.Object], n.RecordID)
		}
	}
	for object, some := range ids {
		res, err := rm.eng.List(ctx, object, engine.ListOptions{Limit: len(some), Where: query.Predicate{SQL: `"id" IN (` + store.Marks(len(some)) + `)`, Args: some}})
		switch {
		case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrForbidden):
			continue // an object removed, or one the user may no longer read
		case err != nil:
			return fmt.Errorf("reminders: the records of notifications on %s: %w", object, err)
		}
		for _, r := range res.Items {
			id, _ := r["id"].(string)
			readable[[2]string{object, id}] = true
		}
	}
	for i := range items {
		n := &items[i]
		if n.Object != "" && n.RecordID != "" && !readable[[2]string{n.Object, n.RecordID}] {
			n.RecordID, n.Subject, n.Body, n.Withheld = "", "", "", true
		}
	}
	return nil
}

// readRoute answers POST /api/notifications/{id}/read (MarkRead): 204.
func (rm *Reminders) readRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, _ := access.FromContext(ctx)
	if err := rm.MarkRead(ctx, p.UserID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// readAllRoute answers POST /api/notifications/read-all (MarkAllRead):
// 204.
func (rm *Reminders) readAllRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, _ := access.FromContext(ctx)
	if err := rm.MarkAllRead(ctx, p.UserID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// MarkRead marks a user's own notification read (again: no change);
// another user's, or none, is engine.ErrNotFound.
func (rm *Reminders) MarkRead(ctx context.Context, userID, id string) error {
	db := rm.eng.DB().SQL()
	var owner string
	err := db.QueryRowContext(ctx, rm.t.SQL(`SELECT user_id FROM `+tableNotifications+` WHERE id = ?`), id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID) {
		return fmt.Errorf("%w: no notification %s", engine.ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("reminders: notification %s: %w", id, err)
	}
	if _, err := db.ExecContext(ctx, rm.t.SQL(`UPDATE `+tableNotifications+` SET read_at = ? WHERE id = ? AND read_at IS NULL`), rm.t.Args(rm.t.Now(), id)...); err != nil {
		return fmt.Errorf("reminders: read notification %s: %w", id, err)
	}
	return nil
}

// MarkAllRead marks every unread notification of a user read.
func (rm *Reminders) MarkAllRead(ctx context.Context, userID string) error {
	if _, err := rm.eng.DB().SQL().ExecContext(ctx, rm.t.SQL(`UPDATE `+tableNotifications+` SET read_at = ? WHERE user_id = ? AND read_at IS NULL`), rm.t.Args(rm.t.Now(), userID)...); err != nil {
		return fmt.Errorf("reminders: read the notifications of %s: %w", userID, err)
	}
	return nil
}
