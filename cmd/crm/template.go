package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/server"
	"github.com/crmplatform/crm/templates"
	"github.com/spf13/cobra"
)

// templateUsage lists the template sub-commands.
const templateUsage = `usage:
  crm template list                          built-in templates and the one installed
  crm template install NAME|DIR [--sample] [--plan]
                                             install a template (on a database with metadata: merge it in, as upgrade)
  crm template upgrade NAME|DIR [--plan]     merge a newer version into the metadata, keeping the administrators' changes
  crm template export DIR                    write the current metadata as a template folder
  crm template diff DIR                      what installing the folder would change
Every command takes --db (CRM_DB).`

// templateCommand is crm template: list, install, upgrade, export, diff.
func templateCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	c := &cobra.Command{Use: "template", Short: "templates: list, install, upgrade, export, diff", Args: cobra.ArbitraryArgs,
		RunE: func(*cobra.Command, []string) error { return usageError{templateUsage} }}
	var dsn, user string
	var sample, plan bool
	dbFlag(c.PersistentFlags(), &dsn)
	one := func(use string) func(args []string) error {
		return func(args []string) error {
			if len(args) != 1 {
				return usageError{"usage: crm template " + use}
			}
			return nil
		}
	}
	list := dbCommand("list", "built-in templates and the one installed", &dsn, log, nil, func(ctx context.Context, a *app, _ []string) error {
		sv, err := wireTemplates(ctx, a)
		if err != nil {
			return err
		}
		return listTemplates(ctx, sv, stdout)
	})
	install := func(use, short string) *cobra.Command {
		cmd := dbCommand(use+" NAME|DIR", short, &dsn, log, one(use+" NAME|DIR"), func(ctx context.Context, a *app, args []string) error {
			return installTemplate(ctx, a, args[0], user, plan, sample && use == "install", stdout)
		})
		cmd.Flags().BoolVar(&plan, "plan", false, "say what would change and change nothing")
		if use == "install" {
			cmd.Flags().BoolVar(&sample, "sample", false, "load the template's sample data after installing")
			cmd.Flags().StringVar(&user, "user", "admin", "the user the sample records belong to (created with CRM_ADMIN_PASSWORD when it is admin and missing)")
		}
		return cmd
	}
	export := dbCommand("export DIR", "write the current metadata as a template folder", &dsn, log, one("export DIR"), func(ctx context.Context, a *app, args []string) error {
		sv, err := wireTemplates(ctx, a)
		if err != nil {
			return err
		}
		files, err := sv.Export(ctx)
		if err != nil {
			return err
		}
		if err := templates.WriteDir(args[0], files); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d files to %s\n", len(files), args[0])
		return nil
	})
	diff := dbCommand("diff DIR", "what installing the folder would change", &dsn, log, one("diff DIR"), func(ctx context.Context, a *app, args []string) error {
		sv, err := wireTemplates(ctx, a)
		if err != nil {
			return err
		}
		fsys, err := templateFS(args[0], "")
		if err != nil {
			return err
		}
		changes, err := sv.Diff(fsys)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			fmt.Fprintln(stdout, ch.String())
		}
		fmt.Fprintf(stdout, "-- %d change(s)\n", len(changes))
		return nil
	})
	c.AddCommand(list, install("install", "install a template"), install("upgrade", "merge a newer version of a template into the metadata"), export, diff)
	return c
}

// wireTemplates wires the server's parts (their hooks keep their tables in
// step with metadata changes) and the template service.
func wireTemplates(ctx context.Context, a *app) (*templates.Service, error) {
	if _, err := server.Parts(ctx, a.Platform); err != nil {
		return nil, err
	}
	return templates.New(ctx, a.Engine)
}

// listTemplates prints the built-in templates and the installed one.
func listTemplates(ctx context.Context, sv *templates.Service, stdout io.Writer) error {
	list, err := templates.Builtins()
	if err != nil {
		return err
	}
	in, err := sv.Current(ctx)
	if err != nil && err != templates.ErrNotInstalled {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tEXTENDS\tSAMPLE\tINSTALLED\tLABEL")
	for _, b := range list {
		mark := ""
		if in != nil && in.Name == b.Name {
			mark = in.Version
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\n", b.Name, b.Version, b.Extends, b.Sample, mark, b.Label.Get("en"))
	}
	return w.Flush()
}

// templateSource is a folder on disk when ref names one, else the built-in
// template ref.
func templateSource(ref string) (fs.FS, error) {
	if st, err := os.Stat(ref); err == nil && st.IsDir() {
		return templateFS(ref, "")
	}
	if strings.ContainsAny(ref, `/\`) {
		return nil, fmt.Errorf("no template folder %s", ref)
	}
	return defaults.FS(ref)
}

// installTemplate installs or upgrades a template and, with sample, loads
// its sample data as user.
func installTemplate(ctx context.Context, a *app, ref, user string, plan, sample bool, stdout io.Writer) error {
	fsys, err := templateSource(ref)
	if err != nil {
		return err
	}
	sv, err := wireTemplates(ctx, a)
	if err != nil {
		return err
	}
	p, err := sv.Apply(ctx, fsys, "crm template", plan)
	if p != nil {
		if p.From != "" {
			fmt.Fprintf(stdout, "-- %s → %s %s\n", p.From, p.Template.Name, p.Template.Version)
		}
		for _, d := range p.Described {
			fmt.Fprintln(stdout, "-- "+d)
		}
		for _, c := range p.Conflicts {
			fmt.Fprintln(stdout, "conflict: "+c.String())
		}
		fmt.Fprint(stdout, p.SQL)
	}
	if err != nil {
		return err
	}
	if plan {
		fmt.Fprintf(stdout, "-- plan only: %d change(s), %d conflict(s); run without --plan to apply as version %d\n", len(p.Changes), len(p.Conflicts), p.Version)
		return nil
	}
	fmt.Fprintf(stdout, "-- applied %s %s as metadata version %d (%d conflict(s), the current value kept)\n", p.Template.Name, p.Template.Version, p.Version, len(p.Conflicts))
	if err := runRecompute(ctx, a.Engine, stdout); err != nil {
		return err
	}
	if !sample {
		return nil
	}
	if user == "admin" {
		generated, created, err := a.Access.EnsureAdmin(ctx, os.Getenv("CRM_ADMIN_PASSWORD"))
		if err != nil {
			return err
		}
		if created && generated != "" {
			fmt.Fprintf(stdout, "created user admin with password: %s\n", generated)
		}
	}
	if err := loadSample(ctx, a, fsys, user, stdout); err != nil {
		return err
	}
	return runRecompute(ctx, a.Engine, stdout)
}

// loadSample creates a template's sample records as user and says how
// many.
func loadSample(ctx context.Context, a *app, fsys fs.FS, user string, stdout io.Writer) error {
	u, err := a.Access.GetUser(ctx, user)
	if err != nil {
		return fmt.Errorf("sample data as user %s: %w", user, err)
	}
	res, err := templates.LoadSample(ctx, a.Engine, u.Principal(), fsys)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample data: %d record(s)\n", res.Total)
	return nil
}
