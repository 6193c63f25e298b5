package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/metadata"
	"github.com/uptrace/bun"
)

// Defaults of the flags.
const (
	defaultAddr     = "127.0.0.1:8080"
	defaultDB       = "./data/crm.db"
	defaultTemplate = "standard"
)

// app is the wired platform: database, access service and engine.
type app struct {
	db     *store.DB
	access *access.Service
	engine *engine.Engine
}

// open connects to dsn and wires the access service and the engine the
// same way for every command.
func open(ctx context.Context, dsn string, log *slog.Logger) (*app, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	svc := access.New(db, access.WithConditionCompiler(func(cond string, obj *metadata.Object, sc *metadata.Schema) (string, []any, error) {
		p, err := query.CompileFilter(cond, obj, query.Options{Dialect: db.Dialect, Now: time.Now(), Schema: sc})
		return p.SQL, p.Args, err
	}))
	if err := svc.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	eng, err := engine.New(ctx, engine.Config{DB: db, Guard: engine.AccessGuard{Service: svc}, Logger: log})
	if err != nil {
		db.Close()
		return nil, err
	}
	eng.OnSchemaApplied(func(ctx context.Context, tx bun.Tx, s *metadata.Schema) error {
		return svc.SyncRoles(ctx, tx, s)
	})
	return &app{db: db, access: svc, engine: eng}, nil
}

// Close closes the database.
func (a *app) Close() error { return a.db.Close() }

// templateFS returns the files of a template: a folder on disk when dir is
// set, else the built-in template name.
func templateFS(dir, name string) (fs.FS, error) {
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("metadata folder: %w", err)
		}
		return os.DirFS(dir), nil
	}
	return defaults.FS(name)
}
