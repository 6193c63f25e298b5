package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/metadata"
	"github.com/spf13/cobra"
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

// roleCommand is crm role: list, show, grant, revoke and explain.
func roleCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	c := &cobra.Command{Use: "role", Short: "roles: list, show, grant, revoke, explain", Args: cobra.ArbitraryArgs,
		RunE: func(*cobra.Command, []string) error { return usageError{roleUsage} }}
	var dsn, username, roleName, userRef, object, record, field string
	dbFlag(c.PersistentFlags(), &dsn)
	list := dbCommand("list", "roles with their parent and label", &dsn, log, nil, func(ctx context.Context, a *app, _ []string) error {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ROLE\tPARENT\tLABEL")
		for _, r := range a.Engine.Snapshot().Schema.Roles {
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.Parent, r.Label.Get("en"))
		}
		return w.Flush()
	})
	show := dbCommand("show NAME", "a role's permissions and its stored policies", &dsn, log, func(args []string) error {
		if len(args) != 1 {
			return usageError{"usage: crm role show NAME"}
		}
		return nil
	}, func(ctx context.Context, a *app, args []string) error {
		name := args[0]
		var def *metadata.Role
		for _, r := range a.Engine.Snapshot().Schema.Roles {
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
	})
	grants := func(use, short string, grant bool) *cobra.Command {
		g := dbCommand(use, short, &dsn, log, func(args []string) error {
			if len(args) > 0 || username == "" || roleName == "" {
				return usageError{"usage: crm role " + use + " --username U --role R"}
			}
			return nil
		}, func(ctx context.Context, a *app, _ []string) error {
			u, err := a.Access.GetUser(ctx, username)
			if err != nil {
				return err
			}
			roles := slices.DeleteFunc(slices.Clone(u.Roles), func(r string) bool { return r == roleName })
			if grant {
				roles = append(roles, roleName)
			}
			u, err = a.Access.UpdateUser(ctx, u.ID, access.UserUpdate{Roles: &roles})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s now has roles: %s\n", u.Username, strings.Join(u.Roles, ", "))
			return nil
		})
		g.Flags().StringVar(&username, "username", "", "user")
		g.Flags().StringVar(&roleName, "role", "", "role")
		return g
	}
	explain := dbCommand("explain", "why a user may or may not read and edit", &dsn, log, func(args []string) error {
		if len(args) > 0 || userRef == "" || object == "" {
			return usageError{"usage: crm role explain --user U --object O [--record ID] [--field F]"}
		}
		return nil
	}, func(ctx context.Context, a *app, _ []string) error {
		ex, err := a.Engine.Explain(ctx, userRef, object, record, field)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(ex, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	})
	explain.Flags().StringVar(&userRef, "user", "", "user to explain")
	explain.Flags().StringVar(&object, "object", "", "object to explain")
	explain.Flags().StringVar(&record, "record", "", "record id to explain")
	explain.Flags().StringVar(&field, "field", "", "field to explain")
	c.AddCommand(list, show, grants("grant", "give a user a role", true), grants("revoke", "take a role from a user", false), explain)
	return c
}

// trimEmpty drops trailing empty values of a policy rule.
func trimEmpty(v []string) []string {
	for len(v) > 0 && v[len(v)-1] == "" {
		v = v[:len(v)-1]
	}
	return v
}
