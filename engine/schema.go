package engine

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// ApplyOptions says who applies a metadata change and whether changes
// that lose data are allowed.
type ApplyOptions struct {
	Author  string
	Comment string
	Force   bool
	// DryRun plans without applying.
	DryRun bool
	// Base, when above zero, is the version the new schema was edited
	// from: if another change was applied since, ApplySchema refuses with
	// ErrStale instead of undoing it.
	Base int64
}

// ErrStale means metadata changed since the version a schema was edited
// from; edit the new version and apply again.
var ErrStale = fmt.Errorf("%w: metadata changed meanwhile", ErrConflict)

// Check validates a schema through check.Schema: the JSON-level checks
// happened when it was parsed; this runs every database-free check
// (semantics, formulas, policies, record schemas, document kinds'
// compilers).
func (e *Engine) Check(s *metadata.Schema) metadata.Problems {
	_, ps := build(0, s, e.Snapshot())
	return ps
}

// ApplySchema makes s the current metadata: it checks it (the change
// checks of CheckChanges too), plans the schema changes against the
// database, and in one transaction applies them, stores the new version
// and runs the schema hooks; then it swaps the snapshot. With DryRun it only plans, after the same checks: definition
// problems and the changes the data refuses (a new required field without
// a default on a table with rows …) come back as metadata.Problems
// (wrapping metadata.ErrInvalid) in both modes.
func (e *Engine) ApplySchema(ctx context.Context, s *metadata.Schema, opt ApplyOptions) (*store.Plan, int64, error) {
	return e.apply(ctx, opt, func(current *metadata.Schema, version int64) (*metadata.Schema, error) {
		if opt.Base > 0 && version-1 != opt.Base {
			return nil, fmt.Errorf("%w: edited from version %d, now at %d", ErrStale, opt.Base, version-1)
		}
		return s, nil
	})
}

// Change edits the newest metadata version and applies the result, as
// ApplySchema does: edit gets a copy of the current schema while metadata
// changes are locked out on every server, so concurrent independent
// changes (two fields added at once, on one server or two) each apply on
// top of the other instead of conflicting. An error from edit changes
// nothing and comes back as it is.
func (e *Engine) Change(ctx context.Context, edit func(*metadata.Schema) error, opt ApplyOptions) (*store.Plan, int64, error) {
	return e.apply(ctx, opt, func(current *metadata.Schema, _ int64) (*metadata.Schema, error) {
		next := &metadata.Schema{}
		if current != nil {
			next = current.Clone()
		}
		if err := edit(next); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// apply runs one metadata change under the metadata lock: next makes the
// new schema from the current one (nil when there is none) and the number
// the new version will get.
func (e *Engine) apply(ctx context.Context, opt ApplyOptions, next func(current *metadata.Schema, version int64) (*metadata.Schema, error)) (*store.Plan, int64, error) {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	btx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("engine: apply metadata: %w", err)
	}
	defer btx.Rollback()
	tx := btx.Tx
	if err := e.db.LockMetadata(ctx, tx); err != nil {
		return nil, 0, err
	}
	current, err := e.db.LoadVersion(ctx, tx, 0)
	if err != nil {
		return nil, 0, err
	}
	old, version := current.Next()
	s, err := next(old, version)
	if err != nil {
		return nil, 0, err
	}
	snap, ps := e.snapshots.applied(version, s, e.Snapshot())
	if len(ps) == 0 {
		ps = e.checkChange(old, s)
	}
	if len(ps) > 0 {
		return nil, 0, ps
	}
	plan, err := e.db.Plan(ctx, tx, old, s, version, opt.Force)
	if err != nil {
		return nil, 0, err
	}
	if err := e.db.PlanIndexes(ctx, tx, plan, WantedIndexes(e.db.Dialect, s, snap.Formulas())); err != nil {
		return nil, 0, err
	}
	// A dry run refuses what the change would refuse.
	if len(plan.Refused) > 0 {
		return plan, 0, plan.Refused
	}
	if opt.DryRun {
		return plan, version, nil
	}
	if err := e.db.Apply(ctx, tx, plan); err != nil {
		return plan, 0, err
	}
	if err := e.db.SaveVersion(ctx, tx, &store.Version{Version: version, Author: opt.Author, CreatedAt: e.now(), Comment: opt.Comment, Schema: s}); err != nil {
		return plan, 0, err
	}
	e.mu.RLock()
	hooks, recomputes := e.schemaFns, e.recomputes
	e.mu.RUnlock()
	if recomputes {
		if err := e.queueRecompute(ctx, btx, snap); err != nil {
			return plan, 0, err
		}
	}
	for _, h := range hooks {
		if err := h(ctx, btx, s); err != nil {
			return plan, 0, err
		}
	}
	if err := e.db.Notify(ctx, tx, store.MetadataChannel, strconv.FormatInt(version, 10)); err != nil {
		return plan, 0, err
	}
	if err := tx.Commit(); err != nil {
		return plan, 0, fmt.Errorf("engine: commit metadata version %d: %w", version, err)
	}
	e.install(snap)
	e.log.Info("metadata applied", "version", version, "author", opt.Author, "changes", len(plan.Changes))
	if err := e.db.ApplyOnline(ctx, plan); err != nil {
		return plan, version, fmt.Errorf("engine: metadata version %d applied, but an index was not built (crm migrate retries it): %w", version, err)
	}
	return plan, version, nil
}

// InstallTemplate applies a template folder as the first metadata version
// when the database has none; it reports whether it installed.
func (e *Engine) InstallTemplate(ctx context.Context, fsys fs.FS, author string) (bool, error) {
	latest, err := e.db.LatestVersion(ctx, e.db.SQL())
	if err != nil || latest > 0 {
		return false, err
	}
	tpl, s, ps := metadata.LoadFS(fsys)
	if len(ps) > 0 {
		return false, ps
	}
	if _, _, err := e.ApplySchema(ctx, s, ApplyOptions{Author: author, Comment: "install template " + tpl.Name + " " + tpl.Version}); err != nil {
		return false, fmt.Errorf("engine: install template %s: %w", tpl.Name, err)
	}
	return true, nil
}
