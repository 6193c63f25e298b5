package mailing_test

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

// email is a message the test's SMTP server received.
type email struct {
	to, subject, text, html string
	header                  mail.Header
}

// mailbox is a real SMTP server inside the test
// (github.com/emersion/go-smtp): it refuses recipients whose address
// starts with "bounce" for good (550) and keeps every message it accepts.
type mailbox struct {
	mu    sync.Mutex
	msgs  []email
	onMsg func(n int)
}

// NewSession implements smtp.Backend.
func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: m}, nil }

// session is one SMTP connection.
type session struct {
	box *mailbox
	to  []string
}

func (s *session) Reset()                               { s.to = nil }
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "bounce") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	e := email{header: msg.Header}
	e.subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err := readParts(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &e); err != nil {
		return err
	}
	s.box.mu.Lock()
	for _, to := range s.to {
		e.to = to
		s.box.msgs = append(s.box.msgs, e)
	}
	n, on := len(s.box.msgs), s.box.onMsg
	s.box.mu.Unlock()
	if on != nil {
		on(n)
	}
	return nil
}

// readParts decodes a body (multipart or not) into the text and HTML of
// e.
func readParts(contentType, encoding string, body io.Reader, e *email) error {
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
		e.html = string(b)
	} else {
		e.text = string(b)
	}
	return nil
}

// all returns the messages received so far.
func (m *mailbox) all() []email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]email(nil), m.msgs...)
}

// byAddress counts the messages per recipient.
func (m *mailbox) byAddress() map[string]int {
	out := map[string]int{}
	for _, e := range m.all() {
		out[e.to]++
	}
	return out
}

// to returns the messages sent to an address.
func (m *mailbox) to(addr string) []email {
	var out []email
	for _, e := range m.all() {
		if e.to == addr {
			out = append(out, e)
		}
	}
	return out
}

// startSMTP serves a mailbox on a local port and returns it with its URL.
func startSMTP(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box, "smtp://" + ln.Addr().String() + "?from=crm@example.com"
}
