package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/platform"
)

// Defaults of the flags.
const (
	defaultAddr     = "127.0.0.1:8080"
	defaultDB       = "./data/crm.db"
	defaultTemplate = "standard"
)

// app is the wired platform over an open database.
type app struct {
	*platform.Platform
	db *store.DB
}

// open connects to dsn and wires the platform the same way for every
// command.
func open(ctx context.Context, dsn string, log *slog.Logger) (*app, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	p, err := platform.New(ctx, db, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{Platform: p, db: db}, nil
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

// dbFlag adds the --db flag (CRM_DB) every command that opens the
// database takes.
func dbFlag(fl *flag.FlagSet) *string {
	return fl.String("db", env("CRM_DB", defaultDB), "SQLite file or postgres:// URL (CRM_DB)")
}
