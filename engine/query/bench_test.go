package query

import (
	"sync"
	"testing"

	"github.com/crmplatform/crm/metadata"
)

func BenchmarkCompileFilter(b *testing.B) {
	s := testSchema(b)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectPostgres)
	for _, bc := range []struct{ name, filter string }{
		{"simple", `kind == "lathe" && price > 100`},
		{"typical", `kind in ["lathe", "mill"] && name contains "acme" && this_month(close_date) && !(tags contains "vip")`},
		{"computed", `close_date >= start_of_month(today()) && seen_at >= add_days(now(), -7)`},
		{"lookup", `account.industry == "bank" || account.parent.name startsWith "tech"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CompileFilter(bc.filter, item, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCompileConcurrently runs compilations in parallel (for -race).
func TestCompileConcurrently(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	item, _ := s.Object("item")
	opt := testOptions(s, metadata.DialectSQLite)
	want, err := CompileFilter(`this_week(close_date) && close_date >= start_of_month(today()) && kind in ["lathe"]`, item, opt)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				p, err := CompileFilter(`this_week(close_date) && close_date >= start_of_month(today()) && kind in ["lathe"]`, item, opt)
				if err != nil || p.SQL != want.SQL {
					t.Errorf("got %v %v", p, err)
					return
				}
				if _, err := ParseSort("-price,name", item, opt); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
