package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/formulas"
	"github.com/crmplatform/crm/internal/server"
	"github.com/crmplatform/crm/metadata"
	"github.com/spf13/cobra"
)

// migrateOptions are the flags of crm migrate.
type migrateOptions struct {
	dsn, dir, template string
	plan, force, purge bool
}

// migrateCommand is crm migrate.
func migrateCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var o migrateOptions
	c := &cobra.Command{Use: "migrate", Short: "apply metadata files to the database (--plan prints the DDL only)", Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return migrate(c.Context(), o, stdout, log) }}
	fl := c.Flags()
	dbFlag(fl, &o.dsn)
	fl.StringVar(&o.dir, "dir", "", "folder of metadata (template.yaml, objects/, roles/ …)")
	fl.StringVar(&o.template, "template", env("CRM_TEMPLATE", defaultTemplate), "built-in template, when --dir is not given")
	fl.BoolVar(&o.plan, "plan", false, "print the schema changes without making them (nothing is created or changed)")
	fl.BoolVar(&o.force, "force", false, "allow changes that lose data")
	fl.BoolVar(&o.purge, "purge", false, "drop archived columns and tables for good")
	return c
}

// migrate applies metadata files to the database, or with --plan prints
// the DDL it would run without creating or changing anything.
func migrate(ctx context.Context, o migrateOptions, stdout io.Writer, log *slog.Logger) error {
	var db *store.DB
	var a *app
	var err error
	if o.plan {
		db, err = openForPlan(ctx, o.dsn)
	} else if a, err = open(ctx, o.dsn, log); err == nil {
		db = a.db
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if o.purge {
		dropped, err := db.Purge(ctx, o.plan)
		if err != nil {
			return err
		}
		for _, s := range dropped {
			fmt.Fprintln(stdout, s+";")
		}
		fmt.Fprintf(stdout, "-- %d archived column(s) and table(s) %s\n", len(dropped), map[bool]string{true: "would be dropped", false: "dropped"}[o.plan])
		return nil
	}
	fsys, err := templateFS(o.dir, o.template)
	if err != nil {
		return err
	}
	_, s, ps := loadChecked(fsys)
	if len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.String())
		}
		return errReported
	}
	var p *store.Plan
	var version int64
	if o.plan {
		p, version, err = planOnly(ctx, db, s, o.force)
	} else {
		// The parts keep their own tables in step with metadata changes
		// (the sales rules' duplicate key columns): wire them first.
		if _, err := server.Parts(ctx, a.Platform); err != nil {
			return err
		}
		p, version, err = a.Engine.ApplySchema(ctx, s, engine.ApplyOptions{Author: "crm migrate", Comment: "crm migrate", Force: o.force})
	}
	if p != nil && len(p.Refused) > 0 {
		for _, r := range p.Refused {
			fmt.Fprintln(stdout, "refused: "+r.String())
		}
		return errReported
	}
	if err != nil {
		return err
	}
	if len(p.Changes) == 0 && p.Empty() {
		fmt.Fprintln(stdout, "-- the database already matches the metadata")
		return nil
	}
	for _, c := range p.Changes {
		fmt.Fprintln(stdout, "-- "+c.String())
	}
	fmt.Fprint(stdout, p.SQL())
	if o.plan {
		fmt.Fprintf(stdout, "-- plan only: run without --plan to apply as version %d\n", version)
		return nil
	}
	fmt.Fprintf(stdout, "-- applied as metadata version %d\n", version)
	return runRecompute(ctx, a.Engine, stdout)
}

// openForPlan opens the database for a plan without creating or changing
// anything: a SQLite file that does not exist is an empty database (one
// in memory, gone when closed), and no system table is created.
func openForPlan(ctx context.Context, dsn string) (*store.DB, error) {
	if !store.IsPostgres(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return store.Open(ctx, ":memory:")
		}
	}
	return store.Open(ctx, dsn)
}

// planOnly plans turning the database's newest metadata version (none in a
// database without one) into s, reading but writing nothing; the plan's
// refused changes are those the real change would refuse.
func planOnly(ctx context.Context, db *store.DB, s *metadata.Schema, force bool) (*store.Plan, int64, error) {
	current, err := db.CurrentVersion(ctx, db.SQL())
	if err != nil {
		return nil, 0, err
	}
	old, version := current.Next()
	p, err := db.Plan(ctx, db.SQL(), old, s, version, force)
	if err != nil {
		return nil, 0, err
	}
	// s was checked: its formulas compile.
	c, _ := formulas.CompileSchema(s)
	if err := db.PlanIndexes(ctx, db.SQL(), p, engine.WantedIndexes(db.Dialect, s, c)); err != nil {
		return nil, 0, err
	}
	return p, version, nil
}
