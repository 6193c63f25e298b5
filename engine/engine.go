package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Guard is the one permission decision: engine/access implements it, and
// every record path of the engine asks it, once per request, for the
// Decision that holds at the current metadata and policy version. A
// Decision that is a pointer names one unchanging decision (a new policy
// version is a new Decision): the engine keeps the field levels it gave a
// set of roles by it (see fieldCache).
type Guard interface {
	Decide(ctx context.Context, s *metadata.Schema) (Decision, error)
}

// Decision answers permission questions for one request.
type Decision interface {
	// CanObject reports whether p may perform action (create, read,
	// update, delete) on object; the error wraps access.ErrDenied.
	CanObject(p *access.Principal, object, action string) error
	// FieldLevel returns hidden, read_only or editable for p on a field.
	FieldLevel(p *access.Principal, object, field string) metadata.FieldLevel
	// RecordRule returns the grants through which p reaches records of
	// object for action, as SQL over the object's table (columns qualified
	// by the table's own name, so queries use no alias); the error wraps
	// access.ErrDenied when p reaches none.
	RecordRule(ctx context.Context, p *access.Principal, object, action string) (access.RecordRule, error)
}

// SchemaHook runs inside the transaction that applies a metadata change
// (syncing role policies, say).
type SchemaHook func(ctx context.Context, tx bun.Tx, s *metadata.Schema) error

// Config wires an Engine.
type Config struct {
	DB     *store.DB
	Guard  Guard
	Logger *slog.Logger
	// Now returns the current time; tests may fix it.
	Now func() time.Time
	// Location is the time zone of the calendar in filters (today, this
	// week …) when a request names none; UTC when nil.
	Location *time.Location
	// Shares keeps the manual shares of records (engine/access); without
	// it the share operations answer ErrNoShareStore.
	Shares ShareStore
	// NoGroupCommit runs every unit of work in a transaction of its own on
	// SQLite too, instead of grouping concurrent ones (see Engine.Tx); for
	// measurements (CRM_GROUP_COMMIT=off).
	NoGroupCommit bool
	// Jobs configures the engine's job runner (Logger and Now default to
	// the engine's).
	Jobs jobs.Options
	// Snapshots, when not nil, is shared with the other engines of the
	// process that load the same metadata versions (tests), which then
	// compile each version once.
	Snapshots *SnapshotCache
}

// Engine interprets metadata over the database.
type Engine struct {
	db     *store.DB
	guard  Guard
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	snap   atomic.Pointer[Snapshot]
	shares ShareStore
	// fields keeps what each set of roles sees of each object, per
	// decision and snapshot.
	fields fieldCache
	// reads keeps the compiled filters, sorts and record rules of lists
	// and counts, per decision and snapshot.
	reads readCache

	applyMu   sync.Mutex
	mu        sync.RWMutex
	schemaFns []SchemaHook
	// recomputes is set by UseFormulas: every metadata change queues the
	// recomputations of the computed fields it changes.
	recomputes bool
	changeFns  []ChangeCheck
	hooks      hookSet
	actions    map[string]*Action
	// subscribers receive the domain events of every unit of work.
	subscribers []Subscriber
	// group commits concurrent units of work together (SQLite only).
	group *group
	// bulkRows counts records written in batches since the planner's
	// statistics were last refreshed.
	bulkRows atomic.Int64
	// jobs runs background work (engine/jobs); recomputeSize is the
	// batch of a recompute step (SetRecomputeBatch).
	jobs          *jobs.Runner
	recomputeSize atomic.Int64
	// formulaFailures remembers the formulas whose run-time failure was
	// logged, per metadata version (formulaFailed).
	formulaFailures sync.Map
	// snapshots is Config.Snapshots.
	snapshots *SnapshotCache
}

// New opens the engine on db: it creates the system tables and loads the
// newest metadata version, if any.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.DB == nil || cfg.Guard == nil {
		return nil, errors.New("engine: a database and a guard are required")
	}
	e := &Engine{db: cfg.DB, guard: cfg.Guard, log: cfg.Logger, now: cfg.Now, loc: cfg.Location, shares: cfg.Shares,
		actions: map[string]*Action{}, snapshots: cfg.Snapshots}
	if cfg.DB.Dialect == metadata.DialectSQLite && !cfg.NoGroupCommit {
		e.group = &group{e: e}
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.loc == nil {
		e.loc = time.UTC
	}
	if err := cfg.DB.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := e.useJobs(ctx, cfg.Jobs); err != nil {
		return nil, err
	}
	e.RegisterAction(Action{Name: metadata.ActionTransfer, Run: transferAction})
	e.OnAfter(OpUpdate, "*", e.detailsFollowOwner)
	e.snap.Store(&Snapshot{Schema: &metadata.Schema{}})
	if _, err := e.Reload(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// DB returns the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

// Guard returns the permission decision the engine uses.
func (e *Engine) Guard() Guard { return e.guard }

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return e.now() }

// Snapshot returns the current metadata snapshot.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// OnSchemaApplied adds a hook run in the transaction of every metadata
// change.
func (e *Engine) OnSchemaApplied(h SchemaHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.schemaFns = append(e.schemaFns, h)
}

// ChangeCheck judges a metadata change against the version it replaces
// (old is nil for the first version): rules that bind new and changed
// definitions but not the versions already stored, such as the
// operator's allow-list of webhook hosts, which may shrink after a webhook
// was defined (reloading a stored version never runs them). Its problems
// refuse the change, dry runs included.
type ChangeCheck func(old, next *metadata.Schema) metadata.Problems

// CheckChanges adds a change check run by every metadata change
// (ApplySchema, Change, InstallTemplate); call it at wiring time.
func (e *Engine) CheckChanges(c ChangeCheck) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.changeFns = append(e.changeFns, c)
}

// checkChange runs the change checks of a change from old to next.
func (e *Engine) checkChange(old, next *metadata.Schema) metadata.Problems {
	e.mu.RLock()
	checks := e.changeFns
	e.mu.RUnlock()
	var ps metadata.Problems
	for _, c := range checks {
		ps = append(ps, c(old, next)...)
	}
	return ps
}

// Reload loads the newest metadata version if it is newer than the
// snapshot, and reports whether it did.
func (e *Engine) Reload(ctx context.Context) (bool, error) {
	latest, err := e.db.LatestVersion(ctx, e.db.SQL())
	if err != nil {
		return false, err
	}
	if latest == 0 || latest == e.Snapshot().Version {
		return false, nil
	}
	v, err := e.db.LoadVersion(ctx, e.db.SQL(), latest)
	if err != nil {
		return false, err
	}
	snap, ps := e.snapshots.loaded(v.Version, v.Schema, e.Snapshot())
	if len(ps) > 0 {
		return false, fmt.Errorf("engine: metadata version %d does not compile: %w", v.Version, ps)
	}
	if !e.install(snap) {
		return false, nil
	}
	e.log.Info("metadata loaded", "version", v.Version, "objects", len(v.Schema.Objects))
	return true, nil
}

// install makes snap current unless a newer version already is (a reload
// that read an older version must not undo a change applied meanwhile),
// and reports whether it did. The database's connections then drop the
// statements they prepared on the tables before (store.DB.SchemaChanged).
func (e *Engine) install(snap *Snapshot) bool {
	for {
		cur := e.snap.Load()
		if cur != nil && cur.Version >= snap.Version {
			return false
		}
		if e.snap.CompareAndSwap(cur, snap) {
			e.db.SchemaChanged()
			return true
		}
	}
}

// Watch reloads metadata every interval until ctx ends, so several
// servers sharing one database see each other's changes. On PostgreSQL it
// also listens for the notification every metadata change sends, and
// reloads at once.
func (e *Engine) Watch(ctx context.Context, interval time.Duration) {
	go e.listen(ctx, interval)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.Reload(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("metadata reload failed", "err", err)
			}
		}
	}
}

// listen reloads metadata whenever another server announces a change,
// listening again after a lost connection (the poll of Watch goes on
// meanwhile).
func (e *Engine) listen(ctx context.Context, retry time.Duration) {
	e.db.Follow(ctx, store.MetadataChannel, retry, e.log, func(string) {
		if _, err := e.Reload(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("metadata reload failed", "err", err)
		}
	})
}
