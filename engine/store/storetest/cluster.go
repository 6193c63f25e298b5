package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a throwaway PostgreSQL server of one test, which the test may
// stop and start again (to see how the platform lives through an outage).
type Cluster struct {
	bin  string // folder of initdb and pg_ctl
	dir  string // data, socket and log
	port int
	// asPostgres runs the binaries as the postgres user (through su), as
	// PostgreSQL refuses to run as root.
	asPostgres bool
}

// NewCluster creates a cluster with initdb in a fresh folder, starts it on
// a free local port and stops it when the test ends. It skips the test
// when the PostgreSQL binaries (/usr/lib/postgresql/*/bin) are missing.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: throwaway cluster skipped")
	}
	sort.Strings(bins)
	c := &Cluster{bin: filepath.Dir(bins[len(bins)-1]), asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "crm-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		_ = c.pgCtl("-m immediate stop")
		os.RemoveAll(dir)
	})
	if c.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user: throwaway cluster skipped")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := c.run(fmt.Sprintf("%s/initdb -D %s/data -A trust -U postgres", c.bin, c.dir)); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Start(t)
	return c
}

// URL is the connection URL of the cluster's postgres database.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	if err := c.pgCtl(fmt.Sprintf("-l %s/log -w -o '%s' start", c.dir, opts)); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("start PostgreSQL: %v\n%s", err, log)
	}
}

// Stop stops the server at once (fast shutdown: open connections are
// ended) and waits until it is down.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.pgCtl("-m fast -w stop"); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
}

// pgCtl runs pg_ctl on the cluster's data folder.
func (c *Cluster) pgCtl(args string) error {
	out, err := c.run(fmt.Sprintf("%s/pg_ctl -D %s/data %s", c.bin, c.dir, args))
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// run runs a shell command line, as the postgres user when needed.
func (c *Cluster) run(cmdline string) ([]byte, error) {
	if c.asPostgres {
		return exec.Command("su", "postgres", "-c", cmdline).CombinedOutput()
	}
	return exec.Command("sh", "-c", cmdline).CombinedOutput()
}
