package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/apitest"
)

// BenchmarkListPage renders the page of a 50-row list (lookups expanded,
// owners named, total counted) through the whole server, as rep1 sees it:
// go test -run XXX -bench ListPage ./engine/ui/ (docs/ui.md gives the
// figure; the target is under 200 ms).
func BenchmarkListPage(b *testing.B) {
	c := benchDeals(b)
	st, body := c.get("/ui/o/opportunity")
	if st != 200 || strings.Count(body, "<tr>") != 51 {
		b.Fatalf("list page: %d, %d rows", st, strings.Count(body, "<tr>")-1)
	}
	benchGet(b, c, "/ui/o/opportunity")
}

// BenchmarkBoardPage renders the kanban of 60 opportunities (50 cards in
// one column, each with the moves the state workflow lets rep1 make from
// there) through the whole server, as rep1 sees it.
func BenchmarkBoardPage(b *testing.B) {
	c := benchDeals(b)
	st, body := c.get("/ui/board/opportunity")
	if st != 200 || strings.Count(body, `data-allowed=`) != 50 {
		b.Fatalf("board page: %d, %d movable cards", st, strings.Count(body, `data-allowed=`))
	}
	benchGet(b, c, "/ui/board/opportunity")
}

// benchDeals runs the server with 60 opportunities of rep1 in Proposal
// and returns rep1 signed in.
func benchDeals(b *testing.B) *client {
	s := apitest.New(b, storetest.SQLite(b), apitest.Options{})
	acc := s.Create("rep1", "account", `{"name": "Bench Account"}`)
	for i := range 60 {
		s.Create("rep1", "opportunity", fmt.Sprintf(`{"name": "Deal %d", "account": %q, "amount": "%d.50", "stage": "proposal", "close_date": "2026-06-01"}`, i, acc, 1000+i))
	}
	return signedIn(b, s, "rep1")
}

// benchGet measures GET path.
func benchGet(b *testing.B, c *client, path string) {
	b.ResetTimer()
	for b.Loop() {
		if st, _ := c.get(path); st != 200 {
			b.Fatal(st)
		}
	}
}
