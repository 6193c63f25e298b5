package mailing_test

import (
	"strings"
	"testing"

	"github.com/crmplatform/crm/internal/mailserver/mailtest"
)

// startSMTP serves a mailbox that refuses recipients whose address starts
// with "bounce" for good (550), and returns it with its URL.
func startSMTP(t *testing.T) (*mailtest.Mailbox, string) {
	t.Helper()
	box, url := mailtest.Start(t)
	box.Refuse = func(to string) bool { return strings.HasPrefix(to, "bounce") }
	return box, url
}
