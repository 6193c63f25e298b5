// Command crm is the CRM platform in one binary: the server and its
// administration commands.
//
//	crm serve [--addr 127.0.0.1:8080] [--db ./data/crm.db] [--template standard]
//	crm validate DIR
//	crm migrate [--plan] [--force] [--purge] [--dir DIR | --template NAME] [--db …]
//	crm recompute [--db …] [--batch 200]
//	crm bench [--db EMPTY_DB] [-n 500]
//	crm user add --username U --password P --role R [--manager M] [--db …]
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
	"syscall"
	_ "time/tzdata" // time zones for CRM_TIMEZONE and X-Timezone without system files
)

// usage is printed for an unknown or missing command.
const usage = `usage: crm <command> [flags]

commands:
  serve      start the server (flags: --addr, --db, --template)
  validate   check a folder of metadata: crm validate DIR
  migrate    apply metadata files to the database (--plan prints the DDL only)
  bench      measure the engine against plain SQL on an empty database (--db, -n)
  recompute  recompute stored formula values after a formula changed (resumes if interrupted)
  user       manage users: crm user add|list|passwd|deactivate
  role       roles: crm role list | show NAME | grant|revoke --username U --role R | explain --user U --object O

Flags have environment equivalents: CRM_ADDR, CRM_DB, CRM_TEMPLATE; CRM_TIMEZONE
sets the calendar of filters (this week, today …; the machine's zone by default); the first
admin's password comes from CRM_ADMIN_PASSWORD (or is generated and printed once).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, log)
	case "validate":
		err = validate(args[1:], stdout)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, log)
	case "bench":
		err = benchCmd(ctx, args[1:], stdout, log)
	case "recompute":
		err = recompute(ctx, args[1:], stdout, log)
	case "user":
		err = user(ctx, args[1:], stdout, log)
	case "role":
		err = role(ctx, args[1:], stdout, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "crm: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "crm %s: %v\n", args[0], err)
			return 2
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "crm %s: %v\n", args[0], err)
		}
		return 1
	}
	return 0
}

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
