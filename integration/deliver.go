package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
)

// DeliverKind is the job kind that delivers one outbox row.
const DeliverKind = "webhooks.deliver"

// Limits of a delivery's answer as kept: at most maxResponse bytes are
// read, the first keptResponse of them stored.
const (
	maxResponse  = 64 << 10
	keptResponse = 2 << 10
)

// delivery is an outbox row as the job sees it.
type delivery struct {
	Seq        int64
	ID         string
	Webhook    string
	Event      string
	Object     string
	RecordID   string
	Payload    string
	State      string
	Attempts   int
	RetryUntil string
}

// loadDelivery reads one delivery; nil when it does not exist.
func (x *Integration) loadDelivery(ctx context.Context, q store.Querier, id string) (*delivery, error) {
	var d delivery
	err := q.QueryRowContext(ctx, x.sql(`SELECT seq, id, webhook, event, object, record_id, payload, state, attempts, retry_until FROM `+TableDeliveries+` WHERE id = ?`), id).
		Scan(&d.Seq, &d.ID, &d.Webhook, &d.Event, &d.Object, &d.RecordID, &d.Payload, &d.State, &d.Attempts, &d.RetryUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("integration: delivery %s: %w", id, err)
	}
	return &d, nil
}

// answer is what one attempt got.
type answer struct {
	status   int
	response string
	err      string
	duration time.Duration
	// final means no retry can succeed: the webhook was removed or
	// deactivated.
	final bool
	// timedOut means the target did not answer within Config.Timeout.
	timedOut bool
}

// ok reports whether the target took the delivery (a 2xx answer).
func (a answer) ok() bool { return a.err == "" && a.status >= 200 && a.status < 300 }

// step delivers one outbox row: it sends the POST (outside any
// transaction), then records the attempt and what follows from it in the
// lease's transaction: delivered, failed once the retry time ran out, or
// another job at the next back-off. A delivery that is no longer first in
// line for its webhook and record waits: the one before it queues it
// when it ends.
func (x *Integration) step(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var in deliverJob
	if err := json.Unmarshal(l.Payload, &in); err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: job payload: %w", err)
	}
	d, err := x.loadDelivery(ctx, x.db.SQL(), in.Delivery)
	if err != nil {
		return jobs.Progress{}, err
	}
	if d == nil || d.State != StatePending {
		return jobs.Progress{Finished: true, Message: "nothing to deliver"}, nil
	}
	if waiting, err := x.earlier(ctx, x.db.SQL(), d.Webhook, d.Object, d.RecordID, d.ID, false); err != nil || waiting {
		return jobs.Progress{Finished: true, Message: "waits for an earlier event of the record"}, err
	}
	if until, paused := x.pauses.until(d.Webhook, x.eng.Now()); paused {
		return x.postpone(ctx, l, d, until)
	}
	a := x.send(ctx, d)
	now := x.eng.Now()
	x.pauses.note(d.Webhook, a.timedOut, now, x.backoff)
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	attempt := d.Attempts + 1
	if _, err := tx.ExecContext(ctx, x.sql(`INSERT INTO `+TableAttempts+` (delivery_id, attempt, at, status, error, response, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		d.ID, attempt, stamp(now), a.status, a.err, a.response, a.duration.Milliseconds()); err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: record attempt of %s: %w", d.ID, err)
	}
	// The retry time runs from the first attempt, so events waiting
	// behind an earlier one of their record keep all of theirs.
	until := d.RetryUntil
	if until == "" {
		until = stamp(now.Add(x.opt.RetryFor))
	}
	next := now.Add(x.backoff(attempt))
	state, msg := StatePending, fmt.Sprintf("attempt %d failed (%s); next at %s", attempt, a.summary(), next.Format(time.RFC3339))
	switch {
	case a.ok():
		state, msg = StateDelivered, fmt.Sprintf("delivered at attempt %d", attempt)
	case a.final || stamp(next) > until:
		state, msg = StateFailed, fmt.Sprintf("failed after %d attempt(s): %s", attempt, a.summary())
	}
	var delivered any
	if state == StateDelivered {
		delivered = stamp(now)
	}
	if _, err := tx.ExecContext(ctx, x.sql(`UPDATE `+TableDeliveries+` SET state = ?, attempts = ?, next_at = ?, retry_until = ?, delivered_at = ?, updated_at = ? WHERE id = ?`),
		state, attempt, stamp(next), until, delivered, stamp(now), d.ID); err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: record delivery %s: %w", d.ID, err)
	}
	if state == StatePending {
		err = x.enqueue(ctx, tx, d.ID, next)
	} else {
		err = x.enqueueNext(ctx, tx, d)
	}
	if err != nil {
		return jobs.Progress{}, err
	}
	if state != StateDelivered {
		x.log.Warn("integration: webhook delivery "+state, "webhook", d.Webhook, "delivery", d.ID, "attempt", attempt, "answer", a.summary())
	}
	return jobs.Progress{Done: 1, Total: 1, Finished: true, Message: msg}, nil
}

// enqueueNext queues the job of the next waiting delivery of d's webhook
// and record, once d is delivered or failed.
func (x *Integration) enqueueNext(ctx context.Context, tx *sql.Tx, d *delivery) error {
	var id, at string
	err := tx.QueryRowContext(ctx, x.sql(`SELECT id, next_at FROM `+TableDeliveries+` WHERE webhook = ? AND object = ? AND record_id = ? AND state = 'pending' AND seq > ? ORDER BY seq LIMIT 1`),
		d.Webhook, d.Object, d.RecordID, d.Seq).Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("integration: next delivery after %s: %w", d.ID, err)
	}
	runAt, err := time.Parse(timeLayout, at)
	if err != nil {
		return fmt.Errorf("integration: next delivery %s: %w", id, err)
	}
	return x.enqueue(ctx, tx, id, runAt)
}

// postpone puts a delivery of a paused webhook back until the pause
// ends, without an attempt.
func (x *Integration) postpone(ctx context.Context, l *jobs.Lease, d *delivery, until time.Time) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	if _, err := tx.ExecContext(ctx, x.sql(`UPDATE `+TableDeliveries+` SET next_at = ?, updated_at = ? WHERE id = ?`), stamp(until), stamp(x.eng.Now()), d.ID); err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: postpone delivery %s: %w", d.ID, err)
	}
	if err := x.enqueue(ctx, tx, d.ID, until); err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Finished: true, Message: "the target did not answer in time lately; waits until " + until.Format(time.RFC3339)}, nil
}

// pauses are the webhooks whose target did not answer in time lately, on
// this server: their deliveries wait until the back-off after the last
// timeout instead of each holding a job runner for the whole timeout.
// Any answer (even an error status) ends a webhook's pause.
type pauses struct {
	mu     sync.Mutex
	byHook map[string]pause
}

// pause is a webhook's pause: until when, after how many timeouts in a
// row.
type pause struct {
	until    time.Time
	timeouts int
}

// until returns when the webhook's pause ends, and whether it is paused
// at now.
func (p *pauses) until(webhook string, now time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps, ok := p.byHook[webhook]
	return ps.until, ok && now.Before(ps.until)
}

// note records how an attempt to a webhook's target ended: a timeout
// pauses the webhook for the back-off of the timeouts in a row so far,
// anything else ends its pause.
func (p *pauses) note(webhook string, timedOut bool, now time.Time, backoff func(int) time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !timedOut {
		delete(p.byHook, webhook)
		return
	}
	if p.byHook == nil {
		p.byHook = map[string]pause{}
	}
	n := p.byHook[webhook].timeouts + 1
	p.byHook[webhook] = pause{until: now.Add(backoff(n)), timeouts: n}
}

// backoff is the wait after the given failed attempt: Options.Backoff,
// doubled for each further attempt, at most an hour.
func (x *Integration) backoff(attempt int) time.Duration {
	d := x.opt.Backoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// maxBackoff bounds the wait between two attempts.
const maxBackoff = time.Hour

// summary says in a few words what an attempt got.
func (a answer) summary() string {
	if a.err != "" {
		return a.err
	}
	return fmt.Sprintf("HTTP %d", a.status)
}

// send POSTs a delivery to its webhook's target as the metadata defines
// it now, with the allow-list as the operator sets it now.
func (x *Integration) send(ctx context.Context, d *delivery) answer {
	h, ok := Webhooks.Get(x.eng.Snapshot().Schema, d.Webhook)
	if !ok || !h.IsActive() {
		return answer{err: "the webhook was removed or deactivated", final: true}
	}
	allow, err := AllowListFromEnv()
	if err != nil {
		return answer{err: err.Error()}
	}
	target, err := allow.Target(h.URL)
	if err != nil {
		return answer{err: err.Error()}
	}
	body := []byte(d.Payload)
	ctx, cancel := context.WithTimeout(ctx, x.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return answer{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crm-webhooks/1")
	req.Header.Set("X-CRM-Event", d.Event)
	req.Header.Set("X-CRM-Delivery", d.ID)
	req.Header.Set(SignatureHeader, Sign(h.Secret, x.eng.Now(), body))
	client := x.client(allow)
	defer client.CloseIdleConnections()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		msg, timedOut := x.requestError(err)
		return answer{err: msg, timedOut: timedOut, duration: time.Since(start)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	a := answer{status: resp.StatusCode, response: keep(raw), duration: time.Since(start)}
	if err != nil && a.ok() {
		a.err = "reading the answer: " + err.Error()
	}
	return a
}

// client is the HTTP client of deliveries (AllowList.Client).
func (x *Integration) client(allow *AllowList) *http.Client { return allow.Client(x.opt.Timeout) }

// requestError words a failed request without Go's wrapping noise: the
// refusal of a target, or the timeout (then true).
func (x *Integration) requestError(err error) (string, bool) {
	var ne net.Error
	switch {
	case errors.Is(err, ErrNotAllowed):
		msg := err.Error()
		return msg[strings.Index(msg, ErrNotAllowed.Error())+len("integration: "):], false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", x.opt.Timeout), true
	}
	return err.Error(), false
}

// keep returns the start of an answer's body as valid UTF-8 text.
func keep(raw []byte) string {
	if len(raw) > keptResponse {
		raw = raw[:keptResponse]
		for len(raw) > 0 && !utf8.Valid(raw) {
			raw = raw[:len(raw)-1]
		}
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// PurgeKind is the periodic job kind that deletes delivered and failed
// deliveries older than Config.Retention, with their answers.
const PurgeKind = "webhooks.purge"

// purgeEvery is how often PurgeKind runs.
const purgeEvery = time.Hour

// purge deletes the deliveries past their retention in one step.
func (x *Integration) purge(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	const old = ` WHERE state <> 'pending' AND updated_at < ?`
	cutoff := stamp(x.eng.Now().Add(-x.opt.Retention))
	if _, err := tx.ExecContext(ctx, x.sql(`DELETE FROM `+TableAttempts+` WHERE delivery_id IN (SELECT id FROM `+TableDeliveries+old+`)`), cutoff); err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: purge answers: %w", err)
	}
	res, err := tx.ExecContext(ctx, x.sql(`DELETE FROM `+TableDeliveries+old), cutoff)
	if err != nil {
		return jobs.Progress{}, fmt.Errorf("integration: purge deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: n, Total: n, Finished: true, Message: fmt.Sprintf("%d old deliveries deleted", n)}, nil
}
