package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crmplatform/crm/internal/bench"
	"github.com/spf13/cobra"
)

// loadCommand is crm load: an HTTP load run against a running server
// (over a data set loaded by crm bench --db … --keep, say), printing
// requests per second with p50 and p99 for each scenario, and with --pid
// the server's peak memory.
func loadCommand(stdout io.Writer) *cobra.Command {
	cfg := bench.LoadConfig{}
	var scenarios string
	var pid int
	c := &cobra.Command{Use: "load", Short: "HTTP load run against a running server: req/s, p50, p99, peak memory", Args: noArgs}
	fl := c.Flags()
	fl.StringVar(&cfg.URL, "url", "http://"+defaultAddr, "the server's base URL")
	fl.StringVar(&cfg.Username, "user", "rep001", "the user the requests act as")
	fl.StringVar(&cfg.Password, "password", bench.Password, "the user's password")
	fl.IntVar(&cfg.Connections, "connections", 16, "requests in flight at once")
	fl.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each scenario runs")
	fl.StringVar(&scenarios, "scenarios", strings.Join(bench.LoadScenarios, ","), "scenarios to run, in order")
	fl.IntVar(&pid, "pid", 0, "process id of the server, to report its peak memory (Linux)")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if cfg.Connections < 1 || cfg.Duration <= 0 {
			return usageError{"--connections must be at least 1 and --duration above 0"}
		}
		cfg.Scenarios = strings.Split(scenarios, ",")
		fmt.Fprintf(stdout, "%s as %s, %d connections, %s per scenario\n", cfg.URL, cfg.Username, cfg.Connections, cfg.Duration)
		results, err := bench.HTTPLoad(c.Context(), cfg)
		if err != nil {
			return err
		}
		for _, r := range results {
			fmt.Fprintln(stdout, r.String())
		}
		if pid > 0 {
			peak, cur, err := bench.PeakMemory(pid)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "server memory: peak %d MB, now %d MB\n", peak>>20, cur>>20)
		}
		return nil
	}
	return c
}
