package integration_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/access"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/integration"
	"github.com/crmplatform/crm/internal/apitest"
)

// benchTemplate adds two objects that differ only in their name: a
// webhook follows the creates of one of them.
var benchTemplate = fstest.MapFS{
	"template.yaml":            {Data: []byte("name: bench\nextends: standard")},
	"objects/item_plain.yaml":  {Data: []byte(benchItem("item_plain"))},
	"objects/item_hooked.yaml": {Data: []byte(benchItem("item_hooked"))},
}

// benchItem is an object of the benchmark.
func benchItem(name string) string {
	return "name: " + name + "\nfields:\n  - {name: name, type: text}\n  - {name: amount, type: currency}\n  - {name: code, type: text}\n"
}

// BenchmarkWriteOverheadWebhook creates records of an object a webhook
// follows (its data read as a run-as user, one outbox row and one job per
// write) and of the same object without one, in one run, and reports both
// write times and their ratio. Nothing is delivered: the target is never
// called during a write.
func BenchmarkWriteOverheadWebhook(b *testing.B) {
	run := func(b *testing.B, db *store.DB) {
		b.Setenv(integration.AllowEnv, "erp.example.com")
		s := apitest.New(b, db, apitest.Options{Template: defaults.WithBases(benchTemplate)})
		if status, m := s.Do("POST", "/api/meta/webhooks", "admin", `{"name": "erp", "url": "https://erp.example.com/hook", "secret": "`+secret+`",
			"run_as": "admin", "events": [{"event": "record.created", "object": "item_hooked"}]}`); status != 201 {
			b.Fatalf("define: %d %v", status, m)
		}
		u, err := s.Platform.Access.GetUser(context.Background(), "admin")
		if err != nil {
			b.Fatal(err)
		}
		ctx := access.WithPrincipal(context.Background(), u.Principal())
		data := func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("Item %d", i), "amount": "12.50", "code": "C-1"}
		}
		var plain, hooked time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := s.Platform.Engine.Create(ctx, "item_plain", data(i)); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := s.Platform.Engine.Create(ctx, "item_hooked", data(i)); err != nil {
				b.Fatal(err)
			}
			plain += t1.Sub(t0)
			hooked += time.Since(t1)
		}
		b.StopTimer()
		var queued int
		if err := s.Platform.DB.SQL().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+integration.TableDeliveries).Scan(&queued); err != nil {
			b.Fatal(err)
		}
		if queued < b.N {
			b.Fatalf("%d deliveries queued for %d writes", queued, b.N)
		}
		n := float64(b.N)
		b.ReportMetric(float64(plain.Nanoseconds())/n, "ns/write-plain")
		b.ReportMetric(float64(hooked.Nanoseconds())/n, "ns/write-webhook")
		b.ReportMetric(float64(hooked)/float64(plain), "ratio")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { run(b, storetest.Postgres(b)) })
	}
}
