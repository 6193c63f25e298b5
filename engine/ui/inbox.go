package ui

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/gofiber/fiber/v2"
)

// noticesPerPage is how many notifications a page of them lists.
const noticesPerPage = 50

// noticesData is the content of the page of all the user's
// notifications.
type noticesData struct {
	// Unread reports whether only the unread ones are shown.
	Unread bool
	// Items are the page's notifications; Next links the following
	// page, First the first one (when this one is not).
	Items       []noticeView
	Next, First string
}

// noticeView is a notification on the page.
type noticeView struct {
	Notice
	Kind, Href string
}

// notificationsPage answers GET /ui/notifications?show=unread&after=ID:
// the user's own notifications, newest first, read and unread (or only
// unread), a page at a time (Notifications.Page).
func (u *UI) notificationsPage(c *fiber.Ctx) error {
	if u.notes == nil {
		return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path()))
	}
	r, err := u.req(c)
	if err != nil {
		return u.fail(c, err)
	}
	d := noticesData{Unread: c.Query("show") == "unread"}
	items, err := u.notes.Page(r.ctx, d.Unread, c.Query("after"), noticesPerPage+1)
	if err != nil {
		return u.fail(c, err)
	}
	q := url.Values{}
	if d.Unread {
		q.Set("show", "unread")
	}
	if c.Query("after") != "" {
		d.First = strings.TrimSuffix("/ui/notifications?"+q.Encode(), "?")
	}
	if len(items) > noticesPerPage {
		items = items[:noticesPerPage]
		q.Set("after", items[noticesPerPage-1].ID)
		d.Next = "/ui/notifications?" + q.Encode()
	}
	for _, n := range items {
		d.Items = append(d.Items, noticeView{Notice: n, Kind: tr(r.lang, "task_"+n.Task.Kind), Href: recordHref(n.Task)})
	}
	p := u.newPage(c, tr(r.lang, "all_notifications"))
	p.Section, p.Data = "notifications", d
	return u.render(c, fiber.StatusOK, "notifications", p)
}

// recordHref links a task's record ("" for none, or one withheld).
func recordHref(t Task) string {
	if t.Object == "" || t.RecordID == "" {
		return ""
	}
	return "/ui/o/" + t.Object + "/" + t.RecordID
}

// markAllRead answers POST /ui/notifications/read-all: every unread
// notification of the user is marked read and the page of notifications
// shown again.
func (u *UI) markAllRead(c *fiber.Ctx) error {
	if u.notes == nil {
		return u.fail(c, fmt.Errorf("%w: no page %s", engine.ErrNotFound, c.Path()))
	}
	if err := u.notes.MarkAllRead(c.UserContext()); err != nil {
		return u.fail(c, err)
	}
	return c.Redirect(withFlash(c.FormValue("back"), "all_marked_read"), fiber.StatusSeeOther)
}

// withFlash returns the page back (a /ui/ page; home otherwise) with the
// message key as its flash, in place of any it had.
func withFlash(back, key string) string {
	l, err := url.Parse(safeNext(back))
	if err != nil {
		l = &url.URL{Path: "/ui/"}
	}
	q := l.Query()
	q.Set("flash", key)
	l.RawQuery = q.Encode()
	return l.String()
}
