package engine_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
	"github.com/google/uuid"
)

// benchDialects runs a benchmark on SQLite and, when CRM_TEST_POSTGRES is
// set, on PostgreSQL.
func benchDialects(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
	}
}

// benchPlatform wires the platform with the standard template and returns
// a context acting as the admin (role admin: full policies, checked like
// any other role).
func benchPlatform(b *testing.B, db *store.DB) (*platform.Platform, context.Context) {
	ctx := context.Background()
	p, err := platform.New(ctx, db, nil, access.WithBcryptCost(4))
	if err != nil {
		b.Fatal(err)
	}
	fsys, _ := defaults.FS("standard")
	if _, err := p.Engine.InstallTemplate(ctx, fsys, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := p.Access.EnsureAdmin(ctx, "admin-password"); err != nil {
		b.Fatal(err)
	}
	_, pr, err := p.Access.Login(ctx, "admin", "admin-password")
	if err != nil {
		b.Fatal(err)
	}
	return p, access.WithPrincipal(ctx, pr)
}

// report records both timings and their ratio.
func report(b *testing.B, eng, plain time.Duration) {
	b.ReportMetric(float64(eng.Nanoseconds())/float64(b.N), "engine-ns/op")
	b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "bun-ns/op")
	b.ReportMetric(float64(eng)/float64(plain), "ratio")
}

// BenchmarkCreate inserts an account through the engine (permissions,
// validation, auto-number-free insert, re-read) and the same row through
// plain bun, alternating, and reports the ratio.
func BenchmarkCreate(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		p, ctx := benchPlatform(b, db)
		var eng, plain time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := p.Engine.Create(ctx, "account", map[string]any{"name": fmt.Sprint("E", i), "industry": "retail", "employees": int64(i), "annual_revenue": "1000.50"}); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			now := time.Now().UTC()
			row := map[string]any{"id": uuid.Must(uuid.NewV7()).String(), "created_at": now, "updated_at": now, "owner_id": "x", "version": 1,
				"name": fmt.Sprint("B", i), "industry": "retail", "employees": i, "annual_revenue": 100050}
			if db.Dialect == "sqlite" {
				row["created_at"], row["updated_at"] = now.Format(time.RFC3339), now.Format(time.RFC3339)
			}
			if _, err := db.NewInsert().Model(&row).TableExpr("account").Exec(context.Background()); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			eng += t1.Sub(t0)
			plain += t2.Sub(t1)
		}
		report(b, eng, plain)
	})
}

// BenchmarkList reads a filtered, sorted page of 50 accounts out of 2,000
// through the engine (permissions, filter compiled to SQL, conversion of
// every value to JSON form) and through plain bun scanning into maps.
func BenchmarkList(b *testing.B) {
	benchDialects(b, func(b *testing.B, db *store.DB) {
		p, ctx := benchPlatform(b, db)
		for i := 0; i < 2000; i++ {
			ind := []string{"retail", "finance", "it"}[i%3]
			if _, err := p.Engine.Create(ctx, "account", map[string]any{"name": fmt.Sprint("A", i), "industry": ind, "employees": int64(i)}); err != nil {
				b.Fatal(err)
			}
		}
		var eng, plain time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			res, err := p.Engine.List(ctx, "account", engine.ListOptions{Filter: `industry == "retail" && employees > 100`, Sort: "-employees", Limit: 50})
			if err != nil || len(res.Items) != 50 {
				b.Fatal(err, len(res.Items))
			}
			t1 := time.Now()
			var rows []map[string]any
			if err := db.NewSelect().TableExpr("account").Where("industry = ? AND employees > ?", "retail", 100).
				OrderExpr("employees DESC, id DESC").Limit(51).Scan(context.Background(), &rows); err != nil || len(rows) != 51 {
				b.Fatal(err, len(rows))
			}
			t2 := time.Now()
			eng += t1.Sub(t0)
			plain += t2.Sub(t1)
		}
		report(b, eng, plain)
	})
}
