// Package reminders delivers the reminders of package workflows/definition
// and the notifications of automations: it plans when each reminder of
// each record is due (hooks on writes keep the plan in step with the
// records), a periodic job of engine/jobs delivers what is due exactly once
// per reminder, record, due time and recipient, only to recipients who may
// read the record and with only the fields each may read, and channels
// send it: in-app notifications (GET /api/notifications), e-mail over SMTP
// (CRM_SMTP_URL) and SMS through an HTTP webhook (CRM_SMS_WEBHOOK_URL),
// each send a job retried with back-off.
//
// It attaches to the engine like package workflows (hooks, job kinds,
// routes); it never writes records.
package reminders
