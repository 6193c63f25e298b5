package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/uptrace/bun"
)

// RecomputeKind is the job kind that recomputes the stored computed
// fields of one object after a metadata change added or changed some: one
// batch of records (by id) per step, resumed from the last id after an
// interruption. Its key is the object, so a change made while an earlier
// recomputation of the object still waits adds nothing (the waiting job
// computes every computed field with the newest formulas).
const RecomputeKind = "formulas.recompute"

// recomputeBatch is the default number of records per recompute step.
const recomputeBatch = formulaBatch

// recomputePayload is the input of a recompute job.
type recomputePayload struct {
	Object string   `json:"object"`
	Fields []string `json:"fields"`
	// Version is the metadata version whose change queued the job.
	Version int64 `json:"version"`
}

// recomputeKind is the job kind registered by UseFormulas.
func (e *Engine) recomputeKind() jobs.Kind {
	return jobs.Kind{Name: RecomputeKind, Step: e.recomputeStep}
}

// SetRecomputeBatch sets how many records one step of a recompute job
// reads and writes in its transaction (default 200); n <= 0 restores the
// default.
func (e *Engine) SetRecomputeBatch(n int) {
	if n <= 0 {
		n = recomputeBatch
	}
	e.recomputeSize.Store(int64(n))
}

// recomputeBatchSize returns the records per recompute step.
func (e *Engine) recomputeBatchSize() int {
	if n := e.recomputeSize.Load(); n > 0 {
		return int(n)
	}
	return recomputeBatch
}

// queueRecompute runs in the transaction of a metadata change, before
// the schema hooks: it queues a recomputation for every object whose
// computed fields are new or changed (or depend on ones that are) in
// snap, the snapshot of the new version, against the current one.
func (e *Engine) queueRecompute(ctx context.Context, tx bun.Tx, snap *Snapshot) error {
	s := snap.Schema
	changed := formulas.ChangedComputed(e.Snapshot().Formulas(), snap.Formulas())
	version, err := e.db.LatestVersion(ctx, tx)
	if err != nil {
		return err
	}
	for _, o := range s.Objects {
		fields := changed[o.Name]
		if len(fields) == 0 {
			continue
		}
		p := recomputePayload{Object: o.Name, Fields: fields, Version: version}
		if _, _, err := e.jobs.Enqueue(ctx, tx.Tx, jobs.Spec{Kind: RecomputeKind, Key: o.Name, Payload: p}); err != nil {
			return fmt.Errorf("engine: queue recomputation of %s: %w", o.Name, err)
		}
	}
	return nil
}

// RecomputeObject queues a recomputation of every computed field of
// object's records, what a metadata change queues for the fields it
// changed (crm recompute OBJECT runs it). It counts again the roll-ups
// kept by shares, which keep a stored value that was changed behind the
// engine's back off by as much.
func (e *Engine) RecomputeObject(ctx context.Context, object string) error {
	snap := e.Snapshot()
	if _, err := snap.Object(object); err != nil {
		return err
	}
	var fields []string
	if c := snap.Formulas(); c != nil && c.Object(object) != nil {
		fields = c.Object(object).ComputedFields()
	}
	if len(fields) == 0 {
		return &RequestError{Message: fmt.Sprintf("%s has no computed fields to recompute", object)}
	}
	version, err := e.db.LatestVersion(ctx, e.db.SQL())
	if err != nil {
		return err
	}
	p := recomputePayload{Object: object, Fields: fields, Version: version}
	if _, _, err := e.jobs.Enqueue(ctx, e.db.SQL(), jobs.Spec{Kind: RecomputeKind, Key: object, Payload: p}); err != nil {
		return fmt.Errorf("engine: queue recomputation of %s: %w", object, err)
	}
	return nil
}

// recomputeStep recomputes one batch of records after the job's
// checkpoint (the last id done), with what depends on them, in the step's
// transaction.
func (e *Engine) recomputeStep(ctx context.Context, l *jobs.Lease) (jobs.Progress, error) {
	var in recomputePayload
	if err := json.Unmarshal(l.Payload, &in); err != nil {
		return jobs.Progress{}, fmt.Errorf("engine: recompute job %s: %w", l.ID, err)
	}
	prog := jobs.Progress{Done: l.Done, Total: l.Total, Checkpoint: l.Checkpoint, Message: fmt.Sprintf("recompute %s %v", in.Object, in.Fields)}
	tx, err := l.Tx(ctx)
	if err != nil {
		return prog, err
	}
	snap := e.Snapshot()
	c := snap.Formulas()
	obj, oerr := snap.Object(in.Object)
	if c == nil || oerr != nil || c.Object(in.Object) == nil {
		prog.Finished = true // the object or its formulas are gone
		return prog, nil
	}
	if prog.Total < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+store.Ident(obj.Name)).Scan(&prog.Total); err != nil {
			return prog, fmt.Errorf("engine: count %s: %w", obj.Name, err)
		}
	}
	rows, err := tx.QueryContext(ctx, store.Rebind(e.db.Dialect, `SELECT "id" FROM `+store.Ident(obj.Name)+` WHERE "id" > ? ORDER BY "id" LIMIT ?`), l.Checkpoint, e.recomputeBatchSize())
	if err != nil {
		return prog, fmt.Errorf("engine: recompute %s: %w", obj.Name, err)
	}
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return prog, err
		}
		ids = append(ids, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return prog, err
	}
	if len(ids) == 0 {
		prog.Finished = true
		return prog, nil
	}
	now := e.now().UTC()
	p := &propagator{e: e, c: c, tx: tx, snap: snap, now: now}
	pctx := formulas.WithNow(ctx, now)
	for start := 0; start < len(ids); start += formulaBatch {
		part := ids[start:min(start+formulaBatch, len(ids))]
		changes, err := p.recompute(pctx, obj.Name, part, nil, nil)
		if err != nil {
			return prog, err
		}
		if err := p.propagate(pctx, obj.Name, changes, 0); err != nil {
			return prog, err
		}
	}
	prog.Done += int64(len(ids))
	prog.Checkpoint = ids[len(ids)-1]
	return prog, nil
}

// legacyRecomputeTable held the recomputations of stored values before
// they became jobs.
const legacyRecomputeTable = "crm_formula_jobs"

// adoptLegacyRecomputes turns the unfinished recomputations a database
// kept in legacyRecomputeTable into recompute jobs (each starts over from
// the first record) and drops that table, under the metadata lock so that
// servers starting together do it once.
func (e *Engine) adoptLegacyRecomputes(ctx context.Context) error {
	tables, err := e.db.Tables(ctx, e.db.SQL())
	if err != nil || !slices.Contains(tables, legacyRecomputeTable) {
		return err
	}
	tx, err := e.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := e.db.LockMetadata(ctx, tx); err != nil {
		return err
	}
	if tables, err = e.db.Tables(ctx, tx); err != nil || !slices.Contains(tables, legacyRecomputeTable) {
		return err
	}
	rows, err := tx.QueryContext(ctx, store.Rebind(e.db.Dialect, `SELECT "object", "fields", "version" FROM `+store.Ident(legacyRecomputeTable)+` WHERE "finished" = ? ORDER BY "created_at", "id"`), false)
	if err != nil {
		return fmt.Errorf("engine: read %s: %w", legacyRecomputeTable, err)
	}
	var pending []recomputePayload
	for rows.Next() {
		var p recomputePayload
		var fields string
		if err := rows.Scan(&p.Object, &fields, &p.Version); err != nil {
			rows.Close()
			return fmt.Errorf("engine: read %s: %w", legacyRecomputeTable, err)
		}
		_ = json.Unmarshal([]byte(fields), &p.Fields)
		pending = append(pending, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("engine: read %s: %w", legacyRecomputeTable, err)
	}
	for _, p := range pending {
		if _, _, err := e.jobs.Enqueue(ctx, tx, jobs.Spec{Kind: RecomputeKind, Key: p.Object, Payload: p}); err != nil {
			return fmt.Errorf("engine: queue recomputation of %s: %w", p.Object, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+store.Ident(legacyRecomputeTable)); err != nil {
		return fmt.Errorf("engine: drop %s: %w", legacyRecomputeTable, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("engine: adopt %s: %w", legacyRecomputeTable, err)
	}
	if len(pending) > 0 {
		e.log.Info("unfinished recomputations moved to background jobs", "jobs", len(pending))
	}
	return nil
}
