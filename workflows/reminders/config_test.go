package reminders

import (
	"strings"
	"testing"
	"time"
)

// TestMailerURL reads the forms of CRM_SMTP_URL: the sender, the port by
// scheme, and the URLs refused.
func TestMailerURL(t *testing.T) {
	cases := []struct {
		url, host, from, err string
	}{
		{url: "smtp://mail.example.com", host: "mail.example.com", from: "crm@mail.example.com"},
		{url: "smtp://crm%40example.com:secret@mail.example.com:2525", host: "mail.example.com", from: "crm@example.com"},
		{url: "smtps://user:secret@mail.example.com?from=sales@example.com", host: "mail.example.com", from: "sales@example.com"},
		{url: "http://mail.example.com", err: "CRM_SMTP_URL must look like"},
		{url: "smtp://", err: "CRM_SMTP_URL must look like"},
		{url: "smtp://mail.example.com:port", err: "must look like"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			m, err := newMailer(c.url)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || m.host != c.host || m.from != c.from {
				t.Fatalf("%+v %v, want host %s from %s", m, err, c.host, c.from)
			}
		})
	}
}

// TestConfigFromEnv reads CRM_SCHEDULER_INTERVAL (30 s by default, a
// positive duration) and CRM_WEBHOOK_ALLOW.
func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		interval, allow string
		want            time.Duration
		err             string
	}{
		{want: 0},
		{interval: "1m", want: time.Minute},
		{interval: "0s", err: "CRM_SCHEDULER_INTERVAL"},
		{interval: "soon", err: "CRM_SCHEDULER_INTERVAL"},
		{allow: "not a host!", err: "CRM_WEBHOOK_ALLOW"},
	}
	for _, c := range cases {
		t.Run(c.interval+c.allow, func(t *testing.T) {
			t.Setenv("CRM_SCHEDULER_INTERVAL", c.interval)
			t.Setenv("CRM_WEBHOOK_ALLOW", c.allow)
			cfg, err := ConfigFromEnv()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || cfg.Interval != c.want {
				t.Fatalf("interval %v %v, want %v", cfg.Interval, err, c.want)
			}
		})
	}
}
