package integration

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/metadata"
)

// Webhook is one outgoing webhook: the events it sends to a URL, signed
// with its secret, and the user whose rights decide what the events'
// data may hold.
type Webhook struct {
	Name        string         `json:"name"`
	Label       metadata.Label `json:"label,omitempty"`
	Description string         `json:"description,omitempty"`
	// URL is where deliveries are POSTed: http or https, a host on the
	// operator's allow-list.
	URL string `json:"url"`
	// Secret signs every delivery (X-CRM-Signature); at least 16
	// characters.
	Secret string `json:"secret"`
	// Active, true when absent, turns deliveries on; an inactive webhook
	// queues nothing.
	Active *bool `json:"active,omitempty"`
	// RunAs is the username whose rights decide the fields of data; with
	// none, data holds only the record's id and object.
	RunAs  string         `json:"run_as,omitempty"`
	Events []Subscription `json:"events"`
}

// Subscription is one event a webhook sends, optionally for one object,
// only when a condition holds or named fields changed, with a chosen set
// of fields.
type Subscription struct {
	// Event is record.created, record.updated, record.deleted,
	// approval.submitted, approval.approved, approval.rejected,
	// approval.recalled, approval.reopened or lead.converted.
	Event string `json:"event"`
	// Object limits the subscription to one object; the record events
	// need it, the others match every object without it.
	Object string `json:"object,omitempty"`
	// Condition is a formula over the record (as stored, before a delete)
	// that must hold for the event to be sent.
	Condition string `json:"condition,omitempty"`
	// Changed sends a record.updated only when one of these fields
	// changed.
	Changed []string `json:"changed,omitempty"`
	// Fields limits data to these fields (of those the run-as user may
	// read); all readable fields when empty.
	Fields []string `json:"fields,omitempty"`
}

// Names of the events a webhook can send besides the engine's record
// events.
const (
	EventApprovalSubmitted = "approval.submitted"
	EventApprovalApproved  = "approval.approved"
	EventApprovalRejected  = "approval.rejected"
	EventApprovalRecalled  = "approval.recalled"
	EventApprovalReopened  = "approval.reopened"
	EventLeadConverted     = "lead.converted"
)

// IsActive reports whether the webhook sends events.
func (h *Webhook) IsActive() bool { return h.Active == nil || *h.Active }

//go:embed webhook.schema.json
var webhookSchema []byte

// Webhooks reads the webhooks of a schema.
var Webhooks metadata.Docs[Webhook]

// KindWebhooks is the name of the webhooks' document kind (and of their
// template folder and API path /api/meta/webhooks).
const KindWebhooks = "webhooks"

func init() {
	Webhooks = metadata.RegisterKind(metadata.KindSpec[Webhook]{
		Name:    KindWebhooks,
		Schema:  webhookSchema,
		Check:   checkWebhook,
		Compile: compileWebhooks,
	})
}

// checkWebhook checks one webhook against the schema. The allow-list of
// hosts is checked by the change check (checkTargets), not here: a stored
// webhook stays loadable when the operator shrinks the list later.
func checkWebhook(s *metadata.Schema, h *Webhook) metadata.Problems {
	var ps metadata.Problems
	if _, err := parseTarget(h.URL); err != nil {
		ps = append(ps, metadata.Problemf("/url", "%s", strings.TrimPrefix(err.Error(), ErrNotAllowed.Error()+": ")))
	}
	seen := map[string]int{}
	for i, sub := range h.Events {
		at := fmt.Sprintf("/events/%d", i)
		key := sub.Event + " " + sub.Object
		if j, dup := seen[key]; dup {
			ps = append(ps, metadata.Problemf(at, "the same event and object as /events/%d", j))
		}
		seen[key] = i
		ps = append(ps, checkSubscription(s, sub, at)...)
	}
	return ps
}

// checkSubscription checks one event of a webhook.
func checkSubscription(s *metadata.Schema, sub Subscription, at string) metadata.Problems {
	var ps metadata.Problems
	if sub.Object == "" {
		if strings.HasPrefix(sub.Event, "record.") {
			return metadata.Problems{metadata.Problemf(at+"/object", "%s needs the object whose records it follows", sub.Event)}
		}
		for key, set := range map[string]bool{"condition": sub.Condition != "", "changed": sub.Changed != nil, "fields": sub.Fields != nil} {
			if set {
				ps = append(ps, metadata.Problemf(at+"/"+key, "%s needs an object", key))
			}
		}
		return ps
	}
	obj, ok := s.Object(sub.Object)
	if !ok {
		return metadata.Problems{metadata.Problemf(at+"/object", "no object %q", sub.Object)}
	}
	if sub.Changed != nil && sub.Event != engine.EventRecordUpdated {
		ps = append(ps, metadata.Problemf(at+"/changed", "only record.updated has changed fields"))
	}
	for key, names := range map[string][]string{"changed": sub.Changed, "fields": sub.Fields} {
		for j, n := range names {
			if _, ok := obj.FieldOrSystem(n); !ok {
				ps = append(ps, metadata.Problemf(fmt.Sprintf("%s/%s/%d", at, key, j), "%s has no field %q", sub.Object, n))
			}
		}
	}
	if sub.Condition != "" {
		if _, err := formulas.CompileCondition(s, sub.Object, sub.Condition); err != nil {
			ps = append(ps, metadata.Problemf(at+"/condition", "%v", err))
		}
	}
	return ps
}

// hooks is the compiled form of the webhooks of a metadata version: the
// subscriptions of active webhooks by event name.
type hooks struct {
	byEvent map[string][]*route
}

// route is one subscription of an active webhook, compiled.
type route struct {
	hook      *Webhook
	sub       Subscription
	condition *formulas.Expr
}

// compileWebhooks compiles the active webhooks of a schema that passed
// every check.
func compileWebhooks(s *metadata.Schema) (any, metadata.Problems) {
	c := &hooks{byEvent: map[string][]*route{}}
	var ps metadata.Problems
	for _, h := range Webhooks.All(s) {
		if !h.IsActive() {
			continue
		}
		for i, sub := range h.Events {
			r := &route{hook: h, sub: sub}
			if sub.Condition != "" {
				x, err := formulas.CompileCondition(s, sub.Object, sub.Condition)
				if err != nil {
					ps = append(ps, metadata.Problem{File: s.Source(KindWebhooks, h.Name), Path: fmt.Sprintf("/events/%d/condition", i), Message: err.Error()})
					continue
				}
				r.condition = x
			}
			c.byEvent[sub.Event] = append(c.byEvent[sub.Event], r)
		}
	}
	return c, ps
}

// routesFor returns the subscriptions an event matches in a snapshot.
func routesFor(snap *engine.Snapshot, ev engine.DomainEvent) []*route {
	c, _ := snap.Compiled(KindWebhooks).(*hooks)
	if c == nil {
		return nil
	}
	var out []*route
	for _, r := range c.byEvent[ev.Name] {
		if r.sub.Object != "" && r.sub.Object != ev.Object {
			continue
		}
		if len(r.sub.Changed) > 0 && !slices.ContainsFunc(r.sub.Changed, func(f string) bool { return slices.Contains(ev.Changed, f) }) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// checkTargets is the change check of webhooks: every active webhook that
// is new, became active or points at another URL must target a host on
// the operator's allow-list as it is now.
func checkTargets(old, next *metadata.Schema) metadata.Problems {
	var ps metadata.Problems
	var allow *AllowList
	for _, h := range Webhooks.All(next) {
		if !h.IsActive() {
			continue
		}
		if old != nil {
			if was, ok := Webhooks.Get(old, h.Name); ok && was.IsActive() && was.URL == h.URL {
				continue
			}
		}
		if allow == nil {
			var err error
			if allow, err = AllowListFromEnv(); err != nil {
				return metadata.Problems{{File: next.Source(KindWebhooks, h.Name), Path: "/url", Message: err.Error()}}
			}
		}
		if _, err := allow.Target(h.URL); err != nil {
			ps = append(ps, metadata.Problem{File: next.Source(KindWebhooks, h.Name), Path: "/url", Message: strings.TrimPrefix(err.Error(), "integration: ")})
		}
	}
	return ps
}
