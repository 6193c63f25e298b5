package query_test

import (
	"fmt"
	"time"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/metadata"
)

func Example() {
	scale := 2
	opp := &metadata.Object{Name: "opportunity", Fields: []*metadata.Field{
		{Name: "name", Type: "text"},
		{Name: "stage", Type: "picklist", Options: []metadata.Option{{Value: "won"}, {Value: "lost"}, {Value: "open"}}},
		{Name: "amount", Type: "currency", Scale: &scale},
		{Name: "close_date", Type: "date"},
	}}
	opt := query.Options{
		Dialect: metadata.DialectPostgres,
		Now:     time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC),
	}
	where, err := query.CompileFilter(`stage in ["won", "lost"] && amount > 100 && this_month(close_date)`, opp, opt)
	if err != nil {
		panic(err)
	}
	keys, err := query.ParseSort("-amount,name", opp, opt)
	if err != nil {
		panic(err)
	}
	fmt.Println(where.SQL)
	fmt.Println(where.Args)
	fmt.Println(query.OrderBy(keys))

	_, err = query.CompileFilter(`amount startsWith "1"`, opp, opt)
	fmt.Println(err)
	// Output:
	// (("opportunity"."stage" IN (?, ?) AND "opportunity"."amount" > ?) AND ("opportunity"."close_date" >= ? AND "opportunity"."close_date" < ?))
	// [won lost 10000 2026-11-01 2026-12-01]
	// "amount" DESC NULLS LAST, "name" ASC NULLS LAST, "id" ASC
	// query: at position 7: amount is a currency field: startsWith works on text
}
