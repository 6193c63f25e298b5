package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
)

// roleUsage lists the role sub-commands.
const roleUsage = `usage:
  crm role list                                   roles with their parent and label
  crm role show NAME                              a role's permissions and its stored policies
  crm role grant --username U --role R            give a user a role
  crm role revoke --username U --role R           take a role from a user
  crm role explain --user U --object O [--record ID] [--field F]
                                                  why a user may or may not read and edit
Roles are defined as metadata (roles/*.yaml in a template, or /api/roles);
every command takes --db (CRM_DB).`

// role runs crm role ….
func role(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || !slices.Contains([]string{"list", "show", "grant", "revoke", "explain"}, args[0]) {
		return usageError{roleUsage}
	}
	fl := flag.NewFlagSet("role "+args[0], flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	dsn := dbFlag(fl)
	username := fl.String("username", "", "user")
	roleName := fl.String("role", "", "role")
	userRef := fl.String("user", "", "user to explain")
	object := fl.String("object", "", "object to explain")
	record := fl.String("record", "", "record id to explain")
	field := fl.String("field", "", "field to explain")
	if err := fl.Parse(args[1:]); err != nil {
		return usageError{err.Error() + "\n" + roleUsage}
	}
	a, err := open(ctx, *dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	sc := a.Engine.Snapshot().Schema
	switch args[0] {
	case "list":
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ROLE\tPARENT\tLABEL")
		for _, r := range sc.Roles {
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.Parent, r.Label.Get("en"))
		}
		return w.Flush()
	case "show":
		if fl.NArg() != 1 {
			return usageError{"usage: crm role show NAME"}
		}
		name := fl.Arg(0)
		var def *metadata.Role
		for _, r := range sc.Roles {
			if r.Name == name {
				def = r
			}
		}
		if def == nil {
			return fmt.Errorf("no role %q", name)
		}
		b, _ := json.MarshalIndent(def, "", "  ")
		fmt.Fprintf(stdout, "%s\n\npolicies:\n", b)
		rules, err := a.Access.StoredRules(ctx, name)
		if err != nil {
			return err
		}
		for _, r := range rules {
			fmt.Fprintf(stdout, "  %s, %s\n", r.Ptype, strings.Join(trimEmpty(r.Values), ", "))
		}
		return nil
	case "grant", "revoke":
		if *username == "" || *roleName == "" {
			return usageError{"usage: crm role " + args[0] + " --username U --role R"}
		}
		u, err := a.Access.GetUser(ctx, *username)
		if err != nil {
			return err
		}
		roles := slices.DeleteFunc(slices.Clone(u.Roles), func(r string) bool { return r == *roleName })
		if args[0] == "grant" {
			roles = append(roles, *roleName)
		}
		u, err = a.Access.UpdateUser(ctx, u.ID, access.UserUpdate{Roles: &roles})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now has roles: %s\n", u.Username, strings.Join(u.Roles, ", "))
		return nil
	case "explain":
		if *userRef == "" || *object == "" {
			return usageError{"usage: crm role explain --user U --object O [--record ID] [--field F]"}
		}
		ex, err := a.Engine.Explain(ctx, *userRef, *object, *record, *field)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(ex, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	return usageError{roleUsage}
}

// trimEmpty drops trailing empty values of a policy rule.
func trimEmpty(v []string) []string {
	for len(v) > 0 && v[len(v)-1] == "" {
		v = v[:len(v)-1]
	}
	return v
}
