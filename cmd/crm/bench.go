package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/crmplatform/crm/internal/bench"
	"github.com/spf13/cobra"
)

// benchOptions are the flags of crm bench.
type benchOptions struct {
	dsn   string
	n     int
	scale float64
	reps  int
	reuse bool
	only  []string
	prof  string
	block int
	time  time.Duration
}

// benchCommand is crm bench: it loads the benchmark's data set (the
// standard template at --scale; 1 is 100,000 accounts, 300,000 contacts,
// 1,000,000 opportunities and 1,000,000 activities) into an empty
// database (a temporary SQLite file by default, or --db), then runs every
// scenario through the engine and as hand-written SQL alternately and
// prints each with its ratio and target.
func benchCommand(stdout io.Writer, log *slog.Logger) *cobra.Command {
	var o benchOptions
	c := &cobra.Command{Use: "bench", Short: "load a data set and measure the engine against hand-written SQL", Args: noArgs}
	fl := c.Flags()
	fl.StringVar(&o.dsn, "db", "", "an empty database to load and run on (default: a temporary SQLite file), or one loaded before with --reuse")
	fl.IntVarP(&o.n, "n", "n", 500, "iterations of each scenario, at least")
	fl.DurationVar(&o.time, "benchtime", time.Second, "time each scenario runs at least, both ways together, as go test -bench sizes its runs (0: exactly -n iterations)")
	fl.Float64Var(&o.scale, "scale", 1, "size of the data set: 1 is 2.4 million records, 0.01 is 24,000")
	fl.IntVar(&o.reps, "reps", 10, "sales reps under each of the 5 managers (the records are shared out among the reps)")
	fl.BoolVar(&o.reuse, "reuse", false, "run on the data set already loaded in --db instead of loading one")
	fl.StringSliceVar(&o.only, "only", nil, "run only these scenarios (names as printed, comma-separated)")
	fl.StringVar(&o.prof, "cpuprofile", "", "write a CPU profile of the scenarios (not of the load) to this file, for go tool pprof")
	fl.IntVar(&o.block, "block", 1, "iterations each way runs in a row before the other (1: alternate every iteration, the benchmark of record)")
	c.RunE = func(c *cobra.Command, _ []string) error { return runBench(c.Context(), o, stdout, log) }
	return c
}

// runBench loads the data set (unless reused) and runs the scenarios.
func runBench(ctx context.Context, o benchOptions, stdout io.Writer, log *slog.Logger) error {
	if o.n < 1 {
		return usageError{"-n must be at least 1"}
	}
	if o.scale <= 0 || o.scale > 10 {
		return usageError{"--scale must be above 0 and at most 10"}
	}
	if o.reps < 1 || o.reps > 100 {
		return usageError{"--reps must be 1 to 100"}
	}
	if o.block < 1 {
		return usageError{"--block must be at least 1"}
	}
	if o.time < 0 {
		return usageError{"--benchtime must not be negative"}
	}
	if o.reuse && o.dsn == "" {
		return usageError{"--reuse needs --db"}
	}
	if o.dsn == "" {
		dir, err := os.MkdirTemp("", "crm-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dsn = filepath.Join(dir, "bench.db")
	}
	a, err := open(ctx, o.dsn, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var env *bench.Env
	if o.reuse {
		env, err = bench.Open(ctx, a.Platform)
	} else {
		ds := bench.Scaled(o.scale)
		ds.RepsPerManager = o.reps
		fmt.Fprintf(stdout, "loading %d records (%d accounts) into %s (%s)\n", ds.Records(), ds.Accounts, a.db.Dialect, redact(o.dsn))
		start := time.Now()
		env, err = bench.Load(ctx, a.Platform, ds, func(msg string) { fmt.Fprintln(stdout, "  "+msg) })
		if err == nil {
			fmt.Fprintf(stdout, "loaded in %s\n", time.Since(start).Round(time.Second))
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "engine against hand-written SQL on %s, at least %d iterations and %s each\n", a.db.Dialect, o.n, o.time)
	cases := bench.Cases(env)
	for _, name := range o.only {
		if !slices.ContainsFunc(cases, func(c bench.Case) bool { return c.Name == name }) {
			return usageError{fmt.Sprintf("--only: no scenario %q", name)}
		}
	}
	if o.prof != "" {
		stop, err := startProfile(o.prof)
		if err != nil {
			return err
		}
		defer stop()
	}
	missed := 0
	for _, c := range cases {
		if len(o.only) > 0 && !slices.Contains(o.only, c.Name) {
			continue
		}
		r, err := bench.RunFor(ctx, c, o.n, o.block, o.time)
		if errors.Is(err, bench.ErrSkipped) {
			fmt.Fprintln(stdout, err)
			continue
		}
		if err != nil {
			return err
		}
		if !r.Holds() {
			missed++
		}
		fmt.Fprintln(stdout, r.String())
	}
	if missed > 0 {
		fmt.Fprintf(stdout, "%d target(s) missed\n", missed)
	}
	return nil
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
