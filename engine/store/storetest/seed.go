package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/crmplatform/crm/engine/store"
)

// Seed is a database state many tests of a package start from, such as an
// installed template with its users. Fill makes it once per test binary
// and dialect; every database opened from the seed afterwards is a copy of
// it (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL),
// which costs a fraction of filling each test's database again.
//
// A package whose tests use seeds runs them through Run (or Main) in its
// TestMain, which removes the seeds' databases at the end.
type Seed struct {
	name string
	fill func(ctx context.Context, db *store.DB) error

	mu       sync.Mutex
	sqlite   []byte // the SQLite file Fill made
	postgres string // the PostgreSQL database Fill made
}

// NewSeed declares a seed (in a package-level variable of the tests):
// name tells it apart in database names (lower-case letters, digits and
// underscores); fill fills a fresh, empty database and must keep nothing
// the tests rely on outside it (it may close nothing it was given: the
// database is closed after it).
func NewSeed(name string, fill func(ctx context.Context, db *store.DB) error) *Seed {
	return &Seed{name: name, fill: fill}
}

// seeds are the seeds made by this test binary, removed by Run.
var seeds struct {
	mu   sync.Mutex
	run  bool // Run is running the tests
	made []*Seed
}

// Run runs the tests of m and then removes the databases of the seeds
// they made; it returns m.Run's exit code. Call it from TestMain (or call
// Main).
func Run(m *testing.M) int {
	seeds.mu.Lock()
	seeds.run = true
	seeds.mu.Unlock()
	code := m.Run()
	seeds.mu.Lock()
	defer seeds.mu.Unlock()
	for _, s := range seeds.made {
		if err := s.remove(); err != nil {
			fmt.Fprintf(os.Stderr, "storetest: remove seed %s: %v\n", s.name, err)
		}
	}
	return code
}

// Main is a TestMain for packages whose tests use seeds: it runs the
// tests through Run and exits with their code.
func Main(m *testing.M) { os.Exit(Run(m)) }

// DialectsFrom is Dialects with both databases starting as copies of
// seed (empty when seed is nil).
func DialectsFrom(t *testing.T, seed *Seed, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteFrom(t, seed)) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(EnvPostgres) == "" {
			t.Skip("PostgreSQL run skipped: set " + EnvPostgres + " to a postgres:// URL to run it")
		}
		fn(t, PostgresFrom(t, seed))
	})
}

// SQLiteFrom opens a fresh SQLite database in a temporary folder that
// starts as a copy of seed (empty when seed is nil).
func SQLiteFrom(t testing.TB, seed *Seed) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	if seed != nil {
		if err := os.WriteFile(path, seed.sqliteFile(t), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return open(t, path)
}

// PostgresFrom creates a fresh database on the server named by
// CRM_TEST_POSTGRES as a copy of seed (empty when seed is nil), opens it
// and drops it when the test ends.
func PostgresFrom(t testing.TB, seed *Seed) *store.DB {
	t.Helper()
	template := ""
	if seed != nil {
		template = seed.postgresDatabase(t)
	}
	return open(t, createDatabase(t, template))
}

// open opens dsn and closes it when the test ends.
func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteFile returns the seed's SQLite file, filling it first if needed.
func (s *Seed) sqliteFile(t testing.TB) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sqlite != nil {
		return s.sqlite
	}
	s.register(t)
	dir, err := os.MkdirTemp("", "crm-seed-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "seed.db")
	if err := s.fillAt(path); err != nil {
		t.Fatal(err)
	}
	// Closing the last connection checkpointed the WAL into the file.
	if s.sqlite, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return s.sqlite
}

// postgresDatabase returns the name of the seed's PostgreSQL database,
// filling it first if needed.
func (s *Seed) postgresDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.postgres != "" {
		return s.postgres
	}
	if os.Getenv(EnvPostgres) == "" {
		t.Skip("PostgreSQL skipped: " + EnvPostgres + " is not set")
	}
	s.register(t)
	name, dsn, err := newDatabase("crmseed_"+s.name+"_", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.fillAt(dsn); err != nil {
		if derr := dropDatabase(name); derr != nil {
			t.Logf("drop %s: %v", name, derr)
		}
		t.Fatal(err)
	}
	s.postgres = name
	return name
}

// fillAt opens dsn, fills it and closes it.
func (s *Seed) fillAt(dsn string) error {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	err = s.fill(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storetest: fill seed %s on %s: %w", s.name, db.Dialect, err)
	}
	return nil
}

// register records the seed for removal by Run; seeds need Run.
func (s *Seed) register(t testing.TB) {
	t.Helper()
	seeds.mu.Lock()
	defer seeds.mu.Unlock()
	if !seeds.run {
		t.Fatalf("storetest: seed %s needs storetest.Main (or Run) in the package's TestMain", s.name)
	}
	for _, o := range seeds.made {
		if o == s {
			return
		}
	}
	seeds.made = append(seeds.made, s)
}

// remove drops the seed's PostgreSQL database (the SQLite file lives in
// memory only).
func (s *Seed) remove() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.postgres == "" {
		return nil
	}
	return dropDatabase(s.postgres)
}
