package mailing

import (
	"fmt"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/marketing"
	"github.com/crmplatform/crm/marketing/fill"
)

// checkReadable refuses a template whose address or placeholders name a
// field the principal of rights may not read.
func checkReadable(rights *engine.Rights, t *marketing.Template) error {
	if err := fill.Readable(rights, t.Object, []string{t.To}, t.Paths()); err != nil {
		return fmt.Errorf("message template %s: %w", t.Name, err)
	}
	return nil
}

// address normalises an address for comparison: e-mail in lower case,
// phone numbers as their digits (a leading + kept).
func address(channel string, v any) string {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if channel == marketing.ChannelEmail {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
