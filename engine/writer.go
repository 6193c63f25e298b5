package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
)

// maxTxAttempts bounds how often a unit of work restarts because the
// metadata changed while it ran.
const maxTxAttempts = 3

// Writer is a unit of work: several reads and writes of records in one
// database transaction, each with every check of a single API call
// (rights, validation, formulas, history, hooks). Lead conversion,
// approvals and automations use it, as do the engine's own Create, Update
// and Delete. A Writer is used by one goroutine and only inside the
// function given to Engine.Tx.
type Writer struct {
	e      *Engine
	tx     store.Querier
	rights *Rights
	// depth counts nested writes made by hooks, to bound chains of them.
	depth int
	// rows is what the unit of work changed in place, shared by every
	// Writer of the unit.
	rows *rowLog
	// batch is what a batch's records refer to, read at once while its
	// records are checked (CreateMany); nil otherwise.
	batch *batchReads
}

// ErrMetadataChanged is returned by Tx when the metadata changed more
// often than it could restart the work on the newest version.
var ErrMetadataChanged = fmt.Errorf("%w: metadata changed while writing; try again", ErrConflict)

// Tx runs fn as one unit of work for principal p (access.System(p) for a
// write the platform makes on its own on behalf of p): everything fn
// writes through w commits together, or nothing does when fn returns an
// error. Every write is checked against the metadata version current when
// the transaction commits: writes lock metadata changes out (shared, on
// PostgreSQL; SQLite admits one writer), and when a change landed since
// the snapshot was taken, fn runs again on the newest version. fn may thus
// run more than once and must not have effects outside w; it must not
// start another unit of work (use w). On SQLite the units of work of
// concurrent requests share transactions (see group): fn then runs on
// another goroutine, in a savepoint of its own, and Tx returns once the
// transaction holding its writes has committed. Called with the context a
// hook, subscriber or action was given, Tx (and Create, Update, Delete,
// RunAction, which use it) joins the unit of work already running.
func (e *Engine) Tx(ctx context.Context, p *access.Principal, fn func(w *Writer) error) error {
	if p == nil {
		return ErrUnauthenticated
	}
	if w, ok := ctx.Value(writerKey{}).(*Writer); ok && w.e == e {
		// Called from a hook, a subscriber or an action, with the context
		// it was given: the work joins the unit of work already running
		// (a unit of its own would wait for that one to end).
		return fn(w.as(p))
	}
	var rights *Rights
	if rp, ok := access.FromContext(ctx); ok && rp == p {
		r, err := e.requestRights(ctx)
		if err != nil {
			return err
		}
		rights = r
	}
	for attempt := 1; ; attempt++ {
		if rights == nil || rights.snap != e.Snapshot() {
			r, err := e.Rights(ctx, p)
			if err != nil {
				return err
			}
			rights = r
		}
		var err error
		if e.grouped() {
			err = e.group.run(ctx, rights, fn)
		} else {
			err = e.runTx(ctx, rights.snap, func(tx store.Querier) error {
				return fn(newWriter(e, tx, rights))
			})
		}
		if !errors.Is(err, errStaleSnapshot) {
			return err
		}
		if attempt == maxTxAttempts {
			return ErrMetadataChanged
		}
		if _, err := e.Reload(ctx); err != nil {
			return err
		}
		rights = nil
	}
}

// errStaleSnapshot means the metadata changed after the snapshot a unit of
// work started from.
var errStaleSnapshot = errors.New("engine: stale metadata snapshot")

// runTx runs a unit of work (run, given its transaction) in a write
// transaction of its own planned on snap, begun lazily
// (store.DB.BeginLazy): a unit that writes one row and reads nothing
// before it (a plain create) runs as that one INSERT, guarded by the
// metadata version, instead of four statements. A newer metadata version
// is errStaleSnapshot (Tx runs the unit again on it).
func (e *Engine) runTx(ctx context.Context, snap *Snapshot, run func(tx store.Querier) error) error {
	tx := e.db.BeginLazy(ctx, snap.Version)
	if err := run(tx); err != nil {
		if ferr := tx.Failed(); ferr != nil {
			err = ferr // the cause: the statement that met it may say less
		}
		tx.Rollback()
		err = e.lazyError(snap, err)
		if errors.Is(err, errStaleSnapshot) {
			return err
		}
		// The unit may have failed on metadata that changed before it ran
		// any statement (and so checked no version): run it again on the
		// newest, as a transaction begun at once would.
		if latest, lerr := e.db.LatestVersion(context.Background(), e.db.SQL()); lerr == nil && latest != snap.Version {
			return errStaleSnapshot
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return e.lazyError(snap, fmt.Errorf("engine: commit: %w", err))
	}
	return nil
}

// writerKey marks a context as one given to code running inside a unit of
// work (hooks, subscribers, actions).
type writerKey struct{}

// withWriter marks ctx as running inside w's unit of work, so engine calls
// made with it (Create, Update, Tx …) join that unit of work.
func withWriter(ctx context.Context, w *Writer) context.Context {
	return context.WithValue(ctx, writerKey{}, w)
}

// as returns a Writer on the same transaction that writes as p.
func (w *Writer) as(p *access.Principal) *Writer {
	if p == w.rights.p {
		return w
	}
	return &Writer{e: w.e, tx: w.tx, rights: w.rights.with(p), depth: w.depth, rows: w.rows}
}

// Principal returns the principal the unit of work writes as.
func (w *Writer) Principal() *access.Principal { return w.rights.p }

// Snapshot returns the metadata snapshot the unit of work runs at.
func (w *Writer) Snapshot() *Snapshot { return w.rights.snap }

// Rights returns the permission decision of the unit of work's principal.
func (w *Writer) Rights() *Rights { return w.rights }

// SQL returns the transaction, for hooks that keep their own tables in
// step with records (shares, reminders, an outbox).
func (w *Writer) SQL() store.Querier { return w.tx }

// Savepoint runs fn in a savepoint of the unit of work: when fn fails,
// what it wrote is undone and the unit goes on (an import skips a bad row
// so). The unit then forgets the records fn inserted (rowLog.ownCreated):
// their rows are gone. Either way the savepoint ends: one rolled back is
// released too, so that a unit calling Savepoint once per row does not
// pile up nested savepoints (on PostgreSQL a subtransaction each, which
// slow every snapshot beyond 64).
func (w *Writer) Savepoint(ctx context.Context, name string, fn func() error) (err error) {
	if _, err := w.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("engine: savepoint %s: %w", name, err)
	}
	inserts := w.rows.inserts
	defer func() {
		end := []string{"RELEASE SAVEPOINT " + name}
		if err != nil {
			end = []string{"ROLLBACK TO SAVEPOINT " + name, end[0]}
			w.rows.forget(inserts)
		}
		for _, q := range end {
			if _, serr := w.tx.ExecContext(ctx, q); serr != nil {
				err = errors.Join(err, fmt.Errorf("engine: %s: %w", q, serr))
				return
			}
		}
	}()
	return fn()
}

// AsSystem returns a Writer on the same transaction that writes as the
// system on behalf of w's principal: every right is granted, and history
// names the user with the mark of the system. Use it for what the platform
// does by itself (a workflow setting a status users may only read), never
// to reach records the user could not.
func (w *Writer) AsSystem() *Writer {
	if w.rights.p.System {
		return w
	}
	sys := w.rights.with(access.System(w.rights.p))
	return &Writer{e: w.e, tx: w.tx, rights: sys, depth: w.depth, rows: w.rows}
}

// beginTx starts a transaction for the engine's own maintenance writes
// (recomputing stored formula values), which run outside any principal's
// unit of work.
func (e *Engine) beginTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := e.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: begin: %w", err)
	}
	return tx, nil
}
