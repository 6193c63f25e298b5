package workflows

import "context"

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
	return wf.t.Create(ctx, "workflows", func(ts string) []string {
		return []string{
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
		}
	})
}
