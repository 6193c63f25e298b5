// Package integration connects the CRM to other systems: outgoing
// webhooks and custom links, two kinds of metadata document.
//
// Webhooks (kind "webhooks", administrators only) tell another system
// when something happens: a record created, updated or deleted, an
// approval submitted, approved or rejected, a lead converted. A domain
// event subscriber writes one outbox row per matching active webhook in
// the unit of work that caused the event, with the payload computed then
// from the record as the webhook's run-as user may read it (through the
// engine's one permission decision; none but id and object without a
// run-as user). A job kind of engine/jobs delivers the rows as signed
// HTTP POSTs (X-CRM-Signature, HMAC-SHA256 with a timestamp), at least
// once, in order per webhook and record, retried with back-off for a
// bounded time and then failed; administrators list the deliveries and
// re-send them. Target hosts must be on the operator's allow-list
// (CRM_WEBHOOK_ALLOW) when a webhook is defined and again when a request
// is sent, and the dialer refuses internal addresses the operator did not
// list, so the server cannot be turned against its own network.
//
// Custom links (kind "links", readable by every user) are URL templates
// per object whose {{field}} placeholders are filled from the record as
// the viewing user may read it: a link that needs a field the user may
// not read is absent for that user.
//
// The package plugs into the engine through its extension points only
// (document kinds, a change check, a domain event subscriber, a delete
// hook, a job kind, routes); it never decides permissions itself and never
// calls another system inside a unit of work.
package integration
