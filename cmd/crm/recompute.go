package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/spf13/cobra"
)

// recomputeCommand is crm recompute: it runs the queued recomputations of stored formula values (a
// metadata change queues them), printing progress; an interrupted run
// resumes where it stopped.
func recomputeCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var dsn string
	var batch int
	c := dbCommand("recompute", "recompute stored formula values after a formula changed (resumes if interrupted)", &dsn, log, nil,
		func(ctx context.Context, a *app, _ []string) error { return runJobs(ctx, a.Engine, batch, stdout) })
	dbFlag(c.Flags(), &dsn)
	c.Flags().IntVar(&batch, "batch", 200, "records per transaction")
	return c
}

// runJobs works through the formula jobs, printing one line per batch.
func runJobs(ctx context.Context, e *engine.Engine, batch int, stdout io.Writer) error {
	n := 0
	err := e.RunFormulaJobs(ctx, batch, func(j engine.FormulaJob) {
		n++
		pct := 100
		if j.Total > 0 {
			pct = int(j.Done * 100 / j.Total)
		}
		fmt.Fprintf(stdout, "recompute %s %v: %d/%d (%d%%)\n", j.Object, j.Fields, j.Done, j.Total, pct)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "recompute: nothing to do")
	}
	return nil
}
