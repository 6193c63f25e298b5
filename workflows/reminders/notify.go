package reminders

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
	"github.com/crmplatform/crm/workflows/internal/people"
	"github.com/crmplatform/crm/workflows/internal/reach"
)

// Notify sends an automation's notification about a record (rec in
// storage form) from inside the write's unit of work: each recipient who
// may read the record gets it in their language with only the fields they
// may read (in-app at once; e-mail and SMS as send jobs that exist only if
// the write commits); a webhook gets a JSON POST (a send job) rendered with
// what the user whose write triggered it may read (nothing of the record
// when that user may not read it), in English.
func (rm *Reminders) Notify(ctx context.Context, w *engine.Writer, source, object, id string, rec map[string]any, n *definition.CompiledNotification) error {
	owner, _ := rec[metadata.OwnerField].(string)
	users, _, err := people.Resolve(ctx, w, rm.acc, n.To, people.Context{Object: object, Record: rec, Base: owner})
	if err != nil {
		return err
	}
	var personal []string
	webhook := false
	for _, ch := range n.Channels {
		if ch == definition.ChannelWebhook {
			webhook = true
		} else {
			personal = append(personal, ch)
		}
	}
	m := &message{source: source, object: object, recordID: id, rec: rec, subject: n.Subject, body: n.Message, channels: personal}
	for _, u := range users {
		if _, err := rm.send(ctx, w, m, u, nil); err != nil {
			return err
		}
	}
	if !webhook {
		return nil
	}
	return rm.webhook(ctx, w, m, n.URL)
}

// webhook queues the JSON POST of a notification, rendered as the user
// whose write caused it may read the record (nothing of it for a write
// without a user).
func (rm *Reminders) webhook(ctx context.Context, w *engine.Writer, m *message, to string) error {
	body := map[string]any{"source": m.source, "object": m.object, "record_id": m.recordID}
	if p := w.Principal(); p.UserID != "" {
		as := *p
		as.System = false
		rights, err := rm.eng.Rights(ctx, &as)
		if err != nil {
			return err
		}
		s, err := rights.Scope(m.object)
		if err != nil {
			return err
		}
		ok, err := reach.Record(ctx, rm.eng.DB(), w, s, metadata.ActionRead, m.recordID)
		if err != nil {
			return err
		}
		if ok {
			value := rm.valueFor(ctx, w, s, m.rec, engine.DefaultLanguage)
			body["subject"], body["message"] = m.subject.Render(engine.DefaultLanguage, value), m.body.Render(engine.DefaultLanguage, value)
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("reminders: webhook body: %w", err)
	}
	return rm.enqueue(ctx, w, KindWebhook, webhookPayload{URL: to, Body: raw})
}
