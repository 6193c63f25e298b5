package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/crmplatform/crm/internal/bench"
	"github.com/spf13/cobra"
)

// benchCommand is crm bench: it runs the benchmark scenarios (engine against plain bun on the
// same tables, alternately) on an empty database: a temporary SQLite file
// by default, or the database given with --db (an empty PostgreSQL
// database, say), and prints each with its ratio.
func benchCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "measure the engine against plain SQL on an empty database", Args: noArgs}
	dsn := c.Flags().String("db", "", "an empty database to run on (default: a temporary SQLite file)")
	n := c.Flags().IntP("n", "n", 500, "iterations of each scenario")
	c.RunE = func(c *cobra.Command, _ []string) error { return runBench(c.Context(), dsn, n, stdout, log) }
	return c
}

// runBench runs the scenarios n times each on the database dsn (a temporary
// one when empty).
func runBench(ctx context.Context, dsn *string, n *int, stdout io.Writer, log *slog.Logger) error {
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
