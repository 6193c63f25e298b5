package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
)

// maxGroup bounds how many units of work share one transaction.
const maxGroup = 128

// group commits the units of work of concurrent requests together on
// SQLite. SQLite admits one writer at a time: without grouping, each
// request takes the write lock in turn (its connection polling a busy
// lock) and pays its own BEGIN, metadata version check and COMMIT. With
// it, the units of work that arrive while a transaction runs wait in a
// queue; one goroutine then runs the whole queue in one transaction, each
// unit in a SAVEPOINT of its own with all its checks, and commits once.
// A unit that fails is rolled back to its savepoint and answered with its
// error; the others go on. Every unit is answered only after the commit
// that holds its writes; if that commit fails, each unit that had
// succeeded runs again alone, in a transaction of its own, and is
// answered with that result. A write that meets no other runs on its own
// goroutine; no goroutine runs while nothing is queued.
type group struct {
	e       *Engine
	mu      sync.Mutex
	pending []*unit
	running bool
	// commits and units count the group transactions committed and the
	// units of work they held.
	commits, units atomic.Int64
}

// GroupStats returns how many grouped transactions committed and how
// many units of work they held in all (both 0 where units of work are not
// grouped): units / commits is the mean group size.
func (e *Engine) GroupStats() (commits, units int64) {
	if !e.grouped() {
		return 0, 0
	}
	return e.group.commits.Load(), e.group.units.Load()
}

// unit is one unit of work waiting in a group.
type unit struct {
	ctx    context.Context
	rights *Rights
	fn     func(w *Writer) error
	// done takes the answer of a unit that waits for another goroutine's
	// group; the unit of the goroutine that runs the group (nil done) gets
	// it in err.
	done chan error
	err  error
}

// answer gives the unit its answer.
func (u *unit) answer(err error) {
	if u.done == nil {
		u.err = err
		return
	}
	u.done <- err
}

// run queues fn and waits for its answer. When no group is running, the
// caller runs the first group itself (no goroutine is started for a
// write that meets no other), then leaves what queued meanwhile to a
// goroutine of its own.
func (g *group) run(ctx context.Context, rights *Rights, fn func(w *Writer) error) error {
	u := &unit{ctx: ctx, rights: rights, fn: fn}
	g.mu.Lock()
	if g.running {
		u.done = make(chan error, 1)
		g.pending = append(g.pending, u)
		g.mu.Unlock()
		return <-u.done
	}
	// Nothing runs, so nothing waits: u is first in the first group,
	// which next commits before it returns.
	g.pending = append(g.pending, u)
	g.running = true
	g.mu.Unlock()
	if g.next() {
		go g.drain()
	}
	return u.err
}

// drain commits groups until the queue is empty.
func (g *group) drain() {
	for g.next() {
	}
}

// next commits the next group of the queue and reports whether more
// wait; when none does, the group stops running.
func (g *group) next() bool {
	g.mu.Lock()
	batch := g.pending
	if len(batch) > maxGroup {
		batch = batch[:maxGroup]
	}
	g.pending = g.pending[len(batch):]
	g.mu.Unlock()
	if len(batch) > 0 {
		g.commit(batch)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.pending, g.running = nil, false
		return false
	}
	return true
}

// commit runs a batch of units of work in one transaction and answers
// each.
func (g *group) commit(batch []*unit) {
	if len(batch) == 1 {
		batch[0].answer(g.lone(batch[0]))
		return
	}
	e := g.e
	ctx := context.Background() // no single request may cancel the others' transaction
	tx, latest, err := e.db.BeginWrite(ctx)
	if err != nil {
		for _, u := range batch {
			u.answer(fmt.Errorf("engine: %w", err))
		}
		return
	}
	var ok []*unit
	for i, u := range batch {
		if err := u.ctx.Err(); err != nil {
			u.answer(err)
			continue
		}
		if u.rights.snap.Version != latest {
			u.answer(errStaleSnapshot)
			continue
		}
		sp := "crm_unit_" + strconv.Itoa(i)
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			g.broken(tx, ok, batch[i:])
			return
		}
		if err := runUnit(u, tx); err != nil {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO "+sp); rerr != nil {
				u.answer(err)
				g.broken(tx, ok, batch[i+1:])
				return
			}
			u.answer(err)
		} else {
			ok = append(ok, u)
		}
		if _, err := tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			g.broken(tx, ok, batch[i+1:])
			return
		}
	}
	if len(ok) == 0 {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		g.alone(ok)
		return
	}
	g.commits.Add(1)
	g.units.Add(int64(len(ok)))
	for _, u := range ok {
		u.answer(nil)
	}
}

// lone runs a unit of work that met no other in a transaction of its own
// (Engine.runTx, begun lazily).
func (g *group) lone(u *unit) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	// As a group's: the unit's statements still watch its own context.
	if err := g.e.runTx(context.Background(), u.rights.snap, func(tx store.Querier) error { return runUnit(u, tx) }); err != nil {
		return err
	}
	g.commits.Add(1)
	g.units.Add(1)
	return nil
}

// lazyError turns the failures proper to a lazily begun transaction into
// the engine's: a newer metadata version into errStaleSnapshot (the unit
// runs again on it), a held INSERT's failure into that of the insert
// (writeError names a taken unique value).
func (e *Engine) lazyError(snap *Snapshot, err error) error {
	if errors.Is(err, store.ErrStaleVersion) {
		return errStaleSnapshot
	}
	var held *store.DeferredInsertError
	if errors.As(err, &held) {
		if obj, ok := snap.Schema.Object(held.Table); ok {
			return e.writeError(obj, held.Err)
		}
	}
	return err
}

// broken gives up a group transaction that can no longer go on (a
// savepoint could not be set or undone): it rolls it back and runs the
// units that had succeeded, and those not run yet, alone.
func (g *group) broken(tx *sql.Tx, ok, rest []*unit) {
	tx.Rollback()
	g.alone(append(append([]*unit(nil), ok...), rest...))
}

// alone runs each unit in a transaction of its own and answers it.
func (g *group) alone(units []*unit) {
	for _, u := range units {
		u.answer(g.e.runTx(u.ctx, u.rights.snap, func(tx store.Querier) error { return runUnit(u, tx) }))
	}
}

// runUnit runs a unit of work on tx; a panic is the unit's error (it
// would otherwise end the process: the unit runs on the group's
// goroutine, outside its request's recovery).
func runUnit(u *unit, tx store.Querier) (err error) {
	defer func() {
		if r := recover(); r != nil {
			u.rights.e.log.Error("unit of work panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("engine: unit of work panicked: %v", r)
		}
	}()
	return u.fn(newWriter(u.rights.e, tx, u.rights))
}

// grouped reports whether the engine groups units of work (SQLite).
func (e *Engine) grouped() bool {
	return e.group != nil && e.db.Dialect == metadata.DialectSQLite
}
