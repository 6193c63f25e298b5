package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/crmplatform/crm/engine/access"
	"github.com/spf13/cobra"
)

// userUsage lists the user sub-commands.
const userUsage = `usage: crm user add --username U --password P --role R [--manager M] [--name N] [--department D] [--email E]
       crm user list
       crm user passwd --username U --password P
       crm user deactivate --username U
every command takes --db (CRM_DB).`

// userFlags are the flags of the user sub-commands.
type userFlags struct {
	username, password, roles, manager, name, dept, email string
}

// userCommand is crm user: add, list, passwd and deactivate.
func userCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "manage users", Args: cobra.ArbitraryArgs,
		RunE: func(*cobra.Command, []string) error { return usageError{userUsage} }}
	var dsn string
	dbFlag(c.PersistentFlags(), &dsn)
	var f userFlags
	sub := func(use, short string, required []string, run func(ctx context.Context, a *app) error) *cobra.Command {
		check := func(args []string) error {
			if len(args) > 0 {
				return usageError{userUsage}
			}
			values := map[string]string{"username": f.username, "password": f.password, "role": f.roles}
			for _, r := range required {
				if values[r] == "" {
					return usageError{fmt.Sprintf("--%s is required\n%s", r, userUsage)}
				}
			}
			return nil
		}
		return dbCommand(use, short, &dsn, log, check, func(ctx context.Context, a *app, _ []string) error { return run(ctx, a) })
	}
	add := sub("add", "create a user", []string{"username", "password", "role"}, func(ctx context.Context, a *app) error {
		u, err := a.Access.CreateUser(ctx, access.NewUser{Username: f.username, Password: f.password, DisplayName: f.name, Email: f.email, Roles: strings.Split(f.roles, ","), Manager: f.manager, Department: f.dept})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s)\n", u.Username, u.ID)
		return nil
	})
	add.Flags().StringVar(&f.roles, "role", "", "role, or several separated by commas")
	add.Flags().StringVar(&f.manager, "manager", "", "username of the user's manager")
	add.Flags().StringVar(&f.name, "name", "", "display name")
	add.Flags().StringVar(&f.dept, "department", "", "department (team)")
	add.Flags().StringVar(&f.email, "email", "", "e-mail address")
	list := sub("list", "list users", nil, func(ctx context.Context, a *app) error {
		users, err := a.Access.ListUsers(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "USERNAME\tNAME\tEMAIL\tROLES\tMANAGER\tDEPARTMENT\tACTIVE")
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", u.Username, u.DisplayName, u.Email, strings.Join(u.Roles, ","), u.Manager, u.Department, u.Active)
		}
		return w.Flush()
	})
	passwd := sub("passwd", "set a user's password", []string{"username", "password"}, func(ctx context.Context, a *app) error {
		if err := a.Access.SetPassword(ctx, f.username, f.password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions ended\n", f.username)
		return nil
	})
	deactivate := sub("deactivate", "deactivate a user and revoke their tokens", []string{"username"}, func(ctx context.Context, a *app) error {
		if err := a.Access.DeactivateUser(ctx, f.username); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s deactivated; their tokens are revoked\n", f.username)
		return nil
	})
	for _, s := range []*cobra.Command{add, passwd, deactivate} {
		s.Flags().StringVar(&f.username, "username", "", "login name")
	}
	for _, s := range []*cobra.Command{add, passwd} {
		s.Flags().StringVar(&f.password, "password", "", "password")
	}
	c.AddCommand(add, list, passwd, deactivate)
	return c
}
