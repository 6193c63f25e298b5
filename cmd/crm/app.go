package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/crypto/bcrypt"
)

// Defaults of the flags.
const (
	defaultAddr     = "127.0.0.1:8080"
	defaultDB       = "./data/crm.db"
	defaultTemplate = "standard"
)

// passwordCost is the bcrypt cost of the passwords the commands hash
// (the first admin's, crm user add and passwd): bcrypt.DefaultCost. It is
// a seam for this package's tests only, whose TestMain lowers it to
// bcrypt.MinCost for the commands they run in process and for the crm
// serve processes they start (hashing at the default cost was a tenth of
// their CPU under -race, in the bench data set's 56 users above all).
var passwordCost = bcrypt.DefaultCost

// app is the wired platform over an open database.
type app struct {
	*platform.Platform
	db *store.DB
}

// open connects to dsn and wires the platform the same way for every
// command; the calendar's time zone comes from CRM_TIMEZONE (the
// machine's zone by default).
func open(ctx context.Context, dsn string, log *slog.Logger) (*app, error) {
	loc, err := timezone()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	p, err := platform.New(ctx, platform.Config{DB: db, Logger: log, Location: loc, NoGroupCommit: os.Getenv("CRM_GROUP_COMMIT") == "off",
		Access: []access.Option{access.WithBcryptCost(passwordCost)}})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{Platform: p, db: db}, nil
}

// Close closes the database.
func (a *app) Close() error { return a.db.Close() }

// templateFS returns the files of a template: a folder on disk when dir is
// set, else the built-in template name. Either may extend a built-in
// template.
func templateFS(dir, name string) (fs.FS, error) {
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("metadata folder: %w", err)
		}
		return defaults.WithBases(os.DirFS(dir)), nil
	}
	return defaults.FS(name)
}

// dbCommand builds a sub-command that checks its command line with check
// (nil refuses positional arguments; a usageError is a bad command line), then opens the
// database named by *dsn, wired as every command wires it, and runs run.
func dbCommand(use, short string, dsn *string, log *slog.Logger, check func(args []string) error, run func(ctx context.Context, a *app, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: func(c *cobra.Command, args []string) error {
		verify := func(args []string) error { return noArgs(c, args) }
		if check != nil {
			verify = check
		}
		if err := verify(args); err != nil {
			return err
		}
		a, err := open(c.Context(), *dsn, log)
		if err != nil {
			return err
		}
		defer a.Close()
		return run(c.Context(), a, args)
	}}
}

// dbUsage describes the --db flag.
const dbUsage = "SQLite file or postgres:// URL (CRM_DB)"

// dbFlag adds the --db flag (CRM_DB) every command that opens the
// database takes.
func dbFlag(fl *pflag.FlagSet, dsn *string) {
	fl.StringVar(dsn, "db", env("CRM_DB", defaultDB), dbUsage)
}

// timezone reads CRM_TIMEZONE (an IANA name such as Asia/Shanghai); the
// machine's zone when unset.
func timezone() (*time.Location, error) {
	name := os.Getenv("CRM_TIMEZONE")
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("CRM_TIMEZONE: %w", err)
	}
	return loc, nil
}
