package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmplatform/crm/engine"
)

// recompute runs the queued recomputations of stored formula values (a
// metadata change queues them), printing progress; an interrupted run
// resumes where it stopped.
func recompute(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("recompute", flag.ContinueOnError)
	dsn := dbFlag(fl)
	batch := fl.Int("batch", 200, "records per transaction")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return runJobs(ctx, a.Engine, *batch, stdout)
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
