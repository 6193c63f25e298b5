package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/spf13/cobra"
)

// explainListUsage is the command line of crm explain-list.
const explainListUsage = "usage: crm explain-list OBJECT --user U [--filter F] [--sort S] [--limit N] [--cursor C] [--total|--exact-total]"

// explainListCommand is crm explain-list: it prints the SQL a user's list
// request runs and the database's plan for it, so an administrator can
// see whether the list walks an index.
func explainListCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var dsn, user string
	var opt engine.ListOptions
	c := dbCommand("explain-list OBJECT", "the SQL and plan of a user's list", &dsn, log, func(args []string) error {
		if len(args) != 1 || user == "" {
			return usageError{explainListUsage}
		}
		return nil
	}, func(ctx context.Context, a *app, args []string) error {
		u, err := a.Access.GetUser(ctx, user)
		if err != nil {
			return err
		}
		plan, err := a.Engine.ExplainList(access.WithPrincipal(ctx, u.Principal()), args[0], opt)
		if err != nil {
			return err
		}
		printPlan(stdout, "page", plan.SQL, plan.Args, plan.Plan)
		if plan.CountSQL != "" {
			printPlan(stdout, "total", plan.CountSQL, plan.CountArgs, plan.CountPlan)
		}
		return nil
	})
	dbFlag(c.Flags(), &dsn)
	fl := c.Flags()
	fl.StringVar(&user, "user", "", "the user whose list it is (username or id)")
	fl.StringVar(&opt.Filter, "filter", "", "filter expression, as in ?filter=")
	fl.StringVar(&opt.Sort, "sort", "", "sort, as in ?sort= (-amount,name)")
	fl.IntVar(&opt.Limit, "limit", engine.DefaultLimit, "page size")
	fl.StringVar(&opt.Cursor, "cursor", "", "cursor of a later page")
	fl.BoolVar(&opt.Total, "total", false, "also explain the total (counted up to the bound)")
	fl.BoolVar(&opt.ExactTotal, "exact-total", false, "also explain the exact total")
	return c
}

// printPlan prints a statement, its arguments and its plan as SQL
// comments.
func printPlan(w io.Writer, title, sql string, args []any, plan []string) {
	fmt.Fprintf(w, "-- %s\n%s;\n-- arguments: %v\n-- plan:\n", title, sql, args)
	for _, line := range plan {
		fmt.Fprintln(w, "--   "+line)
	}
}
