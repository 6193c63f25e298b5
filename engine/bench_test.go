package engine_test

import (
	"context"
	"os"
	"testing"

	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/bench"
	"github.com/crmplatform/crm/internal/platform"
)

// benchDialects runs a benchmark on SQLite and, when CRM_TEST_POSTGRES is
// set, on PostgreSQL.
func benchDialects(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
	}
}

// runCase runs one scenario of internal/bench (the same ones `crm bench`
// runs) on a fresh database: the engine and plain bun alternately, b.N
// times each, reporting both timings and their ratio.
func runCase(b *testing.B, name string) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		p, err := platform.New(ctx, platform.Config{DB: db, Access: []access.Option{access.WithBcryptCost(4)}})
		if err != nil {
			b.Fatal(err)
		}
		actx, err := bench.Prepare(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range bench.Cases(p, actx) {
			if c.Name != name {
				continue
			}
			if c.Setup != nil {
				if err := c.Setup(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			r, err := bench.Iterate(ctx, c, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Engine.Nanoseconds())/float64(b.N), "engine-ns/op")
			b.ReportMetric(float64(r.Plain.Nanoseconds())/float64(b.N), "bun-ns/op")
			b.ReportMetric(r.Ratio(), "ratio")
			return
		}
		b.Fatalf("no bench case %q", name)
	})
}

// BenchmarkCreate inserts an account through the engine (permissions,
// validation, transaction, answer) and the same row through plain bun.
func BenchmarkCreate(b *testing.B) { runCase(b, "create") }

// BenchmarkList reads a filtered, sorted page of 50 leads out of 2,000
// through the engine (permissions, filter compiled to SQL, conversion of
// every value) and through plain bun scanning into maps.
func BenchmarkList(b *testing.B) { runCase(b, "list") }
