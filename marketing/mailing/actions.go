package mailing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/marketing/fill"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// States of a recipient.
const (
	// StatePending recipients wait for their message.
	StatePending = "pending"
	// StateSending recipients are claimed by a step sending their
	// message now.
	StateSending = "sending"
	// StateSent recipients' messages were accepted by the server.
	StateSent = "sent"
	// StateSkipped recipients get no message (Reason says why).
	StateSkipped = "skipped"
	// StateBounced recipients' addresses were refused by the server.
	StateBounced = "bounced"
	// StateFailed recipients could not be sent to after every try.
	StateFailed = "failed"
	// StateUnconfirmed recipients were being sent to when a server
	// stopped: their message may or may not have gone, so it is not sent
	// again.
	StateUnconfirmed = "unconfirmed"
)

// Reasons a recipient is skipped.
const (
	ReasonNoAddress  = "no_address"
	ReasonOptedOut   = "opted_out"
	ReasonDuplicate  = "duplicate"
	ReasonUnreadable = "unreadable"
)

// States of a mailing.
const (
	MailingSending = "sending"
	MailingSent    = "sent"
	MailingFailed  = "failed"
)

// request is the body of the mailing actions.
type request struct {
	Template string `json:"template"`
	// Filter selects the recipients among the template's object's
	// records the sender may read (every one when empty).
	Filter string `json:"filter"`
	// Language of the texts (the request's language by default).
	Language string `json:"language"`
	// Track adds the open pixel and tracked links to e-mail.
	Track bool `json:"track"`
	// Limit is how many recipients a preview renders (default 5, at most
	// 20).
	Limit int `json:"limit"`
	// Members limits the recipients to the campaign's members.
	Members bool `json:"members"`
}

// parseRequest reads an action's body.
func parseRequest(ctx context.Context, in map[string]any) (*request, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, &engine.RequestError{Message: "the body is not a mailing"}
	}
	var r request
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, &engine.RequestError{Message: "send {\"template\", \"filter\", \"members\", \"language\", \"track\", \"limit\"}: " + err.Error()}
	}
	if r.Template == "" {
		return nil, &engine.RequestError{Message: "name the message template", Details: []engine.FieldError{{Field: "template", Code: "required", Message: "a message template"}}}
	}
	if r.Language == "" {
		r.Language = engine.Language(ctx)
	}
	if r.Language != "en" && r.Language != "zh" {
		return nil, &engine.RequestError{Message: "language is en or zh", Details: []engine.FieldError{{Field: "language", Code: "invalid", Message: r.Language}}}
	}
	if r.Limit <= 0 {
		r.Limit = 5
	}
	r.Limit = min(r.Limit, 20)
	return &r, nil
}

// template returns the compiled template of a request, checked against
// the sender's rights.
func (m *Mailer) template(w *engine.Writer, name string) (*marketing.Template, error) {
	compiled, _ := w.Snapshot().Compiled(marketing.KindMessageTemplates).(marketing.Compiled)
	t, ok := compiled[name]
	if !ok {
		return nil, &engine.RequestError{Message: fmt.Sprintf("no message template %q", name), Details: []engine.FieldError{{Field: "template", Code: "unknown", Message: name}}}
	}
	if err := checkReadable(w.Rights(), t); err != nil {
		return nil, err
	}
	return t, nil
}

// recipient is one recipient as resolved.
type recipient struct {
	recordID string
	address  string
	state    string
	reason   string
}

// resolution is the recipients of a mailing, and the first records that
// will get a message (for previews and tests).
type resolution struct {
	all   []recipient
	first []engine.Record
}

// counts returns how many recipients are in each state or skip reason.
func (r *resolution) counts() map[string]int {
	c := map[string]int{"recipients": len(r.all)}
	for _, x := range r.all {
		if x.state == StateSkipped {
			c["skipped_"+x.reason]++
		} else {
			c["to_send"]++
		}
	}
	return c
}

// resolve selects the recipients of a template's object that the filter
// matches among the records the writer's principal may read, in the
// list's order: each address once, those without one and those opted out
// (their record's field, or the address suppressed) kept as skipped. It
// keeps the first records to send to, up to keep.
func (m *Mailer) resolve(ctx context.Context, w *engine.Writer, t *marketing.Template, r *request, campaign string, keep int) (*resolution, error) {
	var where query.Predicate
	if r.Members {
		field := memberField(w.Snapshot().Schema, t.Object)
		if field == "" {
			return nil, &engine.RequestError{Message: fmt.Sprintf("campaigns have no members of %s here", t.Object), Details: []engine.FieldError{{Field: "members", Code: "invalid", Message: t.Object}}}
		}
		where = membersOnly(field, campaign)
	}
	res := &resolution{}
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := w.List(ctx, t.Object, engine.ListOptions{Filter: r.Filter, Where: where, Limit: engine.MaxLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(page.Items))
		addrs := make([]string, len(page.Items))
		for i, rec := range page.Items {
			ids[i], _ = rec["id"].(string)
			addrs[i] = address(t.Channel, rec[t.To])
		}
		out, err := m.optedOut(ctx, w.SQL(), t, ids, addrs)
		if err != nil {
			return nil, err
		}
		for i, rec := range page.Items {
			r := recipient{recordID: ids[i], address: addrs[i], state: StatePending}
			switch {
			case r.address == "":
				r.state, r.reason = StateSkipped, ReasonNoAddress
			case out[ids[i]]:
				r.state, r.reason = StateSkipped, ReasonOptedOut
			case seen[r.address]:
				r.state, r.reason = StateSkipped, ReasonDuplicate
			default:
				seen[r.address] = true
				if len(res.first) < keep {
					res.first = append(res.first, rec)
				}
			}
			res.all = append(res.all, r)
		}
		if page.NextCursor == "" {
			return res, nil
		}
		cursor = page.NextCursor
	}
}

// optedOut returns the ids of the records that opted out of the
// template's channel, by their field (read as the platform: an opt-out
// holds whoever sends) or because their address is suppressed.
func (m *Mailer) optedOut(ctx context.Context, q store.Querier, t *marketing.Template, ids, addrs []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(ids, store.MaxInList) {
		rows, err := q.QueryContext(ctx, m.sql(`SELECT id FROM `+store.Ident(t.Object)+` WHERE `+store.In("id", len(chunk))+` AND `+store.Ident(t.OptOut)+` = TRUE`), anys(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("mailing: read opt-outs of %s: %w", t.Object, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("mailing: read opt-outs of %s: %w", t.Object, err)
			}
			out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("mailing: read opt-outs of %s: %w", t.Object, err)
		}
	}
	suppressed, err := m.suppressed(ctx, q, t.Channel, addrs)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		if suppressed[a] {
			out[ids[i]] = true
		}
	}
	return out, nil
}

// suppressed returns the addresses of a channel on the suppression list.
func (m *Mailer) suppressed(ctx context.Context, q store.Querier, channel string, addrs []string) (map[string]bool, error) {
	out := map[string]bool{}
	var list []string
	for _, a := range addrs {
		if a != "" {
			list = append(list, a)
		}
	}
	for chunk := range slices.Chunk(list, store.MaxInList) {
		rows, err := q.QueryContext(ctx, m.sql(`SELECT address FROM `+TableSuppressions+` WHERE channel = ? AND `+store.In("address", len(chunk))), append([]any{channel}, anys(chunk)...)...)
		if err != nil {
			return nil, fmt.Errorf("mailing: read suppressed addresses: %w", err)
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return nil, fmt.Errorf("mailing: read suppressed addresses: %w", err)
			}
			out[a] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("mailing: read suppressed addresses: %w", err)
		}
	}
	return out, nil
}

// anys converts strings to query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ready refuses a channel this server cannot send on.
func (m *Mailer) ready(channel string) error {
	switch {
	case channel == marketing.ChannelEmail && m.cfg.Email == nil:
		return &engine.RequestError{Message: "e-mail is not set up on this server: the operator sets CRM_SMTP_URL"}
	case channel == marketing.ChannelEmail && m.public == "":
		return &engine.RequestError{Message: "e-mail needs the server's public address for its unsubscribe links: the operator sets CRM_PUBLIC_URL"}
	case channel == marketing.ChannelSMS && m.cfg.SMS == nil:
		return &engine.RequestError{Message: "SMS is not set up on this server: the operator sets CRM_SMS_WEBHOOK_URL"}
	}
	return nil
}

// request reads an action's body and the message template it names;
// with send, the server must be able to send on the template's channel.
func (m *Mailer) request(ctx context.Context, w *engine.Writer, in map[string]any, send bool) (*request, *marketing.Template, error) {
	r, err := parseRequest(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	t, err := m.template(w, r.Template)
	if err != nil {
		return nil, nil, err
	}
	if send {
		if err := m.ready(t.Channel); err != nil {
			return nil, nil, err
		}
	}
	return r, t, nil
}

// sendAction is send_mailing: it resolves and stores the recipients in
// the unit of work and queues the job that sends them.
func (m *Mailer) sendAction(ctx context.Context, w *engine.Writer, target engine.Target, in map[string]any) (any, error) {
	r, t, err := m.request(ctx, w, in, true)
	if err != nil {
		return nil, err
	}
	res, err := m.resolve(ctx, w, t, r, target.ID, 0)
	if err != nil {
		return nil, err
	}
	id := uuid.Must(uuid.NewV7()).String()
	now := stamp(m.eng.Now())
	links, _ := json.Marshal(t.Links(r.Language))
	p := w.Principal()
	if _, err := w.SQL().ExecContext(ctx, m.sql(`INSERT INTO `+TableMailings+` (id, campaign_id, template, object, channel, language, time_zone, filter, sender, sender_id, state, track, links, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		id, target.ID, t.Name, t.Object, t.Channel, r.Language, m.eng.Location(ctx).String(), r.Filter, p.Username, p.UserID, MailingSending, r.Track && t.Channel == marketing.ChannelEmail, string(links), now, now); err != nil {
		return nil, fmt.Errorf("mailing: create: %w", err)
	}
	if err := m.insertRecipients(ctx, w.SQL(), id, t.Object, res.all, now); err != nil {
		return nil, err
	}
	if _, _, err := m.jobs.Enqueue(ctx, w.SQL(), jobs.Spec{Kind: SendKind, Key: id, Payload: sendJob{Mailing: id}}); err != nil {
		return nil, fmt.Errorf("mailing: queue: %w", err)
	}
	return m.summary(ctx, w.SQL(), id)
}

// insertRecipients writes the recipients of a mailing, a hundred rows per
// statement.
func (m *Mailer) insertRecipients(ctx context.Context, q store.Querier, mailing, object string, all []recipient, now string) error {
	const per = 100
	for start := 0; start < len(all); start += per {
		chunk := all[start:min(start+per, len(all))]
		rows := make([]string, len(chunk))
		args := make([]any, 0, len(chunk)*9)
		for i, r := range chunk {
			rows[i] = "(" + store.Marks(9) + ")"
			args = append(args, uuid.Must(uuid.NewV7()).String(), mailing, start+i+1, object, r.recordID, r.address, r.state, r.reason, now)
		}
		if _, err := q.ExecContext(ctx, m.sql(`INSERT INTO `+TableRecipients+` (id, mailing_id, seq, object, record_id, address, state, reason, updated_at) VALUES `+strings.Join(rows, ", ")), args...); err != nil {
			return fmt.Errorf("mailing: store recipients: %w", err)
		}
	}
	return nil
}

// Preview is the answer of preview_mailing.
type Preview struct {
	Counts map[string]int `json:"counts"`
	Items  []PreviewItem  `json:"items"`
}

// PreviewItem is one recipient's message as it would be sent.
type PreviewItem struct {
	RecordID string `json:"record_id"`
	To       string `json:"to"`
	marketing.Message
}

// previewAction is preview_mailing: the counts of the recipients and the
// first messages as rendered (tracking links shown as written).
func (m *Mailer) previewAction(ctx context.Context, w *engine.Writer, target engine.Target, in map[string]any) (any, error) {
	r, t, err := m.request(ctx, w, in, false)
	if err != nil {
		return nil, err
	}
	res, err := m.resolve(ctx, w, t, r, target.ID, r.Limit)
	if err != nil {
		return nil, err
	}
	out := &Preview{Counts: res.counts(), Items: []PreviewItem{}}
	msgs, err := m.renderFirst(ctx, w, t, r.Language, res.first)
	if err != nil {
		return nil, err
	}
	for i, msg := range msgs {
		id, _ := res.first[i]["id"].(string)
		out.Items = append(out.Items, PreviewItem{RecordID: id, To: metadata.Display(nil, res.first[i][t.To], r.Language, nil), Message: msg})
	}
	return out, nil
}

// renderFirst renders the messages of records as the writer's principal
// reads them, without tracking.
func (m *Mailer) renderFirst(ctx context.Context, w *engine.Writer, t *marketing.Template, lang string, recs []engine.Record) ([]marketing.Message, error) {
	vals, err := fill.Values(ctx, m.eng, t.Object, t.Paths(), lang, recs)
	if err != nil {
		return nil, err
	}
	out := make([]marketing.Message, len(recs))
	for i := range recs {
		if out[i], err = t.Render(lang, vals[i], marketing.Tracking{}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// testJob is the payload of a test message.
type testJob struct {
	Channel string            `json:"channel"`
	To      string            `json:"to"`
	Message marketing.Message `json:"message"`
}

// testAction is test_mailing: the first recipient's message, sent to the
// sender's own address (their e-mail, or their phone for SMS) by a job.
func (m *Mailer) testAction(ctx context.Context, w *engine.Writer, target engine.Target, in map[string]any) (any, error) {
	r, t, err := m.request(ctx, w, in, true)
	if err != nil {
		return nil, err
	}
	field := "email"
	if t.Channel == marketing.ChannelSMS {
		field = "phone"
	}
	p := w.Principal()
	me, err := access.UserValues(ctx, w.SQL(), m.db.Dialect, []string{p.UserID}, []string{field})
	if err != nil {
		return nil, err
	}
	to, _ := me[p.UserID][field].(string)
	if to == "" {
		return nil, &engine.RequestError{Message: fmt.Sprintf("your user has no %s to send the test to", field)}
	}
	res, err := m.resolve(ctx, w, t, r, target.ID, 1)
	if err != nil {
		return nil, err
	}
	if len(res.first) == 0 {
		return nil, &engine.RequestError{Message: "no recipient to take the values of the test from"}
	}
	msgs, err := m.renderFirst(ctx, w, t, r.Language, res.first)
	if err != nil {
		return nil, err
	}
	msg := msgs[0]
	if t.Channel == marketing.ChannelEmail {
		msg.Subject = "[TEST] " + msg.Subject
	}
	if _, _, err := m.jobs.Enqueue(ctx, w.SQL(), jobs.Spec{Kind: TestKind, Payload: testJob{Channel: t.Channel, To: to, Message: msg}}); err != nil {
		return nil, fmt.Errorf("mailing: queue the test: %w", err)
	}
	return map[string]any{"queued": true, "to": to, "record_id": res.first[0]["id"]}, nil
}

// testStep sends a test message.
func (m *Mailer) testStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var in testJob
	if err := json.Unmarshal(l.Payload, &in); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing: test job %s: %w", l.ID, err)
	}
	tr, err := m.transport(in.Channel)
	if err != nil {
		return jobs.Progress{}, err
	}
	res := tr.Send(ctx, []Outgoing{{To: in.To, Message: in.Message}})
	if res[0].State != StateSent {
		return jobs.Progress{}, fmt.Errorf("mailing: test to %s: %s", in.To, res[0].Detail)
	}
	return jobs.Progress{Done: 1, Total: 1, Finished: true, Message: "test sent to " + in.To}, nil
}

// transport returns the transport of a channel.
func (m *Mailer) transport(channel string) (Transport, error) {
	tr := m.cfg.Email
	if channel == marketing.ChannelSMS {
		tr = m.cfg.SMS
	}
	if tr == nil {
		return nil, fmt.Errorf("mailing: no transport for %s on this server", channel)
	}
	return tr, nil
}

// Summary is a mailing as listed: what was sent and what recipients did.
type Summary struct {
	ID         string         `json:"id"`
	CampaignID string         `json:"campaign_id"`
	Template   string         `json:"template"`
	Object     string         `json:"object"`
	Channel    string         `json:"channel"`
	Language   string         `json:"language"`
	Filter     string         `json:"filter"`
	Sender     string         `json:"sender"`
	State      string         `json:"state"`
	Track      bool           `json:"track"`
	Error      string         `json:"error,omitempty"`
	CreatedAt  string         `json:"created_at"`
	FinishedAt string         `json:"finished_at,omitempty"`
	Counts     map[string]int `json:"counts"`
}

// summary reads a mailing with its counts.
func (m *Mailer) summary(ctx context.Context, q store.Querier, id string) (*Summary, error) {
	s := &Summary{Counts: map[string]int{}}
	err := q.QueryRowContext(ctx, m.sql(`SELECT id, campaign_id, template, object, channel, language, filter, sender, state, track, error, created_at, finished_at FROM `+TableMailings+` WHERE id = ?`), id).
		Scan(&s.ID, &s.CampaignID, &s.Template, &s.Object, &s.Channel, &s.Language, &s.Filter, &s.Sender, &s.State, &s.Track, &s.Error, &s.CreatedAt, &s.FinishedAt)
	if err != nil {
		return nil, fmt.Errorf("mailing %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, m.sql(`SELECT state, reason, COUNT(*), SUM(CASE WHEN opened_at <> '' THEN 1 ELSE 0 END), SUM(CASE WHEN clicked_at <> '' THEN 1 ELSE 0 END), SUM(CASE WHEN unsubscribed_at <> '' THEN 1 ELSE 0 END)
		FROM `+TableRecipients+` WHERE mailing_id = ? GROUP BY state, reason`), id)
	if err != nil {
		return nil, fmt.Errorf("mailing %s: counts: %w", id, err)
	}
	defer rows.Close()
	for _, k := range []string{"recipients", StatePending, StateSent, StateBounced, StateFailed, StateUnconfirmed, "opened", "clicked", "unsubscribed",
		"skipped_" + ReasonNoAddress, "skipped_" + ReasonOptedOut, "skipped_" + ReasonDuplicate, "skipped_" + ReasonUnreadable} {
		s.Counts[k] = 0
	}
	for rows.Next() {
		var state, reason string
		var n, opened, clicked, unsub int
		if err := rows.Scan(&state, &reason, &n, &opened, &clicked, &unsub); err != nil {
			return nil, fmt.Errorf("mailing %s: counts: %w", id, err)
		}
		s.Counts["recipients"] += n
		switch state {
		case StateSkipped:
			s.Counts["skipped_"+reason] += n
		case StateSending:
			s.Counts[StatePending] += n
		default:
			s.Counts[state] += n
		}
		s.Counts["opened"] += opened
		s.Counts["clicked"] += clicked
		s.Counts["unsubscribed"] += unsub
	}
	return s, rows.Err()
}
