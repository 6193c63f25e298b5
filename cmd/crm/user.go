package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/crmplatform/crm/engine/access"
)

// user manages users: crm user add.
func user(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: crm user add --username U --password P --role R [--manager M]"}
	}
	fl := flag.NewFlagSet("user add", flag.ContinueOnError)
	dsn := dbFlag(fl)
	username := fl.String("username", "", "login name")
	password := fl.String("password", "", "password")
	roles := fl.String("role", "", "role, or several separated by commas")
	manager := fl.String("manager", "", "username of the user's manager")
	name := fl.String("name", "", "display name")
	dept := fl.String("department", "", "department (team)")
	if err := fl.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *username == "" || *password == "" || *roles == "" {
		return usageError{"--username, --password and --role are required"}
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Access.CreateUser(ctx, access.NewUser{Username: *username, Password: *password, DisplayName: *name, Roles: strings.Split(*roles, ","), Manager: *manager, Department: *dept})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", *username, u.ID)
	return nil
}
