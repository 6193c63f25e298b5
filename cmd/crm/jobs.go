package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmplatform/crm/engine/jobs"
	"github.com/spf13/cobra"
)

// jobsUsage lists the jobs sub-commands.
const jobsUsage = `usage: crm jobs [list] [--state pending|running|done|failed] [--kind K] [--limit 50]
       crm jobs retry ID
every command takes --db (CRM_DB).`

// jobsCommand is crm jobs: list background jobs (the default) or queue a
// failed one again.
func jobsCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var dsn, state, kind string
	var limit int
	checkList := func(args []string) error {
		if len(args) > 0 {
			return usageError{jobsUsage}
		}
		if st := jobs.State(state); st != "" && st != jobs.Pending && st != jobs.Running && st != jobs.Done && st != jobs.Failed {
			return usageError{fmt.Sprintf("--state %q: use pending, running, done or failed", state)}
		}
		return nil
	}
	listJobs := func(ctx context.Context, a *app, _ []string) error {
		list, err := a.Engine.Jobs().List(ctx, jobs.Filter{State: jobs.State(state), Kind: kind, Limit: limit})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "no jobs")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPTS\tPROGRESS\tNEXT RUN\tMESSAGE\tLAST ERROR")
		for _, j := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempts, j.MaxAttempts, progress(j), nextRun(j), j.Message, oneLine(j.LastError))
		}
		return tw.Flush()
	}
	listFlags := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&state, "state", "", "only jobs in this state (pending, running, done, failed)")
		c.Flags().StringVar(&kind, "kind", "", "only jobs of this kind")
		c.Flags().IntVar(&limit, "limit", 50, "at most this many jobs")
		return c
	}
	c := listFlags(dbCommand("jobs", "background jobs: kind, state, attempts, progress, next run, last error; retry a failed one", &dsn, log, checkList, listJobs))
	dbFlag(c.PersistentFlags(), &dsn)
	list := listFlags(dbCommand("list", "list background jobs", &dsn, log, checkList, listJobs))
	retry := dbCommand("retry ID", "queue a failed job again", &dsn, log, func(args []string) error {
		if len(args) != 1 {
			return usageError{jobsUsage}
		}
		return nil
	}, func(ctx context.Context, a *app, args []string) error {
		if err := a.Engine.Jobs().Retry(ctx, args[0]); err != nil {
			if errors.Is(err, jobs.ErrNotFound) || errors.Is(err, jobs.ErrNotFailed) || errors.Is(err, jobs.ErrConflict) {
				return usageError{err.Error()}
			}
			return err
		}
		fmt.Fprintf(stdout, "job %s queued again\n", args[0])
		return nil
	})
	c.AddCommand(list, retry)
	return c
}

// progress shows done/total, with the total unknown as "?".
func progress(j jobs.Job) string {
	if j.Total < 0 {
		return fmt.Sprintf("%d/?", j.Done)
	}
	return fmt.Sprintf("%d/%d", j.Done, j.Total)
}

// nextRun is when a pending job runs next (or a running job's lease
// ends); "-" for finished jobs.
func nextRun(j jobs.Job) string {
	switch j.State {
	case jobs.Pending:
		return j.RunAt.Local().Format(time.DateTime)
	case jobs.Running:
		return "lease until " + j.LeaseUntil.Local().Format(time.DateTime)
	}
	return "-"
}

// oneLine shortens an error for a table cell.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
