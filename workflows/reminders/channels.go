package reminders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/internal/mailserver"
	"github.com/wneessen/go-mail"
)

// mailer sends e-mail through the server of CRM_SMTP_URL with
// github.com/wneessen/go-mail: it builds proper MIME messages (UTF-8
// subjects and bodies, as Chinese texts need), negotiates STARTTLS when the
// server offers it (or TLS from the start for smtps://) and picks an
// authentication mechanism the server supports, which net/smtp leaves to
// the caller.
type mailer struct {
	host string
	opts []mail.Option
	from string
}

// newMailer reads CRM_SMTP_URL (internal/mailserver).
func newMailer(raw string) (*mailer, error) {
	srv, err := mailserver.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("reminders: %w", err)
	}
	return &mailer{host: srv.Host, from: srv.From, opts: srv.Options}, nil
}

// send sends one plain-text message.
func (m *mailer) send(ctx context.Context, to, subject, body string) error {
	msg := mail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("reminders: sender %q: %w", m.from, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("reminders: recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, body)
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return fmt.Errorf("reminders: mail client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("reminders: send e-mail to %s: %w", to, err)
	}
	return nil
}

// emailPayload is the input of an e-mail job.
type emailPayload struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// smsPayload is the input of an SMS job and the JSON body posted to
// CRM_SMS_WEBHOOK_URL.
type smsPayload struct {
	To       string `json:"to"`
	User     string `json:"user"`
	Text     string `json:"text"`
	Source   string `json:"source"`
	Object   string `json:"object"`
	RecordID string `json:"record_id"`
}

// webhookPayload is the input of a webhook job: the URL and the JSON body
// posted to it.
type webhookPayload struct {
	URL  string          `json:"url"`
	Body json.RawMessage `json:"body"`
}

// emailStep sends one e-mail; a failure is retried with back-off.
func (rm *Reminders) emailStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var p emailPayload
	if err := json.Unmarshal(l.Payload, &p); err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: e-mail job %s: %w", l.ID, err)
	}
	if rm.mailer == nil {
		return jobs.Progress{}, fmt.Errorf("reminders: CRM_SMTP_URL is not set on this server")
	}
	if err := rm.mailer.send(ctx, p.To, p.Subject, p.Body); err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: 1, Total: 1, Finished: true, Message: "sent to " + p.To}, nil
}

// smsStep posts one SMS to CRM_SMS_WEBHOOK_URL; a failure is retried with
// back-off.
func (rm *Reminders) smsStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	if rm.cfg.SMSWebhookURL == "" {
		return jobs.Progress{}, fmt.Errorf("reminders: CRM_SMS_WEBHOOK_URL is not set on this server")
	}
	if err := rm.post(ctx, rm.http, rm.cfg.SMSWebhookURL, l.Payload); err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: 1, Total: 1, Finished: true, Message: "SMS posted"}, nil
}

// webhookStep posts one notification to an automation's webhook.
func (rm *Reminders) webhookStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var p webhookPayload
	if err := json.Unmarshal(l.Payload, &p); err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: webhook job %s: %w", l.ID, err)
	}
	if _, err := rm.cfg.WebhookAllow.Target(p.URL); err != nil {
		return jobs.Progress{}, fmt.Errorf("reminders: webhook: %w", err)
	}
	if err := rm.post(ctx, rm.hooks, p.URL, p.Body); err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: 1, Total: 1, Finished: true, Message: "posted to " + p.URL}, nil
}

// post sends a JSON body through client; any answer but 2xx is a failure.
func (rm *Reminders) post(ctx context.Context, client *http.Client, to string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("reminders: post to %s: %w", to, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reminders: post to %s: %w", to, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("reminders: post to %s: answered %s", to, resp.Status)
	}
	return nil
}
