package engine_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/bench"
	"github.com/crmplatform/crm/internal/platform"
)

// benchData is the data set of `go test -bench`: 2,000 accounts and
// 48,000 records in all, owned by four reps (5,000 opportunities each);
// `crm bench --scale` runs the full one.
var benchData = bench.Dataset{Accounts: 2000, ContactsPerAccount: 3, OppsPerAccount: 10, ActivitiesPerAccount: 10, Managers: 1, RepsPerManager: 4}

// benchDialects runs a benchmark on SQLite and, when CRM_TEST_POSTGRES is
// set, on PostgreSQL.
func benchDialects(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
	}
}

// loaded returns a platform over a loaded data set.
func loaded(tb testing.TB, db *store.DB, ds bench.Dataset) *bench.Env {
	ctx := context.Background()
	p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
	if err != nil {
		tb.Fatal(err)
	}
	env, err := bench.Load(ctx, p, ds, func(string) {})
	if err != nil {
		tb.Fatal(err)
	}
	return env
}

// BenchmarkEngine runs every scenario of internal/bench (the ones `crm
// bench` runs) on a loaded data set: the engine and hand-written SQL
// alternately, b.N times each, reporting both timings and their ratio.
func BenchmarkEngine(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		env := loaded(b, db, benchData)
		for _, c := range bench.Cases(env) {
			b.Run(c.Name, func(b *testing.B) {
				ctx := context.Background()
				if c.Setup != nil {
					if err := c.Setup(ctx, b.N); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				r, err := bench.Iterate(ctx, c, b.N)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(r.Engine.Nanoseconds())/float64(b.N), "engine-ns/op")
				b.ReportMetric(float64(r.Plain.Nanoseconds())/float64(b.N), "sql-ns/op")
				b.ReportMetric(r.Ratio(), "ratio")
				if r.PlainCPU > 0 {
					b.ReportMetric(r.CPURatio(), "cpu-ratio")
				}
				if r.PlainP50 > 0 {
					b.ReportMetric(r.P50Ratio(), "p50-ratio")
					b.ReportMetric(r.PairP50, "pairs-ratio")
					b.ReportMetric(r.TrimmedRatio(), "trimmed-ratio")
				}
			})
		}
	})
}

// TestBenchScenarios runs each scenario of the benchmark a few times on a
// small data set, on both databases, so the benchmark keeps working: the
// engine and the hand-written SQL must both succeed (the lists check that
// their pages are full).
func TestBenchScenarios(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, db *store.DB) {
		env := loaded(t, db, bench.Dataset{Accounts: 300, ContactsPerAccount: 1, OppsPerAccount: 10, ActivitiesPerAccount: 1, Managers: 1, RepsPerManager: 2})
		for _, c := range bench.Cases(env) {
			if _, err := bench.Run(context.Background(), c, 3); err != nil {
				t.Error(err)
			}
		}
	})
}

// errDropped ends BenchmarkCreateWork's units of work: what they wrote is
// rolled back.
var errDropped = errors.New("dropped")

// BenchmarkCreateWork measures the engine's own work of crm bench's lone
// create (a rep's account with a name and an industry) with its INSERT
// held back and dropped: the unit of work fails after the create, so
// nothing is written. A failed unit reads the metadata version once;
// "nothing" is that cost alone (a unit that fails at once), to subtract.
func BenchmarkCreateWork(b *testing.B) {
	env := loaded(b, storetest.SQLite(b), bench.Dataset{Accounts: 20, ContactsPerAccount: 1, OppsPerAccount: 1, ActivitiesPerAccount: 1, Managers: 1, RepsPerManager: 1})
	ctx := engine.WithRequest(access.WithPrincipal(context.Background(), env.Rep))
	for _, bc := range []struct {
		name   string
		create bool
	}{{"create", true}, {"nothing", false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				err := env.P.Engine.Tx(ctx, env.Rep, func(w *engine.Writer) error {
					if !bc.create {
						return errDropped
					}
					if _, err := w.Create(ctx, "account", map[string]any{"name": "E" + strconv.Itoa(i), "industry": "retail"}); err != nil {
						return err
					}
					return errDropped
				})
				if !errors.Is(err, errDropped) {
					b.Fatal(err)
				}
			}
		})
	}
}
