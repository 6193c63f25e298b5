package reminders

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/ui"
)

// UI gives the web pages the signed-in user's notifications and
// reminders (ui.Notifications), as the principal of each call's context.
func (rm *Reminders) UI() ui.Notifications { return inbox{rm} }

// inbox adapts the notifications to the UI's types.
type inbox struct{ rm *Reminders }

// Unread implements ui.Notifications: the user's own unread
// notifications (a reminder's or an automation's), newest first.
func (in inbox) Unread(ctx context.Context, limit int) ([]ui.Task, error) {
	p, ok := access.FromContext(ctx)
	if !ok || p.UserID == "" {
		return nil, nil
	}
	items, err := in.rm.Notifications(ctx, p.UserID, min(max(limit, 1), maxNotifications))
	if err != nil {
		return nil, err
	}
	out := make([]ui.Task, 0, len(items))
	seen := readable{}
	for _, n := range items {
		if n.Read { // unread ones come first
			break
		}
		t, err := in.task(ctx, seen, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Page implements ui.Notifications: a page of the user's own
// notifications, newest first (Reminders.Page).
func (in inbox) Page(ctx context.Context, unread bool, after string, limit int) ([]ui.Notice, error) {
	p, ok := access.FromContext(ctx)
	if !ok || p.UserID == "" {
		return nil, nil
	}
	items, err := in.rm.Page(ctx, p.UserID, NotificationPage{Unread: unread, After: after, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]ui.Notice, len(items))
	seen := readable{}
	for i, n := range items {
		if out[i].Task, err = in.task(ctx, seen, n); err != nil {
			return nil, err
		}
		out[i].Read = n.Read
	}
	return out, nil
}

// readable remembers, per object and record id, whether the user may
// read the record.
type readable map[[2]string]bool

// task is a notification as the pages show it: a reminder's or an
// automation's; the subject, message and record of one whose record the
// user may no longer read (an owner changed, a share revoked, the record
// deleted since it was sent) are withheld.
func (in inbox) task(ctx context.Context, seen readable, n Notification) (ui.Task, error) {
	kind := "notification"
	if strings.HasPrefix(n.Source, "reminder:") {
		kind = "reminder"
	}
	key := [2]string{n.Object, n.RecordID}
	ok, known := seen[key]
	if !known {
		_, err := in.rm.eng.Get(ctx, n.Object, n.RecordID)
		switch {
		case err == nil:
			ok = true
		case !errors.Is(err, engine.ErrNotFound) && !errors.Is(err, engine.ErrForbidden):
			return ui.Task{}, fmt.Errorf("reminders: notification %s: %w", n.ID, err)
		}
		seen[key] = ok
	}
	if !ok {
		return ui.Task{Kind: kind, ID: n.ID, Since: n.CreatedAt, Withheld: true}, nil
	}
	return ui.Task{Kind: kind, ID: n.ID, Object: n.Object, RecordID: n.RecordID, Title: n.Subject, Detail: n.Body, Since: n.CreatedAt}, nil
}

// MarkRead implements ui.Notifications: only the user's own.
func (in inbox) MarkRead(ctx context.Context, id string) error {
	p, ok := access.FromContext(ctx)
	if !ok || p.UserID == "" {
		return fmt.Errorf("%w: no notification %s", engine.ErrNotFound, id)
	}
	return in.rm.MarkRead(ctx, p.UserID, id)
}

// MarkAllRead implements ui.Notifications: the user's own.
func (in inbox) MarkAllRead(ctx context.Context) error {
	p, ok := access.FromContext(ctx)
	if !ok || p.UserID == "" {
		return nil
	}
	return in.rm.MarkAllRead(ctx, p.UserID)
}
