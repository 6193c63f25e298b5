// Package marketing defines the document kind message_templates: e-mail
// and SMS texts in English and Chinese with {{field}} placeholders over a
// recipient object (its fields, {{lookup.field}} through one lookup, and
// {{owner.name}}), checked against the object when defined and compiled
// once per metadata version. Render fills a compiled template from values
// the caller read: HTML bodies through html/template, so every value is
// escaped for its context and links keep their literal scheme and host.
//
// It also registers the send_mailing right roles are granted on
// campaigns. It imports only metadata, so defaults and every program that
// loads a template know the kind; the mailings themselves (recipients,
// jobs, SMTP, tracking routes) are in marketing/mailing.
package marketing
