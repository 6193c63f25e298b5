package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/jobs"
	"github.com/spf13/cobra"
)

// recomputeCommand is crm recompute [OBJECT...]: it runs the queued
// recomputations of stored formula values (a metadata change queues them
// as jobs), printing progress; an interrupted run resumes where it
// stopped. Objects named are recomputed whole first (every computed
// field of every record, roll-ups counted again).
func recomputeCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var dsn string
	var batch int
	c := dbCommand("recompute [OBJECT...]", "recompute stored formula values after a formula changed (resumes if interrupted); objects named are recomputed whole", &dsn, log, func([]string) error { return nil },
		func(ctx context.Context, a *app, objects []string) error {
			a.Engine.SetRecomputeBatch(batch)
			for _, o := range objects {
				if err := a.Engine.RecomputeObject(ctx, o); err != nil {
					return fmt.Errorf("recompute %s: %w", o, err)
				}
			}
			return runRecompute(ctx, a.Engine, stdout)
		})
	dbFlag(c.Flags(), &dsn)
	c.Flags().IntVar(&batch, "batch", 200, "records per transaction")
	return c
}

// runRecompute runs the due recompute jobs in the foreground, printing one
// line per step; a job another server is running is left to it.
func runRecompute(ctx context.Context, e *engine.Engine, stdout io.Writer) error {
	n := 0
	err := e.Jobs().Drain(ctx, jobs.DrainOptions{Kinds: []string{engine.RecomputeKind}, Progress: func(j jobs.Job) {
		n++
		pct := 100
		if j.Total > 0 {
			pct = int(j.Done * 100 / j.Total)
		}
		fmt.Fprintf(stdout, "%s: %d/%d (%d%%)\n", j.Message, j.Done, j.Total, pct)
	}})
	if err != nil {
		return fmt.Errorf("%w (crm jobs shows the jobs and their next attempt)", err)
	}
	if n == 0 {
		fmt.Fprintln(stdout, "recompute: nothing to do")
	}
	return nil
}
