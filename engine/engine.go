package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/uptrace/bun"
)

// Guard is the one permission decision: engine/access implements it, and
// every record path of the engine asks it, once per request, for the
// Decision that holds at the current metadata and policy version.
type Guard interface {
	Decide(ctx context.Context, s *metadata.Schema) (Decision, error)
}

// Decision answers permission questions for one request.
type Decision interface {
	// CanObject reports whether p may perform action (create, read,
	// update, delete) on object; the error wraps access.ErrDenied.
	CanObject(p *access.Principal, object, action string) error
	// FieldLevel returns hidden, read_only or editable for p on a field.
	FieldLevel(p *access.Principal, object, field string) string
	// RecordFilter returns a SQL predicate with "?" placeholders over the
	// object's table (columns qualified by the table's own name, so queries
	// use no alias) that limits rows to those p may reach for action; ""
	// means every row.
	RecordFilter(ctx context.Context, p *access.Principal, object, action string) (string, []any, error)
}

// Compiler turns a schema into something the engine keeps with the
// snapshot (compiled formulas, say), or reports problems with it; it runs
// once per metadata version.
type Compiler func(s *metadata.Schema) (any, metadata.Problems)

// SchemaHook runs inside the transaction that applies a metadata change
// (syncing role policies, say).
type SchemaHook func(ctx context.Context, tx bun.Tx, s *metadata.Schema) error

// Snapshot is an immutable view of one metadata version with everything
// derived from it.
type Snapshot struct {
	Version int64
	Schema  *metadata.Schema
	// refs lists, per target object, the lookups that point at it.
	refs map[string][]fieldRef
	// compiled holds what each Compiler made of the schema, by name.
	compiled map[string]any
}

// fieldRef names a field of an object.
type fieldRef struct {
	Object *metadata.Object
	Field  *metadata.Field
}

// Object returns the object named name.
func (s *Snapshot) Object(name string) (*metadata.Object, error) {
	if s == nil || s.Schema == nil {
		return nil, notFound("no metadata installed")
	}
	o, ok := s.Schema.Object(name)
	if !ok {
		return nil, notFound("no object %q", name)
	}
	return o, nil
}

// Compiled returns what the compiler registered under name made of this
// snapshot's schema.
func (s *Snapshot) Compiled(name string) any { return s.compiled[name] }

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
}

// Engine interprets metadata over the database.
type Engine struct {
	db    *store.DB
	guard Guard
	log   *slog.Logger
	now   func() time.Time
	loc   *time.Location
	snap  atomic.Pointer[Snapshot]
	// policySeen is the policy version of the last decision, to notice
	// another server's role changes.
	policySeen atomic.Int64
	applyMu    sync.Mutex
	mu         sync.RWMutex
	compilers  map[string]Compiler
	schemaFns  []SchemaHook
	hooks      hookSet
	actions    map[string]Action
}

// New opens the engine on db: it creates the system tables and loads the
// newest metadata version, if any.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.DB == nil || cfg.Guard == nil {
		return nil, errors.New("engine: a database and a guard are required")
	}
	e := &Engine{db: cfg.DB, guard: cfg.Guard, log: cfg.Logger, now: cfg.Now, loc: cfg.Location, compilers: map[string]Compiler{recordSchemas: compileRecordSchemas}, actions: map[string]Action{}}
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

// RegisterCompiler adds a per-version compiler; call it before Reload or
// ApplySchema (at wiring time). It panics on a duplicate name.
func (e *Engine) RegisterCompiler(name string, c Compiler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.compilers[name]; dup {
		panic("engine: compiler registered twice: " + name)
	}
	e.compilers[name] = c
}

// OnSchemaApplied adds a hook run in the transaction of every metadata
// change.
func (e *Engine) OnSchemaApplied(h SchemaHook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.schemaFns = append(e.schemaFns, h)
}

// build derives a snapshot from a schema, running every compiler.
func (e *Engine) build(version int64, s *metadata.Schema) (*Snapshot, metadata.Problems) {
	snap := &Snapshot{Version: version, Schema: s, refs: map[string][]fieldRef{}, compiled: map[string]any{}}
	for _, o := range s.Objects {
		for _, f := range o.Fields {
			if f.Type == "lookup" {
				snap.refs[f.Target] = append(snap.refs[f.Target], fieldRef{o, f})
			}
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	var ps metadata.Problems
	for name, c := range e.compilers {
		v, cps := c(s)
		ps = append(ps, cps...)
		snap.compiled[name] = v
	}
	return snap, ps
}

// recordSchemas names the compiled JSON Schemas of records in a snapshot.
const recordSchemas = "engine.record_schemas"

// compileRecordSchemas compiles the JSON Schema of every object's records.
func compileRecordSchemas(s *metadata.Schema) (any, metadata.Problems) {
	out := make(map[string]*jsonschema.Schema, len(s.Objects))
	var ps metadata.Problems
	for _, o := range s.Objects {
		sch, err := metadata.CompileRecordSchema(o)
		if err != nil {
			ps = append(ps, metadata.Problem{Path: "/objects/" + o.Name, Message: err.Error()})
			continue
		}
		out[o.Name] = sch
	}
	return out, ps
}

// recordSchema returns the compiled JSON Schema of an object's records.
func (s *Snapshot) recordSchema(object string) *jsonschema.Schema {
	m, _ := s.compiled[recordSchemas].(map[string]*jsonschema.Schema)
	return m[object]
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
	snap, ps := e.build(v.Version, v.Schema)
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
// and reports whether it did.
func (e *Engine) install(snap *Snapshot) bool {
	for {
		cur := e.snap.Load()
		if cur != nil && cur.Version >= snap.Version {
			return false
		}
		if e.snap.CompareAndSwap(cur, snap) {
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
// listening again after a lost connection.
func (e *Engine) listen(ctx context.Context, retry time.Duration) {
	for ctx.Err() == nil {
		err := e.db.Listen(ctx, store.MetadataChannel, func(string) {
			if _, err := e.Reload(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("metadata reload failed", "err", err)
			}
		})
		if errors.Is(err, store.ErrNoNotifications) {
			return
		}
		if err != nil && ctx.Err() == nil {
			e.log.Warn("metadata notifications lost; polling until they are back", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

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

// Check validates a schema: the JSON-level checks happened when it was
// parsed; this runs the semantic checks and every compiler.
func (e *Engine) Check(s *metadata.Schema) metadata.Problems {
	if ps := metadata.Validate(s); len(ps) > 0 {
		return ps
	}
	_, ps := e.build(0, s)
	return ps
}

// ApplySchema makes s the current metadata: it checks it, plans the schema
// changes against the database, and in one transaction applies them,
// stores the new version and runs the schema hooks; then it swaps the
// snapshot. With DryRun it only plans. Definition problems and refused
// changes come back as metadata.Problems (wrapping metadata.ErrInvalid).
func (e *Engine) ApplySchema(ctx context.Context, s *metadata.Schema, opt ApplyOptions) (*store.Plan, int64, error) {
	if ps := e.Check(s); len(ps) > 0 {
		return nil, 0, ps
	}
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
	var old *metadata.Schema
	var version int64 = 1
	if current != nil {
		old, version = current.Schema, current.Version+1
	}
	if opt.Base > 0 && version-1 != opt.Base {
		return nil, 0, fmt.Errorf("%w: edited from version %d, now at %d", ErrStale, opt.Base, version-1)
	}
	plan, err := e.db.Plan(ctx, tx, old, s, version, opt.Force)
	if err != nil {
		return nil, 0, err
	}
	if opt.DryRun {
		return plan, version, nil
	}
	if len(plan.Refused) > 0 {
		return plan, 0, plan.Refused
	}
	if err := e.db.Apply(ctx, tx, plan); err != nil {
		return plan, 0, err
	}
	if err := e.db.SaveVersion(ctx, tx, &store.Version{Version: version, Author: opt.Author, CreatedAt: e.now(), Comment: opt.Comment, Schema: s}); err != nil {
		return plan, 0, err
	}
	e.mu.RLock()
	hooks := e.schemaFns
	e.mu.RUnlock()
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
	snap, _ := e.build(version, s)
	e.install(snap)
	e.log.Info("metadata applied", "version", version, "author", opt.Author, "changes", len(plan.Changes))
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
