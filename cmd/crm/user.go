package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/crmplatform/crm/engine/access"
)

// userUsage lists the user sub-commands.
const userUsage = `usage: crm user add --username U --password P --role R [--manager M] [--name N] [--department D]
       crm user list
       crm user passwd --username U --password P
       crm user deactivate --username U`

// user manages users from the command line.
func user(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return usageError{userUsage}
	}
	fl := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	dsn := dbFlag(fl)
	username := fl.String("username", "", "login name")
	password := fl.String("password", "", "password")
	roles := fl.String("role", "", "role, or several separated by commas")
	manager := fl.String("manager", "", "username of the user's manager")
	name := fl.String("name", "", "display name")
	dept := fl.String("department", "", "department (team)")
	email := fl.String("email", "", "e-mail address")
	if err := fl.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	need := map[string][]string{"add": {"username", "password", "role"}, "list": nil, "passwd": {"username", "password"}, "deactivate": {"username"}}
	required, ok := need[args[0]]
	if !ok {
		return usageError{userUsage}
	}
	values := map[string]string{"username": *username, "password": *password, "role": *roles}
	for _, r := range required {
		if values[r] == "" {
			return usageError{fmt.Sprintf("--%s is required\n%s", r, userUsage)}
		}
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "add":
		u, err := a.Access.CreateUser(ctx, access.NewUser{Username: *username, Password: *password, DisplayName: *name, Email: *email, Roles: strings.Split(*roles, ","), Manager: *manager, Department: *dept})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s)\n", u.Username, u.ID)
	case "list":
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
	case "passwd":
		if err := a.Access.SetPassword(ctx, *username, *password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions ended\n", *username)
	case "deactivate":
		if err := a.Access.DeactivateUser(ctx, *username); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s deactivated; their tokens are revoked\n", *username)
	}
	return nil
}
