package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/google/uuid"
)

// Table is the system table of jobs.
const Table = "crm_jobs"

// columns are the columns of a Job, in the order scanJob reads them.
const columns = `id, kind, unique_key, payload, state, attempts, max_attempts, run_at, done, total, message, checkpoint, last_error, locked_by, lease_until, created_at, updated_at`

// pendingKeyConflict is the conflict target of the partial unique index
// that keeps one pending job per kind and key.
const pendingKeyConflict = ` ON CONFLICT (kind, unique_key) WHERE state = 'pending' AND unique_key <> '' DO NOTHING`

// Migrate creates the jobs table and its indexes if they do not exist, on
// SQLite and PostgreSQL.
func (r *Runner) Migrate(ctx context.Context) error {
	ts := "TEXT"
	if r.db.Dialect == metadata.DialectPostgres {
		ts = "TIMESTAMPTZ"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + Table + ` (
			id VARCHAR(36) PRIMARY KEY,
			kind TEXT NOT NULL,
			unique_key TEXT NOT NULL DEFAULT '',
			payload TEXT NOT NULL,
			state TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			max_attempts INTEGER NOT NULL,
			run_at ` + ts + ` NOT NULL,
			done BIGINT NOT NULL DEFAULT 0,
			total BIGINT NOT NULL DEFAULT -1,
			message TEXT NOT NULL DEFAULT '',
			checkpoint TEXT NOT NULL DEFAULT '',
			last_error TEXT NOT NULL DEFAULT '',
			locked_by TEXT NOT NULL DEFAULT '',
			lease_token TEXT NOT NULL DEFAULT '',
			lease_until ` + ts + `,
			created_at ` + ts + ` NOT NULL,
			updated_at ` + ts + ` NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS crm_jobs_due_idx ON ` + Table + ` (state, run_at)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS crm_jobs_pending_key_idx ON ` + Table + ` (kind, unique_key) WHERE state = 'pending' AND unique_key <> ''`,
	} {
		if _, err := r.db.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
	}
	return nil
}

// Enqueue adds a job in q, which may be the caller's transaction (a
// *sql.Tx; for a bun.Tx pass its Tx field) so that the job exists exactly
// when the change that needs it commits, or the database. It returns the
// job's id and whether it was created: with a Key, while a pending job of
// the same kind has that key, nothing is added and that job's id comes
// back.
func (r *Runner) Enqueue(ctx context.Context, q store.Querier, n Spec) (string, bool, error) {
	k, ok := r.kind(n.Kind)
	if !ok {
		return "", false, fmt.Errorf("%w: %q", ErrUnknownKind, n.Kind)
	}
	payload, err := encodePayload(n.Payload)
	if err != nil {
		return "", false, fmt.Errorf("jobs: payload of %s: %w", n.Kind, err)
	}
	now := r.now()
	runAt := n.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	id := uuid.Must(uuid.NewV7()).String()
	res, err := q.ExecContext(ctx, r.sql(`INSERT INTO `+Table+` (id, kind, unique_key, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`+pendingKeyConflict),
		id, k.Name, n.Key, payload, k.MaxAttempts, r.ts(runAt), r.ts(now), r.ts(now))
	if err != nil {
		return "", false, fmt.Errorf("jobs: enqueue %s: %w", n.Kind, err)
	}
	if added, err := res.RowsAffected(); err != nil {
		return "", false, fmt.Errorf("jobs: enqueue %s: %w", n.Kind, err)
	} else if added == 1 {
		return id, true, nil
	}
	var existing string
	err = q.QueryRowContext(ctx, r.sql(`SELECT id FROM `+Table+` WHERE kind = ? AND unique_key = ? AND state = 'pending'`), k.Name, n.Key).Scan(&existing)
	if err != nil {
		return "", false, fmt.Errorf("jobs: pending %s job with key %q: %w", n.Kind, n.Key, err)
	}
	return existing, false, nil
}

// encodePayload marshals a payload; nil is {}.
func encodePayload(p any) (string, error) {
	switch v := p.(type) {
	case nil:
		return "{}", nil
	case json.RawMessage:
		if !json.Valid(v) {
			return "", errors.New("invalid JSON")
		}
		return string(v), nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// schedulePeriodic queues the next run of a periodic kind at runAt in q,
// unless one is already pending or running.
func (r *Runner) schedulePeriodic(ctx context.Context, q store.Querier, k *Kind, runAt time.Time) error {
	now := r.now()
	_, err := q.ExecContext(ctx, r.sql(`INSERT INTO `+Table+` (id, kind, unique_key, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
		SELECT ?, ?, ?, '{}', 'pending', 0, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM `+Table+` WHERE kind = ? AND state IN ('pending', 'running'))`+pendingKeyConflict),
		uuid.Must(uuid.NewV7()).String(), k.Name, periodicKey, k.MaxAttempts, r.ts(runAt), r.ts(now), r.ts(now), k.Name)
	if err != nil {
		return fmt.Errorf("jobs: schedule %s: %w", k.Name, err)
	}
	return nil
}

// periodicKey is the key of the scheduled runs of periodic kinds.
const periodicKey = "every"

// Filter selects jobs for List.
type Filter struct {
	State State
	Kind  string
	// Limit bounds the number of jobs (default 100).
	Limit int
}

// List returns jobs: running first, then pending by run time, failed and
// done, the newest first within each.
func (r *Runner) List(ctx context.Context, f Filter) ([]Job, error) {
	var conds []string
	var args []any
	if f.State != "" {
		conds = append(conds, "state = ?")
		args = append(args, string(f.State))
	}
	if f.Kind != "" {
		conds = append(conds, "kind = ?")
		args = append(args, f.Kind)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + columns + ` FROM ` + Table + where + `
		ORDER BY CASE state WHEN 'running' THEN 0 WHEN 'pending' THEN 1 WHEN 'failed' THEN 2 ELSE 3 END,
		CASE WHEN state = 'pending' THEN run_at END, updated_at DESC, id DESC LIMIT ?`
	rows, err := r.db.SQL().QueryContext(ctx, r.sql(q), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	return out, nil
}

// Count is the number of jobs of one kind in one state.
type Count struct {
	Kind  string
	State State
	N     int64
}

// Counts returns how many jobs of each kind are pending (the depth of the
// queue, due or scheduled), running and failed; finished jobs are left
// out.
func (r *Runner) Counts(ctx context.Context) ([]Count, error) {
	rows, err := r.db.SQL().QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM `+Table+` WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Kind, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("jobs: count: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	return out, nil
}

// Get returns one job.
func (r *Runner) Get(ctx context.Context, id string) (*Job, error) {
	j, err := scanJob(r.db.SQL().QueryRowContext(ctx, r.sql(`SELECT `+columns+` FROM `+Table+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// Retry queues a failed job again, due now, with its attempts counted
// from zero; its progress and checkpoint are kept, so it resumes.
func (r *Runner) Retry(ctx context.Context, id string) error {
	tx, err := r.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: retry %s: %w", id, err)
	}
	defer tx.Rollback()
	j, err := scanJob(tx.QueryRowContext(ctx, r.sql(`SELECT `+columns+` FROM `+Table+` WHERE id = ?`+r.lockRow()), id))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	if j.State != Failed {
		return fmt.Errorf("%w: %s is %s", ErrNotFailed, id, j.State)
	}
	if other, err := r.pendingTwin(ctx, tx, &j); err != nil {
		return err
	} else if other != "" {
		return fmt.Errorf("%w: %s", ErrConflict, other)
	}
	now := r.now()
	if _, err := tx.ExecContext(ctx, r.sql(`UPDATE `+Table+` SET state = 'pending', attempts = 0, run_at = ?, updated_at = ? WHERE id = ?`), r.ts(now), r.ts(now), id); err != nil {
		return fmt.Errorf("jobs: retry %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: retry %s: %w", id, err)
	}
	return nil
}

// pendingTwin returns the id of another pending job of j's kind and key,
// if j has a key and there is one.
func (r *Runner) pendingTwin(ctx context.Context, q store.Querier, j *Job) (string, error) {
	if j.Key == "" {
		return "", nil
	}
	var id string
	err := q.QueryRowContext(ctx, r.sql(`SELECT id FROM `+Table+` WHERE kind = ? AND unique_key = ? AND state = 'pending' AND id <> ?`), j.Kind, j.Key, j.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("jobs: pending twin of %s: %w", j.ID, err)
	}
	return id, nil
}

// deleteFinished deletes done jobs last changed before cutoff.
func (r *Runner) deleteFinished(ctx context.Context, cutoff time.Time) error {
	if _, err := r.db.SQL().ExecContext(ctx, r.sql(`DELETE FROM `+Table+` WHERE state = 'done' AND updated_at < ?`), r.ts(cutoff)); err != nil {
		return fmt.Errorf("jobs: delete finished jobs: %w", err)
	}
	return nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanJob reads the columns of a job.
func scanJob(s rowScanner) (Job, error) {
	var j Job
	var payload, state string
	var runAt, createdAt, updatedAt, leaseUntil dbTime
	err := s.Scan(&j.ID, &j.Kind, &j.Key, &payload, &state, &j.Attempts, &j.MaxAttempts, &runAt, &j.Done, &j.Total,
		&j.Message, &j.Checkpoint, &j.LastError, &j.LockedBy, &leaseUntil, &createdAt, &updatedAt)
	if err != nil {
		return j, fmt.Errorf("jobs: read job: %w", err)
	}
	j.Payload, j.State = json.RawMessage(payload), State(state)
	j.RunAt, j.LeaseUntil, j.CreatedAt, j.UpdatedAt = runAt.t, leaseUntil.t, createdAt.t, updatedAt.t
	return j, nil
}

// dbTime scans a timestamp as either dialect stores it (TIMESTAMPTZ on
// PostgreSQL, text on SQLite); NULL is the zero time.
type dbTime struct{ t time.Time }

// Scan implements sql.Scanner.
func (d *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		d.t = time.Time{}
	case time.Time:
		d.t = x.UTC()
	case string:
		return d.parse(x)
	case []byte:
		return d.parse(string(x))
	default:
		return fmt.Errorf("jobs: unexpected time value %T", v)
	}
	return nil
}

// parse reads the text form of a timestamp.
func (d *dbTime) parse(s string) error {
	t, err := time.Parse(metadata.DateTimeLayout, s)
	if err != nil {
		return fmt.Errorf("jobs: time %q: %w", s, err)
	}
	d.t = t.UTC()
	return nil
}

// ts converts a time for the dialect (text on SQLite, sortable).
func (r *Runner) ts(t time.Time) any {
	return metadata.DBValue(r.db.Dialect, t.UTC().Truncate(time.Millisecond))
}

// sql rebinds "?" placeholders for the dialect.
func (r *Runner) sql(q string) string { return store.Rebind(r.db.Dialect, q) }

// lockRow is the row lock of a SELECT that is about to update the row
// (PostgreSQL; SQLite's write transaction already excludes others).
func (r *Runner) lockRow() string {
	if r.db.Dialect == metadata.DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}
