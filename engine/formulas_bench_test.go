package engine

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/metadata"
)

// formulaBenchFields are the ten computed fields of the write-overhead
// benchmark: arithmetic on amounts, a picklist attribute, dates, text, a
// condition and a lookup read.
var formulaBenchFields = []*metadata.Field{
	{Name: "f1", Type: "currency", Formula: "amount * option(stage).probability / 100"},
	{Name: "f2", Type: "currency", Formula: "f1 * (1 - discount / 100)"},
	{Name: "f3", Type: "boolean", Formula: "amount >= 1000000"},
	{Name: "f4", Type: "integer", Formula: "days_between(created_at, today())"},
	{Name: "f5", Type: "text", Formula: "concat(upper(left(name, 3)), '-', label(stage))"},
	{Name: "f6", Type: "date", Formula: "add_months(start_of_month(today()), 1)"},
	{Name: "f7", Type: "decimal", Formula: "round(amount / max(qty, 1), 2)"},
	{Name: "f8", Type: "text", Formula: "if(f3, 'big', case(stage, 'won', 'done', 'open'))"},
	{Name: "f9", Type: "integer", Formula: "qty * 2 + len(name)"},
	{Name: "f10", Type: "text", Formula: "label(account.industry)"},
}

// formulaBenchEngine installs the standard template plus two objects that
// differ only in the ten computed fields.
func formulaBenchEngine(b *testing.B, db *store.DB) *Engine {
	ctx := context.Background()
	e, err := New(ctx, Config{DB: db, Guard: ownerGuard{}})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.UseFormulas(ctx); err != nil {
		b.Fatal(err)
	}
	fsys, _ := defaults.FS("standard")
	if _, err := e.InstallTemplate(ctx, fsys, "bench"); err != nil {
		b.Fatal(err)
	}
	s := e.Snapshot().Schema.Clone()
	plain := func(name string) *metadata.Object {
		return &metadata.Object{Name: name, Fields: []*metadata.Field{
			{Name: "name", Type: "text"},
			{Name: "account", Type: "lookup", Target: "account", OnDelete: metadata.OnDeleteRestrict},
			{Name: "amount", Type: "currency"},
			{Name: "discount", Type: "percent"},
			{Name: "qty", Type: "integer"},
			{Name: "stage", Type: "picklist", Options: []metadata.Option{
				{Value: "open", Label: metadata.Label{"en": "Open"}, Attrs: map[string]any{"probability": int64(20)}},
				{Value: "won", Label: metadata.Label{"en": "Won"}, Attrs: map[string]any{"probability": int64(100)}},
			}},
		}}
	}
	with := plain("deal_computed")
	with.Fields = append(with.Fields, formulaBenchFields...)
	s.Objects = append(s.Objects, plain("deal_plain"), with)
	if _, _, err := e.ApplySchema(ctx, s, ApplyOptions{Author: "bench"}); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkWriteOverheadFormulas creates records of an object with ten
// computed fields and of the same object without them, in one run, and
// reports both write times, the overhead per write and per computed field.
func BenchmarkWriteOverheadFormulas(b *testing.B) {
	run := func(b *testing.B, db *store.DB) {
		e := formulaBenchEngine(b, db)
		ctx := as("u1")
		acc, err := e.Create(ctx, "account", map[string]any{"name": "Acme", "industry": "retail"})
		if err != nil {
			b.Fatal(err)
		}
		data := func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("Deal %d", i), "account": acc["id"], "amount": "1234.56", "discount": 5, "qty": 3, "stage": "open"}
		}
		var plain, computed time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := e.Create(ctx, "deal_plain", data(i)); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := e.Create(ctx, "deal_computed", data(i)); err != nil {
				b.Fatal(err)
			}
			plain += t1.Sub(t0)
			computed += time.Since(t1)
		}
		n := float64(b.N)
		b.ReportMetric(float64(plain.Nanoseconds())/n, "ns/write-plain")
		b.ReportMetric(float64(computed.Nanoseconds())/n, "ns/write-10-computed")
		b.ReportMetric(float64((computed-plain).Nanoseconds())/n/10, "ns/computed-field")
		b.ReportMetric(float64(computed)/float64(plain), "ratio")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.EnvPostgres) != "" {
		b.Run("postgres", func(b *testing.B) { run(b, storetest.Postgres(b)) })
	}
}
