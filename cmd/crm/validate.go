package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// validateCommand is crm validate DIR.
func validateCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{Use: "validate DIR", Short: "check a folder of metadata", Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error { return validate(args, stdout) }}
}

// validate checks a folder of metadata through every check that needs no
// database and prints every problem of every stage with its file, JSON
// pointer and reason.
func validate(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"give one folder: crm validate DIR"}
	}
	fsys, err := templateFS(args[0], "")
	if err != nil {
		return err
	}
	tpl, s, ps := loadChecked(fsys)
	if len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.String())
		}
		fmt.Fprintf(stdout, "%d problem(s) in %s\n", len(ps), args[0])
		return errReported
	}
	fmt.Fprintf(stdout, "%s: template %s with %d objects and %d roles is valid\n", args[0], tpl.Name, len(s.Objects), len(s.Roles))
	return nil
}
