package reminders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/crmplatform/crm/workflows/internal/people"
	"github.com/crmplatform/crm/workflows/internal/reach"
	"github.com/google/uuid"
)

// scanBatch bounds the due reminders one step of a scan delivers.
const scanBatch = 500

// due is a planned reminder whose time has come.
type due struct {
	reminder, object, recordID string
	at                         time.Time
}

// scanStep delivers the reminders that are due, each in a unit of work of
// its own. It runs as a leased periodic job, so two servers never scan at
// once; each planned reminder is also claimed by deleting its row, and
// each delivery has a unique key, so none is sent twice even if they did.
func (rm *Reminders) scanStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	rows, err := rm.eng.DB().SQL().QueryContext(ctx, rm.t.SQL(`SELECT reminder, object, record_id, due_at FROM `+tableSchedule+` WHERE fire_at <= ? ORDER BY fire_at, reminder, record_id LIMIT `+fmt.Sprint(scanBatch)),
		rm.t.Args(rm.t.Now())...)
	if err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: due reminders: %w", err)
	}
	var list []due
	for rows.Next() {
		var d due
		var at any
		if err := rows.Scan(&d.reminder, &d.object, &d.recordID, &at); err != nil {
			rows.Close()
			return jobs.Progress{}, err
		}
		d.at = store.ScanTime(at)
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return jobs.Progress{}, err
	}
	sent := 0
	for _, d := range list {
		n, err := rm.deliver(ctx, d)
		if err != nil {
			return jobs.Progress{}, err
		}
		sent += n
	}
	// A full batch leaves more to deliver: the job goes on at once.
	return jobs.Progress{Done: l.Done + int64(len(list)), Total: -1, Finished: len(list) < scanBatch,
		Message: fmt.Sprintf("%d reminder(s) due, %d delivery(ies)", len(list), sent)}, nil
}

// deliver delivers one due reminder in a unit of work of the system and
// returns to how many recipients: it claims the planned row, checks the
// record and the condition again, and delivers to each recipient who may
// read the record, once. A yearly reminder is planned for its next year.
func (rm *Reminders) deliver(ctx context.Context, d due) (int, error) {
	sent := 0
	err := rm.eng.Tx(ctx, access.System(nil), func(w *engine.Writer) error {
		sent = 0
		res, err := w.SQL().ExecContext(ctx, rm.t.SQL(`DELETE FROM `+tableSchedule+` WHERE reminder = ? AND object = ? AND record_id = ? AND due_at = ?`),
			rm.t.Args(d.reminder, d.object, d.recordID, d.at)...)
		if err != nil {
			return fmt.Errorf("reminders: claim %s of %s %s: %w", d.reminder, d.object, d.recordID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // delivered or re-planned meanwhile
		}
		r, ok := definition.CompiledReminders(w.Snapshot()).Get(d.reminder)
		if !ok || r.Object != d.object {
			return nil
		}
		rec, err := w.Load(ctx, d.object, d.recordID)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.CondExpr != nil && !rm.holds(ctx, w, r, r.CondExpr, rec) {
			if r.CondWhenDue && !r.Yearly {
				return rm.recheck(ctx, w, d)
			}
		} else {
			owner, _ := rec[metadata.OwnerField].(string)
			users, _, err := people.Resolve(ctx, w, rm.acc, r.Recipients, people.Context{Object: d.object, Record: rec, Base: owner})
			if err != nil {
				return err
			}
			m := &message{source: "reminder:" + r.Name, object: d.object, recordID: d.recordID, rec: rec,
				subject: r.Subject, body: r.Body, fallback: r.Label, channels: r.Channels}
			for _, u := range users {
				ok, err := rm.send(ctx, w, m, u, func() (bool, error) { return rm.claimDelivery(ctx, w, d, u.ID) })
				if err != nil {
					return err
				}
				if ok {
					sent++
				}
			}
		}
		if r.Yearly {
			return rm.plan(ctx, w, r, d.object, d.recordID, nil, rec, false)
		}
		return nil
	})
	return sent, err
}

// recheckFor is how long after its due time a reminder whose condition
// reads what its record's writes do not follow (other records, the clock)
// is judged again while it does not hold.
const recheckFor = 32 * 24 * time.Hour

// recheck plans a due reminder whose condition did not hold to be judged
// again: a day after its due time, then each time twice as long after it
// (2, 4, 8, 16 days), the last recheckFor after it. What its condition
// reads may change without a write of its record (a contract put in force
// after one of its instalments fell due), and no write of the record
// would plan it again for a due time past.
func (rm *Reminders) recheck(ctx context.Context, w *engine.Writer, d due) error {
	late := rm.t.Now().Sub(d.at)
	if late >= recheckFor {
		return nil
	}
	next := d.at.Add(min(max(24*time.Hour, 2*late), recheckFor))
	// A plan made meanwhile by a write of the record stands.
	if _, err := w.SQL().ExecContext(ctx, rm.t.SQL(`INSERT INTO `+tableSchedule+` (reminder, object, record_id, due_at, fire_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (reminder, object, record_id) DO NOTHING`),
		rm.t.Args(d.reminder, d.object, d.recordID, d.at, next)...); err != nil {
		return fmt.Errorf("reminders: check %s of %s %s again: %w", d.reminder, d.object, d.recordID, err)
	}
	return nil
}

// claimDelivery records the delivery of a due reminder to a recipient and
// reports whether it is the first.
func (rm *Reminders) claimDelivery(ctx context.Context, w *engine.Writer, d due, recipient string) (bool, error) {
	res, err := w.SQL().ExecContext(ctx, rm.t.SQL(`INSERT INTO `+tableDeliveries+` (id, reminder, object, record_id, due_at, recipient, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (reminder, object, record_id, due_at, recipient) DO NOTHING`),
		rm.t.Args(uuid.Must(uuid.NewV7()).String(), d.reminder, d.object, d.recordID, d.at, recipient, rm.t.Now())...)
	if err != nil {
		return false, fmt.Errorf("reminders: delivery of %s to %s: %w", d.reminder, recipient, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// message is what is sent about one record.
type message struct {
	// source names what sends it: reminder:NAME, automation:NAME.
	source           string
	object, recordID string
	// rec is the record in storage form, whatever the recipients may
	// read: each gets only what they may.
	rec           map[string]any
	subject, body *definition.Message
	// fallback is the subject when there is none (then the object's
	// label).
	fallback metadata.Label
	channels []string
}

// send delivers a message to one user who may read the record, through
// its channels, and reports whether it did: not to a user who cannot read
// the record, nor when first (if not nil) says it was delivered already.
// The texts are rendered in the user's language with only the fields the
// user may read.
func (rm *Reminders) send(ctx context.Context, w *engine.Writer, m *message, u *access.User, first func() (bool, error)) (bool, error) {
	rights, err := rm.eng.Rights(ctx, u.Principal())
	if err != nil {
		return false, err
	}
	scope, err := rights.Scope(m.object)
	if err != nil {
		return false, err
	}
	ok, err := reach.Record(ctx, rm.eng.DB(), w, scope, metadata.ActionRead, m.recordID)
	if err != nil || !ok {
		return false, err
	}
	if first != nil {
		if ok, err := first(); err != nil || !ok {
			return false, err
		}
	}
	lang := u.Language
	if lang == "" {
		lang = engine.DefaultLanguage
	}
	value := rm.valueFor(ctx, w, scope, m.rec, lang)
	t := texts{subject: m.subject.Render(lang, value), body: m.body.Render(lang, value)}
	t.title = t.subject
	if t.title == "" {
		t.title = m.fallback.Get(lang)
	}
	if t.title == "" {
		t.title = scope.Object().Title(lang)
	}
	for _, ch := range m.channels {
		if err := rm.channel(ctx, w, ch, m, u, t); err != nil {
			return false, err
		}
	}
	return true, nil
}

// texts is a message rendered for one recipient: its subject as written
// (SMS carry only that), the title notifications and e-mail show (the
// subject, else the label, else the object's label), and the body.
type texts struct {
	subject, title, body string
}

// channel hands a rendered message to one channel, in the unit of work:
// an in-app notification row, or a send job (e-mail, SMS) that exists
// only if the unit of work commits.
func (rm *Reminders) channel(ctx context.Context, w *engine.Writer, ch string, m *message, u *access.User, t texts) error {
	switch ch {
	case definition.ChannelInApp:
		_, err := w.SQL().ExecContext(ctx, rm.t.SQL(`INSERT INTO `+tableNotifications+` (id, user_id, source, object, record_id, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			rm.t.Args(uuid.Must(uuid.NewV7()).String(), u.ID, m.source, m.object, m.recordID, t.title, t.body, rm.t.Now())...)
		if err != nil {
			return fmt.Errorf("reminders: notification for %s: %w", u.Username, err)
		}
	case definition.ChannelEmail:
		if rm.mailer == nil || u.Email == "" {
			rm.log.Warn("reminders: e-mail not sent", "user", u.Username, "source", m.source, "why", map[bool]string{true: "CRM_SMTP_URL is not set", false: "the user has no e-mail address"}[rm.mailer == nil])
			return nil
		}
		return rm.enqueue(ctx, w, KindEmail, emailPayload{To: u.Email, Subject: t.title, Body: t.body})
	case definition.ChannelSMS:
		if rm.cfg.SMSWebhookURL == "" || u.Phone == "" {
			rm.log.Warn("reminders: SMS not sent", "user", u.Username, "source", m.source, "why", map[bool]string{true: "CRM_SMS_WEBHOOK_URL is not set", false: "the user has no phone number"}[rm.cfg.SMSWebhookURL == ""])
			return nil
		}
		return rm.enqueue(ctx, w, KindSMS, smsPayload{To: u.Phone, User: u.Username, Text: joinText(t.subject, t.body), Source: m.source, Object: m.object, RecordID: m.recordID})
	}
	return nil
}

// enqueue adds a send job in the unit of work.
func (rm *Reminders) enqueue(ctx context.Context, w *engine.Writer, kind string, payload any) error {
	if _, _, err := rm.eng.Jobs().Enqueue(ctx, w.SQL(), jobs.Spec{Kind: kind, Payload: payload}); err != nil {
		return fmt.Errorf("reminders: queue %s: %w", kind, err)
	}
	return nil
}

// joinText is the text of an SMS: subject and body.
func joinText(subject, body string) string {
	switch {
	case subject == "":
		return body
	case body == "":
		return subject
	}
	return subject + ": " + body
}
