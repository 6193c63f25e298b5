package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/crmplatform/crm/internal/bench"
)

// benchCmd runs the benchmark scenarios (engine against plain bun on the
// same tables, alternately) on an empty database: a temporary SQLite file
// by default, or the database given with --db (an empty PostgreSQL
// database, say), and prints each with its ratio.
func benchCmd(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	dsn := fl.String("db", "", "an empty database to run on (default: a temporary SQLite file)")
	n := fl.Int("n", 500, "iterations of each scenario")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *n < 1 {
		return usageError{"-n must be at least 1"}
	}
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "crm-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dsn = filepath.Join(dir, "bench.db")
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	actx, err := bench.Prepare(ctx, a.Platform)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "engine against plain bun on %s (%s), %d iterations each\n", a.db.Dialect, redact(*dsn), *n)
	for _, c := range bench.Cases(a.Platform, actx) {
		r, err := bench.Run(ctx, c, *n)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, r.String())
	}
	return nil
}
