package sales_test

import (
	"fmt"
	"testing"

	"github.com/crmplatform/crm/defaults"
	"github.com/crmplatform/crm/internal/apitest"
)

// TestGivenQuoteBringsItsLines: a sample quote with lines, given by the
// administrator to a rep (who reads quote lines by ownership), brings its
// lines along: the rep lists as many as the quote counts, on both
// databases; another rep reads neither. Given away again by its new
// owner's manager, the lines go too.
func TestGivenQuoteBringsItsLines(t *testing.T) {
	apitest.Dialects(t, apitest.Options{}, func(t *testing.T, s *apitest.Server) {
		fsys, err := defaults.FS("standard")
		if err != nil {
			t.Fatal(err)
		}
		s.LoadSample(fsys)
		st, page := s.Do("GET", "/api/records/quote?limit=1&filter="+apitest.Query("line_count > 1"), "admin", "")
		items, _ := page["items"].([]any)
		if st != 200 || len(items) == 0 {
			t.Fatalf("a sample quote with lines: %d %v", st, page)
		}
		quote := items[0].(map[string]any)
		id, count := quote["id"].(string), fmt.Sprint(quote["line_count"])
		lines := func(user string) string {
			t.Helper()
			st, page := s.Do("GET", "/api/records/quote_line?total=exact&filter="+apitest.Query(fmt.Sprintf("quote == %q", id)), user, "")
			if st != 200 {
				t.Fatalf("%s lists the lines: %d %v", user, st, page)
			}
			return fmt.Sprint(page["total"])
		}
		if got := lines("rep1"); got != "0" {
			t.Fatalf("rep1 reads %s lines of the admin's quote before it is given", got)
		}
		for _, give := range []struct{ by, to string }{{"admin", "rep1"}, {"manager", "rep2"}} {
			if st, m := s.Do("POST", "/api/records/quote/"+id+"/actions/transfer", give.by, fmt.Sprintf(`{"owner_id": %q}`, s.UserID(give.to))); st != 200 {
				t.Fatalf("%s gives the quote to %s: %d %v", give.by, give.to, st, m)
			}
			rival := map[string]string{"rep1": "rep2", "rep2": "rep1"}[give.to]
			if got, theirs := lines(give.to), lines(rival); got != count || theirs != "0" {
				t.Errorf("given to %s: they read %s lines (the quote counts %s), %s reads %s", give.to, got, count, rival, theirs)
			}
		}
	})
}
