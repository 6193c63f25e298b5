package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/crmplatform/crm/internal/server"
	"github.com/crmplatform/crm/sales/imports"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// importCommand is crm import OBJECT FILE.csv: it imports a CSV file (UTF-8
// or GB18030/GBK) as a user, with the sales rules (assignment, duplicates)
// applied, showing a progress bar on standard error and printing the
// summary {"created", "updated", "skipped", "errors"} as JSON.
func importCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var dsn, user, key, mapping string
	var dry bool
	var batch int
	c := &cobra.Command{Use: "import OBJECT FILE.csv", Short: "import a CSV file into records of an object", Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{"usage: " + c.UseLine()}
			}
			opt := imports.Options{Object: args[0], Key: key, DryRun: dry, Batch: batch}
			if mapping != "" {
				if err := json.Unmarshal([]byte(mapping), &opt.Mapping); err != nil {
					return usageError{"--mapping must be a JSON object of column: field"}
				}
			}
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			ctx := c.Context()
			a, err := open(ctx, dsn, log)
			if err != nil {
				return err
			}
			defer a.Close()
			if _, err := server.Parts(ctx, a.Platform); err != nil {
				return err
			}
			u, err := a.Access.GetUser(ctx, user)
			if err != nil {
				return fmt.Errorf("--user %s: %w", user, err)
			}
			bar := progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(c.ErrOrStderr()), progressbar.OptionShowBytes(true),
				progressbar.OptionSetDescription("import "+args[1]), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
			res, err := imports.Run(ctx, a.Engine, u.Principal(), io.TeeReader(f, bar), opt)
			if err != nil {
				return err
			}
			_ = bar.Finish()
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}}
	dbFlag(c.Flags(), &dsn)
	c.Flags().StringVar(&user, "user", "admin", "the user the records are imported as (their rights apply)")
	c.Flags().StringVar(&key, "key", "", "a field identifying existing records: rows with a known key update them")
	c.Flags().StringVar(&mapping, "mapping", "", `columns to fields as JSON, {"Company name": "company"}`)
	c.Flags().BoolVar(&dry, "dry-run", false, "check every row and write nothing")
	c.Flags().IntVar(&batch, "batch", imports.DefaultBatch, "rows per transaction")
	return c
}
