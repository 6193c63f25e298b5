package mailing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/crmplatform/crm/internal/mailserver"
	"github.com/crmplatform/crm/marketing"
	"github.com/wneessen/go-mail"
)

// Outgoing is one message to send.
type Outgoing struct {
	To string
	marketing.Message
	// Headers are extra e-mail headers (List-Unsubscribe …).
	Headers map[string]string
	// Ref identifies the message to the transport's other end (the
	// recipient's id), for SMS gateways reporting back.
	Ref string
}

// Result is what became of one message: StateSent, StateBounced (the
// address was refused for good), StatePending (deferred: refused for now,
// or not attempted; it may be tried again) or StateUnconfirmed (the
// message may have gone; it must not be sent again).
type Result struct {
	State  string
	Detail string
}

// Transport sends messages of one channel. Send returns one result per
// message, in order; it stops early (the rest StatePending) when ctx ends.
type Transport interface {
	Send(ctx context.Context, msgs []Outgoing) []Result
}

// SMTP sends e-mail through one SMTP server with
// github.com/wneessen/go-mail, one connection per batch: it builds MIME
// messages (UTF-8 subjects and bodies, multipart text and HTML), does
// STARTTLS and authentication as the server offers, and tells a refusal
// of the recipient (a bounce) from a temporary one and from a connection
// lost mid-message, which net/smtp leaves to the caller.
type SMTP struct {
	host string
	from string
	opts []mail.Option
}

// NewSMTP reads CRM_SMTP_URL (internal/mailserver).
func NewSMTP(raw string) (*SMTP, error) {
	srv, err := mailserver.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("mailing: %w", err)
	}
	return &SMTP{host: srv.Host, from: srv.From, opts: srv.Options}, nil
}

// Send implements Transport over one connection.
func (s *SMTP) Send(ctx context.Context, msgs []Outgoing) []Result {
	out := make([]Result, len(msgs))
	for i := range out {
		out[i] = Result{State: StatePending, Detail: "not attempted"}
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err == nil {
		err = c.DialWithContext(ctx)
	}
	if err != nil {
		for i := range out {
			out[i].Detail = "connect: " + err.Error()
		}
		return out
	}
	defer c.Close()
	for i, o := range msgs {
		if ctx.Err() != nil {
			break
		}
		msg, err := s.message(o)
		if err != nil {
			out[i] = Result{State: StateBounced, Detail: err.Error()}
			continue
		}
		out[i] = classify(msg, c.Send(msg))
		if out[i].State == StateUnconfirmed {
			// The connection is in an unknown state: the rest waits
			// for the next batch.
			break
		}
	}
	return out
}

// message builds the MIME message of one outgoing e-mail.
func (s *SMTP) message(o Outgoing) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("sender %q: %w", s.from, err)
	}
	if err := msg.To(o.To); err != nil {
		return nil, fmt.Errorf("address %q: %w", o.To, err)
	}
	msg.Subject(o.Subject)
	for k, v := range o.Headers {
		msg.SetGenHeader(mail.Header(k), v)
	}
	switch {
	case o.HTML != "" && o.Text != "":
		msg.SetBodyString(mail.TypeTextPlain, o.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, o.HTML)
	case o.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, o.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, o.Text)
	}
	return msg, nil
}

// classify turns the answer of one send into a result: delivered to the
// server is sent; a refusal of the recipient (RCPT, DATA) or an answer to
// the content is a bounce when permanent and deferred when temporary; a
// refused sender or a broken connection before the message went is
// deferred; anything else after the content began is unconfirmed.
func classify(msg *mail.Msg, err error) Result {
	if msg.IsDelivered() {
		return Result{State: StateSent}
	}
	if err == nil {
		return Result{State: StateUnconfirmed, Detail: "the server gave no answer"}
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		return Result{State: StateUnconfirmed, Detail: err.Error()}
	}
	refused := Result{State: StateBounced, Detail: err.Error()}
	if se.IsTemp() {
		refused.State = StatePending
	}
	switch se.Reason {
	case mail.ErrGetSender, mail.ErrSMTPMailFrom, mail.ErrConnCheck, mail.ErrNoUnencoded:
		// The sender or the connection, not the recipient: tried again.
		return Result{State: StatePending, Detail: err.Error()}
	case mail.ErrGetRcpts, mail.ErrSMTPRcptTo, mail.ErrSMTPData:
		return refused
	case mail.ErrSMTPDataClose:
		if se.ErrorCode() > 0 {
			return refused
		}
	}
	return Result{State: StateUnconfirmed, Detail: err.Error()}
}

// SMSWebhook posts each SMS as JSON to an operator's gateway:
// {"to", "text", "ref"}. A 2xx answer is sent, 4xx (but 408 and 429) a
// bounce, any other answer or a failed connection deferred, an error
// after the request went unconfirmed.
type SMSWebhook struct {
	url    string
	client *http.Client
}

// NewSMSWebhook returns the transport posting to url.
func NewSMSWebhook(url string) *SMSWebhook {
	return &SMSWebhook{url: url, client: &http.Client{Timeout: 15 * time.Second}}
}

// Send implements Transport.
func (s *SMSWebhook) Send(ctx context.Context, msgs []Outgoing) []Result {
	out := make([]Result, len(msgs))
	for i := range out {
		out[i] = Result{State: StatePending, Detail: "not attempted"}
	}
	for i, o := range msgs {
		if ctx.Err() != nil {
			break
		}
		out[i] = s.post(ctx, o)
	}
	return out
}

// post sends one SMS.
func (s *SMSWebhook) post(ctx context.Context, o Outgoing) Result {
	body, _ := json.Marshal(map[string]string{"to": o.To, "text": o.Text, "ref": o.Ref})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return Result{State: StateBounced, Detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return Result{State: StatePending, Detail: err.Error()}
		}
		return Result{State: StateUnconfirmed, Detail: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	detail := fmt.Sprintf("%s %s", resp.Status, bytes.TrimSpace(answer))
	switch {
	case resp.StatusCode/100 == 2:
		return Result{State: StateSent, Detail: detail}
	case resp.StatusCode/100 == 4 && resp.StatusCode != 408 && resp.StatusCode != 429:
		return Result{State: StateBounced, Detail: detail}
	}
	return Result{State: StatePending, Detail: detail}
}
