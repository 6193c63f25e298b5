package mailing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/marketing/fill"
	"github.com/google/uuid"
)

// sendJob is the payload of a send job.
type sendJob struct {
	Mailing string `json:"mailing"`
}

// window is the length of the rate's window: Config.Rate messages per
// window at most.
const window = time.Minute

// mailingRow is a mailing as the send job reads it.
type mailingRow struct {
	id, campaign, template, object, channel, language, sender, state string
	// timeZone is the sender's time zone when the mailing was sent (the
	// request's, else the server's), in which its messages write
	// datetimes; '' for mailings older than the column.
	timeZone    string
	track       bool
	links       []string
	windowStart string
	windowSent  int
}

// loadMailing reads a mailing; nil when it does not exist.
func (m *Mailer) loadMailing(ctx context.Context, q store.Querier, id string) (*mailingRow, error) {
	r := &mailingRow{}
	var links string
	err := q.QueryRowContext(ctx, m.sql(`SELECT id, campaign_id, template, object, channel, language, time_zone, sender, state, track, links, window_start, window_sent FROM `+TableMailings+` WHERE id = ?`), id).
		Scan(&r.id, &r.campaign, &r.template, &r.object, &r.channel, &r.language, &r.timeZone, &r.sender, &r.state, &r.track, &links, &r.windowStart, &r.windowSent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mailing %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(links), &r.links); err != nil {
		return nil, fmt.Errorf("mailing %s: links: %w", id, err)
	}
	return r, nil
}

// claimed is a recipient claimed by a step.
type claimed struct {
	id, recordID, address string
	tries                 int
}

// step sends one batch of a mailing's pending recipients: it claims them
// (committed before anything is sent), reads their records as the sender
// may, renders and sends, then records each result with the job's
// progress in the lease's transaction. Recipients a step left claimed
// (its server died) are unconfirmed: never sent again.
func (m *Mailer) step(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var in sendJob
	if err := json.Unmarshal(l.Payload, &in); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing: job payload: %w", err)
	}
	mr, err := m.loadMailing(ctx, m.db.SQL(), in.Mailing)
	if err != nil {
		return jobs.Progress{}, err
	}
	if mr == nil || mr.state != MailingSending {
		return jobs.Progress{Finished: true, Message: "nothing to send"}, nil
	}
	now := m.eng.Now()
	if _, err := m.db.SQL().ExecContext(ctx, m.sql(`UPDATE `+TableRecipients+` SET state = ?, claim = '', detail = ?, updated_at = ? WHERE mailing_id = ? AND state = ?`),
		StateUnconfirmed, "a server stopped while sending it; not sent again", stamp(now), mr.id, StateSending); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing %s: unconfirmed claims: %w", mr.id, err)
	}
	t, p, failure, err := m.sender(ctx, mr)
	if err != nil {
		return jobs.Progress{}, err
	}
	if failure != "" {
		return m.finish(ctx, l, mr, MailingFailed, failure)
	}
	start, sent := mr.windowStart, mr.windowSent
	if start == "" || stamp(now.Add(-window)) >= start {
		start, sent = stamp(now), 0
	}
	allowance := m.cfg.Rate - sent
	if allowance <= 0 {
		began, _ := time.Parse(timeLayout, start)
		return m.later(ctx, l, mr, began.Add(window), fmt.Sprintf("%d sent this minute; the rest from %s", sent, began.Add(window).Format(time.RFC3339)))
	}
	batch, err := m.claim(ctx, mr, min(m.cfg.Batch, allowance))
	if err != nil {
		return jobs.Progress{}, err
	}
	if len(batch) == 0 {
		return m.finish(ctx, l, mr, MailingSent, "")
	}
	results, err := m.sendBatch(ctx, mr, t, p, batch)
	if err != nil {
		return jobs.Progress{}, err
	}
	// The results, the campaign members and the rate window commit in
	// one unit of work of the system on the sender's behalf; the job's
	// progress is written after it (never hold the lease's transaction
	// around a unit of work).
	attempted, deferred := 0, 0
	err = m.eng.Tx(ctx, access.System(p), func(w *engine.Writer) error {
		attempted, deferred = 0, 0
		members := map[string]string{}
		tx := w.SQL()
		for i, c := range batch {
			r := results[i]
			state, sentAt := r.State, ""
			switch r.State {
			case StateSent:
				sentAt = stamp(m.eng.Now())
				attempted++
				members[c.recordID] = MemberSent
			case StatePending:
				deferred++
				if c.tries >= DefaultMaxTries {
					state = StateFailed
				}
			case StateBounced:
				attempted++
				members[c.recordID] = MemberBounced
				if err := m.suppress(ctx, tx, mr.channel, c.address, "bounced"); err != nil {
					return err
				}
			case StateUnconfirmed:
				attempted++
			}
			if _, err := tx.ExecContext(ctx, m.sql(`UPDATE `+TableRecipients+` SET state = ?, reason = CASE WHEN ? = 'skipped' THEN ? ELSE reason END, claim = '', detail = ?, sent_at = ?, updated_at = ? WHERE id = ? AND claim <> ''`),
				state, state, r.Detail, truncate(r.Detail, 500), sentAt, stamp(m.eng.Now()), c.id); err != nil {
				return fmt.Errorf("mailing %s: record result: %w", mr.id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, m.sql(`UPDATE `+TableMailings+` SET window_start = ?, window_sent = ?, updated_at = ? WHERE id = ?`),
			start, sent+attempted, stamp(m.eng.Now()), mr.id); err != nil {
			return fmt.Errorf("mailing %s: %w", mr.id, err)
		}
		return markMembers(ctx, w, mr.campaign, mr.object, members)
	})
	if err != nil {
		return jobs.Progress{}, err
	}
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	if deferred == len(batch) {
		// Nothing went: the server is refusing for now.
		return m.later(ctx, l, mr, m.eng.Now().Add(window), "the server deferred the whole batch: "+results[0].Detail)
	}
	return m.progress(ctx, tx, mr, false, fmt.Sprintf("%d sent or answered in this batch", attempted))
}

// sender returns the compiled template of a mailing and its sender's
// principal, or why the mailing cannot go on (its template removed, its
// sender deactivated).
func (m *Mailer) sender(ctx context.Context, mr *mailingRow) (*marketing.Template, *access.Principal, string, error) {
	compiled, _ := m.eng.Snapshot().Compiled(marketing.KindMessageTemplates).(marketing.Compiled)
	t, ok := compiled[mr.template]
	if !ok || t.Object != mr.object || t.Channel != mr.channel {
		return nil, nil, fmt.Sprintf("message template %s was removed or changed its object or channel", mr.template), nil
	}
	p, err := access.ActivePrincipal(ctx, m.db.SQL(), m.db.Dialect, mr.sender)
	if errors.Is(err, access.ErrUserNotFound) {
		return nil, nil, fmt.Sprintf("the sender %s is no longer an active user", mr.sender), nil
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("mailing %s: sender: %w", mr.id, err)
	}
	return t, p, "", nil
}

// claim marks up to n pending recipients as being sent by this step and
// commits that before anything is sent.
func (m *Mailer) claim(ctx context.Context, mr *mailingRow, n int) ([]claimed, error) {
	token := uuid.NewString()
	q := `UPDATE ` + TableRecipients + ` SET state = ?, claim = ?, tries = tries + 1, updated_at = ?
		WHERE id IN (SELECT id FROM ` + TableRecipients + ` WHERE mailing_id = ? AND state = ? ORDER BY seq LIMIT ?) AND state = ?`
	if _, err := m.db.SQL().ExecContext(ctx, m.sql(q), StateSending, token, stamp(m.eng.Now()), mr.id, StatePending, n, StatePending); err != nil {
		return nil, fmt.Errorf("mailing %s: claim recipients: %w", mr.id, err)
	}
	rows, err := m.db.SQL().QueryContext(ctx, m.sql(`SELECT id, record_id, address, tries FROM `+TableRecipients+` WHERE mailing_id = ? AND claim = ? ORDER BY seq`), mr.id, token)
	if err != nil {
		return nil, fmt.Errorf("mailing %s: claimed recipients: %w", mr.id, err)
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		if err := rows.Scan(&c.id, &c.recordID, &c.address, &c.tries); err != nil {
			return nil, fmt.Errorf("mailing %s: claimed recipients: %w", mr.id, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// sendBatch reads the claimed recipients' records as the sender may,
// renders their messages and sends them; it returns one result per
// recipient (skipped ones included: StateSkipped with the reason as
// detail).
func (m *Mailer) sendBatch(ctx context.Context, mr *mailingRow, t *marketing.Template, p *access.Principal, batch []claimed) ([]Result, error) {
	results := make([]Result, len(batch))
	rctx := engine.WithRequest(access.WithPrincipal(ctx, p))
	if mr.timeZone != "" {
		// A zone this binary cannot load (an older time zone database)
		// leaves the server's.
		if loc, err := time.LoadLocation(mr.timeZone); err == nil {
			rctx = engine.WithLocation(rctx, loc)
		}
	}
	rights, err := m.eng.Rights(rctx, p)
	if err != nil {
		return nil, err
	}
	if err := checkReadable(rights, t); err != nil {
		// The sender lost a right: nothing is sent; the batch waits
		// (and fails once its tries are spent).
		for i := range results {
			results[i] = Result{State: StatePending, Detail: err.Error()}
		}
		return results, nil
	}
	ids := make([]string, len(batch))
	addrs := make([]string, len(batch))
	for i, c := range batch {
		ids[i], addrs[i] = c.recordID, c.address
	}
	list, err := m.eng.List(rctx, mr.object, engine.ListOptions{Where: query.Predicate{SQL: store.In(`"id"`, len(ids)), Args: anys(ids)}, Limit: len(ids)})
	if err != nil {
		return nil, fmt.Errorf("mailing %s: read recipients: %w", mr.id, err)
	}
	byID := map[string]engine.Record{}
	for _, r := range list.Items {
		byID[r["id"].(string)] = r
	}
	out, err := m.optedOut(ctx, m.db.SQL(), t, ids, addrs)
	if err != nil {
		return nil, err
	}
	var recs []engine.Record
	var which []int
	for i, c := range batch {
		rec, ok := byID[c.recordID]
		switch {
		case !ok:
			results[i] = Result{State: StateSkipped, Detail: ReasonUnreadable}
		case out[c.recordID]:
			results[i] = Result{State: StateSkipped, Detail: ReasonOptedOut}
		default:
			recs = append(recs, rec)
			which = append(which, i)
		}
	}
	vals, err := fill.Values(rctx, m.eng, t.Object, t.Paths(), mr.language, recs)
	if err != nil {
		return nil, err
	}
	msgs := make([]Outgoing, len(recs))
	for k, i := range which {
		c := batch[i]
		tr := marketing.Tracking{}
		o := Outgoing{To: c.address, Ref: c.id}
		if mr.channel == marketing.ChannelEmail {
			unsub := m.link(c.id, purposeUnsubscribe, 0)
			tr.Unsubscribe = unsub
			o.Headers = map[string]string{"List-Unsubscribe": "<" + unsub + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "X-CRM-Mailing": mr.id}
			if mr.track {
				tr.Pixel = m.link(c.id, purposeOpen, 0)
				tr.Link = func(n int, _ string) string { return m.link(c.id, purposeClick, n) }
			}
		}
		if o.Message, err = t.Render(mr.language, vals[k], tr); err != nil {
			return nil, err
		}
		msgs[k] = o
	}
	if len(msgs) > 0 {
		tr, err := m.transport(mr.channel)
		if err != nil {
			return nil, err
		}
		for k, r := range tr.Send(ctx, msgs) {
			results[which[k]] = r
		}
	}
	return results, nil
}

// progress reports a mailing's progress in tx; finished ends the job.
func (m *Mailer) progress(ctx context.Context, tx *sql.Tx, mr *mailingRow, finished bool, msg string) (jobs.Progress, error) {
	var total, done int64
	if err := tx.QueryRowContext(ctx, m.sql(`SELECT COUNT(*), SUM(CASE WHEN state IN (?, ?) THEN 0 ELSE 1 END) FROM `+TableRecipients+` WHERE mailing_id = ?`),
		StatePending, StateSending, mr.id).Scan(&total, &nullInt{&done}); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing %s: progress: %w", mr.id, err)
	}
	return jobs.Progress{Done: done, Total: total, Message: msg, Finished: finished}, nil
}

// nullInt scans a possibly NULL integer (a SUM over no rows) as zero.
type nullInt struct{ p *int64 }

// Scan implements sql.Scanner.
func (n *nullInt) Scan(v any) error {
	var x sql.NullInt64
	if err := x.Scan(v); err != nil {
		return err
	}
	*n.p = x.Int64
	return nil
}

// finish ends a mailing (sent, or failed with why) and its job.
func (m *Mailer) finish(ctx context.Context, l *jobs.Lease, mr *mailingRow, state, why string) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	now := stamp(m.eng.Now())
	if _, err := tx.ExecContext(ctx, m.sql(`UPDATE `+TableMailings+` SET state = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?`), state, why, now, now, mr.id); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing %s: finish: %w", mr.id, err)
	}
	if state == MailingFailed {
		m.log.Warn("mailing: stopped", "mailing", mr.id, "why", why)
	}
	msg := "mailing " + state
	if why != "" {
		msg += ": " + why
	}
	return m.progress(ctx, tx, mr, true, msg)
}

// later ends this job and queues the mailing's next one at runAt.
func (m *Mailer) later(ctx context.Context, l *jobs.Lease, mr *mailingRow, runAt time.Time, msg string) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	if _, _, err := m.jobs.Enqueue(ctx, tx, jobs.Spec{Kind: SendKind, Key: mr.id, Payload: sendJob{Mailing: mr.id}, RunAt: runAt}); err != nil {
		return jobs.Progress{}, fmt.Errorf("mailing %s: queue the rest: %w", mr.id, err)
	}
	return m.progress(ctx, tx, mr, true, msg)
}

// suppress adds an address to a channel's suppression list.
func (m *Mailer) suppress(ctx context.Context, q store.Querier, channel, addr, reason string) error {
	if addr == "" {
		return nil
	}
	if _, err := q.ExecContext(ctx, m.sql(`INSERT INTO `+TableSuppressions+` (channel, address, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING`),
		channel, addr, reason, stamp(m.eng.Now())); err != nil {
		return fmt.Errorf("mailing: suppress %s: %w", addr, err)
	}
	return nil
}

// truncate shortens s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
