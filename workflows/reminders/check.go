package reminders

import (
	"fmt"
	"strings"

	"github.com/crmplatform/crm/metadata"
	"github.com/crmplatform/crm/workflows/definition"
)

// checkWebhooks is the change check of automations: the URL of every
// webhook notification that is new or changed must be on the operator's
// allow-list (CRM_WEBHOOK_ALLOW) as it is now, as integration's webhooks
// must. It is checked again before each post.
func (rm *Reminders) checkWebhooks(old, next *metadata.Schema) metadata.Problems {
	var ps metadata.Problems
	for _, a := range definition.Automations.All(next) {
		for i, act := range a.Actions {
			n := act.Notify
			if n == nil || n.URL == "" || (old != nil && hookURLs(old, a.Name)[n.URL]) {
				continue
			}
			if _, err := rm.cfg.WebhookAllow.Target(n.URL); err != nil {
				ps = append(ps, metadata.Problem{File: next.Source(definition.Automations.Kind().Name(), a.Name),
					Path: fmt.Sprintf("/actions/%d/notify/url", i), Message: strings.TrimPrefix(err.Error(), "integration: ")})
			}
		}
	}
	return ps
}

// hookURLs returns the webhook URLs the automation named name notifies in
// s.
func hookURLs(s *metadata.Schema, name string) map[string]bool {
	out := map[string]bool{}
	if a, ok := definition.Automations.Get(s, name); ok {
		for _, act := range a.Actions {
			if act.Notify != nil && act.Notify.URL != "" {
				out[act.Notify.URL] = true
			}
		}
	}
	return out
}
