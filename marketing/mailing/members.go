package mailing

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// MemberObject is the object of campaign members (the standard
// template's campaign_member: a campaign, a contact or a lead, a status).
const MemberObject = "campaign_member"

// Statuses of a campaign member that mailings set, in the order a
// member moves through them; bounced and unsubscribed end it.
const (
	MemberSent         = "sent"
	MemberOpened       = "opened"
	MemberClicked      = "clicked"
	MemberBounced      = "bounced"
	MemberUnsubscribed = "unsubscribed"
)

// memberRank orders statuses: a member only moves up.
var memberRank = map[string]int{"": 0, "planned": 1, MemberSent: 2, MemberOpened: 3, MemberClicked: 4, "responded": 5, MemberBounced: 6, MemberUnsubscribed: 7}

// memberField returns the lookup of campaign members to object (contact
// or lead); "" when the schema has no campaign members for it (then
// mailings record only their own rows).
func memberField(s *metadata.Schema, object string) string {
	obj, ok := s.Object(MemberObject)
	if !ok {
		return ""
	}
	if f, ok := obj.Field("campaign"); !ok || !lookupTo(f, "campaign") {
		return ""
	}
	status, ok := obj.Field("status")
	if !ok {
		return ""
	}
	for _, want := range []string{MemberSent, MemberOpened, MemberClicked, MemberBounced, MemberUnsubscribed} {
		found := false
		for _, o := range status.Options {
			found = found || o.Value == want
		}
		if !found {
			return ""
		}
	}
	for _, f := range obj.Fields {
		if lookupTo(f, object) {
			return f.Name
		}
	}
	return ""
}

// lookupTo reports whether f is a lookup to object.
func lookupTo(f *metadata.Field, object string) bool {
	t, ok := metadata.LookupTarget(f)
	return ok && t == object
}

// membersOnly is the predicate over object's table of the records that
// are members of the campaign.
func membersOnly(field, campaign string) query.Predicate {
	return query.Predicate{
		SQL:  `"id" IN (SELECT ` + store.Ident(field) + ` FROM ` + store.Ident(MemberObject) + ` WHERE "campaign" = ?)`,
		Args: []any{campaign},
	}
}

// markMembers moves the campaign members of records (by record id) to a
// status, creating the members a mailing reached outside the campaign's
// members, as the writer (the system on the sender's behalf): statuses
// only move up, so a late "sent" never hides an open.
func markMembers(ctx context.Context, w *engine.Writer, campaign, object string, status map[string]string) error {
	field := memberField(w.Snapshot().Schema, object)
	if field == "" || len(status) == 0 {
		return nil
	}
	quoted := make([]string, 0, len(status))
	for id := range status {
		quoted = append(quoted, strconv.Quote(id))
	}
	existing := map[string]engine.Record{}
	filter := fmt.Sprintf("campaign == %s && %s in [%s]", strconv.Quote(campaign), field, strings.Join(quoted, ", "))
	page, err := w.List(ctx, MemberObject, engine.ListOptions{Filter: filter, Limit: engine.MaxLimit})
	if err != nil {
		return fmt.Errorf("mailing: campaign members: %w", err)
	}
	for _, r := range page.Items {
		if id, ok := r[field].(string); ok {
			existing[id] = r
		}
	}
	var create []map[string]any
	for id, st := range status {
		r, ok := existing[id]
		if !ok {
			create = append(create, map[string]any{"campaign": campaign, field: id, "status": st})
			continue
		}
		old, _ := r["status"].(string)
		if memberRank[st] <= memberRank[old] {
			continue
		}
		if _, err := w.Update(ctx, MemberObject, r["id"].(string), map[string]any{"status": st}); err != nil {
			return fmt.Errorf("mailing: campaign member %s: %w", r["id"], err)
		}
	}
	if len(create) > 0 {
		if _, err := w.CreateMany(ctx, MemberObject, create); err != nil {
			return fmt.Errorf("mailing: campaign members: %w", err)
		}
	}
	return nil
}
