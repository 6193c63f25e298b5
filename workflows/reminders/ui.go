package reminders

import (
	"context"
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
	for _, n := range items {
		if n.Read { // unread ones come first
			break
		}
		out = append(out, task(n))
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
	for i, n := range items {
		out[i] = ui.Notice{Task: task(n), Read: n.Read}
	}
	return out, nil
}

// task is a notification as the pages show it: a reminder's or an
// automation's; one about a record the user may no longer read comes
// withheld (Reminders.withhold).
func task(n Notification) ui.Task {
	kind := "notification"
	if strings.HasPrefix(n.Source, "reminder:") {
		kind = "reminder"
	}
	if n.Withheld {
		return ui.Task{Kind: kind, ID: n.ID, Since: n.CreatedAt, Withheld: true}
	}
	return ui.Task{Kind: kind, ID: n.ID, Object: n.Object, RecordID: n.RecordID, Title: n.Subject, Detail: n.Body, Since: n.CreatedAt}
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
