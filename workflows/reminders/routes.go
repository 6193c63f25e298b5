package reminders

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
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
	// Read is false until POST /api/notifications/{id}/read.
	Read      bool       `json:"read"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// maxNotifications is the default and largest page of notifications.
const maxNotifications = 200

// listRoute answers GET /api/notifications?limit=N: the signed-in user's
// notifications, unread first, newest first within each.
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
	rows, err := rm.eng.DB().SQL().QueryContext(ctx, rm.t.SQL(`SELECT id, source, object, record_id, subject, body, created_at, read_at FROM `+tableNotifications+`
		WHERE user_id = ? ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT `+strconv.Itoa(limit)), p.UserID)
	if err != nil {
		return fmt.Errorf("reminders: notifications of %s: %w", p.Username, err)
	}
	defer rows.Close()
	items := []Notification{}
	for rows.Next() {
		var n Notification
		var created, read any
		if err := rows.Scan(&n.ID, &n.Source, &n.Object, &n.RecordID, &n.Subject, &n.Body, &created, &read); err != nil {
			return err
		}
		n.CreatedAt = store.ScanTime(created)
		if t := store.ScanTime(read); !t.IsZero() {
			n.Read, n.ReadAt = true, &t
		}
		items = append(items, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// readRoute answers POST /api/notifications/{id}/read: the user's own
// notification is marked read (204; again is no change); another user's
// is not found.
func (rm *Reminders) readRoute(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, _ := access.FromContext(ctx)
	id := c.Params("id")
	db := rm.eng.DB().SQL()
	var owner string
	err := db.QueryRowContext(ctx, rm.t.SQL(`SELECT user_id FROM `+tableNotifications+` WHERE id = ?`), id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != p.UserID) {
		return fmt.Errorf("%w: no notification %s", engine.ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("reminders: notification %s: %w", id, err)
	}
	if _, err := db.ExecContext(ctx, rm.t.SQL(`UPDATE `+tableNotifications+` SET read_at = ? WHERE id = ? AND read_at IS NULL`), rm.t.Args(rm.t.Now(), id)...); err != nil {
		return fmt.Errorf("reminders: read notification %s: %w", id, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
