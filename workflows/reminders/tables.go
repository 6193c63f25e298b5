package reminders

import (
	"context"
	"time"
)

// The system tables of reminders and notifications.
const (
	// tableSchedule holds, per reminder and record, the next due time not
	// yet delivered: due_at is the time the reminder is about (its
	// identity for exactly-once delivery), fire_at when to send it.
	tableSchedule = "crm_reminder_schedule"
	// tableDeliveries holds one row per reminder, record, due time and
	// recipient delivered: its unique key makes the delivery happen once.
	tableDeliveries = "crm_reminder_deliveries"
	// tableNotifications holds the in-app notifications of users.
	tableNotifications = "crm_notifications"
)

// migrate creates the tables and indexes if they do not exist.
func (rm *Reminders) migrate(ctx context.Context) error {
	return rm.t.Create(ctx, "reminders", func(ts string) []string {
		return []string{
			`CREATE TABLE IF NOT EXISTS ` + tableSchedule + ` (
			reminder VARCHAR(64) NOT NULL,
			object VARCHAR(64) NOT NULL,
			record_id VARCHAR(64) NOT NULL,
			due_at ` + ts + ` NOT NULL,
			fire_at ` + ts + ` NOT NULL,
			PRIMARY KEY (reminder, object, record_id)
		)`,
			`CREATE INDEX IF NOT EXISTS crm_reminder_schedule_fire_idx ON ` + tableSchedule + ` (fire_at)`,
			`CREATE INDEX IF NOT EXISTS crm_reminder_schedule_record_idx ON ` + tableSchedule + ` (object, record_id)`,
			`CREATE TABLE IF NOT EXISTS ` + tableDeliveries + ` (
			id VARCHAR(36) PRIMARY KEY,
			reminder VARCHAR(64) NOT NULL,
			object VARCHAR(64) NOT NULL,
			record_id VARCHAR(64) NOT NULL,
			due_at ` + ts + ` NOT NULL,
			recipient VARCHAR(36) NOT NULL,
			delivered_at ` + ts + ` NOT NULL,
			UNIQUE (reminder, object, record_id, due_at, recipient)
		)`,
			`CREATE TABLE IF NOT EXISTS ` + tableNotifications + ` (
			id VARCHAR(36) PRIMARY KEY,
			user_id VARCHAR(36) NOT NULL,
			source VARCHAR(100) NOT NULL,
			object VARCHAR(64) NOT NULL,
			record_id VARCHAR(64) NOT NULL,
			subject TEXT NOT NULL,
			body TEXT NOT NULL,
			created_at ` + ts + ` NOT NULL,
			read_at ` + ts + `
		)`,
			`CREATE INDEX IF NOT EXISTS crm_notifications_user_idx ON ` + tableNotifications + ` (user_id, created_at)`,
		}
	})
}

// zone is the calendar of reminders: the server's time zone
// (CRM_TIMEZONE), never the zone of the request whose write planned one,
// so a date's reminder is due at the same time whoever wrote the date.
func (rm *Reminders) zone() *time.Location { return rm.eng.Location(context.Background()) }
