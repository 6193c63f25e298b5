// Command crm is the CRM platform in one binary: the server and its
// administration commands.
//
//	crm serve [--addr 127.0.0.1:8080] [--db ./data/crm.db] [--template standard]
//	crm validate DIR
//	crm migrate [--plan] [--force] [--purge] [--dir DIR | --template NAME] [--db …]
//	crm recompute [--db …] [--batch 200]
//	crm jobs [list] [--state S] [--kind K] [--limit 50] | retry ID [--db …]
//	crm import OBJECT FILE.csv [--user admin] [--key FIELD] [--mapping JSON] [--dry-run] [--db …]
//	crm bench [--db EMPTY_DB] [-n 500]
//	crm load [--url URL] [--user U] [--connections 16] [--duration 10s] [--pid PID]
//	crm explain-list OBJECT --user U [--filter F] [--sort S] [--limit N] [--cursor C] [--total]
//	crm user add --username U --password P --role R [--manager M] [--db …]
//	crm template list | install NAME|DIR [--sample] [--plan] | upgrade NAME|DIR [--plan] | export DIR | diff DIR
//	crm role list | show NAME | grant|revoke --username U --role R | explain --user U --object O [--record ID] [--field F]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // time zones for CRM_TIMEZONE and X-Timezone without system files
	"unicode"

	"github.com/spf13/cobra"
)

// usage is printed for an unknown or missing command.
const usage = `usage: crm <command> [flags]

commands:
  serve      start the server (flags: --addr, --db, --template)
  validate   check a folder of metadata: crm validate DIR
  migrate    apply metadata files to the database (--plan prints the DDL only and changes nothing)
  bench      measure the engine against plain SQL on an empty database (--db, --scale, -n, --reuse, --only, --cpuprofile)
  load       HTTP load run against a running server: req/s, p50, p99 (--url, --user, --connections, --duration, --pid)
  explain-list  the SQL and plan of a user's list: crm explain-list OBJECT --user U [--filter F] [--sort S]
  recompute  recompute stored formula values after a formula changed (resumes if interrupted)
  jobs       background jobs: crm jobs [--state S] [--kind K] | crm jobs retry ID
  import     import a CSV file (UTF-8 or GBK): crm import OBJECT FILE.csv [--user U] [--key FIELD] [--mapping JSON] [--dry-run]
  user       manage users: crm user add|list|passwd|deactivate
  template   templates: crm template list | install NAME [--sample] [--plan] | upgrade NAME [--plan] | export DIR | diff DIR
  role       roles: crm role list | show NAME | grant|revoke --username U --role R | explain --user U --object O

Flags may come before or after arguments (crm role show NAME --db X); crm <command> --help lists
a command's flags. Flags have environment equivalents: CRM_ADDR, CRM_DB, CRM_TEMPLATE; CRM_TIMEZONE
sets the calendar of filters (this week, today …; the machine's zone by default); the first
admin's password comes from CRM_ADMIN_PASSWORD (or is generated and printed once).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command line and returns the exit code: 0, 1 when the
// command failed, 2 for a bad command line. Flags may come before or after
// positional arguments; a long flag may also be written with one dash
// (-db), as before the move to cobra.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	lw := newLogWriter(stderr)
	defer lw.Close()
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	root := rootCommand(stdout, log)
	root.SetArgs(longFlags(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	_ = lw.Close() // the log before what is printed below
	if err == nil {
		return 0
	}
	var uc unknownCommand
	var ue usageError
	switch {
	case errors.As(err, &uc):
		fmt.Fprintf(stderr, "crm: unknown command %q\n\n%s", uc.name, usage)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
		return 2
	case !errors.Is(err, errReported):
		fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	}
	return 1
}

// rootCommand builds the command tree; flags take their defaults from the
// environment as it is now.
func rootCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	root := &cobra.Command{
		Use: "crm", SilenceUsage: true, SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand{args[0]}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error { return usageError{usage} },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(serveCommand(stdout, log), validateCommand(stdout), migrateCommand(stdout, log), benchCommand(stdout, log), loadCommand(stdout), explainListCommand(stdout, log),
		recomputeCommand(stdout, log), jobsCommand(stdout, log), userCommand(stdout, log), roleCommand(stdout, log), importCommand(stdout, log), templateCommand(stdout, log))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Sprintf("%v\nusage: %s", err, c.UseLine())}
	})
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if c == root {
			fmt.Fprint(c.OutOrStdout(), usage)
			return
		}
		help(c, args)
	})
	return root
}

// noArgs refuses positional arguments as a bad command line.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q\nusage: %s", args[0], c.UseLine())}
	}
	return nil
}

// longFlags rewrites long flags written with one dash (-db x, -plan) into
// the two dashes cobra wants, up to a "--"; one-letter flags (-n) stay.
func longFlags(args []string) []string {
	out := make([]string, len(args))
	rest := false
	for i, a := range args {
		out[i] = a
		rest = rest || a == "--"
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if !rest && len(a) > 2 && a[0] == '-' && a[1] != '-' && len(name) > 1 && unicode.IsLetter(rune(name[0])) {
			out[i] = "-" + a
		}
	}
	return out
}

// unknownCommand is a command line naming no command.
type unknownCommand struct{ name string }

// Error names the command.
func (e unknownCommand) Error() string { return fmt.Sprintf("unknown command %q", e.name) }

// usageError is a bad command line.
type usageError struct{ msg string }

// Error returns the message.
func (e usageError) Error() string { return e.msg }

// errReported means the command already printed what went wrong.
var errReported = errors.New("reported")

// env returns the environment variable name or def.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
