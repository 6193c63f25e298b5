// Package mailtest is a real SMTP server for tests
// (github.com/emersion/go-smtp), serving on a local port and keeping every
// message it accepts, decoded. Reminders and mailings are tested against
// it; a test changes its behaviour by wrapping Mailbox and Session.
package mailtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Email is a message the server received, once per recipient.
type Email struct {
	To, Subject string
	// Text and HTML are the decoded bodies of the message (its text/html
	// part or body in HTML, anything else in Text).
	Text, HTML string
	Header     mail.Header
}

// Mailbox is an smtp.Backend keeping every message it accepts.
type Mailbox struct {
	// Refuse, when set, refuses a recipient for good (550).
	Refuse func(to string) bool
	// OnMessage, when set, is called with the number of messages kept so
	// far after each accepted one.
	OnMessage func(n int)

	mu   sync.Mutex
	msgs []Email
}

// NewSession implements smtp.Backend.
func (m *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &Session{Box: m}, nil }

// Session is one SMTP connection to a Mailbox.
type Session struct {
	Box *Mailbox
	to  []string
}

// Reset implements smtp.Session.
func (s *Session) Reset() { s.to = nil }

// Logout implements smtp.Session.
func (s *Session) Logout() error { return nil }

// Mail implements smtp.Session.
func (s *Session) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt implements smtp.Session: a recipient the box refuses gets a 550.
func (s *Session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.Box.Refuse != nil && s.Box.Refuse(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data implements smtp.Session: the message is decoded and kept once per
// recipient.
func (s *Session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	e := Email{Header: msg.Header}
	e.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	contentType := msg.Header.Get("Content-Type")
	if contentType == "" {
		contentType = "text/plain"
	}
	if err := readParts(contentType, msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &e); err != nil {
		return err
	}
	b := s.Box
	b.mu.Lock()
	for _, to := range s.to {
		e.To = to
		b.msgs = append(b.msgs, e)
	}
	n, on := len(b.msgs), b.OnMessage
	b.mu.Unlock()
	if on != nil {
		on(n)
	}
	return nil
}

// readParts decodes a body (multipart or not) into the text and HTML of
// e.
func readParts(contentType, encoding string, body io.Reader, e *Email) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readParts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, e); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if mt == "text/html" {
		e.HTML = string(b)
	} else {
		e.Text = string(b)
	}
	return nil
}

// All returns the messages received so far.
func (m *Mailbox) All() []Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Email(nil), m.msgs...)
}

// ByAddress counts the messages per recipient.
func (m *Mailbox) ByAddress() map[string]int {
	out := map[string]int{}
	for _, e := range m.All() {
		out[e.To]++
	}
	return out
}

// To returns the messages sent to an address.
func (m *Mailbox) To(addr string) []Email {
	var out []Email
	for _, e := range m.All() {
		if e.To == addr {
			out = append(out, e)
		}
	}
	return out
}

// Serve serves an SMTP backend on a local port until the test ends and
// returns its URL (smtp://127.0.0.1:PORT).
func Serve(t testing.TB, be smtp.Backend) string {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "smtp://" + ln.Addr().String()
}

// Start serves a new Mailbox and returns it with the URL CRM_SMTP_URL
// takes (sender crm@example.com).
func Start(t testing.TB) (*Mailbox, string) {
	t.Helper()
	box := &Mailbox{}
	return box, Serve(t, box) + "?from=crm@example.com"
}
