package formulas

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// benchSchema has an object with ten computed fields of the usual kinds
// (arithmetic on amounts, dates, text, a picklist attribute, a condition).
func benchSchema(b *testing.B) *Compiled {
	formulas := []string{
		`{name: c1, type: currency, formula: "amount * option(stage).probability / 100"}`,
		`{name: c2, type: currency, formula: "c1 * (1 - discount / 100)"}`,
		`{name: c3, type: boolean, formula: "amount >= 1000000"}`,
		`{name: c4, type: integer, formula: "days_between(created_at, today())"}`,
		`{name: c5, type: text, formula: "concat(upper(left(name, 3)), '-', label(stage))"}`,
		`{name: c6, type: date, formula: "add_months(start_of_month(today()), 1)"}`,
		`{name: c7, type: decimal, formula: "round(amount / max(qty, 1), 2)"}`,
		`{name: c8, type: text, formula: "if(c3, 'big', case(stage, 'won', 'done', 'open'))"}`,
		`{name: c9, type: integer, formula: "qty * 2 + len(name)"}`,
		`{name: c10, type: boolean, formula: "stage in ['won', 'lost'] && !is_empty(name)"}`,
	}
	doc := `
name: deal
fields:
  - {name: name, type: text}
  - {name: amount, type: currency}
  - {name: discount, type: percent}
  - {name: qty, type: integer}
  - {name: stage, type: picklist, options: [{value: open, probability: 10}, {value: won, probability: 100}, {value: lost, probability: 0}]}
  - ` + strings.Join(formulas, "\n  - ") + "\n"
	return mustCompile(b, schemaOf(b, doc))
}

// BenchmarkCompute measures the evaluation of ten computed fields on one
// record (environment, evaluation, conversion to storage form); the
// per-field cost is reported as ns/field.
func BenchmarkCompute(b *testing.B) {
	c := benchSchema(b)
	op := c.Object("deal")
	ctx := WithNow(context.Background(), testNow)
	rec := map[string]any{"id": idOpp1, "name": "Lathes for Acme", "amount": int64(123456789), "discount": 5.0, "qty": int64(7),
		"stage": "open", "created_at": testNow.AddDate(0, -1, 0)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := noFails(op.Compute(ctx, rec, nil)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(op.computed)), "ns/field")
}

// BenchmarkComputeBatch measures the same per record in batches of 100.
func BenchmarkComputeBatch(b *testing.B) {
	c := benchSchema(b)
	op := c.Object("deal")
	ctx := WithNow(context.Background(), testNow)
	recs := make([]map[string]any, 100)
	for i := range recs {
		recs[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "name": "Lathes", "amount": int64(i * 1000), "discount": 5.0, "qty": int64(i), "stage": "won", "created_at": testNow}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := noFails(op.ComputeBatch(ctx, recs, nil)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)*len(op.computed)), "ns/field")
}

// BenchmarkCompileSchema measures compiling the test schema (done once per
// metadata version).
func BenchmarkCompileSchema(b *testing.B) {
	s := loadSchema(b)
	for i := 0; i < b.N; i++ {
		if _, ps := CompileSchema(s); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}
