// Package platform wires the parts of the CRM together (database, access
// service, engine and their hooks) the same way for the binary and for
// end-to-end tests. It holds no logic of its own.
package platform

import (
	"context"
	"log/slog"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Platform is the wired platform.
type Platform struct {
	DB     *store.DB
	Access *access.Service
	Engine *engine.Engine
}

// Config wires the platform over an open database.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Location is the default time zone of filters' calendar (UTC when nil).
	Location *time.Location
	// Access passes options to the access service.
	Access []access.Option
	// Now is the clock of the engine and the access service (time.Now
	// when nil); tests set it to move time without waiting.
	Now func() time.Time
	// NoGroupCommit turns the engine's group commit off (engine.Config).
	NoGroupCommit bool
	// Snapshots is the engine's cache of compiled metadata versions, shared
	// by the platforms a test builds (engine.Config); nil for a server.
	Snapshots *engine.SnapshotCache
}

// New wires an access service and an engine over the database and creates
// their system tables.
func New(ctx context.Context, cfg Config) (*Platform, error) {
	db, log := cfg.DB, cfg.Logger
	opts := cfg.Access
	if cfg.Now != nil {
		opts = append([]access.Option{access.WithClock(cfg.Now)}, opts...)
	}
	svc := access.New(db, opts...)
	if err := svc.Migrate(ctx); err != nil {
		return nil, err
	}
	eng, err := engine.New(ctx, engine.Config{DB: db, Guard: engine.AccessGuard{Service: svc}, Shares: svc, Logger: log, Location: cfg.Location, Now: cfg.Now, NoGroupCommit: cfg.NoGroupCommit, Snapshots: cfg.Snapshots})
	if err != nil {
		return nil, err
	}
	if err := eng.UseFormulas(ctx); err != nil {
		return nil, err
	}
	// Stored formulas reading a user follow the user's changes atomically.
	svc.OnUserChange(eng.UserChanged)
	eng.OnSchemaApplied(func(ctx context.Context, tx bun.Tx, s *metadata.Schema) error {
		return svc.SyncRoles(ctx, tx, s)
	})
	// Manual shares go with the record they share.
	eng.OnAfter(engine.OpDelete, "*", func(ctx context.Context, ev *engine.Event) error {
		return svc.DeleteShares(ctx, ev.Tx, ev.Object.Name, ev.ID)
	})
	return &Platform{DB: db, Access: svc, Engine: eng}, nil
}
