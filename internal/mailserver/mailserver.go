// Package mailserver reads the mail server of CRM_SMTP_URL into the
// options of github.com/wneessen/go-mail, for every part that sends
// e-mail (reminders and notifications, mailings), so they read the URL
// alike.
package mailserver

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Server is a mail server: its host, the sender address and the client
// options (port, TLS, authentication, timeout).
type Server struct {
	Host    string
	From    string
	Options []mail.Option
}

// Parse reads an SMTP URL: smtp://user:pass@host:port?from=address
// (STARTTLS when the server offers it; port 587 by default) or smtps://…
// (TLS from the start; port 465 by default). Without from, the user name
// when it is an address, else crm@host, sends.
func Parse(raw string) (*Server, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, fmt.Errorf("CRM_SMTP_URL must look like smtp://user:pass@host:587?from=crm@example.com or smtps://host:465")
	}
	s := &Server{Host: u.Hostname(), From: u.Query().Get("from")}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		s.Options = append(s.Options, mail.WithSSL())
	} else {
		s.Options = append(s.Options, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("CRM_SMTP_URL port %q: %w", p, err)
		}
	}
	s.Options = append(s.Options, mail.WithPort(port), mail.WithTimeout(30*time.Second))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		s.Options = append(s.Options, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user), mail.WithPassword(pass))
		if s.From == "" && strings.Contains(user, "@") {
			s.From = user
		}
	}
	if s.From == "" {
		s.From = "crm@" + s.Host
	}
	return s, nil
}
