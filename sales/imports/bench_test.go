package imports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
	"github.com/crmplatform/crm/sales/imports"
)

// BenchmarkImportLookups imports 500 contacts of 20 accounts (SQLite),
// their account given by id and by name, as the list export writes it:
// the names are looked up once per batch (resolver.found), so a file naming a
// few records costs about what one giving ids does. Reported per row.
func BenchmarkImportLookups(b *testing.B) {
	s := apitest.Seeded(b, storetest.SQLiteFrom(b, apitest.Standard), apitest.Options{})
	u, err := s.Platform.Access.GetUser(context.Background(), "admin")
	if err != nil {
		b.Fatal(err)
	}
	const rows, accounts = 500, 20
	ids, names := make([]string, accounts), make([]string, accounts)
	for i := range accounts {
		names[i] = fmt.Sprintf("Bench Account %02d", i)
		ids[i] = s.Create("admin", "account", fmt.Sprintf(`{"name": %q}`, names[i]))
	}
	for _, bc := range []struct {
		name string
		cell []string
	}{{"ids", ids}, {"names", names}} {
		b.Run(bc.name, func(b *testing.B) {
			for n := 0; b.Loop(); n++ {
				var file strings.Builder
				file.WriteString("name,account\n")
				for i := range rows {
					fmt.Fprintf(&file, "Contact %s %d %d,%s\n", bc.name, n, i, bc.cell[i%accounts])
				}
				res, err := imports.Run(context.Background(), s.Platform.Engine, u.Principal(), strings.NewReader(file.String()), imports.Options{Object: "contact"})
				if err != nil || res.Created != rows {
					b.Fatalf("import: %v %+v", err, res)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*rows), "µs/row")
		})
	}
}
