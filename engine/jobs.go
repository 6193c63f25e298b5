package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// Job kinds the engine registers besides RecomputeKind.
const (
	// PurgeFilesKind deletes uploads no record took within
	// UnattachedFileAge; it runs every PurgeFilesEvery.
	PurgeFilesKind = "files.purge"
)

// Timing of the file purge.
const (
	UnattachedFileAge = 24 * time.Hour
	PurgeFilesEvery   = 10 * time.Minute
)

// useJobs makes the engine's job runner (engine/jobs) over its database,
// creates its table and registers the engine's own kinds.
func (e *Engine) useJobs(ctx context.Context, opt jobs.Options) error {
	if opt.Logger == nil {
		opt.Logger = e.log
	}
	if opt.Now == nil {
		opt.Now = e.now
	}
	e.jobs = jobs.New(e.db, opt)
	if err := e.jobs.Migrate(ctx); err != nil {
		return err
	}
	e.jobs.Register(jobs.Kind{Name: PurgeFilesKind, Every: PurgeFilesEvery, Step: e.purgeFilesStep})
	return nil
}

// Jobs returns the engine's job runner: crm serve runs it, crm jobs lists
// its jobs, and workflows, reminders and imports register their kinds on
// it and enqueue work in the engine's transactions.
func (e *Engine) Jobs() *jobs.Runner { return e.jobs }

// purgeFilesStep deletes the unattached uploads in one step.
func (e *Engine) purgeFilesStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	tx, err := l.Tx(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	n, err := e.purgeFiles(ctx, tx, UnattachedFileAge)
	if err != nil {
		return jobs.Progress{}, err
	}
	return jobs.Progress{Done: n, Total: n, Finished: true, Message: fmt.Sprintf("%d unattached upload(s) deleted", n)}, nil
}

// PurgeUnattachedFiles deletes uploads older than age that no record took
// (an upload whose record was never written) and returns how many. The
// job of kind PurgeFilesKind does it periodically.
func (e *Engine) PurgeUnattachedFiles(ctx context.Context, age time.Duration) (int64, error) {
	return e.purgeFiles(ctx, e.db.SQL(), age)
}

// purgeFiles deletes the unattached uploads older than age in q.
func (e *Engine) purgeFiles(ctx context.Context, q store.Querier, age time.Duration) (int64, error) {
	res, err := q.ExecContext(ctx, store.Rebind(e.db.Dialect, "DELETE FROM crm_files WHERE record_id IS NULL AND created_at < ?"), metadata.DBValue(e.db.Dialect, e.now().UTC().Add(-age)))
	if err != nil {
		return 0, fmt.Errorf("engine: purge unattached files: %w", err)
	}
	return res.RowsAffected()
}
