package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmplatform/crm/engine"
)

// migrate applies metadata files to the database, or with --plan prints
// the DDL it would run.
func migrate(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dsn := dbFlag(fl)
	dir := fl.String("dir", "", "folder of metadata (template.yaml, objects/, roles/)")
	tpl := fl.String("template", env("CRM_TEMPLATE", defaultTemplate), "built-in template, when --dir is not given")
	plan := fl.Bool("plan", false, "print the schema changes without making them")
	force := fl.Bool("force", false, "allow changes that lose data")
	purge := fl.Bool("purge", false, "drop archived columns and tables for good")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if *purge {
		dropped, err := a.db.Purge(ctx, *plan)
		if err != nil {
			return err
		}
		for _, s := range dropped {
			fmt.Fprintln(stdout, s+";")
		}
		fmt.Fprintf(stdout, "-- %d archived column(s) and table(s) %s\n", len(dropped), map[bool]string{true: "would be dropped", false: "dropped"}[*plan])
		return nil
	}
	fsys, err := templateFS(*dir, *tpl)
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
	p, version, err := a.Engine.ApplySchema(ctx, s, engine.ApplyOptions{Author: "crm migrate", Comment: "crm migrate", Force: *force, DryRun: *plan})
	if p != nil && len(p.Refused) > 0 {
		for _, r := range p.Refused {
			fmt.Fprintln(stdout, "refused: "+r.String())
		}
		return errReported
	}
	if err != nil {
		return err
	}
	if len(p.Changes) == 0 {
		fmt.Fprintln(stdout, "-- the database already matches the metadata")
		return nil
	}
	for _, c := range p.Changes {
		fmt.Fprintln(stdout, "-- "+c.String())
	}
	fmt.Fprint(stdout, p.SQL())
	if *plan {
		fmt.Fprintf(stdout, "-- plan only: run without --plan to apply as version %d\n", version)
		return nil
	}
	fmt.Fprintf(stdout, "-- applied as metadata version %d\n", version)
	return runJobs(ctx, a.Engine, 200, stdout)
}
