package workflows

import (
	"context"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// The system tables of approvals.
const (
	// tableRequests holds one row per submission of a record: the process
	// document it runs under, its state and current step.
	tableRequests = "crm_approval_requests"
	// tableTasks holds the approvers of each step a request reached, with
	// their decisions.
	tableTasks = "crm_approval_tasks"
	// tableEvents is the history of requests: submissions, decisions,
	// skipped steps, recalls and reassignments.
	tableEvents = "crm_approval_events"
)

// migrate creates the approval tables and their indexes if they do not
// exist. One pending request per record is kept by a partial unique index.
func (wf *Workflows) migrate(ctx context.Context) error {
	ts := "TEXT"
	if wf.eng.DB().Dialect == metadata.DialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + tableRequests + ` (
			id VARCHAR(36) PRIMARY KEY,
			object VARCHAR(64) NOT NULL,
			record_id VARCHAR(64) NOT NULL,
			process VARCHAR(64) NOT NULL,
			definition TEXT NOT NULL,
			metadata_version BIGINT NOT NULL,
			state VARCHAR(16) NOT NULL,
			step INTEGER NOT NULL,
			submitted_by VARCHAR(36) NOT NULL,
			submitted_at ` + ts + ` NOT NULL,
			step_since ` + ts + ` NOT NULL,
			decided_at ` + ts + `,
			version BIGINT NOT NULL
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS crm_approval_requests_pending_idx ON ` + tableRequests + ` (object, record_id) WHERE state = 'pending'`,
		`CREATE INDEX IF NOT EXISTS crm_approval_requests_record_idx ON ` + tableRequests + ` (object, record_id, submitted_at)`,
		`CREATE TABLE IF NOT EXISTS ` + tableTasks + ` (
			request_id VARCHAR(36) NOT NULL,
			step INTEGER NOT NULL,
			user_id VARCHAR(36) NOT NULL,
			state VARCHAR(16) NOT NULL,
			decided_at ` + ts + `,
			PRIMARY KEY (request_id, step, user_id)
		)`,
		`CREATE INDEX IF NOT EXISTS crm_approval_tasks_user_idx ON ` + tableTasks + ` (user_id, state)`,
		`CREATE TABLE IF NOT EXISTS ` + tableEvents + ` (
			id VARCHAR(36) PRIMARY KEY,
			request_id VARCHAR(36) NOT NULL,
			step INTEGER NOT NULL,
			actor VARCHAR(36) NOT NULL,
			decision VARCHAR(16) NOT NULL,
			comment TEXT NOT NULL,
			at ` + ts + ` NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS crm_approval_events_request_idx ON ` + tableEvents + ` (request_id, id)`,
	} {
		if _, err := wf.eng.DB().SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("workflows: migrate: %w", err)
		}
	}
	return nil
}

// sql rebinds "?" placeholders for the database's dialect.
func (wf *Workflows) sql(q string) string { return store.Rebind(wf.eng.DB().Dialect, q) }

// args converts arguments for the database's dialect (times as text on
// SQLite).
func (wf *Workflows) args(args ...any) []any { return store.Args(wf.eng.DB().Dialect, args) }

// now is the engine's clock, in UTC to the millisecond.
func (wf *Workflows) now() time.Time { return wf.eng.Now().UTC().Truncate(time.Millisecond) }

// forUpdate is the row lock of a SELECT whose row the unit of work is
// about to change (PostgreSQL; SQLite's write transaction excludes every
// other writer already).
func (wf *Workflows) forUpdate() string {
	if wf.eng.DB().Dialect == metadata.DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}
