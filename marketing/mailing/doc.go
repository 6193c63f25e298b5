// Package mailing sends a campaign's e-mail or SMS to many recipients and
// tracks what they do with it.
//
// A mailing is a campaign, a message template (package marketing) and the
// recipients a saved filter selects among the records the sender may
// read. Three actions on campaigns, all under the send_mailing right and
// the campaign's record scope, preview the first recipients as rendered,
// send a test to the sender, and send the mailing: its recipients are
// resolved and written in the action's unit of work (each once; those
// without an address, opted out or already listed are kept as skipped),
// and a job of the engine's runner sends them in batches at the
// configured rate. Each recipient is claimed in its own commit before
// its message goes out and marked sent after, so a restart resumes where
// the mailing stopped and never sends anyone twice: a message whose fate
// a crash left unknown is counted as unconfirmed, not sent again.
//
// Values are read as the sender may read them when each batch is sent
// (through the engine's one permission decision); a template naming a
// field the sender may not read is refused. Every e-mail carries an
// unsubscribe link and, when the mailing asks, an open pixel and tracked
// links: signed tokens served by the public routes /m/…, which record
// opens, clicks and unsubscribes per recipient (an unsubscribe sets the
// record's opt-out field and suppresses the address for every later
// mailing).
//
// It never decides permissions itself and never calls a mail server
// inside a unit of work.
package mailing
